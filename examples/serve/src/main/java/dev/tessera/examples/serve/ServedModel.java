package dev.tessera.examples.serve;

import dev.tessera.samplers.BundledModels;
import dev.tessera.samplers.ImageNetClasses;
import dev.tessera.samplers.Pipeline;
import dev.tessera.samplers.SamplingSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A model the server generates with, by its configured name: the loaded pipeline, its class names and the
 * {@code tessera generate} arguments that load the same model (for the command shown beside each image).
 *
 * @param name      what requests call it
 * @param pipeline  the loaded pipeline (VAR, LlamaGen, NAR, FlowAR or MAR)
 * @param classes   a name per class index ("sneaker", "golden retriever", or the index itself)
 * @param loadArgs  the {@code tessera generate FAMILY} options that select the same files (empty for the bundled ones)
 * @param imageSide the images' side in pixels
 * @param defaults  the settings a request starts from (the bundled models' cards, else the family's official ones)
 * @param draftArgs the options that load a draft model used only by some samplers (MAR's CSpD): added to the
 *                  command only for a request that uses it
 */
record ServedModel(
        String name,
        Pipeline<?, ?> pipeline,
        List<String> classes,
        List<String> loadArgs,
        int imageSide,
        SamplingSettings defaults,
        List<String> draftArgs) {
    ServedModel {
        classes = List.copyOf(classes);
        loadArgs = List.copyOf(loadArgs);
        draftArgs = List.copyOf(draftArgs);
    }

    /** A model sampled with its pipeline's defaults, without a draft that only some requests use. */
    ServedModel(String name, Pipeline<?, ?> pipeline, List<String> classes, List<String> loadArgs, int imageSide) {
        this(name, pipeline, classes, loadArgs, imageSide, pipeline.defaults(), List.of());
    }

    String family() {
        return pipeline.family();
    }

    /** The class names of a model with {@code n} classes: Fashion-MNIST's for the bundle, ImageNet's for 1000. */
    static List<String> classNames(int n, boolean fashionMnist) {
        if (fashionMnist) return BundledModels.FASHION_MNIST_CLASSES;
        List<String> names = new ArrayList<>();
        for (int i = 0; i < n; i++)
            names.add(
                    n == ImageNetClasses.IMAGENET_1K
                            ? ImageNetClasses.imagenet().name(i)
                            : Integer.toString(i));
        return names;
    }

    /**
     * A class by index or by name, ignoring case, spaces and punctuation ("T-shirt/top", "ankle boot"); -1 when it is
     * neither.
     */
    int resolve(String label) {
        String text = label.strip();
        if (text.matches("\\d{1,9}")) {
            int i = Integer.parseInt(text);
            return i < classes.size() ? i : -1;
        }
        String key = normalize(text);
        if (key.isEmpty()) return -1;
        for (int i = 0; i < classes.size(); i++) {
            if (normalize(classes.get(i)).equals(key)) return i;
        }
        // a unique prefix, or a unique entry of an ImageNet name's comma-separated synonyms
        int found = -1;
        for (int i = 0; i < classes.size(); i++) {
            for (String part : classes.get(i).split(",")) {
                String p = normalize(part);
                if (p.equals(key) || (key.length() >= 3 && p.startsWith(key))) {
                    if (found >= 0 && found != i) return -1;
                    found = i;
                }
            }
        }
        return found;
    }

    private static String normalize(String s) {
        return s.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]", "");
    }
}
