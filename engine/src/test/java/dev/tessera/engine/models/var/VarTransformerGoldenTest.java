package dev.tessera.engine.models.var;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.ops.Ops;
import dev.tessera.engine.testing.DeferredHostOps;
import dev.tessera.engine.testing.Golden;
import org.junit.jupiter.api.Test;

/** VAR's teacher-forced forward (golden {@code teacher.logits}) through the scale-by-scale KV-cache path. */
class VarTransformerGoldenTest {

    @Test
    void configIsReadFromTheCheckpoint() {
        try (Golden g = Golden.vendored("var-small");
                Checkpoint ckpt = Checkpoints.open(g.file("var.pth"))) {
            VarConfig c = VarConfig.infer(ckpt, 0, null);
            assertEquals(2, c.depth());
            assertEquals(128, c.width());
            assertEquals(2, c.heads());
            assertEquals(512, c.vocab());
            assertEquals(8, c.cvae());
            assertEquals(10, c.numClasses());
            assertEquals(512, c.mlpHidden());
            assertTrue(c.attnL2Norm());
            assertFalse(c.sharedAln());
            assertArrayEquals(new int[] {1, 2, 3, 4, 5, 6, 8, 10, 13, 16}, c.patchNums());
            assertEquals(680, c.tokens());
        }
    }

    @Test
    void queryScaleIsClampedAtOneHundredBeforeTheExp() {
        assertEquals(4f, VarWeights.queryScale((float) Math.log(4)), 1e-6f);
        assertEquals(100f, VarWeights.queryScale(10f), 1e-4f);
        assertEquals(100f, VarWeights.queryScale((float) Math.log(100) + 1e-3f), 1e-4f);
        assertEquals(1f, VarWeights.queryScale(0f), 0f);
    }

    @Test
    void teacherForcedLogitsMatchWithCpuOps() {
        double err = teacherForced(Ops.cpu());
        System.out.printf("VAR teacher-forced logits, cpu ops: max abs error %.3g%n", err);
    }

    @Test
    void teacherForcedLogitsMatchWithReferenceOps() {
        double err = teacherForced(Ops.reference());
        System.out.printf("VAR teacher-forced logits, reference ops: max abs error %.3g%n", err);
    }

    /** Through a backend that keeps results off the host until asked: a missing sync call fails it. */
    @Test
    void teacherForcedLogitsMatchThroughDeferredHostCopies() {
        double err = teacherForced(new DeferredHostOps());
        System.out.printf("VAR teacher-forced logits, deferred host copies: max abs error %.3g%n", err);
    }

    private static double teacherForced(Ops ops) {
        try (Golden g = Golden.vendored("var-small");
                Checkpoint ckpt = Checkpoints.open(g.file("var.pth"))) {
            VarTransformer var = VarTransformer.load(ckpt, 0, null, ops);
            VarConfig c = var.config();
            int B = 2, L = c.tokens(), V = c.vocab(), cv = c.cvae();
            float[] input = g.floats("teacher.input"); // [B, L-1, Cvae]
            float[] expected = g.floats("teacher.logits"); // [B, L, V]
            VarTransformer.State s = var.start(new int[] {3, 7});
            float[] x = var.firstInput(s);
            double worst = 0;
            for (int si = 0; si < c.scales(); si++) {
                int l = c.tokensAt(si), begin = c.begin(si);
                if (si > 0) {
                    float[] f = new float[B * l * cv];
                    for (int b = 0; b < B; b++) {
                        System.arraycopy(input, (b * (L - 1) + begin - 1) * cv, f, b * l * cv, l * cv);
                    }
                    x = var.nextInput(si, f, B, 1);
                }
                float[] logits = var.forward(s, si, x);
                float[] want = new float[B * l * V];
                for (int b = 0; b < B; b++) System.arraycopy(expected, (b * L + begin) * V, want, b * l * V, l * V);
                worst = Math.max(worst, Golden.assertClose(want, logits, Golden.TOL, "teacher logits, scale " + si));
            }
            assertTrue(Golden.maxAbsError(new float[expected.length], expected) > 1, "golden logits are not trivial");
            return worst;
        }
    }
}
