package dev.tessera.examples.cli;

import dev.tessera.engine.TesseraException;
import dev.tessera.samplers.BundledModels;
import dev.tessera.samplers.var.VarSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The VAR bundled in {@code examples/models/fmnist/} (trained here on Fashion-MNIST by {@code examples/train/}): the
 * default of {@code generate var} when no {@code --model}/{@code --vae} is given, with its class names and the
 * sampling settings its model card recommends.
 */
record BundledVar(Path dir) {
    static final List<String> CLASSES = BundledModels.FASHION_MNIST_CLASSES;
    static final VarSettings SAMPLING = BundledModels.VAR_SAMPLING;
    static final String MODEL = BundledModels.VAR_MODEL,
            VAE = BundledModels.VAR_VAE,
            JUDGE = BundledModels.JUDGE,
            JUDGE_STATS = BundledModels.JUDGE_STATS,
            TEST_IMAGES = BundledModels.TEST_IMAGES;

    /** The bundle's folder ({@link BundledModels#directory()}); its absence is a usage error here. */
    static BundledVar locate() {
        try {
            return new BundledVar(BundledModels.directory());
        } catch (TesseraException e) {
            throw new UsageException("no --model/--vae given and " + e.getMessage());
        }
    }

    Path model() {
        return dir.resolve(MODEL);
    }

    Path vae() {
        return dir.resolve(VAE);
    }

    /** A file of the bundle that must be there. */
    Path file(String name) {
        Path p = dir.resolve(name);
        if (!Files.isRegularFile(p)) throw new UsageException(p + ": missing from the bundle");
        return p;
    }

    /** A class of the bundle by index (0-9) or name, ignoring case, spaces, '-' and '/' ("sneaker", "T-shirt/top"). */
    static int resolve(String label) {
        String text = label.strip();
        if (text.matches("\\d+")) {
            int i = Integer.parseInt(text);
            if (i < CLASSES.size()) return i;
        } else {
            String key = normalize(text);
            for (int i = 0; i < CLASSES.size(); i++) {
                String name = normalize(CLASSES.get(i));
                if (name.equals(key) || (i == 0 && (key.equals("tshirt") || key.equals("top")))) return i;
            }
        }
        throw new UsageException("unknown class '" + text
                + "' for the bundled Fashion-MNIST model; give 0-9 or one of: " + String.join(", ", CLASSES));
    }

    private static String normalize(String s) {
        return s.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]", "");
    }
}
