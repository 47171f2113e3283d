package dev.tessera.engine.nn;

import dev.tessera.engine.ops.Ops;

/**
 * 2-D rotary position embedding over a token grid, as LlamaGen, NAR and FlowAR apply it: for head size hd there
 * are hd/2 rotated pairs {@code (x[2p], x[2p+1])}; the first hd/4 pairs turn by {@code row·f_k}, the last hd/4 by
 * {@code col·f_k}. Angles, cosines and sines are float32, as PyTorch computes them. The two families differ only in
 * the table: see {@link #llamaGen} and {@link #scaledGrid}.
 */
public final class Rope2d {
    private final float[] cos, sin; // [positions][hd/2]
    private final int pairs;
    private final int[] inOrder; // 0, 1, ..., positions - 1: the positions of a sequence that starts at 0

    private Rope2d(float[] cos, float[] sin, int pairs) {
        this.cos = cos;
        this.sin = sin;
        this.pairs = pairs;
        this.inOrder = new int[cos.length / pairs];
        for (int i = 0; i < inOrder.length; i++) inOrder[i] = i;
    }

    /**
     * {@code f_k = 1 / base^(2k/(hd/2))} for k < hd/4, in float32 ({@code 1/(base ** (arange(0, hd/2, 2)/(hd/2)))}).
     */
    public static float[] frequencies(int headDim, float base) {
        int half = headDim / 2, F = half / 2;
        float[] freq = new float[F];
        for (int k = 0; k < F; k++) {
            float e = (float) (2 * k) / half;
            freq[k] = 1.0f / (float) Math.pow(base, e);
        }
        return freq;
    }

    /**
     * LlamaGen's {@code precompute_freqs_cis_2d}: {@code clsTokens} zero rows (cos = sin = 0, so the condition
     * tokens' queries and keys vanish, as in the released models) followed by the raster {@code grid × grid}
     * integer positions.
     */
    public static Rope2d llamaGen(int clsTokens, int grid, int headDim, float base) {
        float[] pos = new float[grid];
        for (int i = 0; i < grid; i++) pos[i] = i;
        return table(clsTokens, pos, frequencies(headDim, base), headDim / 2);
    }

    /**
     * FlowAR's {@code VisionRotaryEmbeddingFast} for a {@code pn × pn} token map: positions rescaled to a grid of
     * side {@code side} ({@code i / pn · side} in float32, e.g. 0, 8 for pn = 2 on 16), with the given frequencies
     * (the checkpoint's {@code rope.freqs}, hd/4 of them).
     */
    public static Rope2d scaledGrid(int pn, int side, float[] freqs) {
        float[] pos = new float[pn];
        for (int i = 0; i < pn; i++) pos[i] = (float) i / (float) pn * (float) side;
        return table(0, pos, freqs, 2 * freqs.length);
    }

    private static Rope2d table(int zeroRows, float[] pos, float[] freq, int pairs) {
        int grid = pos.length, F = freq.length, positions = zeroRows + grid * grid;
        float[] cos = new float[positions * pairs], sin = new float[positions * pairs];
        for (int t = 0; t < grid * grid; t++) {
            float row = pos[t / grid], col = pos[t % grid];
            int o = (zeroRows + t) * pairs;
            for (int k = 0; k < F; k++) {
                float a = row * freq[k], b = col * freq[k];
                cos[o + k] = (float) Math.cos(a);
                sin[o + k] = (float) Math.sin(a);
                cos[o + F + k] = (float) Math.cos(b);
                sin[o + F + k] = (float) Math.sin(b);
            }
        }
        return new Rope2d(cos, sin, pairs);
    }

    /** Positions in the table (a position beyond it has no angles). */
    public int positions() {
        return cos.length / pairs;
    }

    /** The cosines, {@code [positions][hd/2]}, shared with this table: read, never write. */
    public float[] cosines() {
        return cos;
    }

    /** The sines, {@code [positions][hd/2]}, shared with this table: read, never write. */
    public float[] sines() {
        return sin;
    }

    /** Head size this table rotates. */
    public int headDim() {
        return 2 * pairs;
    }

    /** Rotates the head vector {@code x[off .. off+hd)} in place for sequence position {@code pos}. */
    public void rotate(float[] x, int off, int pos) {
        int t = pos * pairs;
        for (int p = 0; p < pairs; p++) {
            float x0 = x[off + 2 * p], x1 = x[off + 2 * p + 1], c = cos[t + p], s = sin[t + p];
            x[off + 2 * p] = x0 * c - x1 * s;
            x[off + 2 * p + 1] = x1 * c + x0 * s;
        }
    }

    /**
     * Rotates the heads of {@code rows·n} token rows in place on {@code ops}: row r is token {@code r mod n} of its
     * sequence (the first {@code heads·hd} values from {@code off + r·ld} are its heads).
     */
    public void rotateRows(Ops ops, float[] x, int off, int ld, int rows, int n, int heads) {
        if (n > inOrder.length)
            throw new IllegalArgumentException(n + " tokens per sequence, the table has " + inOrder.length);
        ops.rotary(x, off, ld, rows, heads, this, inOrder, n);
    }
}
