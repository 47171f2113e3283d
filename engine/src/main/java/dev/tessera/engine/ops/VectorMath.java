package dev.tessera.engine.ops;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Reproducible vector math: exp, tanh, sigmoid and lane sums built only from IEEE-exact lane operations (add, mul,
 * fma, shuffles, conversions), with scalar twins that perform the same operations in the same order.
 *
 * <p>Why not {@code VectorOperators.EXP/TANH} and {@code reduceLanes(ADD)}: their results may change in the last
 * bit between the interpreter, the JIT's intrinsic and the scalar tail, so a generation could depend on JIT timing
 * or on how work was split between threads. With these, the same input always gives the same bits.
 *
 * <p>exp: Cody–Waite reduction {@code x = n·ln2 + r}, |r| ≤ ln2/2, and the Cephes single-precision polynomial
 * (error about 1 ulp); results below e^−87.3 flush to 0, arguments above 88 saturate.
 */
public final class VectorMath {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    private static final float MAGIC = 12582912f; // 1.5·2²³: adding it rounds to an integer
    private static final float P0 = 1.9875691500e-4f,
            P1 = 1.3981999507e-3f,
            P2 = 8.3334519073e-3f,
            P3 = 4.1665795894e-2f,
            P4 = 1.6666665459e-1f,
            P5 = 5.0000001201e-1f;
    private static final float MAX_ARG = 88f, MIN_ARG = -87.33f;

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static final VectorShuffle<Float>[] HALVES = new VectorShuffle[Integer.numberOfTrailingZeros(L)];

    static {
        for (int i = 0, w = L / 2; w >= 1; w /= 2, i++) {
            final int step = w;
            HALVES[i] = VectorShuffle.fromOp(S, lane -> lane ^ step);
        }
    }

    private VectorMath() {}

    /** The sum of the lanes by a fixed pairwise tree (lane i + lane i^w for w = L/2, ..., 1). */
    public static float sum(FloatVector v) {
        for (VectorShuffle<Float> s : HALVES) v = v.add(v.rearrange(s));
        return v.lane(0);
    }

    public static FloatVector exp(FloatVector x) {
        VectorMask<Float> under = x.compare(VectorOperators.LT, MIN_ARG);
        x = x.min(MAX_ARG).max(MIN_ARG);
        FloatVector t = x.fma(LOG2E, MAGIC); // n + MAGIC, n = round(x·log2 e)
        FloatVector n = t.sub(MAGIC);
        FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_HI), x);
        r = n.fma(FloatVector.broadcast(S, -LN2_LO), r);
        FloatVector r2 = r.mul(r);
        FloatVector p = r.fma(P0, P1)
                .fma(r, FloatVector.broadcast(S, P2))
                .fma(r, FloatVector.broadcast(S, P3))
                .fma(r, FloatVector.broadcast(S, P4))
                .fma(r, FloatVector.broadcast(S, P5));
        p = p.fma(r2, r).add(1f);
        IntVector bits =
                ((IntVector) n.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
        FloatVector scale = bits.reinterpretAsFloats();
        return p.mul(scale).blend(0f, under);
    }

    /** The scalar twin of {@link #exp(FloatVector)}: the same operations, the same bits. */
    public static float exp(float x) {
        boolean under = x < MIN_ARG;
        x = Math.max(Math.min(x, MAX_ARG), MIN_ARG);
        float t = Math.fma(x, LOG2E, MAGIC);
        float n = t - MAGIC;
        float r = Math.fma(n, -LN2_HI, x);
        r = Math.fma(n, -LN2_LO, r);
        float r2 = r * r;
        float p = Math.fma(r, P0, P1);
        p = Math.fma(p, r, P2);
        p = Math.fma(p, r, P3);
        p = Math.fma(p, r, P4);
        p = Math.fma(p, r, P5);
        p = Math.fma(p, r2, r) + 1f;
        float scale = Float.intBitsToFloat(((int) n + 127) << 23);
        return under ? 0f : p * scale;
    }

    /** {@code tanh(x) = sign(x)·(1 − 2/(e^{2|x|} + 1))}. */
    public static FloatVector tanh(FloatVector x) {
        FloatVector a = x.abs();
        FloatVector e = exp(a.add(a));
        FloatVector t =
                FloatVector.broadcast(S, 1f).sub(FloatVector.broadcast(S, 2f).div(e.add(1f)));
        return t.blend(t.neg(), x.compare(VectorOperators.LT, 0f));
    }

    public static float tanh(float x) {
        float a = Math.abs(x);
        float e = exp(a + a);
        float t = 1f - 2f / (e + 1f);
        return x < 0f ? -t : t;
    }

    /** {@code x·sigmoid(x) = x / (1 + e^{−x})}. */
    public static FloatVector silu(FloatVector x) {
        return x.div(exp(x.neg()).add(1f));
    }

    public static float silu(float x) {
        return x / (exp(-x) + 1f);
    }

    private static final float SQRT_2_OVER_PI = (float) Math.sqrt(2.0 / Math.PI);

    /** {@code 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))}. */
    public static FloatVector geluTanh(FloatVector x) {
        FloatVector inner = x.mul(x).mul(x).mul(0.044715f).add(x).mul(SQRT_2_OVER_PI);
        return x.mul(0.5f).mul(tanh(inner).add(1f));
    }

    public static float geluTanh(float x) {
        float inner = (x * x * x * 0.044715f + x) * SQRT_2_OVER_PI;
        return x * 0.5f * (tanh(inner) + 1f);
    }

    // erf(z) = z·P(z²) for z ≤ 1 (max 3 ulp), 1 − e^{−z²}·Q(1/z) for 1 < z ≤ 4 (max error 6e-8), 1 beyond
    // (erfc(4) = 1.5e-8 rounds away); max abs error 1.5e-7 overall. Coefficients fitted here in float64 (least
    // squares on Chebyshev nodes of [0, 1] in z² and of [1/4, 1] in 1/z)
    private static final float[] ERF_P = {
        -9.728329860e-06f,
        1.128815017e-04f,
        -8.487264767e-04f,
        5.221261324e-03f,
        -2.686551740e-02f,
        1.128378411e-01f,
        -3.761263859e-01f,
        1.128379167e+00f
    };
    private static final float[] ERF_Q = {
        2.602572319e-02f,
        -1.535019044e-01f,
        3.745980254e-01f,
        -4.490048282e-01f,
        1.622374798e-01f,
        2.730871096e-01f,
        -3.913706321e-01f,
        2.404867028e-02f,
        5.613180419e-01f,
        1.458936393e-04f
    };
    private static final float SQRT1_2 = (float) Math.sqrt(0.5);

    private static FloatVector horner(float[] c, FloatVector x) {
        FloatVector acc = FloatVector.broadcast(S, c[0]);
        for (int i = 1; i < c.length; i++) acc = acc.mul(x).add(c[i]);
        return acc;
    }

    private static float horner(float[] c, float x) {
        float acc = c[0];
        for (int i = 1; i < c.length; i++) acc = acc * x + c[i];
        return acc;
    }

    /** The error function in float32 (within a few ulp). */
    public static FloatVector erf(FloatVector x) {
        FloatVector z = x.abs();
        FloatVector small = z.mul(horner(ERF_P, z.mul(z)));
        FloatVector zc = z.max(1f).min(4f);
        FloatVector w = FloatVector.broadcast(S, 1f).div(zc);
        FloatVector large =
                FloatVector.broadcast(S, 1f).sub(exp(zc.mul(zc).neg()).mul(horner(ERF_Q, w)));
        FloatVector r = large.blend(small, z.compare(VectorOperators.LE, 1f));
        return r.blend(r.neg(), x.compare(VectorOperators.LT, 0f));
    }

    public static float erf(float x) {
        float z = Math.abs(x), r;
        if (z <= 1f) {
            r = z * horner(ERF_P, z * z);
        } else {
            float zc = Math.min(z, 4f);
            r = 1f - exp(-(zc * zc)) * horner(ERF_Q, 1f / zc);
        }
        return x < 0f ? -r : r;
    }

    /** {@code x·0.5·(1 + erf(x/√2))}, PyTorch's exact GELU in its order of operations. */
    public static FloatVector geluErf(FloatVector x) {
        return x.mul(0.5f).mul(erf(x.mul(SQRT1_2)).add(1f));
    }

    public static float geluErf(float x) {
        return x * 0.5f * (erf(x * SQRT1_2) + 1f);
    }
}
