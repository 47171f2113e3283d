package dev.tessera.opencl;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.models.var.VarConfig;
import dev.tessera.engine.models.var.VarTransformer;
import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.engine.ops.Ops;
import dev.tessera.engine.testing.Golden;
import org.junit.jupiter.api.Test;

/**
 * VAR ({@code testdata/var-small}) end to end on the first OpenCL device with float16 linear weights, teacher-forced
 * through all ten scales: the logits agree with the CPU backend's on the same float16 weights within the goldens'
 * tolerance ({@link Golden#TOL}, as the float32 parity does), and with the float32 golden within {@link #VS_F32}.
 */
class Fp16WeightsParityTest {
    /**
     * float16 weights against the float32 golden logits: the largest difference measured on PoCL is 0.0114 (at a
     * logit of 3.79); the bound is 2.6 times that, for another device's summation order and another CPU's.
     */
    static final double VS_F32 = 0.03;

    @Test
    void varTeacherForcedLogitsWithFp16WeightsMatchTheCpuAndStayNearFloat32() {
        Ops device = OpenClTesting.first();
        try (Golden g = Golden.vendored("var-small");
                Checkpoint ckpt = Checkpoints.open(g.file("var.pth"))) {
            long before = device.deviceWeightBytes();
            float[][] onDevice = teacherLogits(g, ckpt, device, WeightPanels.Format.FP16);
            long bytes16 = device.deviceWeightBytes() - before;
            before = device.deviceWeightBytes();
            teacherLogits(g, ckpt, device, WeightPanels.Format.F32);
            long bytes32 = device.deviceWeightBytes() - before;
            float[][] onCpu = teacherLogits(g, ckpt, Ops.cpu(), WeightPanels.Format.FP16);
            VarConfig c = VarTransformer.load(ckpt, 0, null, Ops.cpu()).config();
            int B = 2, L = c.tokens(), V = c.vocab();
            float[] expected = g.floats("teacher.logits");
            double vsCpu = 0, vsF32 = 0;
            for (int si = 0; si < c.scales(); si++) {
                int l = c.tokensAt(si), begin = c.begin(si);
                float[] want = new float[B * l * V];
                for (int b = 0; b < B; b++) System.arraycopy(expected, (b * L + begin) * V, want, b * l * V, l * V);
                vsCpu = Math.max(vsCpu, Golden.assertClose(onCpu[si], onDevice[si], Golden.TOL, "fp16: OpenCL vs CPU"));
                vsF32 = Math.max(vsF32, Golden.assertClose(want, onDevice[si], VS_F32, "fp16 vs the float32 golden"));
            }
            // the weights reached the device as 16 bits, and the rounding reached the products
            assertTrue(vsF32 > 10 * vsCpu, "fp16 vs float32 " + vsF32 + ", OpenCL vs CPU " + vsCpu);
            // the linear weights are nearly all of the transformer's device bytes (the rest: biases, float32)
            assertTrue(
                    bytes16 > 0 && bytes16 < 0.52 * bytes32,
                    "device weight bytes: " + bytes16 + " with fp16, " + bytes32 + " with f32");
            System.out.printf(
                    "VAR fp16 teacher logits on %s: vs CPU fp16 %.3g, vs float32 golden %.3g; weights on the device"
                            + " %d bytes (f32: %d)%n",
                    device.name(), vsCpu, vsF32, bytes16, bytes32);
        }
    }

    /** The teacher-forced logits of every scale, the transformer's linear weights in {@code format}. */
    static float[][] teacherLogits(Golden g, Checkpoint ckpt, Ops ops, WeightPanels.Format format) {
        VarTransformer var = VarTransformer.load(ckpt, 0, null, ops, format);
        VarConfig c = var.config();
        int B = 2, L = c.tokens(), cv = c.cvae();
        float[] input = g.floats("teacher.input");
        VarTransformer.State s = var.start(new int[] {3, 7});
        float[] x = var.firstInput(s);
        float[][] out = new float[c.scales()][];
        for (int si = 0; si < c.scales(); si++) {
            int l = c.tokensAt(si), begin = c.begin(si);
            if (si > 0) {
                float[] f = new float[B * l * cv];
                for (int b = 0; b < B; b++)
                    System.arraycopy(input, (b * (L - 1) + begin - 1) * cv, f, b * l * cv, l * cv);
                x = var.nextInput(si, f, B, 1);
            }
            out[si] = var.forward(s, si, x).clone();
        }
        return out;
    }
}
