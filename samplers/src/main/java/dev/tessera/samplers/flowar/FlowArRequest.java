package dev.tessera.samplers.flowar;

import dev.tessera.engine.models.flowar.FlowArConfig;

import java.util.function.Supplier;

/**
 * What to generate with FlowAR.
 *
 * @param classes  one image per class
 * @param seed     seeds PyTorch's CPU generator stream (the official evaluation seeds it once per process)
 * @param cfg      classifier-free guidance; the scale-wise strength ramps from 1 at the first scale to cfg at the
 *                 last ({@code 1 + (cfg − 1)·step/(S − 1)}); 1 turns guidance and the unconditional branch off
 * @param guidance guidance applies only while {@code t ≤ guidance}
 * @param steps    solver steps ({@code num_steps}: 25 gives 24 Euler evaluations per scale, 50 gives 50)
 * @param sampler  the solver
 * @param noise    makes the noise source of each generation (null: {@link FlowNoise#seeded} with the seed); a
 *                 fresh source per call, so a request gives the same images every time and from any thread
 */
public record FlowArRequest(int[] classes, long seed, double cfg, double guidance, int steps, FlowSampler sampler,
                            Supplier<FlowNoise> noise) {

    public FlowArRequest {
        if (classes == null || classes.length == 0) throw new IllegalArgumentException("at least one class is needed");
        if (steps < 2) throw new IllegalArgumentException("at least 2 steps are needed");
        if (!(cfg >= 1.0)) throw new IllegalArgumentException("cfg must be at least 1 (1 = no guidance)");
        classes = classes.clone();
    }

    @Override
    public int[] classes() {
        return classes.clone();
    }

    /** The noise source to use: the injected one, or the seeded stream. */
    FlowNoise noiseSource() {
        return noise != null ? noise.get() : FlowNoise.seeded(seed);
    }

    /** A builder with the official sampling settings for this model size (see {@link Builder#officialFor}). */
    public static Builder builder(FlowArConfig cfg) {
        return new Builder().officialFor(cfg);
    }

    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private int[] classes;
        private long seed;
        private double cfg = 4.3, guidance = 0.9;
        private int steps = 25;
        private FlowSampler sampler = FlowSampler.EULER;
        private Supplier<FlowNoise> noise;

        /**
         * The official settings of the released sizes: FlowAR-S (width 768) 25 steps, cfg 4.3, guidance 0.9;
         * FlowAR-L (1024) 25, 2.4, 0.9; FlowAR-H (1536) 50, 2.4, 0.7. Other widths get FlowAR-S's.
         */
        public Builder officialFor(FlowArConfig c) {
            switch (c.width()) {
                case 1024 -> set(25, 2.4, 0.9);
                case 1536 -> set(50, 2.4, 0.7);
                default -> set(25, 4.3, 0.9);
            }
            return this;
        }

        private void set(int steps, double cfg, double guidance) {
            this.steps = steps;
            this.cfg = cfg;
            this.guidance = guidance;
        }

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

        public Builder guidance(double g) {
            this.guidance = g;
            return this;
        }

        public Builder steps(int s) {
            this.steps = s;
            return this;
        }

        public Builder sampler(FlowSampler s) {
            this.sampler = s;
            return this;
        }

        /** Where each generation's noise comes from, e.g. {@code () -> FlowNoise.injected(file, FlowNoise.seeded(s))}. */
        public Builder noise(Supplier<FlowNoise> n) {
            this.noise = n;
            return this;
        }

        public FlowArRequest build() {
            return new FlowArRequest(classes, seed, cfg, guidance, steps, sampler, noise);
        }
    }
}
