package dev.tessera.examples.cli;

import dev.tessera.samplers.ar.TokenRequestBuilder;

/**
 * The token-sampling options of {@code generate llamagen} and {@code generate nar} ({@code --seed --cfg
 * --cfg-interval --temperature --top-k --top-p}), checked when the command line is read, before any model loads.
 */
record TokenOptions(long seed, double cfg, int cfgInterval, double temperature, int topK, double topP) {

    static TokenOptions parse(Args a) {
        double temperature = a.getDouble("temperature", 1.0), topP = a.getDouble("top-p", 1.0);
        int topK = a.getInt("top-k", 0);
        if (temperature < 0) throw new UsageException("--temperature must be >= 0");
        if (!(topP > 0 && topP <= 1)) throw new UsageException("--top-p must be in (0, 1]");
        if (topK < 0) throw new UsageException("--top-k must be >= 0");
        return new TokenOptions(a.getLong("seed", 0), a.getDouble("cfg", 2.0), a.getInt("cfg-interval", -1), temperature,
                topK, topP);
    }

    <B extends TokenRequestBuilder<B>> B applyTo(B b) {
        return b.seed(seed).cfg(cfg).cfgInterval(cfgInterval).temperature(temperature).topK(topK).topP(topP);
    }
}
