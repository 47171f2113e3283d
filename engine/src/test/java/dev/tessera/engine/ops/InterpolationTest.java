package dev.tessera.engine.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.testing.Golden;
import org.junit.jupiter.api.Test;

/**
 * {@code F.interpolate} bicubic (align_corners=False) and area, against PyTorch 1.13 outputs stored in
 * {@code testdata/torch-ops/interpolation.safetensors} (see testdata/README.md for how it was made). Inputs are
 * {@code 3·sin(0.37·i + 0.11)} over the flat index, computed in float64 and rounded to float32.
 */
class InterpolationTest {
    /**
     * A few float32 ulps of values near 3: PyTorch's kernel rounds its intermediate weights and sums in its own
     * order (an exact float64 evaluation of the same formula is itself 2e-6 away on the non-square case).
     */
    private static final double TOL = 5e-6;

    static float[] input(int c, int h, int w) {
        float[] x = new float[c * h * w];
        for (int i = 0; i < x.length; i++) x[i] = (float) Math.sin(i * 0.37 + 0.11) * 3f;
        return x;
    }

    @Test
    void bicubicAndAreaMatchTorchForBothVarSchedules() {
        try (Checkpoint t = Checkpoints.open(Golden.testdata().resolve("torch-ops/interpolation.safetensors"))) {
            int checked = 0;
            for (int side : new int[] {16, 32}) {
                int[] pns =
                        side == 16 ? new int[] {1, 2, 3, 4, 5, 6, 8, 10, 13} : new int[] {1, 2, 3, 4, 6, 9, 13, 18, 24};
                for (int pn : pns) {
                    float[] up = new float[2 * side * side];
                    Ops.cpu().resizeBicubic(input(2, pn, pn), 0, 2, pn, pn, up, 0, side, side);
                    Golden.assertClose(
                            t.tensor("bicubic." + pn + "." + side).toFloatArray(),
                            up,
                            TOL,
                            "bicubic " + pn + "->" + side);
                    float[] down = new float[2 * pn * pn];
                    Ops.cpu().resizeArea(input(2, side, side), 0, 2, side, side, down, 0, pn, pn);
                    Golden.assertClose(
                            t.tensor("area." + side + "." + pn).toFloatArray(), down, TOL, "area " + side + "->" + pn);
                    checked += 2;
                }
            }
            float[] up = new float[3 * 11 * 16];
            Ops.reference().resizeBicubic(input(3, 5, 7), 0, 3, 5, 7, up, 0, 11, 16);
            Golden.assertClose(t.tensor("bicubic.5x7.11x16").toFloatArray(), up, TOL, "bicubic 5x7 -> 11x16");
            float[] down = new float[3 * 3 * 4];
            Ops.reference().resizeArea(input(3, 5, 7), 0, 3, 5, 7, down, 0, 3, 4);
            Golden.assertClose(t.tensor("area.5x7.3x4").toFloatArray(), down, TOL, "area 5x7 -> 3x4");
            assertEquals(36, checked);
        }
    }

    @Test
    void bicubicOvershootsAtTheBorderAsTorchDoes() {
        // 2 -> 16: the first output row weights the two inputs ≈ (1.1038, −0.1038): no clamp of the result
        float[] in = {1f, 0f, 1f, 0f};
        float[] out = new float[16 * 16];
        Ops.reference().resizeBicubic(in, 0, 1, 2, 2, out, 0, 16, 16);
        assertTrue(out[0] > 1f, "expected overshoot above 1, got " + out[0]);
    }
}
