package dev.tessera.examples.cli;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The options every model benchmark shares: batch, runs, warm-up, output, and the load options. */
public final class BenchOptions {
    @Option(names = "--batch", paramLabel = "B", description = "images per generation (default ${DEFAULT-VALUE})")
    int batch = 1;

    @Option(names = "--runs", paramLabel = "N", description = "timed runs after the warm-up (default ${DEFAULT-VALUE})")
    int runs;

    @Option(
            names = "--warmup",
            paramLabel = "N",
            description = "exactly N untimed generations first (0 times a cold JVM; "
                    + "default: until one takes within 5%% of the one before, at least 2, at most 6)")
    Integer warmup;

    @Option(
            names = "--json",
            description =
                    "one JSON object on standard output (seconds_per_image, ...); the log goes to standard " + "error")
    boolean json;

    @Option(names = "--profile", description = "also print time and GFLOP/s per kernel")
    boolean profile;

    @Mixin
    LoadOptions load = new LoadOptions();

    BenchOptions(int runs) {
        this.runs = runs;
    }

    /** {@code --warmup N}, checked before anything loads; {@link BenchCommand#WARMUP_UNTIL_STEADY} when absent. */
    int warmups() {
        if (warmup == null) return BenchCommand.WARMUP_UNTIL_STEADY;
        if (warmup < 0) throw new UsageException("--warmup must be at least 0");
        return warmup;
    }

    /** Checks batch, runs and warm-up. */
    void check() {
        if (batch < 1 || runs < 1) throw new UsageException("--batch and --runs must be at least 1");
        warmups();
    }
}
