package dev.tessera.examples.cli;

import dev.tessera.samplers.ar.TokenSettings;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The token-sampling options of {@code generate llamagen} and {@code generate nar} ({@code --cfg
 * --cfg-interval --temperature --top-k --top-p}), defaults from {@link TokenSettings#OFFICIAL}, checked before any
 * model loads.
 */
public final class TokenOptions {
    private static final TokenSettings OFFICIAL = TokenSettings.OFFICIAL;

    @Mixin
    SamplingOptions filters = SamplingOptions.of(OFFICIAL);

    @Option(
            names = "--cfg-interval",
            paramLabel = "I",
            description = "guide only while token - 1 <= I (default ${DEFAULT-VALUE}: all)")
    int cfgInterval = OFFICIAL.cfgInterval();

    @Option(names = "--temperature", paramLabel = "T", description = "softmax temperature (default ${DEFAULT-VALUE})")
    double temperature = OFFICIAL.distribution().temperature();

    /** Checks the values (before any model loads) and sets them on a settings builder. */
    <B extends TokenSettings.Base<B>> B applyTo(B b) {
        if (temperature < 0) throw new UsageException("--temperature must be >= 0");
        if (!(filters.topP > 0 && filters.topP <= 1)) throw new UsageException("--top-p must be in (0, 1]");
        if (filters.topK < 0) throw new UsageException("--top-k must be >= 0");
        return b.cfg(filters.cfg)
                .cfgInterval(cfgInterval)
                .temperature(temperature)
                .topK(filters.topK)
                .topP(filters.topP);
    }
}
