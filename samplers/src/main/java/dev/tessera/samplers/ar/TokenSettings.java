package dev.tessera.samplers.ar;

import dev.tessera.samplers.SamplingSettings;
import java.util.Objects;

/**
 * How the token models (LlamaGen, NAR) sample: classifier-free guidance with its interval, and the
 * {@link TokenDistribution} (temperature, top-k, top-p). {@link #OFFICIAL} is their class-conditional evaluation's:
 * cfg 2.0 on every token, temperature 1, no top-k/top-p filtering.
 *
 * @param cfg         guidance {@code uncond + (cond − uncond)·cfg}; ≤ 1 turns it and the unconditional rows off
 * @param cfgInterval how long guidance lasts (−1: always); each family documents where it counts from
 */
public record TokenSettings(double cfg, int cfgInterval, TokenDistribution distribution) implements SamplingSettings {

    public static final TokenSettings OFFICIAL = new TokenSettings(2.0, -1, TokenDistribution.PLAIN);

    public TokenSettings {
        if (!Double.isFinite(cfg)) throw new IllegalArgumentException("cfg must be a finite number");
        Objects.requireNonNull(distribution);
    }

    /** A builder starting from {@link #OFFICIAL}. */
    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder extends Base<Builder> {
        public TokenSettings build() {
            return tokens();
        }
    }

    /**
     * The setters every token-model settings builder shares, starting from {@link #OFFICIAL}.
     *
     * @param <B> the concrete builder, returned by every setter
     */
    public abstract static class Base<B extends Base<B>> {
        private double cfg = OFFICIAL.cfg(),
                temperature = OFFICIAL.distribution().temperature(),
                topP = OFFICIAL.distribution().topP();
        private int cfgInterval = OFFICIAL.cfgInterval(),
                topK = OFFICIAL.distribution().topK();

        @SuppressWarnings("unchecked")
        private B self() {
            return (B) this;
        }

        public B cfg(double c) {
            this.cfg = c;
            return self();
        }

        public B cfgInterval(int i) {
            this.cfgInterval = i;
            return self();
        }

        public B temperature(double t) {
            this.temperature = t;
            return self();
        }

        public B topK(int k) {
            this.topK = k;
            return self();
        }

        public B topP(double p) {
            this.topP = p;
            return self();
        }

        /** The shared settings as set so far. */
        protected TokenSettings tokens() {
            return new TokenSettings(cfg, cfgInterval, new TokenDistribution(temperature, topK, topP));
        }
    }
}
