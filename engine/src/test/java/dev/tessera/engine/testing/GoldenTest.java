package dev.tessera.engine.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;

/** The comparison helper every float parity test goes through must fail on NaN, infinity and real errors. */
class GoldenTest {
    private static final float[] WANT = {0.5f, -1f, 2f, 3f};

    private static String failure(float[] expected, float[] actual) {
        return assertThrows(AssertionFailedError.class, () -> Golden.assertClose(expected, actual, 1e-3, "t"))
                .getMessage();
    }

    @Test
    void aCleanComparisonPassesAndReturnsTheError() {
        assertEquals(0.0, Golden.assertClose(WANT, WANT.clone(), 1e-3, "t"));
        float[] got = {0.5f, -1f, 2.0005f, 3f};
        assertEquals(Math.abs((double) 2.0005f - 2f), Golden.assertClose(WANT, got, 1e-3, "t"), 0);
    }

    @Test
    void anErrorJustOverTheToleranceFails() {
        float[] got = {0.5f, -1f, 2f, 3f + 0.00101f};
        String msg = failure(WANT, got);
        assertTrue(msg.contains("at index 3"), msg);
    }

    @Test
    void nanFailsWhereverItIs() {
        for (int i = 0; i < WANT.length; i++) {
            float[] got = WANT.clone();
            got[i] = Float.NaN;
            String msg = failure(WANT, got);
            assertTrue(msg.contains("NaN at index " + i), msg);
        }
        float[] allNaN = {Float.NaN, Float.NaN, Float.NaN, 3f}; // all NaN but the last element
        assertTrue(failure(WANT, allNaN).contains("index 0"));
        float[] errorThenNaN = {1f, Float.NaN, 2f, 3f}; // an error of 0.5 followed by a NaN
        assertTrue(failure(WANT, errorThenNaN).contains("index 1"));
    }

    @Test
    void infinitiesFail() {
        for (float inf : new float[] {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            float[] got = WANT.clone();
            got[2] = inf;
            String msg = failure(WANT, got);
            assertTrue(msg.contains("Infinity at index 2"), msg);
            float[] golden = WANT.clone();
            golden[1] = inf;
            assertTrue(failure(golden, golden.clone()).contains("expected value at index 1"));
        }
    }

    @Test
    void aNonFiniteGoldenFails() {
        float[] golden = WANT.clone();
        golden[3] = Float.NaN;
        assertTrue(failure(golden, golden.clone()).contains("expected value at index 3 is NaN"));
        assertThrows(AssertionFailedError.class, () -> Golden.maxAbsError(golden, WANT));
    }

    @Test
    void lengthsMustAgree() {
        assertThrows(AssertionFailedError.class, () -> Golden.assertClose(WANT, new float[3], 1e-3, "t"));
    }
}
