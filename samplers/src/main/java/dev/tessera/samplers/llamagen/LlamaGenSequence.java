package dev.tessera.samplers.llamagen;

import dev.tessera.engine.models.llamagen.LlamaGenModel;
import dev.tessera.samplers.ar.TokenDistribution;
import dev.tessera.samplers.ar.TokenSequence;

/**
 * One image of a LlamaGen model as a {@link TokenSequence}: the class token and the image tokens in raster order,
 * with classifier-free guidance {@code uncond + (cond − uncond)·s} on every predicted token while it is inside
 * the guidance interval (the official {@code cfg_interval}: token j ≥ 1 is guided when {@code j − 1 ≤ interval};
 * −1 = always; token 0 always).
 */
public final class LlamaGenSequence implements TokenSequence {
    private final LlamaGenModel model;
    private final LlamaGenModel.State state;
    private final float cfg;
    private final int cfgInterval;
    private final boolean guided;
    private int forwards;

    public LlamaGenSequence(LlamaGenModel model, int label, double cfg, int cfgInterval) {
        this.model = model;
        this.cfg = (float) cfg;
        this.cfgInterval = cfgInterval;
        this.guided = cfg > 1.0; // as the official generate(): no unconditional rows at cfg <= 1
        int nullClass = model.config().numClasses();
        this.state = model.start(guided ? new int[] {label, nullClass} : new int[] {label});
    }

    @Override
    public int vocab() {
        return model.config().vocab();
    }

    @Override
    public int length() {
        return model.config().tokens();
    }

    @Override
    public int fed() {
        return state.tokens();
    }

    @Override
    public float[] first() {
        forwards++;
        return combine(model.prefill(state), 0, 1, 0);
    }

    @Override
    public float[][] feed(int[] tokens) {
        forwards++;
        int n = tokens.length, before = fed();
        int[][] rows = guided ? new int[][] {tokens, tokens} : new int[][] {tokens};
        float[] logits = model.forward(state, rows);
        float[][] out = new float[n][];
        for (int i = 0; i < n; i++) out[i] = combine(logits, i, n, before + i + 1);
        return out;
    }

    /** Guided logits of position i (of n) for token j. */
    private float[] combine(float[] logits, int i, int n, int token) {
        int V = vocab();
        boolean apply = guided && (token == 0 || cfgInterval < 0 || token - 1 <= cfgInterval);
        return TokenDistribution.guided(logits, i * V, (n + i) * V, apply, cfg, V);
    }

    @Override
    public void truncate(int tokens) {
        model.truncate(state, model.config().clsTokens() + tokens);
    }

    @Override
    public int forwards() {
        return forwards;
    }
}
