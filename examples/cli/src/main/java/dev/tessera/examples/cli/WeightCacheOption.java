package dev.tessera.examples.cli;

import dev.tessera.engine.io.PackedWeightCache;
import dev.tessera.engine.io.PackedWeightCache.Mappings;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Option;

/**
 * {@code --weight-cache DIR|off}: where the packed (compute-layout) forms of large weights are kept between runs, so
 * that a command after the first maps them instead of packing them (most of a large model's first-image overhead;
 * results are identical).
 */
public final class WeightCacheOption {
    /**
     * Bound by the launcher's background process while it runs a command: the mappings it keeps between commands, so
     * that loading the same model again maps nothing again. A command in its own process keeps none.
     */
    public static final ScopedValue<Mappings> KEPT_MAPPINGS = ScopedValue.newInstance();

    @Option(
            names = "--weight-cache",
            paramLabel = "DIR",
            description = "where packed weights of large models are kept between runs (a few seconds saved per command"
                    + " on VAR-d16; as much disk as the model's float32 weights; 'off' packs in memory each time). "
                    + "Default: $TESSERA_CACHE, else $XDG_CACHE_HOME/tessera or ~/.cache/tessera; "
                    + "-Dtessera.cache=DIR|off overrides the environment")
    String dir;

    /** The cache: the option, else {@code -Dtessera.cache}, else {@code $TESSERA_CACHE}, else the user's cache. */
    PackedWeightCache cache() {
        String given = dir != null ? dir : System.getProperty("tessera.cache", System.getenv("TESSERA_CACHE"));
        String what = dir != null ? "--weight-cache" : "the weight cache";
        Path root;
        try {
            if (given != null && !given.isBlank()) {
                String g = given.strip();
                if (g.toLowerCase(Locale.ROOT).equals("off") || g.equalsIgnoreCase("none")) {
                    return PackedWeightCache.NONE;
                }
                root = Path.of(g);
            } else {
                String xdg = System.getenv("XDG_CACHE_HOME");
                String home = System.getProperty("user.home");
                if ((xdg == null || xdg.isBlank()) && (home == null || home.isBlank())) return PackedWeightCache.NONE;
                root = xdg != null && !xdg.isBlank() ? Path.of(xdg, "tessera") : Path.of(home, ".cache", "tessera");
            }
        } catch (InvalidPathException e) {
            throw new UsageException(what + ": not a valid path: " + given);
        }
        Mappings kept = KEPT_MAPPINGS.isBound() ? KEPT_MAPPINGS.get() : Mappings.none();
        return PackedWeightCache.at(root.resolve("packed-weights"), PackedWeightCache.MIN_BYTES, kept);
    }
}
