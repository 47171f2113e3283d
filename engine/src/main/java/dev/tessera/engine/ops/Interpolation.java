package dev.tessera.engine.ops;

/**
 * PyTorch's {@code F.interpolate} resampling rules, exactly: bicubic with {@code align_corners=False}
 * (A = −0.75, half-pixel source coordinates computed in float32, border-clamped taps, no output clamp) and
 * {@code mode='area'} (adaptive average pooling with overlapping windows). Both are separable; one channel plane at
 * a time.
 */
public final class Interpolation {
    private static final float A = -0.75f;

    private Interpolation() {}

    /** The four tap indices and weights of every output index, for one axis. */
    record CubicTaps(int[] index, float[] weight) {}

    static CubicTaps cubicTaps(int in, int out) {
        int[] idx = new int[out * 4];
        float[] w = new float[out * 4];
        // PyTorch: scale = in/out as float (area_pixel_compute_scale); src = scale*(i+0.5)-0.5 is evaluated in
        // double (the integer index plus 0.5 is a double) and rounded to float once; no clamp
        float scale = (float) in / out;
        for (int i = 0; i < out; i++) {
            float src = (float) (scale * (i + 0.5) - 0.5);
            int i0 = (int) Math.floor(src);
            float t = src - i0;
            w[i * 4] = cubic2(t + 1f);
            w[i * 4 + 1] = cubic1(t);
            w[i * 4 + 2] = cubic1(1f - t);
            w[i * 4 + 3] = cubic2(2f - t);
            for (int k = 0; k < 4; k++) idx[i * 4 + k] = Math.min(Math.max(i0 - 1 + k, 0), in - 1);
        }
        return new CubicTaps(idx, w);
    }

    /** W1(x) = ((A+2)x − (A+3))x² + 1, for |x| ≤ 1. */
    private static float cubic1(float x) {
        return ((A + 2f) * x - (A + 3f)) * x * x + 1f;
    }

    /** W2(x) = ((A·x − 5A)x + 8A)x − 4A, for 1 < |x| < 2. */
    private static float cubic2(float x) {
        return ((A * x - 5f * A) * x + 8f * A) * x - 4f * A;
    }

    /**
     * One plane {@code [H, W]} to {@code [oh, ow]}. Like PyTorch's CPU kernel, each output is the row-weighted sum
     * of four column-interpolated values.
     */
    public static void bicubicPlane(float[] in, int inOff, int H, int W, float[] out, int outOff, int oh, int ow) {
        if (H == oh && W == ow) {
            System.arraycopy(in, inOff, out, outOff, H * W);
            return;
        }
        CubicTaps ty = cubicTaps(H, oh), tx = cubicTaps(W, ow);
        for (int y = 0; y < oh; y++) {
            for (int x = 0; x < ow; x++) {
                float[] rows = new float[4];
                for (int r = 0; r < 4; r++) {
                    int row = inOff + ty.index[y * 4 + r] * W;
                    rows[r] = in[row + tx.index[x * 4]] * tx.weight[x * 4]
                            + in[row + tx.index[x * 4 + 1]] * tx.weight[x * 4 + 1]
                            + in[row + tx.index[x * 4 + 2]] * tx.weight[x * 4 + 2]
                            + in[row + tx.index[x * 4 + 3]] * tx.weight[x * 4 + 3];
                }
                out[outOff + y * ow + x] = rows[0] * ty.weight[y * 4]
                        + rows[1] * ty.weight[y * 4 + 1]
                        + rows[2] * ty.weight[y * 4 + 2]
                        + rows[3] * ty.weight[y * 4 + 3];
            }
        }
    }

    /**
     * {@code F.interpolate(mode='bilinear', align_corners=False)} of one plane {@code [H, W]} to {@code [oh, ow]}
     * (no antialiasing), as PyTorch's CPU kernel computes it: the scale {@code in/out} in float32, the source
     * coordinate {@code (i + 0.5)·scale − 0.5} in float64 and clamped at 0, taps {@code floor} and {@code floor + 1}
     * (clamped to the last pixel), {@code λ1 = (float) (src − floor)} and {@code λ0 = 1 − λ1} in float32; each
     * output is {@code (x00·wx0 + x01·wx1)·wy0 + (x10·wx0 + x11·wx1)·wy1} (within one float32 ulp of PyTorch, whose
     * vectorised loop may fuse a multiply-add).
     */
    public static void bilinearPlane(float[] in, int inOff, int H, int W, float[] out, int outOff, int oh, int ow) {
        LinearTaps ty = linearTaps(H, oh), tx = linearTaps(W, ow);
        for (int y = 0; y < oh; y++) {
            int r0 = inOff + ty.lo[y] * W, r1 = inOff + ty.hi[y] * W;
            float wy0 = ty.w0[y], wy1 = ty.w1[y];
            for (int x = 0; x < ow; x++) {
                int x0 = tx.lo[x], x1 = tx.hi[x];
                float wx0 = tx.w0[x], wx1 = tx.w1[x];
                float top = in[r0 + x0] * wx0 + in[r0 + x1] * wx1;
                float bottom = in[r1 + x0] * wx0 + in[r1 + x1] * wx1;
                out[outOff + y * ow + x] = top * wy0 + bottom * wy1;
            }
        }
    }

    /** The two taps and weights of every output index, for one axis. */
    private record LinearTaps(int[] lo, int[] hi, float[] w0, float[] w1) {}

    private static LinearTaps linearTaps(int in, int out) {
        int[] lo = new int[out], hi = new int[out];
        float[] w0 = new float[out], w1 = new float[out];
        float scale = (float) in / out;
        for (int i = 0; i < out; i++) {
            if (in == out) {
                lo[i] = hi[i] = i;
                w0[i] = 1f;
                continue;
            }
            double src = Math.max(scale * (i + 0.5) - 0.5, 0.0);
            int i0 = (int) src;
            lo[i] = i0;
            hi[i] = i0 < in - 1 ? i0 + 1 : i0;
            w1[i] = (float) Math.min(Math.max(src - i0, 0.0), 1.0);
            w0[i] = 1f - w1[i];
        }
        return new LinearTaps(lo, hi, w0, w1);
    }

    /** Adaptive average pooling of one plane: window {@code [floor(i·in/out), ceil((i+1)·in/out))} per axis. */
    public static void areaPlane(float[] in, int inOff, int H, int W, float[] out, int outOff, int oh, int ow) {
        for (int y = 0; y < oh; y++) {
            int y0 = (int) Math.floorDiv((long) y * H, oh), y1 = (int) -Math.floorDiv(-(long) (y + 1) * H, oh);
            for (int x = 0; x < ow; x++) {
                int x0 = (int) Math.floorDiv((long) x * W, ow), x1 = (int) -Math.floorDiv(-(long) (x + 1) * W, ow);
                float sum = 0f;
                for (int yy = y0; yy < y1; yy++) {
                    for (int xx = x0; xx < x1; xx++) sum += in[inOff + yy * W + xx];
                }
                out[outOff + y * ow + x] = sum / ((y1 - y0) * (x1 - x0));
            }
        }
    }
}
