package dev.tessera.examples.cli;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.io.Json;
import dev.tessera.engine.io.Npy;
import dev.tessera.engine.tensor.Tensor;
import dev.tessera.samplers.GeneratedImage;
import dev.tessera.samplers.Generation;
import dev.tessera.samplers.ImageNetClasses;
import dev.tessera.samplers.Pipeline;
import dev.tessera.samplers.SamplingSettings;
import dev.tessera.samplers.TokenDetails;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntFunction;

/** Where a generate command writes: one {@code .png} file, or a directory of {@code 000.png, 001.png, ...}. */
final class Outputs {
    private Outputs() {}

    /** Checks {@code --out} for {@code count} images before any work is done; returns the files, in order. */
    static List<Path> plan(Path out, int count) {
        boolean single = out.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".png");
        if (single && count > 1) {
            throw new UsageException(
                    "--out " + out + " names one file but " + count + " images are requested; give a directory");
        }
        if (!single && Files.isRegularFile(out)) {
            throw new UsageException(
                    "--out " + out + " is an existing file; give a directory (or a .png file for one image)");
        }
        List<Path> files = new ArrayList<>();
        for (int i = 0; i < count; i++) files.add(single ? out : out.resolve(String.format("%03d.png", i)));
        return files;
    }

    /** Resolves every {@code --class} value (index or ImageNet name) against the model's class count. */
    static int[] classes(List<String> labels, int numClasses) {
        int[] c = new int[labels.size()];
        for (int i = 0; i < c.length; i++) c[i] = ImageNetClasses.imagenet().resolve(labels.get(i), numClasses);
        return c;
    }

    /**
     * What every generate command does once its pipeline is loaded: generates one image per class with a progress
     * bar, writes the PNGs, and says what it wrote ("wrote 000.png (256x256, class 207 golden retriever)").
     *
     * @param describe the name printed after a class index (" golden retriever"), or ""
     */
    static <S extends SamplingSettings, D> Generation<D> generate(
            Pipeline<S, D> pipe,
            int[] classes,
            long seed,
            S settings,
            List<Path> files,
            PrintStream out,
            IntFunction<String> describe) {
        ProgressBar bar = new ProgressBar("generating " + classes.length + " image" + (classes.length > 1 ? "s" : ""));
        Generation<D> g = pipe.generate(classes, seed, settings, bar);
        bar.finish();
        for (int i = 0; i < classes.length; i++) g.images().get(i).writePng(files.get(i));
        for (int i = 0; i < classes.length; i++) {
            GeneratedImage img = g.images().get(i);
            out.printf(
                    "wrote %s (%dx%d, class %d%s)%n",
                    files.get(i), img.width(), img.height(), classes[i], describe.apply(classes[i]));
        }
        return g;
    }

    /**
     * The token commands' optional outputs: {@code tokensOut} ({"images": [{"class": c, "tokens": [...]}, ...]},
     * row-major) and {@code statsOut} (the sampler's statistics); either may be null.
     */
    static void writeTokenOutputs(
            Path tokensOut, Path statsOut, int[] classes, TokenDetails r, Map<String, Object> stats, PrintStream out) {
        if (tokensOut != null) {
            List<Object> images = new ArrayList<>();
            for (int b = 0; b < classes.length; b++) {
                Map<String, Object> image = new LinkedHashMap<>(); // keys in this order in every run (Map.of's vary)
                image.put("class", classes[b]);
                image.put("tokens", r.tokens().get(b));
                images.add(image);
            }
            writeJson(tokensOut, Map.of("images", images));
        }
        if (statsOut != null) writeJson(statsOut, stats);
        if (tokensOut != null) out.println("wrote " + tokensOut);
        if (statsOut != null) out.println("wrote " + statsOut);
    }

    /** The ImageNet name after a class index for ImageNet models. */
    static IntFunction<String> describer(int numClasses) {
        return c -> describe(c, numClasses);
    }

    /** " golden retriever" for ImageNet models, "" otherwise. */
    static String describe(int cls, int numClasses) {
        return numClasses == 1000 ? " " + ImageNetClasses.imagenet().name(cls) : "";
    }

    static void writeJson(Path file, Object value) {
        createParent(file);
        Json.write(file, value);
    }

    /** A float32 {@code .npy} array. */
    static void writeNpy(Path file, float[] values, long... shape) {
        createParent(file);
        Npy.writeFile(file, Tensor.ofFloats("latents", values, shape));
    }

    private static void createParent(Path file) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
        } catch (IOException e) {
            throw new TesseraException("cannot create the folder of " + file + ": " + e.getMessage(), e);
        }
    }
}
