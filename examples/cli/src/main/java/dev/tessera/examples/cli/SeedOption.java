package dev.tessera.examples.cli;

import picocli.CommandLine.Option;

/** {@code --seed S}. */
public final class SeedOption {
    @Option(
            names = "--seed",
            paramLabel = "S",
            description = "random seed (default ${DEFAULT-VALUE}); same seed, same images, on any number of threads")
    long seed = 0;

    public long seed() {
        return seed;
    }
}
