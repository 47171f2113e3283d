package dev.tessera.examples.cli;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.io.Json;
import dev.tessera.samplers.GeneratedImage;
import dev.tessera.samplers.ImageNetClasses;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Where a generate command writes: one {@code .png} file, or a directory of {@code 000.png, 001.png, ...}. */
final class Outputs {
    private Outputs() {
    }

    /** Checks {@code --out} for {@code count} images before any work is done; returns the files, in order. */
    static List<Path> plan(Path out, int count, String command) {
        boolean single = out.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".png");
        if (single && count > 1) {
            throw new UsageException("--out " + out + " names one file but " + count + " images are requested; give a directory");
        }
        if (!single && Files.isRegularFile(out)) {
            throw new UsageException("--out " + out + " is an existing file; give a directory (or a .png file for one image)");
        }
        List<Path> files = new ArrayList<>();
        for (int i = 0; i < count; i++) files.add(single ? out : out.resolve(String.format("%03d.png", i)));
        return files;
    }

    /** Resolves every {@code --class} value (index or ImageNet name) against the model's class count. */
    static int[] classes(List<String> labels, int numClasses, String command) {
        if (labels.isEmpty()) throw new UsageException("missing --class (see '" + command + " --help')");
        int[] c = new int[labels.size()];
        for (int i = 0; i < c.length; i++) c[i] = ImageNetClasses.imagenet().resolve(labels.get(i), numClasses);
        return c;
    }

    static void writeImages(List<GeneratedImage> images, List<Path> files) {
        for (int i = 0; i < images.size(); i++) images.get(i).writePng(files.get(i));
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
        dev.tessera.engine.io.Npy.writeFile(file, dev.tessera.engine.tensor.Tensor.ofFloats("latents", values, shape));
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
