package dev.tessera.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.nn.Conv2d;
import dev.tessera.engine.nn.GroupNorm;
import dev.tessera.engine.nn.Linear;
import dev.tessera.engine.nn.Rope2d;
import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.engine.ops.Activation;
import dev.tessera.engine.ops.Backends;
import dev.tessera.engine.ops.KvStorage;
import dev.tessera.engine.ops.Ops;
import dev.tessera.engine.testing.Golden;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every kernel of every backend on the class path (the CPU backend and each OpenCL device) held to
 * {@link dev.tessera.engine.ops.ReferenceOps}: max |backend − reference| ≤ {@value #TOL} × max(1, max |reference|),
 * NaN or infinity failing. Shapes include edges that are not multiples of any tile size.
 */
class BackendOpsTest {
    /** Relative to the magnitude of the reference result. */
    static final double TOL = 1e-4;

    private static final Ops REF = Ops.reference();

    /** The first device with every array argument device-resident ({@link ResidentArgs}). */
    private static final Supplier<Ops> RESIDENT = new Supplier<>() {
        private Ops ops;

        @Override
        public synchronized Ops get() {
            if (ops == null) ops = ResidentArgs.wrap(OpenClTesting.first());
            return ops;
        }
    };

    /**
     * The CPU backend, and each OpenCL device (PoCL's CPU device in CI; skipped where there is none) with its
     * default work sizes and with both GEMM kernels at other sizes, and the first device again with every array
     * argument an array of its own ({@link ResidentArgs}: the device-resident paths).
     */
    static List<Ops> backends() {
        List<Ops> all = new ArrayList<>();
        all.add(Backends.open("cpu"));
        all.addAll(OpenClTesting.variants());
        all.add(RESIDENT.get());
        return all;
    }

    static Stream<Arguments> withShapes(int[][] shapes) {
        List<Arguments> out = new ArrayList<>();
        for (Ops o : backends()) for (int[] s : shapes) out.add(Arguments.of(o, s));
        return out.stream();
    }

    static Stream<Ops> ops() {
        return backends().stream();
    }

    static float[] random(int n, long seed) {
        Random r = new Random(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    static void assertNear(float[] want, float[] got, String what) {
        double scale = 1;
        for (float w : want) scale = Math.max(scale, Math.abs(w));
        double err = Golden.maxAbsError(want, got); // fails at the first NaN or infinity
        assertTrue(err <= TOL * scale, what + ": max abs error " + err + " > " + TOL + " x " + scale);
    }

    static Stream<Arguments> gemmShapes() {
        return withShapes(new int[][] {
            {1, 1, 1}, {7, 65, 300}, {13, 100, 17}, {33, 31, 64}, {64, 64, 64}, {5, 1, 9}, {70, 130, 1100}
        });
    }

    @ParameterizedTest(name = "{0} {1}", autoCloseArguments = false)
    @MethodSource("gemmShapes")
    void gemm(Ops ops, int[] s) {
        int M = s[0], N = s[1], K = s[2], lda = K + 3, ldb = N + 5, ldc = N + 2;
        float[] a = random(M * lda + 4, 1), b = random(K * ldb + 7, 2);
        float[] want = random(M * ldc + 2, 3), got = want.clone();
        for (boolean acc : new boolean[] {false, true}) {
            REF.gemm(M, N, K, MemorySegment.ofArray(a), 4, lda, b, 7, ldb, want, 2, ldc, acc);
            ops.gemm(M, N, K, MemorySegment.ofArray(a), 4, lda, b, 7, ldb, got, 2, ldc, acc);
            assertNear(want, got, ops.name() + " gemm " + M + "x" + N + "x" + K + (acc ? " accumulate" : ""));
        }
    }

    static Stream<Arguments> linearShapes() {
        return withShapes(new int[][] {{1, 64, 32}, {3, 100, 37}, {50, 200, 130}, {33, 96, 65}, {4, 1030, 70}});
    }

    @ParameterizedTest(name = "{0} {1}", autoCloseArguments = false)
    @MethodSource("linearShapes")
    void linearWithBiasAndEveryActivation(Ops ops, int[] s) {
        int M = s[0], in = s[1], out = s[2];
        for (WeightPanels.Format f : WeightPanels.Format.values()) {
            for (boolean bias : new boolean[] {true, false}) {
                Linear w = new Linear(
                        MemorySegment.ofArray(random(out * in, 4)), bias ? random(out, 5) : null, out, in, f);
                float[] x = random(M * in + 3, 6);
                for (Activation act : Activation.values()) {
                    float[] want = new float[M * out + 1], got = new float[M * out + 1];
                    REF.linear(x, 3, M, w, want, 1, act);
                    ops.linear(x, 3, M, w, got, 1, act);
                    assertNear(want, got, ops.name() + " linear " + f + " bias=" + bias + " " + act);
                }
            }
        }
    }

    static Stream<Arguments> rowShapes() {
        return withShapes(new int[][] {{1, 1, 1}, {7, 40, 1}, {12, 136, 4}, {6, 16, 6}, {3, 1030, 3}});
    }

    @ParameterizedTest(name = "{0} {1}", autoCloseArguments = false)
    @MethodSource("rowShapes")
    void normsModulationAndGatedResidual(Ops ops, int[] s) {
        int rows = s[0], C = s[1], rpg = s[2], groups = (rows + rpg - 1) / rpg, stride = 6 * C + 5;
        float[] x = random(rows * C + 2, 7),
                mod = random(groups * stride, 8),
                w = random(C, 9),
                y = random(rows * C + 1, 10);
        for (float[] m : new float[][] {null, mod}) {
            float[] want = new float[rows * C + 3], got = new float[rows * C + 3];
            REF.layerNorm(x, 2, want, 3, rows, C, 1e-6f, m, stride, 2 * C + 1, C, rpg);
            ops.layerNorm(x, 2, got, 3, rows, C, 1e-6f, m, stride, 2 * C + 1, C, rpg);
            assertNear(want, got, ops.name() + " layerNorm" + (m == null ? "" : " + AdaLN"));
        }
        for (float[] weight : new float[][] {null, w}) {
            float[] want = new float[rows * C + 3], got = new float[rows * C + 3];
            REF.rmsNorm(x, 2, want, 3, rows, C, 1e-5f, weight);
            ops.rmsNorm(x, 2, got, 3, rows, C, 1e-5f, weight);
            assertNear(want, got, ops.name() + " rmsNorm" + (weight == null ? "" : " weighted"));
        }
        float[] want = x.clone(), got = x.clone();
        REF.modulate(want, 2, rows, C, mod, stride, 3 * C, 4 * C + 2, rpg);
        ops.modulate(got, 2, rows, C, mod, stride, 3 * C, 4 * C + 2, rpg);
        assertNear(want, got, ops.name() + " modulate");
        for (float[] m : new float[][] {null, mod}) {
            want = x.clone();
            got = x.clone();
            REF.addGated(want, 2, y, 1, rows, C, m, stride, 5 * C, rpg);
            ops.addGated(got, 2, y, 1, rows, C, m, stride, 5 * C, rpg);
            assertNear(want, got, ops.name() + " addGated" + (m == null ? "" : " gated"));
        }
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("ops")
    void activationsAndSoftmax(Ops ops) {
        float[] x = random(1003, 11);
        for (int i = 0; i < x.length; i++) x[i] *= 6;
        for (Activation act : Activation.values()) {
            float[] want = x.clone(), got = x.clone();
            REF.activate(want, 1, 1000, act);
            ops.activate(got, 1, 1000, act);
            assertNear(want, got, ops.name() + " " + act);
        }
        for (int n : new int[] {1, 5, 1000}) {
            float[] want = x.clone(), got = x.clone();
            REF.softmax(want, 2, n);
            ops.softmax(got, 2, n);
            assertNear(want, got, ops.name() + " softmax " + n);
        }
    }

    static Stream<Arguments> attentionShapes() {
        // B, H, l, d, tMax - T, T
        return withShapes(new int[][] {
            {2, 2, 1, 64, 1, 1},
            {2, 2, 4, 64, 5, 9},
            {1, 3, 100, 32, 0, 155},
            {2, 1, 70, 16, 3, 91},
            {1, 2, 16, 72, 1, 100},
            {1, 1, 64, 640, 0, 64}
        }); // the last: a VQ-VAE's single-head attention over C
    }

    @ParameterizedTest(name = "{0} {1}", autoCloseArguments = false)
    @MethodSource("attentionShapes")
    void attentionCausalAndNot(Ops ops, int[] s) {
        int B = s[0], H = s[1], l = s[2], d = s[3], T = s[5], tMax = T + s[4];
        int ldq = H * d + 3, ldo = H * d + 5;
        float[] q = random(B * l * ldq + 2, 12), kT = random(B * H * d * tMax, 13), v = random(B * H * tMax * d, 14);
        float[] scale = new float[H];
        for (int h = 0; h < H; h++) scale[h] = (float) (1 / Math.sqrt(d)) * (1 + 0.1f * h);
        for (boolean causal : new boolean[] {false, true}) {
            float[] want = random(B * l * ldo + 1, 15), got = want.clone();
            REF.attention(B, H, l, d, q, 2, ldq, kT, v, tMax, T, causal, scale, want, 1, ldo);
            ops.attention(B, H, l, d, q, 2, ldq, kT, v, tMax, T, causal, scale, got, 1, ldo);
            assertNear(want, got, ops.name() + " attention " + (causal ? "causal" : "full"));
        }
    }

    static Stream<Arguments> convShapes() {
        // cin, cout, H, W, k, stride, pad (top, left), pad (bottom, right)
        return withShapes(new int[][] {
            {3, 8, 16, 16, 3, 1, 1, 1},
            {8, 5, 9, 7, 3, 1, 1, 1},
            {16, 32, 8, 8, 1, 1, 0, 0},
            {4, 6, 10, 10, 3, 2, 0, 0},
            {3, 4, 11, 9, 4, 2, 1, 2},
            {35, 33, 19, 13, 3, 1, 1, 1},
            {6, 3, 7, 7, 7, 1, 3, 3}
        });
    }

    @ParameterizedTest(name = "{0} {1}", autoCloseArguments = false)
    @MethodSource("convShapes")
    void conv2d(Ops ops, int[] s) {
        int cin = s[0], cout = s[1], H = s[2], W = s[3], k = s[4];
        for (boolean bias : new boolean[] {true, false}) {
            Conv2d conv = new Conv2d(
                    MemorySegment.ofArray(random(cout * cin * k * k, 16)),
                    bias ? random(cout, 17) : null,
                    cout,
                    cin,
                    k,
                    k,
                    s[5],
                    s[6],
                    s[6],
                    s[7],
                    s[7]);
            float[] in = random(cin * H * W + 2, 18);
            int n = cout * conv.outHeight(H) * conv.outWidth(W);
            float[] want = new float[n + 1], got = new float[n + 1];
            REF.conv2d(in, 2, H, W, conv, want, 1);
            ops.conv2d(in, 2, H, W, conv, got, 1);
            assertNear(want, got, ops.name() + " conv2d bias=" + bias);
        }
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("ops")
    void groupNormUpsamplingAndResizing(Ops ops) {
        int C = 64, H = 9, W = 11;
        GroupNorm gn = new GroupNorm(random(C, 19), random(C, 20), 32, 1e-6f);
        float[] x = random(C * H * W + 1, 21);
        for (boolean silu : new boolean[] {false, true}) {
            float[] want = new float[C * H * W + 2], got = new float[C * H * W + 2];
            REF.groupNorm(x, 1, C, H * W, gn, silu, want, 2);
            ops.groupNorm(x, 1, C, H * W, gn, silu, got, 2);
            assertNear(want, got, ops.name() + " groupNorm silu=" + silu);
        }
        float[] want = new float[4 * C * H * W + 1], got = new float[4 * C * H * W + 1];
        REF.upsampleNearest2x(x, 1, C, H, W, want, 1);
        ops.upsampleNearest2x(x, 1, C, H, W, got, 1);
        assertNear(want, got, ops.name() + " upsampleNearest2x");
        for (int[] o : new int[][] {{16, 16}, {4, 5}}) {
            want = new float[C * o[0] * o[1]];
            got = new float[C * o[0] * o[1]];
            REF.resizeBicubic(x, 1, C, H, W, want, 0, o[0], o[1]);
            ops.resizeBicubic(x, 1, C, H, W, got, 0, o[0], o[1]);
            assertNear(want, got, ops.name() + " bicubic");
            REF.resizeArea(x, 1, C, H, W, want, 0, o[0], o[1]);
            ops.resizeArea(x, 1, C, H, W, got, 0, o[0], o[1]);
            assertNear(want, got, ops.name() + " area");
        }
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("ops")
    void stepsBetweenTheProducts(Ops ops) {
        // rotary on the q and k parts of qkv rows, with a cycle of positions shorter than the rows
        Rope2d rope = Rope2d.llamaGen(1, 8, 16, 10000f);
        int rows = 11, heads = 3, hd = rope.headDim(), ld = 3 * heads * hd;
        int[] pos = {0, 5, 64, 9};
        float[] want = random(rows * ld + 1, 22), got = want.clone();
        for (int part = 0; part < 2; part++) {
            REF.rotary(want, 1 + part * heads * hd, ld, rows, heads, rope, pos, 3);
            ops.rotary(got, 1 + part * heads * hd, ld, rows, heads, rope, pos, 3);
        }
        assertNear(want, got, ops.name() + " rotary");

        float[] mul = random(heads, 23);
        want = random(rows * ld, 24);
        got = want.clone();
        REF.l2NormalizeHeads(want, heads * hd, ld, rows, heads, hd, mul);
        ops.l2NormalizeHeads(got, heads * hd, ld, rows, heads, hd, mul);
        REF.l2NormalizeHeads(want, 0, ld, rows, heads, hd, null);
        ops.l2NormalizeHeads(got, 0, ld, rows, heads, hd, null);
        assertNear(want, got, ops.name() + " l2NormalizeHeads");

        int n = 67, ldg = 2 * n + 1;
        float[] g = random(rows * ldg, 25);
        for (Activation act : Activation.values()) {
            float[] w = new float[rows * n + 2], o = new float[rows * n + 2];
            REF.gatedProduct(g, 0, ldg, g, n, ldg, rows, n, act, w, 2, n);
            ops.gatedProduct(g, 0, ldg, g, n, ldg, rows, n, act, o, 2, n);
            assertNear(w, o, ops.name() + " gatedProduct " + act);
            float[] wi = g.clone(), oi = g.clone();
            REF.gatedProduct(wi, 0, ldg, g, n, ldg, rows, n, act, wi, 0, ldg);
            ops.gatedProduct(oi, 0, ldg, g, n, ldg, rows, n, act, oi, 0, ldg);
            assertNear(wi, oi, ops.name() + " gatedProduct in place " + act);
        }

        float[] table = random(5 * 33 + 4, 26);
        want = random(7 * 5 * 33 + 3, 27);
        got = want.clone();
        REF.addBroadcast(want, 3, 7, 5, 33, table, 4);
        ops.addBroadcast(got, 3, 7, 5, 33, table, 4);
        assertNear(want, got, ops.name() + " addBroadcast");

        float[] aw = random(33, 28), ab = random(33, 29);
        REF.affine(want, 3, 35, 33, aw, ab);
        ops.affine(got, 3, 35, 33, aw, ab);
        assertNear(want, got, ops.name() + " affine");

        float[] src = random(1000, 30);
        REF.blend(src, 7, 0.25f, want, 1, 0.75f, 900);
        ops.blend(src, 7, 0.25f, got, 1, 0.75f, 900);
        assertNear(want, got, ops.name() + " blend");

        REF.clamp(want, 2, 1000, -0.5f, 0.5f);
        ops.clamp(got, 2, 1000, -0.5f, 0.5f);
        assertNear(want, got, ops.name() + " clamp");
    }

    /** Every bit as the reference moves it, with each argument held by the backend ({@code allocate}) or not. */
    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("ops")
    void copiesAreBitExact(Ops ops) {
        float[] values = random(2000, 31);
        values[3] = -0f;
        values[4] = Float.POSITIVE_INFINITY;
        values[5] = Float.MIN_VALUE; // subnormal
        int C = 29;
        int[] from = {3, 0, 3, 11, 7}, to = {9, 2, 0, 4, 13};
        for (int mode = 0; mode < 4; mode++) {
            boolean srcHeld = (mode & 1) != 0, dstHeld = (mode & 2) != 0;
            String what = ops.name() + (srcHeld ? " held" : " host") + " to " + (dstHeld ? "held" : "host");
            float[] src = array(ops, values, srcHeld);
            float[] want = random(1500, 32), dst = array(ops, want, dstHeld);
            REF.copy(values, 7, want, 100, 1000);
            ops.copy(src, 7, dst, 100, 1000);
            ops.toHost(dst);
            assertBits(want, dst, what + " copy");

            want = random(20 * C + 1, 33);
            dst = array(ops, want, dstHeld);
            REF.copyRows(values, 5, from, want, 1, to, from.length, C);
            ops.copyRows(src, 5, from, dst, 1, to, from.length, C);
            ops.toHost(dst);
            assertBits(want, dst, what + " copyRows");

            want = random(37 * 45 + 3, 34);
            dst = array(ops, want, dstHeld);
            REF.transpose(values, 11, 37, 45, want, 3);
            ops.transpose(src, 11, 37, 45, dst, 3);
            ops.toHost(dst);
            assertBits(want, dst, what + " transpose");
        }
        // the two halves of one array held by the backend, the source half written by an op first
        float[] want = random(1200, 35), one = array(ops, want, true);
        REF.clamp(want, 0, 600, -0.5f, 0.5f);
        ops.clamp(one, 0, 600, -0.5f, 0.5f);
        REF.copy(want, 0, want, 600, 600);
        ops.copy(one, 0, one, 600, 600);
        ops.toHost(one);
        assertBits(want, one, ops.name() + " copy within one array");
    }

    /**
     * Pairs whose mean tests the edges of float32: overflow of the sum (the mean of two large values is infinite, as
     * the official {@code (b + r)/2} gives), infinities, NaN, signed zeros, and halves that land in the subnormal range
     * and round to even.
     */
    static final float[][] AVERAGE_EDGES = {
        {Float.MAX_VALUE, Float.MAX_VALUE},
        {-Float.MAX_VALUE, -Float.MAX_VALUE},
        {Float.MAX_VALUE, Math.ulp(Float.MAX_VALUE)},
        {Float.MAX_VALUE, -Float.MAX_VALUE},
        {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY},
        {Float.POSITIVE_INFINITY, 1f},
        {-2f, Float.NEGATIVE_INFINITY},
        {Float.NaN, 1f},
        {1f, Float.NaN},
        {-0f, -0f},
        {-0f, 0f},
        {Float.MIN_VALUE, 0f},
        {Float.MIN_VALUE, Float.MIN_VALUE},
        {3 * Float.MIN_VALUE, 0f},
        {-3 * Float.MIN_VALUE, -0f},
        {Float.MIN_NORMAL, 0f},
        {Float.MIN_NORMAL, Float.MIN_VALUE},
        {Float.MIN_NORMAL, -3 * Float.MIN_VALUE},
        {1f, Math.ulp(1f)},
        {16777216f, 1f},
    };

    /**
     * {@code average}, bit for bit as the reference, with each of x, y and out held by the backend or not, in place
     * (out is x, out is y), at offsets, over random values and {@link #AVERAGE_EDGES}; elements outside out's range
     * untouched.
     */
    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("ops")
    void averageIsBitExact(Ops ops) {
        int n = 1000;
        float[] xs = random(n + 9, 36), ys = random(n + 4, 37);
        for (int i = 0; i < AVERAGE_EDGES.length; i++) {
            xs[9 + 3 * i] = AVERAGE_EDGES[i][0];
            ys[4 + 3 * i] = AVERAGE_EDGES[i][1];
        }
        for (int mode = 0; mode < 8; mode++) {
            boolean xHeld = (mode & 1) != 0, yHeld = (mode & 2) != 0, outHeld = (mode & 4) != 0;
            String what = ops.name() + " average x " + (xHeld ? "held" : "host") + ", y " + (yHeld ? "held" : "host")
                    + ", out " + (outHeld ? "held" : "host");
            float[] want = random(n + 12, 38), out = array(ops, want, outHeld);
            REF.average(xs, 9, ys, 4, want, 5, n);
            ops.average(array(ops, xs, xHeld), 9, array(ops, ys, yHeld), 4, out, 5, n);
            ops.toHost(out);
            assertSameFloats(want, out, what);

            float[] wantX = xs.clone(), inX = array(ops, xs, xHeld);
            REF.average(wantX, 9, ys, 4, wantX, 9, n);
            ops.average(inX, 9, array(ops, ys, yHeld), 4, inX, 9, n);
            ops.toHost(inX);
            assertSameFloats(wantX, inX, what + ", in place into x");

            float[] wantY = ys.clone(), inY = array(ops, ys, yHeld);
            REF.average(xs, 9, wantY, 4, wantY, 4, n);
            ops.average(array(ops, xs, xHeld), 9, inY, 4, inY, 4, n);
            ops.toHost(inY);
            assertSameFloats(wantY, inY, what + ", in place into y");
        }
        float[] same = xs.clone();
        assertThrows(IllegalArgumentException.class, () -> ops.average(same, 0, same, 1, same, 1, 100));
        assertThrows(IndexOutOfBoundsException.class, () -> ops.average(xs, 10, ys, 4, same, 0, n));
    }

    /** Equal bits, or both NaN (a NaN's payload is not part of the contract). */
    private static void assertSameFloats(float[] want, float[] got, String what) {
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToIntBits(want[i]) != Float.floatToIntBits(got[i]))
                throw new AssertionError(what + ": element " + i + " is " + got[i] + " (0x"
                        + Integer.toHexString(Float.floatToRawIntBits(got[i])) + "), expected " + want[i] + " (0x"
                        + Integer.toHexString(Float.floatToRawIntBits(want[i])) + ")");
        }
    }

    private static float[] array(Ops ops, float[] values, boolean held) {
        if (!held) return values.clone();
        float[] a = ops.allocate(values.length);
        System.arraycopy(values, 0, a, 0, values.length);
        ops.hostWrote(a);
        return a;
    }

    private static void assertBits(float[] want, float[] got, String what) {
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i]))
                throw new AssertionError(what + ": element " + i + " is " + got[i] + ", expected " + want[i]);
        }
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("ops")
    void keyValueCacheHeldByTheBackend(Ops ops) {
        // two layers, 3 sequences of capacity 20; steps of 5 then 4 positions (the second for 2 sequences only),
        // attended causally and not, against the same steps on the reference backend's host arrays
        int layers = 2, rows = 3, H = 2, d = 12, cap = 20, ld = 3 * H * d + 1;
        KvStorage want = REF.allocateKv(layers, rows, H, d, cap), got = ops.allocateKv(layers, rows, H, d, cap);
        float[] scale = {0.3f, 0.2f};
        int at = 0;
        for (int[] step : new int[][] {{5, rows}, {4, 2}}) {
            int n = step[0], seqs = step[1];
            float[] qkv = random(seqs * n * ld + 2, 31 + n);
            for (int layer = 0; layer < layers; layer++) {
                REF.storeKv(want, layer, seqs, at, qkv, 2, ld, H * d, 2 * H * d, n);
                ops.storeKv(got, layer, seqs, at, qkv, 2, ld, H * d, 2 * H * d, n);
                for (boolean causal : new boolean[] {false, true}) {
                    float[] a = new float[seqs * n * H * d + 1], b = new float[seqs * n * H * d + 1];
                    REF.attendKv(want, layer, seqs, n, qkv, 2, ld, at + n, causal, scale, a, 1, H * d);
                    ops.attendKv(got, layer, seqs, n, qkv, 2, ld, at + n, causal, scale, b, 1, H * d);
                    assertNear(
                            a, b, ops.name() + " cached attention layer " + layer + " at " + at + " causal " + causal);
                }
            }
            at += n;
        }
        ops.releaseKv(got); // device memory back now; using it afterwards is an error, not a crash
        if (ops instanceof OpenClOps) {
            float[] q = new float[ld], o = new float[H * d];
            assertThrows(
                    IllegalStateException.class,
                    () -> ops.attendKv(got, 0, 1, 1, q, 0, ld, 1, false, scale, o, 0, H * d));
        }
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("ops")
    void cachedAttentionMovesOnlyTheNewPositions(Ops ops) {
        if (!(ops instanceof OpenClOps cl)) return; // host storage moves nothing
        int rows = 2, H = 4, d = 16, cap = 512, n = 2, ld = 3 * H * d;
        KvStorage kv = cl.allocateKv(1, rows, H, d, cap);
        float[] scale = {1f, 1f, 1f, 1f}, out = new float[rows * n * H * d];
        long cacheBytes = 2L * rows * H * d * cap * Float.BYTES, stepBytes = 0;
        for (int at = 0; at + n <= cap; at += n) {
            float[] qkv = random(rows * n * ld, at);
            long before = cl.bytesToDevice() + cl.bytesFromDevice();
            cl.storeKv(kv, 0, rows, at, qkv, 0, ld, H * d, 2 * H * d, n);
            cl.attendKv(kv, 0, rows, n, qkv, 0, ld, at + n, false, scale, out, 0, H * d);
            stepBytes = Math.max(stepBytes, cl.bytesToDevice() + cl.bytesFromDevice() - before);
        }
        // a step moves its qkv rows, the queries, the scales and the result: a few KB, never the 256 KB cache
        assertTrue(stepBytes < cacheBytes / 16, "a step moved " + stepBytes + " bytes; the cache holds " + cacheBytes);
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("ops")
    void codebookLookup(Ops ops) {
        int V = 37, C = 19, n = 70;
        float[] codebook = random(V * C, 41);
        int[] tokens = new int[n + 3];
        for (int i = 0; i < tokens.length; i++) tokens[i] = (i * 11) % V;
        float[] want = new float[C * n + 2], got = new float[C * n + 2];
        REF.lookupCodes(codebook, C, tokens, 3, n, want, 2);
        ops.lookupCodes(codebook, C, tokens, 3, n, got, 2);
        assertNear(want, got, ops.name() + " lookupCodes");
        assertTrue(got[2 + 5 * n + 4] == codebook[tokens[3 + 4] * C + 5], ops.name() + " code 5 of token 4");
    }

    /**
     * The nearest-code search: exact on the CPU; elsewhere each chosen code is as near as the reference's within
     * float rounding (a device may contract the sums into fused multiply-adds, which can swap near-ties).
     */
    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("ops")
    void nearestCodes(Ops ops) {
        int K = 300, C = 16, n = 45;
        float[] codebook = random(K * C, 43), z = random(C * n + 5, 47);
        float[] ee = new float[K];
        for (int k = 0; k < K; k++) {
            for (int c = 0; c < C; c++) ee[k] += codebook[k * C + c] * codebook[k * C + c];
        }
        int[] want = new int[n + 1], got = new int[n + 1];
        REF.nearestCodes(z, 5, C, n, codebook, ee, K, want, 1);
        ops.nearestCodes(z, 5, C, n, codebook, ee, K, got, 1);
        int same = 0;
        for (int t = 0; t < n; t++) {
            double best = distance(z, 5, C, n, t, codebook, want[1 + t]);
            double chosen = distance(z, 5, C, n, t, codebook, got[1 + t]);
            assertTrue(
                    chosen <= best + 1e-4 * Math.max(1, best),
                    ops.name() + " column " + t + ": code " + got[1 + t] + " at " + chosen + ", the nearest "
                            + want[1 + t] + " at " + best);
            if (want[1 + t] == got[1 + t]) same++;
        }
        assertTrue(same >= n - 2, ops.name() + ": only " + same + " of " + n + " codes agree");
        if (ops.name().startsWith("cpu")) assertEquals(Arrays.toString(want), Arrays.toString(got), "cpu is exact");
    }

    private static double distance(float[] z, int off, int C, int n, int t, float[] codebook, int k) {
        double s = 0;
        for (int c = 0; c < C; c++) {
            double d = z[off + c * n + t] - codebook[k * C + c];
            s += d * d;
        }
        return s;
    }
}
