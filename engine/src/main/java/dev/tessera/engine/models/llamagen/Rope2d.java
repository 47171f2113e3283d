package dev.tessera.engine.models.llamagen;

/**
 * LlamaGen's 2-D rotary embedding ({@code precompute_freqs_cis_2d}): for head size hd there are hd/2 rotated
 * pairs {@code (x[2p], x[2p+1])}; the first hd/4 pairs turn by {@code row·f_k}, the last hd/4 by {@code col·f_k},
 * {@code f_k = 1 / base^(2k/(hd/2))}, all in float32 as PyTorch computes them. Rows of the condition tokens are
 * zero (cos = sin = 0), so their queries and keys vanish, as in the released models.
 */
public final class Rope2d {
    private final float[] cos, sin;   // [positions][hd/2]
    private final int pairs;

    /** The table for {@code clsTokens} zero rows followed by the raster {@code grid × grid} positions. */
    public Rope2d(int clsTokens, int grid, int headDim, float base) {
        pairs = headDim / 2;
        int half = headDim / 2, F = half / 2, positions = clsTokens + grid * grid;
        float[] freq = new float[F];
        for (int k = 0; k < F; k++) {
            float e = (float) (2 * k) / half;
            freq[k] = 1.0f / (float) Math.pow(base, e);
        }
        cos = new float[positions * pairs];
        sin = new float[positions * pairs];
        for (int t = 0; t < grid * grid; t++) {
            int row = t / grid, col = t % grid, o = (clsTokens + t) * pairs;
            for (int k = 0; k < F; k++) {
                float a = row * freq[k], b = col * freq[k];
                cos[o + k] = (float) Math.cos(a);
                sin[o + k] = (float) Math.sin(a);
                cos[o + F + k] = (float) Math.cos(b);
                sin[o + F + k] = (float) Math.sin(b);
            }
        }
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
}
