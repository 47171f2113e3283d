package dev.tessera.engine.ops;

import static dev.tessera.engine.ops.CpuOpsTest.assertNear;
import static dev.tessera.engine.ops.CpuOpsTest.random;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.nn.Rope2d;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The steps between the matrix products (rotary embedding, per-head L2 normalisation, the GLU product, broadcast
 * adds, affine, blend, clamp): {@link CpuOps} equals {@link ReferenceOps} bit for bit, and the reference does what
 * its definition says on values worked out by hand.
 */
class PerElementOpsTest {
    private static final Ops CPU = Ops.cpu(), REF = Ops.reference();

    @ParameterizedTest
    @CsvSource({"7,3,5", "40,4,9", "130,2,130"})
    void rotaryMatchesReference(int rows, int heads, int period) {
        Rope2d rope = Rope2d.llamaGen(1, 16, 16, 10000f);
        int hd = rope.headDim(), ld = 3 * heads * hd + 5;
        int[] pos = new int[period];
        for (int i = 0; i < period; i++) pos[i] = (i * 37) % rope.positions();
        float[] want = random(rows * ld + 3, 1), got = want.clone();
        REF.rotary(want, 3, ld, rows, heads, rope, pos, period);
        CPU.rotary(got, 3, ld, rows, heads, rope, pos, period);
        assertNear(want, got, 0, "rotary");
        // values outside the rotated heads are untouched
        float[] x = random(rows * ld + 3, 1);
        assertEquals(x[3 + heads * hd], got[3 + heads * hd]);
    }

    @Test
    void rotaryTurnsEachPairByItsAngle() {
        float[] freqs = {0.5f};
        Rope2d rope = Rope2d.scaledGrid(2, 2, freqs); // hd 4: pair 0 by row·0.5, pair 1 by col·0.5
        // token 3 of the 2x2 map sits at row 1, col 1 (positions rescaled by 2/2 = 1)
        float[] x = {1, 0, 0, 1};
        REF.rotary(x, 0, 4, 1, 1, rope, new int[] {3}, 1);
        float c = (float) Math.cos(0.5), s = (float) Math.sin(0.5);
        assertEquals(c, x[0], 1e-7f);
        assertEquals(s, x[1], 1e-7f);
        assertEquals(-s, x[2], 1e-7f);
        assertEquals(c, x[3], 1e-7f);
    }

    @ParameterizedTest
    @CsvSource({"5,2,8", "33,16,64", "3,1,7"})
    void l2NormalizeHeadsMatchesReferenceAndGivesUnitHeads(int rows, int heads, int d) {
        int ld = 3 * heads * d;
        float[] mul = random(heads, 3);
        for (float[] m : new float[][] {mul, null}) {
            float[] want = random(rows * ld, 2), got = want.clone();
            REF.l2NormalizeHeads(want, 0, ld, rows, heads, d, m);
            CPU.l2NormalizeHeads(got, 0, ld, rows, heads, d, m);
            assertNear(want, got, 0, "l2NormalizeHeads");
            double ss = 0;
            for (int j = 0; j < d; j++) ss += (double) got[ld + d + j] * got[ld + d + j];
            double expect = m == null ? 1 : (double) m[1 % heads] * m[1 % heads];
            if (heads > 1) assertEquals(expect, ss, 1e-5 * Math.max(1, expect), "squared norm of a scaled head");
        }
        float[] zero = new float[8];
        CPU.l2NormalizeHeads(zero, 0, 8, 1, 1, 8, null);
        assertEquals(0f, zero[0]); // a zero head stays zero (norm floored at 1e-12), never NaN
    }

    @ParameterizedTest
    @EnumSource(Activation.class)
    void gatedProductMatchesReference(Activation act) {
        int rows = 9, n = 70, ldg = 2 * n + 3;
        float[] g = random(rows * ldg, 4);
        for (int i = 0; i < g.length; i++) g[i] *= 3;
        float[] want = new float[rows * n], got = new float[rows * n];
        REF.gatedProduct(g, 0, ldg, g, n, ldg, rows, n, act, want, 0, n);
        CPU.gatedProduct(g, 0, ldg, g, n, ldg, rows, n, act, got, 0, n);
        // the activations themselves are held to their definitions within 1e-6 (CpuOpsTest); the product adds none
        assertNear(want, got, act == Activation.NONE ? 0 : 1e-6, "gatedProduct " + act);
        float[] direct = g.clone(), inPlace = g.clone();
        CPU.gatedProduct(g, 0, ldg, g, n, ldg, rows, n, act, direct, 0, ldg);
        CPU.gatedProduct(inPlace, 0, ldg, g, n, ldg, rows, n, act, inPlace, 0, ldg);
        assertNear(direct, inPlace, 0, "in place");
        assertThrows(
                IllegalArgumentException.class, () -> CPU.gatedProduct(g, 0, ldg, g, n, ldg, 1, n, act, g, 1, ldg));
    }

    @Test
    void gatedProductOfKnownValues() {
        float[] g = {2f, -1f}, u = {3f, 5f}, out = new float[2];
        REF.gatedProduct(g, 0, 2, u, 0, 2, 1, 2, Activation.RELU, out, 0, 2);
        assertEquals(6f, out[0]);
        assertEquals(0f, out[1]);
    }

    @ParameterizedTest
    @CsvSource({"3,5,7", "2,100,96", "70,1,16"})
    void addBroadcastMatchesReference(int count, int n, int C) {
        float[] table = random(n * C + 11, 5);
        float[] want = random(count * n * C + 2, 6), got = want.clone();
        REF.addBroadcast(want, 2, count, n, C, table, 11);
        CPU.addBroadcast(got, 2, count, n, C, table, 11);
        assertNear(want, got, 0, "addBroadcast");
        float[] x = random(count * n * C + 2, 6);
        int b = count - 1, t = n - 1, c = C - 1;
        assertEquals(x[2 + (b * n + t) * C + c] + table[11 + t * C + c], got[2 + (b * n + t) * C + c]);
    }

    @Test
    void affineBlendAndClampMatchReference() {
        int rows = 13, C = 45;
        float[] w = random(C, 7), b = random(C, 8);
        float[] want = random(rows * C, 9), got = want.clone();
        REF.affine(want, 0, rows, C, w, b);
        CPU.affine(got, 0, rows, C, w, b);
        assertNear(want, got, 0, "affine");
        float[] x = random(rows * C, 9);
        assertEquals(x[C + 4] * w[4] + b[4], got[C + 4]);

        int n = 40000;
        float[] src = random(n + 1, 10), y0 = random(n + 3, 11), y1 = y0.clone();
        REF.blend(src, 1, 0.7f, y0, 3, 0.3f, n);
        CPU.blend(src, 1, 0.7f, y1, 3, 0.3f, n);
        assertNear(y0, y1, 0, "blend");
        float[] y = random(n + 3, 11);
        assertEquals(src[1 + 5] * 0.7f + y[3 + 5] * 0.3f, y1[3 + 5]);

        float[] c0 = random(n, 12);
        for (int i = 0; i < n; i++) c0[i] *= 2;
        c0[17] = Float.NaN;
        float[] c1 = c0.clone();
        REF.clamp(c0, 0, n, -1f, 1f);
        CPU.clamp(c1, 0, n, -1f, 1f);
        assertTrue(Float.isNaN(c0[17]) && Float.isNaN(c1[17]), "NaN stays NaN");
        c0[17] = c1[17] = 0;
        assertNear(c0, c1, 0, "clamp");
        for (float v : c1) assertTrue(v >= -1f && v <= 1f);
    }

    @Test
    void averageIsTheRoundedSumHalvedOnEveryBackend() {
        // worked out by hand: the sum is rounded first (it may overflow), then halved (rounding to even when the half
        // falls below the normal range)
        float tiny = Float.MIN_VALUE;
        float[][] cases = {
            {1f, 2f, 1.5f},
            {Float.MAX_VALUE, Float.MAX_VALUE, Float.POSITIVE_INFINITY},
            {Float.MAX_VALUE, Math.ulp(Float.MAX_VALUE), Float.POSITIVE_INFINITY}, // the sum rounds up to 2^128
            {Float.MAX_VALUE, -Float.MAX_VALUE, 0f},
            {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN},
            {Float.NaN, 1f, Float.NaN},
            {-0f, -0f, -0f},
            {tiny, 0f, 0f}, // half of the smallest subnormal: a tie, to the even 0
            {3 * tiny, 0f, 2 * tiny}, // 1.5 units: a tie, to the even 2
            {tiny, tiny, tiny},
            {Float.MIN_NORMAL, 0f, Float.MIN_NORMAL / 2},
            {16777216f, 1f, 8388608f}, // 2^24 + 1 rounds to 2^24 before the halving
        };
        for (Ops ops : new Ops[] {REF, CPU}) {
            float[] x = new float[cases.length], y = new float[cases.length], out = new float[cases.length];
            for (int i = 0; i < cases.length; i++) {
                x[i] = cases[i][0];
                y[i] = cases[i][1];
            }
            ops.average(x, 0, y, 0, out, 0, cases.length);
            for (int i = 0; i < cases.length; i++) {
                assertEquals(
                        Float.floatToIntBits(cases[i][2]),
                        Float.floatToIntBits(out[i]),
                        ops.name() + ": (" + x[i] + " + " + y[i] + ")/2 gave " + out[i]);
            }
        }

        // the CPU backend's vector lanes, tails and threads against the reference, in place too, bit for bit
        int n = 40000;
        float[] x = random(n + 3, 15), y = random(n + 1, 16);
        for (int i = 0; i < cases.length; i++) {
            x[3 + 997 * i] = cases[i][0];
            y[1 + 997 * i] = cases[i][1];
        }
        float[] want = random(n + 2, 17), got = want.clone();
        REF.average(x, 3, y, 1, want, 2, n);
        CPU.average(x, 3, y, 1, got, 2, n);
        assertBitsEqual(want, got, "average");
        float[] wantX = x.clone(), gotX = x.clone();
        REF.average(wantX, 3, y, 1, wantX, 3, n - 5);
        CPU.average(gotX, 3, y, 1, gotX, 3, n - 5);
        assertBitsEqual(wantX, gotX, "average in place");
        for (Ops ops : new Ops[] {REF, CPU}) {
            assertThrows(IndexOutOfBoundsException.class, () -> ops.average(x, 4, y, 1, want, 2, n));
            assertThrows(IllegalArgumentException.class, () -> ops.average(x, 0, y, 0, x, 1, 10));
        }
    }

    private static void assertBitsEqual(float[] want, float[] got, String what) {
        for (int i = 0; i < want.length; i++) {
            assertEquals(
                    Float.floatToIntBits(want[i]),
                    Float.floatToIntBits(got[i]),
                    what + ": element " + i + " is " + got[i] + ", expected " + want[i]);
        }
    }

    @Test
    void copiesMoveEveryBitAsTheReferenceDoes() {
        float[] src = random(10000, 13);
        src[5] = -0f;
        src[6] = Float.NaN;
        src[7] = Float.NEGATIVE_INFINITY;
        for (Ops ops : new Ops[] {REF, CPU}) {
            float[] dst = random(1200, 14);
            ops.copy(src, 3, dst, 150, 900);
            for (int i = 0; i < 900; i++)
                assertEquals(Float.floatToRawIntBits(src[3 + i]), Float.floatToRawIntBits(dst[150 + i]));
            assertEquals(random(1200, 14)[149], dst[149]); // nothing outside the range
            assertEquals(random(1200, 14)[1050], dst[1050]);
            float[] same = src.clone();
            ops.copy(same, 0, same, 500, 500); // two halves of one array
            assertEquals(Float.floatToRawIntBits(src[6]), Float.floatToRawIntBits(same[506]));
            assertThrows(IllegalArgumentException.class, () -> ops.copy(same, 0, same, 10, 20));
            assertThrows(IndexOutOfBoundsException.class, () -> ops.copy(src, 9990, dst, 0, 20));
        }
        // rows: a gather with a repeated source row, scattered into rows out of order
        int C = 37, n = 6;
        int[] from = {4, 0, 4, 9, 2, 1}, to = {7, 1, 3, 0, 12, 5};
        float[] want = random(20 * C + 2, 15), got = want.clone();
        REF.copyRows(src, 11, from, want, 2, to, n, C);
        CPU.copyRows(src, 11, from, got, 2, to, n, C);
        assertNear(want, got, 0, "copyRows");
        assertEquals(src[11 + 4 * C + 36], got[2 + 3 * C + 36]);
        assertEquals(random(20 * C + 2, 15)[2 + 2 * C], got[2 + 2 * C]); // a row not written keeps its value
        assertThrows(IllegalArgumentException.class, () -> CPU.copyRows(got, 0, from, got, 0, to, n, C));

        for (int[] shape : new int[][] {{1, 5}, {37, 70}, {64, 64}, {130, 3}}) {
            int rows = shape[0], cols = shape[1];
            float[] t0 = new float[rows * cols + 4], t1 = new float[rows * cols + 4];
            REF.transpose(src, 9, rows, cols, t0, 4);
            CPU.transpose(src, 9, rows, cols, t1, 4);
            assertNear(t0, t1, 0, "transpose " + rows + "x" + cols);
            assertEquals(src[9 + (rows - 1) * cols + 1 % cols], t1[4 + (1 % cols) * rows + rows - 1]);
        }
    }

    @Test
    void codebookLookupMatchesReference() {
        int V = 50, C = 24, n = 100;
        float[] codebook = random(V * C, 13);
        int[] tokens = new int[n + 1];
        for (int i = 0; i < tokens.length; i++) tokens[i] = (i * 7 + 3) % V;
        float[] want = new float[C * n + 1], got = new float[C * n + 1];
        REF.lookupCodes(codebook, C, tokens, 1, n, want, 1);
        CPU.lookupCodes(codebook, C, tokens, 1, n, got, 1);
        assertNear(want, got, 0, "lookupCodes");
        assertEquals(codebook[tokens[1 + 9] * C + 2], want[1 + 2 * n + 9]); // channel 2 of token 9
    }

    /** Codebook rows and their squared norms summed in order, as the tokenizers pass them. */
    static float[] norms(float[] codebook, int K, int C) {
        float[] ee = new float[K];
        for (int k = 0; k < K; k++) {
            float s = 0f;
            for (int c = 0; c < C; c++) s += codebook[k * C + c] * codebook[k * C + c];
            ee[k] = s;
        }
        return ee;
    }

    @ParameterizedTest
    @CsvSource({"256,16,30", "4096,32,70", "7,3,1"})
    void nearestCodesMatchReference(int K, int C, int n) {
        float[] codebook = random(K * C, 17), ee = norms(codebook, K, C);
        float[] z = random(C * n + 3, 19);
        int[] want = new int[n + 2], got = new int[n + 2];
        REF.nearestCodes(z, 3, C, n, codebook, ee, K, want, 2);
        CPU.nearestCodes(z, 3, C, n, codebook, ee, K, got, 2);
        for (int t = 0; t < n + 2; t++) assertEquals(want[t], got[t], "column " + t);
    }

    @Test
    void nearestCodesFindTheClosestRowFirstOnTies() {
        // rows: (0,0), (1,0), (0,1), (1,0) again; columns of z [2, 4]: near row 1, exactly row 2, a tie of rows 1
        // and 3 (the first wins), and NaN (index 0)
        float[] codebook = {0, 0, 1, 0, 0, 1, 1, 0};
        float[] ee = norms(codebook, 4, 2);
        float[] z = {0.9f, 0f, 1f, Float.NaN, 0.1f, 1f, 0f, 0f};
        int[] idx = new int[4];
        REF.nearestCodes(z, 0, 2, 4, codebook, ee, 4, idx, 0);
        assertEquals(1, idx[0]);
        assertEquals(2, idx[1]);
        assertEquals(1, idx[2]);
        assertEquals(0, idx[3]);
        int[] cpu = new int[4];
        CPU.nearestCodes(z, 0, 2, 4, codebook, ee, 4, cpu, 0);
        assertEquals(Arrays.toString(idx), Arrays.toString(cpu));
    }
}
