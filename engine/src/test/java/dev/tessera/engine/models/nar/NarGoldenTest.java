package dev.tessera.engine.models.nar;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.ops.Ops;
import dev.tessera.engine.testing.Golden;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** NAR against golden {@code nar-small}: teacher-forced logits (proximity mask) and greedy CFG decoding. */
class NarGoldenTest {

    @Test
    void diagonalsListRowsInIncreasingOrder() {
        try (Golden g = Golden.vendored("nar-small"); Checkpoint ckpt = Checkpoints.open(g.file("gpt.pth"))) {
            NarModel m = NarModel.load(ckpt, 4, 16, 1, Ops.cpu());
            assertEquals(31, m.steps());
            assertEquals(2, m.config().layers());
            assertArrayEquals(new int[] {0}, m.diagonal(0));
            assertArrayEquals(new int[] {2, 17, 32}, m.diagonal(2));
            assertArrayEquals(new int[] {255}, m.diagonal(30));
            assertArrayEquals(new int[] {31, 46, 61, 76, 91, 106, 121, 136, 151, 166, 181, 196, 211, 226, 241}, m.diagonal(16));
        }
    }

    @Test
    void teacherForcedLogitsMatch() {
        try (Golden g = Golden.vendored("nar-small"); Checkpoint ckpt = Checkpoints.open(g.file("gpt.pth"))) {
            NarModel m = NarModel.load(ckpt, 4, 16, 1, Ops.cpu());
            int V = 1024, B = 2;
            int[] tokens = g.ints("greedy.tokens");
            float[] got = new float[B * 256 * V];
            NarModel.State s = m.start(new int[] {4, 8});
            float[] l = m.prefill(s);
            for (int b = 0; b < B; b++) System.arraycopy(l, b * V, got, b * 256 * V, V);
            for (int k = 1; k < m.steps(); k++) {
                int[] in = m.diagonal(k - 1), out = m.diagonal(k);
                int[][] feed = new int[B][in.length];
                for (int b = 0; b < B; b++) for (int i = 0; i < in.length; i++) feed[b][i] = tokens[b * 256 + in[i]];
                l = m.step(s, feed);
                for (int b = 0; b < B; b++) {
                    for (int j = 0; j < out.length; j++) System.arraycopy(l, (b * out.length + j) * V, got, (b * 256 + out[j]) * V, V);
                }
            }
            double err = Golden.assertClose(g.floats("teacher.logits"), got, Golden.TOL, "NAR teacher logits");
            System.out.printf("NAR teacher-forced logits: max abs error %.3g%n", err);
        }
    }

    @Test
    void greedyCfgDecodingMatchesTokenForToken() {
        try (Golden g = Golden.vendored("nar-small"); Checkpoint ckpt = Checkpoints.open(g.file("gpt.pth"))) {
            NarModel m = NarModel.load(ckpt, 4, 16, 1, Ops.cpu());
            int V = 1024, B = 2;
            float cfg = 2f;
            int[] got = new int[B * 256];
            NarModel.State s = m.start(new int[] {4, 8, 10, 10});
            float[] l = m.prefill(s);
            for (int k = 0; k < m.steps(); k++) {
                int[] pos = m.diagonal(k);
                int[][] feed = new int[2 * B][pos.length];
                for (int j = 0; j < pos.length; j++) {
                    for (int b = 0; b < B; b++) {
                        int c = (b * pos.length + j) * V, u = ((B + b) * pos.length + j) * V, best = 0;
                        float bestV = Float.NEGATIVE_INFINITY;
                        for (int v = 0; v < V; v++) {
                            float x = l[u + v] + (l[c + v] - l[u + v]) * cfg;
                            if (x > bestV) {
                                bestV = x;
                                best = v;
                            }
                        }
                        got[b * 256 + pos[j]] = best;
                        feed[b][j] = best;
                        feed[B + b][j] = best;
                    }
                }
                if (k + 1 < m.steps()) l = m.step(s, feed);
            }
            assertArrayEquals(g.ints("greedy.tokens"), got, "greedy NAR tokens");
            assertEquals(31, s.step());
        }
    }
}
