package dev.tessera.engine.models.flowar;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.io.InMemoryCheckpoint;
import dev.tessera.engine.ops.Ops;
import dev.tessera.engine.tensor.DType;
import dev.tessera.engine.tensor.Tensor;
import dev.tessera.engine.testing.Golden;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;

/**
 * The FlowAR flow head against the official {@code SimpleTransformerAdaLN}: golden {@code flowar-small}
 * ({@code Block_v1}) and the cross-attention model made here ({@code flowar-sampled/flowar-cross.pth},
 * {@code Block_v2}, AR heads of 96).
 */
class FlowArGoldenTest {

    @Test
    void configIsReadFromTheCheckpoint() {
        try (Golden g = Golden.vendored("flowar-small");
                Checkpoint ckpt = Checkpoints.open(g.file("flowar.pth"))) {
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
            assertEquals(1, c.heads()); // rope.freqs has 24 entries: heads of 96, as FlowAR-H
            assertEquals(96, c.headDim());
            assertEquals(1, c.encoderDepth());
            assertEquals(2, c.decoderDepth());
            assertTrue(c.cross());
            assertEquals(64, c.flowWidth());
        }
    }

    /**
     * The released sizes' shapes (only the tensors the inference reads have their real shapes; the rest are
     * placeholders, since only their presence counts).
     */
    private static InMemoryCheckpoint releasedShapes(
            int C, int depth, int headDim, int W, int flowDepth, boolean cross) {
        Map<String, Tensor> t = new LinkedHashMap<>();
        BiConsumer<String, long[]> add = (k, shape) -> t.put(
                k, new Tensor(k, DType.F32, shape, MemorySegment.ofArray(new byte[(int) (Tensor.numel(shape) * 4)])));
        add.accept("class_emb.weight", new long[] {1001, C});
        add.accept("z_proj.weight", new long[] {C, 16});
        add.accept("encoder_pos_embed_learned", new long[] {1, 341, C});
        for (String stack : new String[] {"encoder_blocks.", "decoder_blocks."}) {
            for (int i = 0; i < depth; i++) add.accept(stack + i + ".attn.qkv.weight", new long[] {1});
        }
        add.accept("encoder_blocks.0.mlp.fc1_g.weight", new long[] {C * 8 / 3, C});
        add.accept("encoder_blocks.0.attn.rope.freqs", new long[] {headDim / 4});
        add.accept("flownet.input_proj.weight", new long[] {W, 16});
        for (int j = 0; j < flowDepth; j++) add.accept("flownet.res_blocks." + j + ".attn.qkv.weight", new long[] {1});
        if (cross) add.accept("flownet.res_blocks.0.crossattn.q.weight", new long[] {1});
        add.accept("flownet.res_blocks.0.mlp.fc1_g.weight", new long[] {W * 8 / 3, W});
        return new InMemoryCheckpoint("released-shapes", t);
    }

    @Test
    void theReleasedSizesAreRecognised() {
        FlowArConfig l = FlowArConfig.infer(releasedShapes(1024, 8, 64, 1024, 12, true), 0);
        assertEquals(16, l.heads());
        assertEquals(2730, l.mlpHidden());
        assertEquals(16, l.flowHeads());
        assertEquals(2730, l.flowMlpHidden());
        assertEquals(12, l.flowDepth());
        assertTrue(l.cross());
        FlowArConfig h = FlowArConfig.infer(releasedShapes(1536, 15, 96, 1536, 12, true), 0);
        assertEquals(16, h.heads()); // 24 rotary frequencies: heads of 96, not 1536/64 = 24
        assertEquals(96, h.headDim());
        assertEquals(15, h.encoderDepth());
        assertEquals(4096, h.mlpHidden());
        assertEquals(24, h.flowHeads());
        FlowArConfig s = FlowArConfig.infer(releasedShapes(768, 6, 64, 1024, 2, false), 0);
        assertEquals(12, s.heads());
        assertEquals(2048, s.mlpHidden());
        assertFalse(s.cross());
        // --heads must agree with the rotary table
        TesseraException e = assertThrows(
                TesseraException.class, () -> FlowArConfig.infer(releasedShapes(1536, 15, 96, 1536, 12, true), 24));
        assertTrue(e.getMessage().contains("16 heads of 96"), e.getMessage());
        assertEquals(
                16,
                FlowArConfig.infer(releasedShapes(1536, 15, 96, 1536, 12, true), 16)
                        .heads());
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
        try (Golden g = Golden.vendored("flowar-small");
                Checkpoint ckpt = Checkpoints.open(g.file("flowar.pth"))) {
            FlowArModel m = FlowArModel.load(ckpt, 0, Ops.cpu());
            double err = velocityError(
                    m,
                    g.floats("flownet.x"),
                    g.floats("flownet.t"),
                    g.floats("flownet.cond"),
                    g.floats("flownet.v"),
                    4,
                    9);
            System.out.printf("FlowAR flow head (Block_v1): max abs error %.3g%n", err);
        }
    }

    @Test
    void flowHeadMatchesTheOfficialBlockV2WithCrossAttention() {
        try (Checkpoint ckpt = Checkpoints.open(Golden.testdata().resolve("flowar-sampled/flowar-cross.pth"));
                Checkpoint g = Checkpoints.open(Golden.testdata().resolve("flowar-sampled/golden.safetensors"))) {
            FlowArModel m = FlowArModel.load(ckpt, 0, Ops.cpu());
            double err = velocityError(
                    m,
                    g.tensor("cross.flownet.x").toFloatArray(),
                    g.tensor("cross.flownet.t").toFloatArray(),
                    g.tensor("cross.flownet.cond").toFloatArray(),
                    g.tensor("cross.flownet.v").toFloatArray(),
                    4,
                    16);
            System.out.printf("FlowAR flow head (Block_v2, cross-attention): max abs error %.3g%n", err);
        }
    }

    /** Runs the head on each row with its own time (the golden t differs per row) and compares the velocities. */
    private static double velocityError(
            FlowArModel m, float[] x, float[] t, float[] cond, float[] want, int rows, int n) {
        FlowHead head = m.flowHead();
        FlowHead.Context ctx = head.prepare(cond, rows, n);
        float[] v = new float[want.length];
        head.velocity(ctx, rows, x, t, v);
        return Golden.assertClose(want, v, Golden.TOL, "flow head velocity");
    }
}
