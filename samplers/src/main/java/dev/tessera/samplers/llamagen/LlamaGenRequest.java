package dev.tessera.samplers.llamagen;

import dev.tessera.samplers.ar.JacobiSampler;
import dev.tessera.samplers.ar.TokenDistribution;
import dev.tessera.samplers.ar.TokenRequestBuilder;

/**
 * What to generate with LlamaGen and how. Defaults follow the official class-conditional evaluation: cfg 2.0,
 * temperature 1, no top-k/top-p filtering, plain AR; the accelerated samplers' defaults are those of their
 * released code (γ 4, LANTERN k 1000 and δ 0.1, SJD window 16 with {@code repeat_horizon} initialisation).
 *
 * @param cfgInterval guided while {@code token − 1 <= cfgInterval}; −1 = every token
 */
public record LlamaGenRequest(int[] classes, long seed, double cfg, int cfgInterval, TokenDistribution distribution,
                              Sampler sampler, int gamma, int lanternK, double lanternDelta, int sjdWindow,
                              JacobiSampler.Init sjdInit) {

    public LlamaGenRequest {
        if (classes == null || classes.length == 0) throw new IllegalArgumentException("at least one class is needed");
        classes = classes.clone();
        if (gamma < 1) throw new IllegalArgumentException("gamma must be at least 1");
        if (lanternK < 0) throw new IllegalArgumentException("lantern-k must be >= 0");
        if (!(lanternDelta >= 0)) throw new IllegalArgumentException("lantern-delta must be >= 0");
        if (sjdWindow < 1) throw new IllegalArgumentException("sjd-window must be at least 1");
    }

    @Override
    public int[] classes() {
        return classes.clone();
    }

    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder extends TokenRequestBuilder<Builder> {
        private double lanternDelta = 0.1;
        private int gamma = 4, lanternK = 1000, sjdWindow = 16;
        private Sampler sampler = Sampler.AR;
        private JacobiSampler.Init sjdInit = JacobiSampler.Init.REPEAT_HORIZON;

        public Builder sampler(Sampler s) {
            this.sampler = s;
            return this;
        }

        public Builder gamma(int g) {
            this.gamma = g;
            return this;
        }

        public Builder lanternK(int k) {
            this.lanternK = k;
            return this;
        }

        public Builder lanternDelta(double d) {
            this.lanternDelta = d;
            return this;
        }

        public Builder sjdWindow(int w) {
            this.sjdWindow = w;
            return this;
        }

        public Builder sjdInit(JacobiSampler.Init i) {
            this.sjdInit = i;
            return this;
        }

        public LlamaGenRequest build() {
            return new LlamaGenRequest(classes, seed, cfg, cfgInterval, distribution(), sampler, gamma, lanternK,
                    lanternDelta, sjdWindow, sjdInit);
        }
    }
}
