package dev.tessera.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Compares 8-bit images read back from PNGs ({@code k/255}) with golden float images in [0, 1]: the largest
 * distance, and how many values sit at another level than the golden's own {@code round(255·x)}.
 */
record PngLevels(double worst, int offByOne, int values) {

    static PngLevels compare(float[] golden, float[] png) {
        assertEquals(golden.length, png.length, "values");
        double worst = 0;
        int off = 0;
        for (int i = 0; i < golden.length; i++) {
            assertTrue(Float.isFinite(golden[i]) && Float.isFinite(png[i]), "non-finite value at " + i);
            double g = Math.max(0, Math.min(1, golden[i])); // PNGs clamp
            double d = Math.abs(png[i] - g);
            worst = Math.max(worst, d);
            long level = Math.round(png[i] * 255.0), want = Math.round(g * 255.0);
            if (level != want) off++;
            assertTrue(Math.abs(level - want) <= 1, "value " + i + ": level " + level + ", golden " + g * 255);
        }
        return new PngLevels(worst, off, golden.length);
    }

    /**
     * Within half a level (plus {@code slack} for the decode's float error) of the golden, and at most
     * {@code maxOff} values on the other side of a rounding boundary from it.
     */
    PngLevels assertWithinHalfLevel(double slack, int maxOff, String what) {
        System.out.printf(
                "%s: max |PNG - golden| %.4f/255, %d of %d values one level from round(255 x)%n",
                what, worst * 255, offByOne, values);
        assertTrue(worst <= 0.5 / 255 + slack, what + ": PNG differs from the golden by " + worst * 255 + "/255");
        assertTrue(offByOne <= maxOff, what + ": " + offByOne + " values one level off, at most " + maxOff);
        return this;
    }
}
