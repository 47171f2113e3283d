package dev.tessera.samplers.var;

import dev.tessera.samplers.SamplingSettings;

/**
 * How VAR samples ({@code autoregressive_infer_cfg}); {@link #OFFICIAL} is the released FID recipe.
 *
 * @param cfg        classifier-free guidance; scale si uses {@code t = cfg·si/(SN−1)}: {@code (1+t)·cond − t·uncond}
 * @param topK       keep the k largest guided logits (0 = off; 1 = greedy)
 * @param topP       nucleus threshold (0 = off)
 * @param moreSmooth VAR's Gumbel-softmax smoothing of token embeddings (for visualisation, not FID)
 */
public record VarSettings(double cfg, int topK, double topP, boolean moreSmooth) implements SamplingSettings {

    /** The official FID recipe: cfg 1.5, top-k 900, top-p 0.96, no smoothing. */
    public static final VarSettings OFFICIAL = new VarSettings(1.5, 900, 0.96, false);

    public VarSettings {
        if (topK < 0) throw new IllegalArgumentException("top-k must be >= 0, got " + topK);
        if (!(topP >= 0 && topP <= 1)) throw new IllegalArgumentException("top-p must be in [0, 1], got " + topP);
        if (!Double.isFinite(cfg)) throw new IllegalArgumentException("cfg must be a finite number");
    }

    public VarSettings withCfg(double c) {
        return new VarSettings(c, topK, topP, moreSmooth);
    }

    public VarSettings withTopK(int k) {
        return new VarSettings(cfg, k, topP, moreSmooth);
    }

    public VarSettings withTopP(double p) {
        return new VarSettings(cfg, topK, p, moreSmooth);
    }

    public VarSettings withMoreSmooth(boolean smooth) {
        return new VarSettings(cfg, topK, topP, smooth);
    }
}
