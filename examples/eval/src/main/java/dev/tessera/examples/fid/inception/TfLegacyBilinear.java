package dev.tessera.examples.fid.inception;

/**
 * TensorFlow 1's {@code ResizeBilinear} with {@code align_corners=False} and no half-pixel centres, the resize
 * inside the 2015 Inception graph that the TTUR and ADM (guided-diffusion) evaluators feed: source coordinate
 * {@code i·(in/out)} in float32 without any offset, taps {@code floor} and {@code min(ceil, in−1)}, and the value
 * {@code top + (bottom − top)·fy} with {@code top = TL + (TR − TL)·fx} and {@code bottom = BL + (BR − BL)·fx}, all in
 * float32 in that order. Downsampling takes two taps with no antialiasing.
 */
final class TfLegacyBilinear {
    private TfLegacyBilinear() {}

    /** One plane {@code [H, W]} to {@code [oh, ow]}. */
    static void resizePlane(float[] in, int inOff, int H, int W, float[] out, int outOff, int oh, int ow) {
        Taps ty = taps(H, oh), tx = taps(W, ow);
        for (int y = 0; y < oh; y++) {
            int r0 = inOff + ty.lo[y] * W, r1 = inOff + ty.hi[y] * W;
            float fy = ty.frac[y];
            for (int x = 0; x < ow; x++) {
                int x0 = tx.lo[x], x1 = tx.hi[x];
                float fx = tx.frac[x];
                float top = in[r0 + x0] + (in[r0 + x1] - in[r0 + x0]) * fx;
                float bottom = in[r1 + x0] + (in[r1 + x1] - in[r1 + x0]) * fx;
                out[outOff + y * ow + x] = top + (bottom - top) * fy;
            }
        }
    }

    private record Taps(int[] lo, int[] hi, float[] frac) {}

    private static Taps taps(int in, int out) {
        int[] lo = new int[out], hi = new int[out];
        float[] frac = new float[out];
        float scale = (float) in / out;
        for (int i = 0; i < out; i++) {
            float src = (float) i * scale;
            float f = (float) Math.floor(src);
            lo[i] = Math.max((int) f, 0);
            hi[i] = Math.min((int) Math.ceil(src), in - 1);
            frac[i] = src - f;
        }
        return new Taps(lo, hi, frac);
    }
}
