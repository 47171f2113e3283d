package dev.tessera.tokenizers.llamagen;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.ops.Ops;
import dev.tessera.engine.testing.Golden;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** LlamaGen's VQ tokenizer against golden {@code llamagen-small}: decode_code and encode. */
class VqModelGoldenTest {

    @Test
    void decodeCodeMatches() {
        try (Golden g = Golden.vendored("llamagen-small");
                Checkpoint ckpt = Checkpoints.open(g.file("vq.pth"))) {
            VqModel vq = VqModel.load(ckpt, true, Ops.cpu());
            assertEquals(1024, vq.codebookSize());
            assertEquals(8, vq.codeDim());
            assertEquals(16, vq.downsampling());
            int[] tokens = g.ints("greedy.tokens"), swapped = new int[tokens.length];
            int half = tokens.length / 2;
            System.arraycopy(tokens, half, swapped, 0, half);
            System.arraycopy(tokens, 0, swapped, half, half);
            // the decoder keeps its activation arrays between calls: decode other images first, then these twice
            float[] other = vq.decode(swapped, 2, 16);
            float[] img = vq.decode(tokens, 2, 16);
            double err = Golden.assertClose(g.floats("vq.decoded"), img, Golden.TOL, "decode_code");
            System.out.printf("LlamaGen VQ decode_code: max abs error %.3g%n", err);
            assertArrayEquals(img, vq.decode(tokens, 2, 16), "a second decode of the same tokens");
            assertArrayEquals(
                    Arrays.copyOfRange(other, 0, other.length / 2),
                    Arrays.copyOfRange(img, img.length / 2, img.length));
        }
    }

    @Test
    void encoderCodesAgreeAtLeast99Percent() {
        try (Golden g = Golden.vendored("llamagen-small");
                Checkpoint ckpt = Checkpoints.open(g.file("vq.pth"))) {
            VqModel vq = VqModel.load(ckpt, true, Ops.cpu());
            int[] codes = vq.encode(g.floats("vq.input"), 1, 256, 256);
            int[] want = g.ints("vq.codes");
            int same = 0;
            for (int i = 0; i < want.length; i++) if (codes[i] == want[i]) same++;
            System.out.printf("LlamaGen VQ encoder: %d/%d codes identical%n", same, want.length);
            assertTrue(same >= 0.99 * want.length, same + "/" + want.length + " codes agree");
        }
    }
}
