package dev.tessera.engine.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.tensor.DType;
import dev.tessera.engine.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Loads the real golden checkpoints (torch.save output of PyTorch 1.13) and compares shapes, dtypes and values with
 * what {@code torch.load} reports for the same files (the expected numbers were printed by PyTorch).
 */
class GoldenCheckpointsTest {

    @Test
    void varFlatStateDict() {
        try (Checkpoint c = Checkpoints.open(TestFiles.golden("var-small/var.pth"))) {
            assertInstanceOf(PthCheckpoint.class, c);
            assertEquals(38, c.keys().size());
            List<String> keys = new ArrayList<>(c.keys());
            assertEquals(List.of("pos_start", "pos_1LC", "lvl_1L", "attn_bias_for_masking"), keys.subList(0, 4));
            assertEquals("head.bias", keys.getLast());

            Tensor lvl = c.tensor("lvl_1L", 1, 680);
            assertEquals(DType.I64, lvl.dtype());
            assertArrayEquals(new long[] {0, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2}, Arrays.copyOf(lvl.toLongArray(), 12));
            assertEquals(9, lvl.getLong(679));
            assertEquals(5090, Arrays.stream(lvl.toLongArray()).sum());

            Tensor pos = c.tensor("pos_1LC", 1, 680, 128);
            assertEquals(DType.F32, pos.dtype());
            assertEquals(0.9929618835449219f, pos.getFloat(0), 0f);
            assertEquals(0.020480692386627197f, pos.getFloat(1), 0f);
            assertEquals(-0.9052417278289795f, pos.getFloat(2), 0f);
            assertEquals(-0.08762726187705994f, pos.getFloat(100 * 128 + 5), 0f);
            assertEquals(-0.3602961301803589f, pos.getFloat(680 * 128 - 1), 0f);

            Tensor cls = c.tensor("class_emb.weight", 11, 128);
            assertEquals(-0.7627979516983032f, cls.getFloat(0), 0f);
            assertEquals(0.08324187994003296f, cls.getFloat(10 * 128 + 127), 0f);

            Tensor mask = c.tensor("attn_bias_for_masking", 1, 1, 680, 680);
            assertEquals(0f, mask.getFloat(0), 0f);
            assertEquals(Float.NEGATIVE_INFINITY, mask.getFloat(1), 0f);
            assertTrue(c.tensor("head.weight", 512, 128).data().isMapped(), "tensors are views of the file mapping");
        }
    }

    @Test
    void varVae() {
        try (Checkpoint c = Checkpoints.open(TestFiles.golden("var-small/vae.pth"))) {
            assertEquals(324, c.keys().size());
            Tensor w = c.tensor("encoder.conv_in.weight", 32, 3, 3, 3);
            assertEquals(0.10247892141342163f, w.getFloat(0), 0f);
            assertEquals(-0.14560873806476593f, w.getFloat(w.numel() - 1), 0f);
            assertEquals(
                    0.02806764468550682f, c.tensor("post_quant_conv.bias", 8).getFloat(7), 0f);
            c.tensor("quantize.ema_vocab_hit_SV", 10, 512);
        }
    }

    @Test
    void flowarVaeIsNestedUnderModel() {
        try (Checkpoint c = Checkpoints.open(TestFiles.golden("flowar-small/vae.pth"))) {
            assertEquals(312, c.keys().size());
            assertEquals("encoder.conv_in.weight", c.keys().iterator().next(), "the 'model' level is unwrapped");
            Tensor w = c.tensor("encoder.conv_in.weight", 32, 3, 3, 3);
            assertEquals(0.012646610848605633f, w.getFloat(0), 0f);
            assertEquals(0.008673072792589664f, w.getFloat(w.numel() - 1), 0f);
            assertEquals(
                    -0.08052461594343185f, c.tensor("post_quant_conv.bias", 16).getFloat(15), 0f);
        }
    }

    @Test
    void llamagenVq() {
        try (Checkpoint c = Checkpoints.open(TestFiles.golden("llamagen-small/vq.pth"))) {
            assertEquals(344, c.keys().size());
            assertEquals(
                    0.049402765929698944f,
                    c.tensor("encoder.conv_in.weight", 32, 3, 3, 3).getFloat(0),
                    0f);
            assertEquals(
                    0.14345680177211761f, c.tensor("post_quant_conv.bias", 64).getFloat(63), 0f);
            c.tensor("quantize.embedding.weight", 1024, 8);
        }
    }

    @Test
    void inceptionHalfPrecisionStorages() {
        try (Checkpoint c = Checkpoints.open(TestFiles.golden("fid-small/pt_inception-random.pth"))) {
            assertEquals(566, c.keys().size());
            Tensor fc = c.tensor("fc.weight", 1008, 2048);
            assertEquals(DType.F16, fc.dtype());
            assertEquals(0.010955810546875f, fc.getFloat(0), 0f);
            assertEquals(0.031707763671875f, fc.getFloat(2), 0f);
            assertEquals(0.08447265625f, c.tensor("fc.bias", 1008).getFloat(1007), 0f);
            assertEquals(-0.414306640625f, c.tensor("Conv2d_1a_3x3.conv.weight").getFloat(0), 0f);
            Tensor tracked = c.tensor("Conv2d_1a_3x3.bn.num_batches_tracked");
            assertEquals(DType.I64, tracked.dtype());
            assertEquals(0, tracked.rank(), "a 0-d tensor");
            assertEquals(1, tracked.numel());
        }
    }

    @Test
    void goldenSafetensorsFiles() {
        for (String set : List.of("var-small", "flowar-small", "llamagen-small", "nar-small", "fid-small")) {
            try (Checkpoint c = Checkpoints.open(TestFiles.golden(set + "/golden.safetensors"))) {
                assertInstanceOf(SafetensorsCheckpoint.class, c);
                assertTrue(!c.keys().isEmpty(), set);
            }
        }
        try (Checkpoint c = Checkpoints.open(TestFiles.golden("var-small/golden.safetensors"))) {
            assertEquals(45, c.keys().size());
            assertEquals("greedy.fhat.0", c.keys().iterator().next());
            assertEquals(DType.F32, c.tensor("greedy.fhat.0", 2, 8, 16, 16).dtype());
        }
        try (Checkpoint c = Checkpoints.open(TestFiles.golden("fid-small/golden.safetensors"))) {
            Tensor a = c.tensor("frechet.a", 300, 64);
            assertEquals(DType.F64, a.dtype());
            assertEquals(-10.692546763324952, a.getDouble(0), 0.0);
            assertEquals(-7.6435531120814115, a.getDouble(1), 0.0);
            assertEquals(0.27519859514704037, a.getDouble(300 * 64 - 1), 0.0);
            assertEquals(DType.F32, c.tensor("inception.pool3", 6, 2048).dtype());
        }
        Path llamagen = TestFiles.golden("llamagen-small/golden.safetensors");
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(llamagen)) {
            Tensor tokens = c.tensor("greedy.tokens", 2, 256);
            assertEquals(DType.I64, tokens.dtype());
            assertArrayEquals(new long[] {693, 864, 894, 49, 525}, Arrays.copyOf(tokens.toLongArray(), 5));
            assertEquals(652, tokens.getLong(511));
            Tensor input = c.tensor("vq.input", 1, 3, 256, 256);
            assertEquals(0.36994147300720215f, input.getFloat(0), 0f);
            assertEquals(0.36576008796691895f, input.getFloat(input.numel() - 1), 0f);
            assertEquals(Map.of(), c.metadata());
        }
    }

    /** var.pth → safetensors → reopened: every tensor has the same name, dtype, shape and bytes. */
    @Test
    void roundTripThroughSafetensors(@TempDir Path dir) {
        Path out = dir.resolve("var.safetensors");
        try (Checkpoint pth = Checkpoints.open(TestFiles.golden("var-small/var.pth"))) {
            List<Tensor> all = pth.keys().stream().map(pth::tensor).toList();
            SafetensorsWriter.write(out, all, Map.of("source", "var.pth", "format", "pt"));
            try (Checkpoint st = Checkpoints.open(out)) {
                assertInstanceOf(SafetensorsCheckpoint.class, st);
                assertEquals(new ArrayList<>(pth.keys()), new ArrayList<>(st.keys()));
                for (String key : pth.keys()) {
                    Tensor a = pth.tensor(key);
                    Tensor b = st.tensor(key);
                    assertEquals(a.dtype(), b.dtype(), key);
                    assertArrayEquals(a.shape(), b.shape(), key);
                    assertEquals(-1, a.data().mismatch(b.data()), key + " bytes differ");
                }
                assertEquals(Map.of("source", "var.pth", "format", "pt"), ((SafetensorsCheckpoint) st).metadata());
            }
        }
        assertEquals(List.of(out), listFiles(dir), "no temporary file is left behind");
    }

    static List<Path> listFiles(Path dir) {
        try (var s = Files.list(dir)) {
            return s.toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
