package dev.tessera.samplers.nar;

import dev.tessera.samplers.ar.TokenDistribution;

/**
 * What to generate with NAR. Defaults follow the official class-conditional evaluation: cfg 2.0, temperature 1,
 * no top-k/top-p filtering.
 *
 * @param cfgInterval guidance stops once more than this many tokens have been generated (−1: never stops)
 */
public record NarRequest(int[] classes, long seed, double cfg, int cfgInterval, TokenDistribution distribution) {

    public NarRequest {
        if (classes == null || classes.length == 0) throw new IllegalArgumentException("at least one class is needed");
        classes = classes.clone();
    }

    @Override
    public int[] classes() {
        return classes.clone();
    }

    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private int[] classes;
        private long seed;
        private double cfg = 2.0, temperature = 1.0, topP = 1.0;
        private int cfgInterval = -1, topK = 0;

        public Builder classes(int... c) {
            this.classes = c.clone();
            return this;
        }

        public Builder seed(long s) {
            this.seed = s;
            return this;
        }

        public Builder cfg(double c) {
            this.cfg = c;
            return this;
        }

        public Builder cfgInterval(int i) {
            this.cfgInterval = i;
            return this;
        }

        public Builder temperature(double t) {
            this.temperature = t;
            return this;
        }

        public Builder topK(int k) {
            this.topK = k;
            return this;
        }

        public Builder topP(double p) {
            this.topP = p;
            return this;
        }

        public NarRequest build() {
            return new NarRequest(classes, seed, cfg, cfgInterval, new TokenDistribution(temperature, topK, topP));
        }
    }
}
