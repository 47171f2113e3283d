package dev.tessera.samplers.llamagen;

import dev.tessera.samplers.SamplingSettings;
import dev.tessera.samplers.ar.JacobiSampler;
import dev.tessera.samplers.ar.TokenSettings;
import java.util.Objects;

/**
 * How LlamaGen samples: the token settings ({@link TokenSettings#OFFICIAL}: cfg 2.0, temperature 1, no filtering;
 * guided while {@code token − 1 <= cfgInterval}) and the decoding algorithm with its options. {@link #OFFICIAL} is
 * plain AR; the accelerated samplers' defaults are those of their released code: γ {@value #GAMMA}, LANTERN k
 * {@value #LANTERN_K} and δ {@value #LANTERN_DELTA}, SJD window {@value #SJD_WINDOW} with
 * {@code repeat_horizon} initialisation.
 *
 * @param sampler      the decoding algorithm
 * @param gamma        drafts per round (speculative, LANTERN)
 * @param lanternK     latent neighbours LANTERN considers
 * @param lanternDelta LANTERN's total-variation budget (0 = exact)
 * @param sjdWindow    positions per Jacobi forward (SJD)
 * @param sjdInit      how SJD initialises new positions
 */
public record LlamaGenSettings(
        TokenSettings tokens,
        Sampler sampler,
        int gamma,
        int lanternK,
        double lanternDelta,
        int sjdWindow,
        JacobiSampler.Init sjdInit)
        implements SamplingSettings {
    public static final int GAMMA = 4, LANTERN_K = 1000, SJD_WINDOW = 16;
    public static final double LANTERN_DELTA = 0.1;

    public static final LlamaGenSettings OFFICIAL = builder().build();

    public LlamaGenSettings {
        Objects.requireNonNull(tokens);
        Objects.requireNonNull(sampler);
        Objects.requireNonNull(sjdInit);
        if (gamma < 1) throw new IllegalArgumentException("gamma must be at least 1");
        if (lanternK < 0) throw new IllegalArgumentException("lantern-k must be >= 0");
        if (!(lanternDelta >= 0)) throw new IllegalArgumentException("lantern-delta must be >= 0");
        if (sjdWindow < 1) throw new IllegalArgumentException("sjd-window must be at least 1");
    }

    @Override
    public double cfg() {
        return tokens.cfg();
    }

    /** A builder starting from {@link #OFFICIAL}. */
    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder extends TokenSettings.Base<Builder> {
        private double lanternDelta = LANTERN_DELTA;
        private int gamma = GAMMA, lanternK = LANTERN_K, sjdWindow = SJD_WINDOW;
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

        public LlamaGenSettings build() {
            return new LlamaGenSettings(tokens(), sampler, gamma, lanternK, lanternDelta, sjdWindow, sjdInit);
        }
    }
}
