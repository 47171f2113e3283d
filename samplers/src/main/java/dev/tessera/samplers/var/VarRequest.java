package dev.tessera.samplers.var;

import java.util.Arrays;

/**
 * What to generate with VAR: one image per class label, and the sampling settings of
 * {@code autoregressive_infer_cfg}. Defaults are the official FID recipe: cfg 1.5, top-k 900, top-p 0.96,
 * no smoothing.
 *
 * @param classes    class label of each image (0 .. numClasses−1)
 * @param seed       seed of the generation's random number generator
 * @param cfg        classifier-free guidance; scale si uses {@code t = cfg·si/(SN−1)}: {@code (1+t)·cond − t·uncond}
 * @param topK       keep the k largest guided logits (0 = off; 1 = greedy)
 * @param topP       nucleus threshold (0 = off)
 * @param moreSmooth VAR's Gumbel-softmax smoothing of token embeddings (for visualisation, not FID)
 */
public record VarRequest(int[] classes, long seed, double cfg, int topK, double topP, boolean moreSmooth) {

    public VarRequest {
        if (classes == null || classes.length == 0) throw new IllegalArgumentException("at least one class is needed");
        classes = classes.clone();
        if (topK < 0) throw new IllegalArgumentException("top-k must be >= 0, got " + topK);
        if (topP < 0 || topP > 1) throw new IllegalArgumentException("top-p must be in [0, 1], got " + topP);
        if (!Double.isFinite(cfg)) throw new IllegalArgumentException("cfg must be a finite number");
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public int[] classes() {
        return classes.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof VarRequest r && Arrays.equals(classes, r.classes) && seed == r.seed && cfg == r.cfg
                && topK == r.topK && topP == r.topP && moreSmooth == r.moreSmooth;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(classes) * 31 + Long.hashCode(seed);
    }

    @Override
    public String toString() {
        return "VarRequest[classes=" + Arrays.toString(classes) + ", seed=" + seed + ", cfg=" + cfg + ", topK=" + topK
                + ", topP=" + topP + ", moreSmooth=" + moreSmooth + "]";
    }

    /** Builder with the official FID defaults; {@link #classes} is required. */
    public static final class Builder {
        private int[] classes;
        private long seed = 0;
        private double cfg = 1.5;
        private int topK = 900;
        private double topP = 0.96;
        private boolean moreSmooth = false;

        public Builder classes(int... classes) {
            this.classes = classes.clone();
            return this;
        }

        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        public Builder cfg(double cfg) {
            this.cfg = cfg;
            return this;
        }

        public Builder topK(int topK) {
            this.topK = topK;
            return this;
        }

        public Builder topP(double topP) {
            this.topP = topP;
            return this;
        }

        public Builder moreSmooth(boolean moreSmooth) {
            this.moreSmooth = moreSmooth;
            return this;
        }

        public VarRequest build() {
            return new VarRequest(classes, seed, cfg, topK, topP, moreSmooth);
        }
    }
}
