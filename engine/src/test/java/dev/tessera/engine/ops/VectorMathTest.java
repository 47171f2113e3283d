package dev.tessera.engine.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/** Accuracy of the reproducible exp/tanh, and bit equality of the vector lanes with their scalar twins. */
class VectorMathTest {
    private static final int L = VectorMath.S.length();

    @Test
    void expIsAccurateToAFewUlpsAndFlushesUnderflow() {
        double worst = 0;
        for (float x = -87f; x <= 88f; x += 0.0137f) {
            double want = Math.exp(x);
            double got = VectorMath.exp(x);
            worst = Math.max(worst, Math.abs(got - want) / want);
        }
        assertTrue(worst < 3e-7, "exp relative error " + worst);
        assertEquals(0f, VectorMath.exp(-100f));
        assertEquals(0f, VectorMath.exp(Float.NEGATIVE_INFINITY));
        assertEquals(1f, VectorMath.exp(0f));
    }

    @Test
    void tanhAndGeluAreAccurate() {
        for (float x = -12f; x <= 12f; x += 0.01f) {
            assertEquals(Math.tanh(x), VectorMath.tanh(x), 2e-7, "tanh(" + x + ")");
            assertEquals(
                    Activation.GELU_TANH.apply(x),
                    VectorMath.geluTanh(x),
                    1e-6 * Math.max(1, Math.abs(x)),
                    "gelu(" + x + ")");
            assertEquals(
                    Activation.SILU.apply(x), VectorMath.silu(x), 1e-6 * Math.max(1, Math.abs(x)), "silu(" + x + ")");
            assertEquals(
                    Activation.GELU_ERF.apply(x),
                    VectorMath.geluErf(x),
                    4e-7 * Math.max(1, Math.abs(x)),
                    "gelu_erf(" + x + ")");
        }
    }

    @Test
    void erfIsAccurateOnBothSidesOfTheSeams() {
        double worst = 0;
        for (float x = -7f; x <= 7f; x += 0.00173f) worst = Math.max(worst, Math.abs(VectorMath.erf(x) - Erf.erf(x)));
        for (float x : new float[] {0.999999f, 1f, 1.000001f, 3.99999f, 4f, 4.00001f}) {
            worst = Math.max(worst, Math.abs(VectorMath.erf(x) - Erf.erf(x)));
        }
        assertTrue(worst <= 2e-7, "erf max abs error " + worst);
        assertEquals(1f, VectorMath.erf(10f));
        assertEquals(-1f, VectorMath.erf(-10f));
        assertEquals(0f, VectorMath.erf(0f));
        assertTrue(Float.isNaN(VectorMath.erf(Float.NaN)));
    }

    @Test
    void vectorLanesEqualTheScalarTwinsBitForBit() {
        Random r = new Random(5);
        float[] x = new float[L * 64];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextGaussian() * 20);
        for (int i = 0; i < x.length; i += L) {
            FloatVector v = FloatVector.fromArray(VectorMath.S, x, i);
            float[] e = VectorMath.exp(v).toArray(),
                    t = VectorMath.tanh(v).toArray(),
                    g = VectorMath.geluTanh(v).toArray(),
                    s = VectorMath.silu(v).toArray(),
                    ge = VectorMath.geluErf(v).toArray(),
                    er = VectorMath.erf(v).toArray();
            for (int j = 0; j < L; j++) {
                assertEquals(VectorMath.exp(x[i + j]), e[j], 0f);
                assertEquals(VectorMath.tanh(x[i + j]), t[j], 0f);
                assertEquals(VectorMath.geluTanh(x[i + j]), g[j], 0f);
                assertEquals(VectorMath.silu(x[i + j]), s[j], 0f);
                assertEquals(VectorMath.geluErf(x[i + j]), ge[j], 0f);
                assertEquals(VectorMath.erf(x[i + j]), er[j], 0f);
            }
        }
    }

    @Test
    void laneSumIsAFixedPairwiseTree() {
        float[] a = new float[L];
        for (int i = 0; i < L; i++) a[i] = 1f / (i + 1);
        float tree = VectorMath.sum(FloatVector.fromArray(VectorMath.S, a, 0));
        double exact = 0;
        for (float v : a) exact += v;
        assertEquals(exact, tree, 1e-6);
        float[] b = a.clone();
        for (int w = L / 2; w >= 1; w /= 2) {
            float[] c = new float[L];
            for (int i = 0; i < L; i++) c[i] = b[i] + b[i ^ w];
            b = c;
        }
        assertEquals(b[0], tree, 0f);
    }
}
