package dev.tessera.engine.models.flowar;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.ops.Ops;
import dev.tessera.engine.testing.Golden;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The FlowAR flow head against the official {@code SimpleTransformerAdaLN}: golden {@code flowar-small}
 * ({@code Block_v1}) and the cross-attention model made here ({@code flowar-sampled/flowar-cross.pth},
 * {@code Block_v2}, AR heads of 96).
 */
class FlowArGoldenTest {

    @Test
    void configIsReadFromTheCheckpoint() {
        try (Golden g = Golden.vendored("flowar-small"); Checkpoint ckpt = Checkpoints.open(g.file("flowar.pth"))) {
            FlowArConfig c = FlowArConfig.infer(ckpt, 0);
            assertEquals(128, c.width());
            assertEquals(2, c.encoderDepth());
            assertEquals(2, c.decoderDepth());
            assertEquals(2, c.heads());
            assertEquals(341, c.mlpHidden());
            assertArrayEquals(new int[] {1, 2, 4, 8, 16}, c.scales());
            assertEquals(341, c.tokens());
            assertEquals(1000, c.nullClass());
            assertEquals(128, c.flowWidth());
            assertEquals(2, c.flowHeads());
            assertFalse(c.cross());
        }
        try (Checkpoint ckpt = Checkpoints.open(Golden.testdata().resolve("flowar-sampled/flowar-cross.pth"))) {
            FlowArConfig c = FlowArConfig.infer(ckpt, 0);
            assertEquals(96, c.width());
            assertEquals(1, c.heads());       // rope.freqs has 24 entries: heads of 96, as FlowAR-H
            assertEquals(96, c.headDim());
            assertEquals(1, c.encoderDepth());
            assertEquals(2, c.decoderDepth());
            assertTrue(c.cross());
            assertEquals(64, c.flowWidth());
        }
    }

    @Test
    void timestepsAreTruncatedFloat32Products() {
        // the official 25-step grid's integer timesteps (t·1000 in float32, truncated)
        assertEquals(700, FlowHead.timestep(0.7f));
        assertEquals(800, FlowHead.timestep((float) 0.8));
        assertEquals(872, FlowHead.timestep((float) (1 - 2 * 0.7 / 11)));
        assertEquals(1000, FlowHead.timestep(1f));
    }

    @Test
    void flowHeadMatchesTheOfficialBlockV1() {
        try (Golden g = Golden.vendored("flowar-small"); Checkpoint ckpt = Checkpoints.open(g.file("flowar.pth"))) {
            FlowArModel m = FlowArModel.load(ckpt, 0, Ops.cpu());
            double err = velocityError(m, g.floats("flownet.x"), g.floats("flownet.t"), g.floats("flownet.cond"),
                    g.floats("flownet.v"), 4, 9);
            System.out.printf("FlowAR flow head (Block_v1): max abs error %.3g%n", err);
        }
    }

    @Test
    void flowHeadMatchesTheOfficialBlockV2WithCrossAttention() {
        try (Checkpoint ckpt = Checkpoints.open(Golden.testdata().resolve("flowar-sampled/flowar-cross.pth"));
             Checkpoint g = Checkpoints.open(Golden.testdata().resolve("flowar-sampled/golden.safetensors"))) {
            FlowArModel m = FlowArModel.load(ckpt, 0, Ops.cpu());
            double err = velocityError(m, g.tensor("cross.flownet.x").toFloatArray(), g.tensor("cross.flownet.t").toFloatArray(),
                    g.tensor("cross.flownet.cond").toFloatArray(), g.tensor("cross.flownet.v").toFloatArray(), 4, 16);
            System.out.printf("FlowAR flow head (Block_v2, cross-attention): max abs error %.3g%n", err);
        }
    }

    /** Runs the head on each row with its own time (the golden t differs per row) and compares the velocities. */
    private static double velocityError(FlowArModel m, float[] x, float[] t, float[] cond, float[] want, int rows, int n) {
        FlowHead head = m.flowHead();
        FlowHead.Context ctx = head.prepare(cond, rows, n);
        float[] v = new float[want.length];
        head.velocity(ctx, rows, x, t, v);
        return Golden.assertClose(want, v, Golden.TOL, "flow head velocity");
    }
}
