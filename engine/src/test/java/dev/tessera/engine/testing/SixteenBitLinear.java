package dev.tessera.engine.testing;

import dev.tessera.engine.nn.Linear;
import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.engine.ops.Activation;
import dev.tessera.engine.ops.Ops;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;

/**
 * A check of a backend's linear layer with 16-bit weights against a naive product of its own: the weights rounded
 * here (float16 with {@link Float#floatToFloat16}, round to nearest even; bfloat16 with
 * {@link WeightPanels#roundToBf16}), the sums in double. The backend must agree within what float32 accumulation
 * explains, {@link #REL}·√(K+1) of {@code |b[o]| + Σ_k |x[m, k]·w[o, k]|} per output, and must differ from the
 * product with the float32 weights by more than twice that somewhere (else the rounding never reached its kernel:
 * a kernel reading the float32 weights fails).
 */
public final class SixteenBitLinear {
    /**
     * Per output, times √(K+1), relative to {@code |b| + Σ|x·w|}: 4 float32 unit roundoffs (2^-24), the size of a
     * chain of K+1 roundings that add up like a random walk. Measured on the CPU and PoCL: errors up to 0.32 of this
     * tolerance; the float32 weights' product lies 3.9 (float16, K = 1030) to 340 (bfloat16, K = 64) times it away.
     */
    public static final double REL = 4 * 0x1p-24;

    private SixteenBitLinear() {}

    /** {@code f} as format {@code fmt} holds it, computed without {@link Linear} or the packing code. */
    public static float rounded(float f, WeightPanels.Format fmt) {
        return switch (fmt) {
            case F32 -> f;
            case BF16 -> WeightPanels.roundToBf16(f);
            case FP16 -> Float.float16ToFloat(Float.floatToFloat16(f));
        };
    }

    /**
     * Gaussian weights with values at float16's edges among them: subnormals (below 6.1e-5, where float16 keeps
     * fewer bits), a negative zero, the largest finite half (65504), ties between two halves (1 + 2^-11 rounds down
     * to even, 1 + 3·2^-11 up) and their negatives.
     */
    public static float[] weights(int n, long seed) {
        Random r = new Random(seed);
        float[] w = new float[n];
        for (int i = 0; i < n; i++) w[i] = (float) r.nextGaussian();
        float[] edges = {
            1e-6f,
            -3e-7f,
            5.96e-8f,
            4e-5f,
            -0f,
            65504f,
            1 + 0x1p-11f,
            1 + 3 * 0x1p-11f,
            -(1 + 0x1p-11f),
            0x1p-14f,
            -2e-5f
        };
        for (int i = 0; i < edges.length && i * 7 < n; i++) w[i * 7] = edges[i];
        return w;
    }

    /**
     * Runs {@code ops.linear} on a fresh {@code [out, in]} layer in format {@code fmt} (bias and input gaussian) and
     * holds it to the naive product; returns the largest error as a fraction of its bound.
     */
    public static double check(Ops ops, WeightPanels.Format fmt, int M, int in, int out, long seed) {
        float[] w = weights(out * in, seed), bias = new float[out], x = new float[M * in + 3];
        Random r = new Random(seed + 1);
        for (int i = 0; i < out; i++) bias[i] = (float) r.nextGaussian();
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        Linear layer = new Linear(MemorySegment.ofArray(w.clone()), bias, out, in, fmt);
        float[] got = new float[M * out + 1];
        ops.linear(x, 3, M, layer, got, 1, Activation.NONE);
        ops.toHost(got);
        String what = ops.name() + " " + fmt + " linear " + M + "x" + in + "->" + out;
        double worst = 0, moved = 0;
        for (int m = 0; m < M; m++) {
            for (int o = 0; o < out; o++) {
                double s = bias[o], bound = Math.abs(bias[o]), exact = bias[o];
                for (int k = 0; k < in; k++) {
                    double xv = x[3 + m * in + k], wv = rounded(w[o * in + k], fmt);
                    s += xv * wv;
                    bound += Math.abs(xv * wv);
                    exact += xv * w[o * in + k];
                }
                double g = got[1 + m * out + o], err = Math.abs(g - s), tol = REL * Math.sqrt(in + 1.0) * bound;
                if (!(err <= tol)) { // NaN fails too
                    throw new AssertionError(what + ": output [" + m + ", " + o + "] = " + g + ", naive " + s
                            + " on the rounded weights (error " + err + " > " + tol + ")");
                }
                worst = Math.max(worst, err / tol);
                moved = Math.max(moved, Math.abs(g - exact) / tol);
            }
        }
        if (fmt != WeightPanels.Format.F32 && !(moved > 2)) {
            throw new AssertionError(what + ": is within " + moved
                    + " x the tolerance of the float32 weights' product: the rounding did not reach the kernel");
        }
        return worst;
    }

    /**
     * Every finite value of the 16-bit format {@code fmt} (63488 float16 values, 65024 bfloat16 ones: subnormals,
     * zeros of both signs, the extremes) as the weights of a {@code [n, 1]} layer, times an input of 1: each output
     * must equal its weight exactly (the widening to float32 is exact for both formats; a sum that starts at +0
     * turns -0 into +0).
     */
    public static void everyValueWidensExactly(Ops ops, WeightPanels.Format fmt) {
        float[] w = new float[65536];
        int n = 0;
        for (int h = 0; h < 65536; h++) {
            float v = fmt == WeightPanels.Format.FP16
                    ? Float.float16ToFloat((short) h)
                    : WeightPanels.fromBf16((short) h);
            if (Float.isFinite(v)) w[n++] = v;
        }
        w = Arrays.copyOf(w, n);
        Linear layer = new Linear(MemorySegment.ofArray(w.clone()), null, n, 1, fmt);
        float[] got = new float[n];
        ops.linear(new float[] {1f}, 0, 1, layer, got, 0, Activation.NONE);
        ops.toHost(got);
        for (int i = 0; i < n; i++) {
            if (!(got[i] == w[i])) { // exact (a sum from +0 gives +0 for -0)
                throw new AssertionError(ops.name() + " " + fmt + ": weight " + w[i] + " (bits "
                        + Integer.toHexString(Float.floatToRawIntBits(w[i])) + ") came out as " + got[i]);
            }
        }
    }
}
