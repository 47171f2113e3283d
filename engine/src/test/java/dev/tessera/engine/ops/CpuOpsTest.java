package dev.tessera.engine.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.nn.Conv2d;
import dev.tessera.engine.nn.GroupNorm;
import dev.tessera.engine.nn.Linear;
import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.engine.testing.SixteenBitLinear;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/** Every optimised kernel of {@link CpuOps} held to the plain loops of {@link ReferenceOps}. */
class CpuOpsTest {
    private static final Ops CPU = Ops.cpu(), REF = Ops.reference();

    static float[] random(int n, long seed) {
        Random r = new Random(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    /** Max abs difference relative to the largest reference magnitude (at least 1). */
    static void assertNear(float[] want, float[] got, double tol, String what) {
        double scale = 1, err = 0;
        for (float w : want) scale = Math.max(scale, Math.abs(w));
        for (int i = 0; i < want.length; i++) {
            double e = Math.abs(want[i] - got[i]);
            if (Double.isNaN(e)) throw new AssertionError(what + ": NaN at " + i);
            err = Math.max(err, e);
        }
        assertTrue(err <= tol * scale, what + ": max abs error " + err + " (scale " + scale + ")");
    }

    @ParameterizedTest
    @CsvSource({
        "1,1,1",
        "6,64,256",
        "7,65,300",
        "13,100,17",
        "2,3,1024",
        "48,512,64",
        "5,1,9",
        "13,1100,300",
        "7,2000,40"
    })
    void gemmMatchesReference(int M, int N, int K) {
        int lda = K + 3, ldb = N + 5, ldc = N + 2;
        float[] a = random(M * lda + 4, 1), b = random(K * ldb + 7, 2);
        float[] want = random(M * ldc + 2, 3), got = want.clone();
        for (boolean acc : new boolean[] {false, true}) {
            REF.gemm(M, N, K, MemorySegment.ofArray(a), 4, lda, b, 7, ldb, want, 2, ldc, acc);
            CPU.gemm(M, N, K, MemorySegment.ofArray(a), 4, lda, b, 7, ldb, got, 2, ldc, acc);
            assertNear(want, got, 1e-5 * Math.sqrt(K), "gemm " + M + "x" + N + "x" + K + (acc ? " accumulate" : ""));
        }
    }

    @ParameterizedTest
    @CsvSource({
        "1,64,32",
        "2,128,64",
        "3,100,37",
        "15,48,64",
        "16,64,64",
        "50,200,130",
        "338,96,128",
        "13,2100,70",
        "4,2200,64"
    })
    void linearMatchesReferenceForEveryActivation(int M, int in, int out) {
        Linear w = new Linear(MemorySegment.ofArray(random(out * in, 4)), random(out, 5), out, in);
        float[] x = random(M * in + 3, 6);
        for (Activation act : Activation.values()) {
            float[] want = new float[M * out + 1], got = new float[M * out + 1];
            REF.linear(x, 3, M, w, want, 1, act);
            CPU.linear(x, 3, M, w, got, 1, act);
            assertNear(want, got, 2e-5 * Math.sqrt(in), "linear M=" + M + " " + act);
        }
        Linear noBias = new Linear(w.weight(), null, out, in);
        float[] want = new float[M * out], got = new float[M * out];
        REF.linear(x, 0, M, noBias, want, 0, Activation.NONE);
        CPU.linear(x, 0, M, noBias, got, 0, Activation.NONE);
        assertNear(want, got, 2e-5 * Math.sqrt(in), "linear without bias");
    }

    @ParameterizedTest
    @CsvSource({"1,64,32", "2,128,64", "5,300,70", "6,64,64", "13,520,130", "64,96,128"})
    void bf16LinearMatchesReferenceOnRoundedWeights(int M, int in, int out) {
        // K over one 256-wide block, row tails of 1..5, a partial last panel; the reference reads w() (rounded)
        float[] raw = random(out * in, 21);
        Linear w = new Linear(MemorySegment.ofArray(raw), random(out, 22), out, in, WeightPanels.Format.BF16);
        float[] x = random(M * in, 23);
        float[] want = new float[M * out], got = new float[M * out];
        REF.linear(x, 0, M, w, want, 0, Activation.NONE);
        CPU.linear(x, 0, M, w, got, 0, Activation.NONE);
        assertNear(want, got, 2e-5 * Math.sqrt(in), "bf16 linear M=" + M);
        // and it is a different layer from the float32 one: rounding moved the outputs by far more than that
        Linear f32 = new Linear(MemorySegment.ofArray(raw), w.bias(), out, in, WeightPanels.Format.F32);
        float[] exact = new float[M * out];
        CPU.linear(x, 0, M, f32, exact, 0, Activation.NONE);
        double worst = 0;
        for (int i = 0; i < exact.length; i++) worst = Math.max(worst, Math.abs(exact[i] - got[i]));
        assertTrue(worst > 1e-4 && worst < 0.05 * Math.sqrt(in), "bf16 vs f32 difference " + worst);
    }

    @ParameterizedTest
    @CsvSource({
        "FP16,1,64,32",
        "FP16,2,128,64",
        "FP16,5,300,70",
        "FP16,6,64,64",
        "FP16,13,520,130",
        "FP16,64,96,128",
        "BF16,1,64,32",
        "BF16,5,300,70",
        "BF16,13,520,130"
    })
    void sixteenBitLinearMatchesNaiveProductOfRoundedWeights(WeightPanels.Format f, int M, int in, int out) {
        // row tails of 1..5, K over one 256-wide block, a partial last panel; weights at float16's edges
        double worst = SixteenBitLinear.check(CPU, f, M, in, out, 41);
        assertTrue(worst <= 1, "error " + worst + " of the tolerance");
    }

    @ParameterizedTest
    @EnumSource(
            value = WeightPanels.Format.class,
            names = {"FP16", "BF16"})
    void everySixteenBitWeightWidensExactly(WeightPanels.Format f) {
        SixteenBitLinear.everyValueWidensExactly(CPU, f);
    }

    @Test
    void fp16RoundsToNearestEvenAndRefusesWhatItCannotHold() {
        assertEquals((short) 0x3C00, WeightPanels.toFp16(1f));
        assertEquals((short) 0x3C00, WeightPanels.toFp16(1 + 0x1p-11f)); // tie: to even (down)
        assertEquals((short) 0x3C02, WeightPanels.toFp16(1 + 3 * 0x1p-11f)); // tie: to even (up)
        assertEquals((short) 0x0001, WeightPanels.toFp16(0x1p-24f)); // the smallest subnormal
        assertEquals((short) 0x7BFF, WeightPanels.toFp16(65504f));
        assertEquals(0.0999755859375f, WeightPanels.roundToFp16(0.1f));
        assertEquals(WeightPanels.Format.FP16, WeightPanels.Format.parse("FP16"));
        assertEquals(WeightPanels.Format.FP16, WeightPanels.Format.parse("half"));
        assertEquals((short) 0x7BFF, WeightPanels.to16(65504f, WeightPanels.Format.FP16, "w"));
        float[] w = random(64 * 8, 3);
        w[77] = 70000f; // finite in float32, infinite in float16
        Linear big = new Linear(MemorySegment.ofArray(w), null, 8, 64, WeightPanels.Format.FP16);
        TesseraException e = assertThrows(TesseraException.class, big::panels);
        assertEquals(
                "fp16 weights: a [8, 64] weight holds 70000.0, which float16 cannot (finite values up to ±65504"
                        + " only); use --weights bf16 or f32",
                e.getMessage());
        // bfloat16 holds it
        new Linear(MemorySegment.ofArray(w), null, 8, 64, WeightPanels.Format.BF16).panels();
        w[77] = Float.NaN;
        assertThrows(TesseraException.class, () -> WeightPanels.to16(w[77], WeightPanels.Format.FP16, "w"));
    }

    @Test
    void bf16RoundsToNearestEven() {
        assertEquals((short) 0x3F80, WeightPanels.toBf16(1f));
        assertEquals((short) 0x3F80, WeightPanels.toBf16(Float.intBitsToFloat(0x3F808000))); // tie: to even (down)
        assertEquals((short) 0x3F82, WeightPanels.toBf16(Float.intBitsToFloat(0x3F818000))); // tie: to even (up)
        assertEquals((short) 0x3F81, WeightPanels.toBf16(Float.intBitsToFloat(0x3F808001))); // above the tie
        assertEquals((short) 0xBF80, WeightPanels.toBf16(-1f));
        assertEquals((short) 0x7F80, WeightPanels.toBf16(Float.POSITIVE_INFINITY));
        assertEquals((short) 0x7F80, WeightPanels.toBf16(Float.MAX_VALUE)); // rounds up to inf
        assertTrue(Float.isNaN(WeightPanels.fromBf16(WeightPanels.toBf16(Float.NaN))));
        assertEquals(3.140625f, WeightPanels.roundToBf16(3.14159f));
        assertEquals(WeightPanels.Format.BF16, WeightPanels.Format.parse("BF16"));
        assertEquals(null, WeightPanels.Format.parse("fp8"));
    }

    @Test
    void layerNormAndAdaLnMatchReference() {
        int rows = 12, C = 136, l = 4;
        float[] x = random(rows * C, 7);
        for (int i = 0; i < x.length; i++) x[i] = x[i] * 3 + 5; // a large mean, as LN inputs have
        float[] mod = random(3 * 6 * C, 8);
        float[] want = new float[rows * C], got = new float[rows * C];
        REF.layerNorm(x, 0, want, 0, rows, C, 1e-6f, null, 0, 0, 0, 1);
        CPU.layerNorm(x, 0, got, 0, rows, C, 1e-6f, null, 0, 0, 0, 1);
        assertNear(want, got, 1e-5, "layerNorm");
        REF.layerNorm(x, 0, want, 0, rows, C, 1e-6f, mod, 6 * C, 2 * C, 4 * C, l);
        CPU.layerNorm(x, 0, got, 0, rows, C, 1e-6f, mod, 6 * C, 2 * C, 4 * C, l);
        assertNear(want, got, 1e-5, "adaLN modulation");
    }

    @Test
    void rmsNormMatchesReferenceWithAndWithoutWeight() {
        int rows = 9, C = 136;
        float[] x = random(rows * C, 30), w = random(C, 31);
        for (float[] weight : new float[][] {null, w}) {
            float[] want = new float[rows * C], got = new float[rows * C];
            REF.rmsNorm(x, 0, want, 0, rows, C, 1e-5f, weight);
            CPU.rmsNorm(x, 0, got, 0, rows, C, 1e-5f, weight);
            assertNear(want, got, 1e-5, "rmsNorm");
        }
    }

    @ParameterizedTest
    @CsvSource({"7,40,1", "12,136,4", "6,16,6"})
    void modulationAndGatedResidualMatchReference(int rows, int C, int rowsPerGroup) {
        int groups = (rows + rowsPerGroup - 1) / rowsPerGroup, stride = 3 * C;
        float[] mod = random(groups * stride, 32), y = random(rows * C, 33);
        float[] want = random(rows * C, 34), got = want.clone();
        REF.modulate(want, 0, rows, C, mod, stride, C, 2 * C, rowsPerGroup);
        CPU.modulate(got, 0, rows, C, mod, stride, C, 2 * C, rowsPerGroup);
        assertNear(want, got, 0, "modulate");
        // the result really is x·(1 + scale) + shift of each row's group
        float[] x = random(rows * C, 34);
        int r = rows - 1, g = (r / rowsPerGroup) * stride;
        assertEquals(x[r * C + 3] * (1f + mod[g + C + 3]) + mod[g + 2 * C + 3], got[r * C + 3], 1e-6f);
        for (float[] m : new float[][] {mod, null}) {
            float[] a = want.clone(), b = want.clone();
            REF.addGated(a, 0, y, 0, rows, C, m, stride, 0, rowsPerGroup);
            CPU.addGated(b, 0, y, 0, rows, C, m, stride, 0, rowsPerGroup);
            assertNear(a, b, 0, "addGated");
            assertEquals(want[5] + y[5] * (m == null ? 1f : m[5]), b[5], 1e-6f);
        }
    }

    @Test
    void causalAttentionOfTheFirstNewQuerySeesOnlyThePrefixAndItself() {
        // one head, d = 1: with the cache [1, 2, 3] and two new tokens [10, 20] (T = 5), query 0 (the first new
        // token) may not see value 20
        int T = 5, tMax = 8;
        float[] q = {0f, 0f}, kT = new float[tMax], v = new float[tMax];
        float[] vals = {1, 2, 3, 10, 20};
        System.arraycopy(vals, 0, v, 0, 5);
        float[] out = new float[2];
        CPU.attention(1, 1, 2, 1, q, 0, 1, kT, v, tMax, T, true, new float[] {1f}, out, 0, 1);
        assertEquals((1 + 2 + 3 + 10) / 4f, out[0], 1e-6f); // zero scores: the mean of the visible values
        assertEquals((1 + 2 + 3 + 10 + 20) / 5f, out[1], 1e-6f);
    }

    @ParameterizedTest
    @EnumSource(Activation.class)
    void activationsMatchTheirDefinitions(Activation act) {
        float[] x = random(1000, 9);
        for (int i = 0; i < x.length; i++) x[i] *= 4;
        float[] want = x.clone(), got = x.clone();
        REF.activate(want, 0, want.length, act);
        CPU.activate(got, 0, got.length, act);
        assertNear(want, got, 1e-6, act.name());
    }

    @Test
    void activationsHaveKnownValues() {
        assertEquals(0.8411920f, Activation.GELU_TANH.apply(1f), 1e-6f); // torch.nn.GELU('tanh')(1.)
        assertEquals(0.8413447f, Activation.GELU_ERF.apply(1f), 1e-6f); // torch.nn.GELU()(1.)
        assertEquals(-0.0455003f, Activation.GELU_ERF.apply(-2f), 1e-6f);
        assertEquals(0.7310586f, Activation.SILU.apply(1f), 1e-6f);
        assertEquals(0.9953222650189527, Erf.erf(2.0), 1e-15);
        assertEquals(-0.5204998778130465, Erf.erf(-0.5), 1e-15);
        assertEquals(0.9999779095030014, Erf.erf(3.0), 1e-15);
    }

    @Test
    void softmaxMatchesReference() {
        float[] x = random(1037, 10);
        for (int i = 0; i < x.length; i++) x[i] *= 20;
        float[] want = x.clone(), got = x.clone();
        REF.softmax(want, 0, want.length);
        CPU.softmax(got, 0, got.length);
        assertNear(want, got, 1e-6, "softmax");
        double sum = 0;
        for (float v : got) sum += v;
        assertEquals(1.0, sum, 1e-5);
    }

    @ParameterizedTest
    @CsvSource({
        "2,2,1,64,1,1",
        "2,2,4,64,5,9",
        "1,3,100,32,100,155",
        "2,1,70,16,70,91",
        "2,3,8,64,2,30",
        "1,2,16,32,1,100",
        "2,2,13,64,0,77",
        "2,2,16,64,3,150",
        "1,2,2,64,3,140",
        "2,2,3,32,2,150"
    })
    void attentionWithCacheMatchesReference(int B, int H, int l, int d, int tMaxExtra, int T) {
        int tMax = T + tMaxExtra;
        int ldq = 3 * H * d;
        float[] q = random(B * l * ldq, 11), kT = random(B * H * d * tMax, 12), v = random(B * H * tMax * d, 13);
        float[] scale = new float[H];
        for (int h = 0; h < H; h++) scale[h] = 0.3f + h;
        for (boolean causal : new boolean[] {false, true}) {
            float[] want = new float[B * l * H * d], got = new float[B * l * H * d];
            REF.attention(B, H, l, d, q, 0, ldq, kT, v, tMax, T, causal, scale, want, 0, H * d);
            CPU.attention(B, H, l, d, q, 0, ldq, kT, v, tMax, T, causal, scale, got, 0, H * d);
            assertNear(want, got, 1e-5, "attention causal=" + causal);
        }
    }

    @ParameterizedTest
    @CsvSource({
        "3,8,16,16,3,1,1",
        "8,5,9,7,3,1,1",
        "16,32,8,8,1,1,0",
        "4,6,10,10,3,2,0",
        "3,4,5,6,1,1,0",
        "35,33,19,13,3,1,1",
        "17,19,33,32,3,1,1",
        "24,40,41,35,3,1,1",
        "16,16,64,64,3,1,1",
        "17,20,66,71,3,1,1",
        "128,3,20,37,3,1,1",
        "5,1,3,2,3,1,1",
        "7,4,9,17,3,1,1",
        "130,520,32,32,3,1,1",
        "600,120,264,8,3,1,1",
        "16,16,2048,32,3,1,1"
    })
    void conv2dMatchesReference(int cin, int cout, int H, int W, int k, int stride, int pad) {
        // maps of 32x32 pixels (1024) and more take the Winograd path, smaller ones im2col; strided or 1x1 ones
        // im2col/GEMM;
        // up to four outputs (an RGB conv_out) the direct row-by-row path; more than 65536 channel pairs: Winograd in
        // output groups (one block of tiles, then two); 2048x32: 32 blocks of tiles, run in parallel up to 16 threads
        // stride 2 uses the encoder's asymmetric padding (right/bottom only)
        int pt = stride == 2 ? 0 : pad, pb = stride == 2 ? 1 : pad;
        Conv2d conv = new Conv2d(
                MemorySegment.ofArray(random(cout * cin * k * k, 14)),
                random(cout, 15),
                cout,
                cin,
                k,
                k,
                stride,
                pt,
                pt,
                pb,
                pb);
        float[] in = random(cin * H * W + 5, 16);
        int n = cout * conv.outHeight(H) * conv.outWidth(W);
        float[] want = new float[n + 3], got = new float[n + 3];
        REF.conv2d(in, 5, H, W, conv, want, 3);
        CPU.conv2d(in, 5, H, W, conv, got, 3);
        assertNear(want, got, 2e-5 * Math.sqrt(cin * k * k), "conv2d " + cin + "->" + cout + " k" + k + " s" + stride);
    }

    /**
     * Queries that see the same keys (no causal mask) give the same bits together as one at a time, whichever path
     * runs them: four at a time up to {@link CpuOps#FEW_QUERIES}, two GEMMs above.
     */
    @ParameterizedTest
    @CsvSource({"5", "8", "16", "17", "23"})
    void attentionOfSeveralQueriesEqualsOneAtATime(int l) {
        int B = 2,
                H = 3,
                d = 64,
                T = 100 + l,
                tMax = T + 3,
                ldq = 3 * H * d,
                ldo = H * d; // keys: whole tiles and a tail
        float[] q = random(B * l * ldq, 21), kT = random(B * H * d * tMax, 22), v = random(B * H * tMax * d, 23);
        float[] scale = {0.125f, 0.3f, 1f};
        float[] all = new float[B * l * ldo];
        CPU.attention(B, H, l, d, q, 0, ldq, kT, v, tMax, T, false, scale, all, 0, ldo);
        for (int i = 0; i < l; i++) {
            float[] one = new float[B * ldq], got = new float[B * ldo];
            for (int b = 0; b < B; b++) System.arraycopy(q, (b * l + i) * ldq, one, b * ldq, ldq);
            CPU.attention(B, H, 1, d, one, 0, ldq, kT, v, tMax, T, false, scale, got, 0, ldo);
            for (int b = 0; b < B; b++) {
                for (int e = 0; e < ldo; e++) {
                    assertEquals(
                            Float.floatToRawIntBits(got[b * ldo + e]),
                            Float.floatToRawIntBits(all[(b * l + i) * ldo + e]),
                            "query " + i + " of " + l + ", sequence " + b + ", element " + e);
                }
            }
        }
    }

    @Test
    void groupNormMatchesReferenceWithAndWithoutSilu() {
        int C = 64, HW = 37;
        float[] x = random(C * HW, 17);
        for (int i = 0; i < x.length; i++) x[i] = x[i] * 2 + 3;
        GroupNorm gn = new GroupNorm(random(C, 18), random(C, 19), 32, 1e-6f);
        for (boolean silu : new boolean[] {false, true}) {
            float[] want = new float[C * HW], got = new float[C * HW];
            REF.groupNorm(x, 0, C, HW, gn, silu, want, 0);
            CPU.groupNorm(x, 0, C, HW, gn, silu, got, 0);
            assertNear(want, got, 1e-5, "groupNorm silu=" + silu);
        }
    }

    @Test
    void resamplingMatchesReference() {
        float[] in = random(3 * 5 * 7, 20);
        float[] want = new float[3 * 10 * 14], got = new float[3 * 10 * 14];
        REF.upsampleNearest2x(in, 0, 3, 5, 7, want, 0);
        CPU.upsampleNearest2x(in, 0, 3, 5, 7, got, 0);
        assertNear(want, got, 0, "nearest 2x");
        float[] wantB = new float[3 * 16 * 16], gotB = new float[3 * 16 * 16];
        REF.resizeBicubic(in, 0, 3, 5, 7, wantB, 0, 16, 16);
        CPU.resizeBicubic(in, 0, 3, 5, 7, gotB, 0, 16, 16);
        assertNear(wantB, gotB, 0, "bicubic");
        float[] big = random(3 * 16 * 16, 21), wantA = new float[3 * 13 * 13], gotA = new float[3 * 13 * 13];
        REF.resizeArea(big, 0, 3, 16, 16, wantA, 0, 13, 13);
        CPU.resizeArea(big, 0, 3, 16, 16, gotA, 0, 13, 13);
        assertNear(wantA, gotA, 0, "area");
    }
}
