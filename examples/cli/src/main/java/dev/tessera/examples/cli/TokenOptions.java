package dev.tessera.examples.cli;

import dev.tessera.samplers.ar.TokenSettings;

/**
 * The token-sampling options of {@code generate llamagen} and {@code generate nar} ({@code --seed --cfg
 * --cfg-interval --temperature --top-k --top-p}), checked when the command line is read, before any model loads.
 */
record TokenOptions(long seed, double cfg, int cfgInterval, double temperature, int topK, double topP) {
    private static final TokenSettings OFFICIAL = TokenSettings.OFFICIAL;

    static TokenOptions parse(Args a) {
        return parse(a, OFFICIAL.cfg());
    }

    /** As {@link #parse(Args)} with another default for {@code --cfg} (a bundled model's recommendation). */
    static TokenOptions parse(Args a, double defaultCfg) {
        double temperature = a.getDouble("temperature", OFFICIAL.distribution().temperature()),
                topP = a.getDouble("top-p", OFFICIAL.distribution().topP());
        int topK = a.getInt("top-k", OFFICIAL.distribution().topK());
        if (temperature < 0) throw new UsageException("--temperature must be >= 0");
        if (!(topP > 0 && topP <= 1)) throw new UsageException("--top-p must be in (0, 1]");
        if (topK < 0) throw new UsageException("--top-k must be >= 0");
        return new TokenOptions(a.getLong("seed", 0), a.getDouble("cfg", defaultCfg),
                a.getInt("cfg-interval", OFFICIAL.cfgInterval()), temperature, topK, topP);
    }

    <B extends TokenSettings.Base<B>> B applyTo(B b) {
        return b.cfg(cfg).cfgInterval(cfgInterval).temperature(temperature).topK(topK).topP(topP);
    }
}
