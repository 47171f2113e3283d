package dev.tessera.examples.cli;

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
record BundledVar(Path model, Path vae) {
    static final List<String> CLASSES = List.of("t-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt",
            "sneaker", "bag", "ankle boot");
    /** The model card's recommendation (examples/models/fmnist/README.md): cfg 3, no top-k, no top-p. */
    static final VarSettings SAMPLING = new VarSettings(3.0, 0, 0.0, false);

    /**
     * Finds the bundle under {@code -Dtessera.home} (the launcher sets it to the repository), else under the
     * working directory or its parent.
     */
    static BundledVar locate() {
        String home = System.getProperty("tessera.home");
        List<Path> roots = home != null ? List.of(Path.of(home)) : List.of(Path.of(""), Path.of(".."));
        for (Path root : roots) {
            Path dir = root.resolve("examples/models/fmnist");
            Path model = dir.resolve("var-d3.safetensors"), vae = dir.resolve("vae.safetensors");
            if (Files.isRegularFile(model) && Files.isRegularFile(vae)) return new BundledVar(model, vae);
        }
        throw new UsageException("no --model/--vae given and the bundled model is missing (examples/models/fmnist/ under "
                + (home != null ? home : "the working directory") + ")");
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
        throw new UsageException("unknown class '" + text + "' for the bundled Fashion-MNIST model; give 0-9 or one of: "
                + String.join(", ", CLASSES));
    }

    private static String normalize(String s) {
        return s.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]", "");
    }
}
