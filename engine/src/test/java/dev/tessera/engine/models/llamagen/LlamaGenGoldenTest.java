package dev.tessera.engine.models.llamagen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.ops.Ops;
import dev.tessera.engine.testing.DeferredHostOps;
import dev.tessera.engine.testing.Golden;
import org.junit.jupiter.api.Test;

/** LlamaGen GPT against golden {@code llamagen-small}: teacher-forced logits and greedy CFG decoding. */
class LlamaGenGoldenTest {

    @Test
    void configIsReadFromTheCheckpoint() {
        try (Golden g = Golden.vendored("llamagen-small");
                Checkpoint ckpt = Checkpoints.open(g.file("gpt.pth"))) {
            LlamaGenConfig c = LlamaGenConfig.infer(ckpt, 4, 16, -1);
            assertEquals(2, c.layers());
            assertEquals(128, c.dim());
            assertEquals(512, c.ffnHidden());
            assertEquals(1024, c.vocab());
            assertEquals(10, c.numClasses());
            assertEquals(256, c.tokens());
            assertEquals(2, LlamaGenConfig.infer(ckpt, 0, 16, -1).heads(), "width/64 by default");
        }
    }

    @Test
    void teacherForcedLogitsMatch() {
        for (Ops ops : new Ops[] {Ops.cpu(), Ops.reference(), new DeferredHostOps()}) {
            try (Golden g = Golden.vendored("llamagen-small");
                    Checkpoint ckpt = Checkpoints.open(g.file("gpt.pth"))) {
                LlamaGenModel m = LlamaGenModel.load(ckpt, 4, 16, ops);
                int[] tokens = g.ints("greedy.tokens");
                int V = 1024;
                LlamaGenModel.State s = m.start(new int[] {2, 9});
                float[] first = m.prefill(s);
                int[][] in = new int[2][255];
                for (int b = 0; b < 2; b++) System.arraycopy(tokens, b * 256, in[b], 0, 255);
                float[] rest = m.forward(s, in);
                float[] got = new float[2 * 256 * V];
                for (int b = 0; b < 2; b++) {
                    System.arraycopy(first, b * V, got, b * 256 * V, V);
                    System.arraycopy(rest, b * 255 * V, got, (b * 256 + 1) * V, 255 * V);
                }
                double err = Golden.assertClose(
                        g.floats("teacher.logits"), got, Golden.TOL, "teacher logits (" + ops.name() + ")");
                System.out.printf("LlamaGen teacher-forced logits (%s): max abs error %.3g%n", ops.name(), err);
            }
        }
    }

    @Test
    void greedyCfgDecodingMatchesTokenForToken() {
        try (Golden g = Golden.vendored("llamagen-small");
                Checkpoint ckpt = Checkpoints.open(g.file("gpt.pth"))) {
            LlamaGenModel m = LlamaGenModel.load(ckpt, 4, 16, Ops.cpu());
            int V = 1024, B = 2;
            float cfg = 2.0f;
            int[] want = g.ints("greedy.tokens");
            float[] margins = g.floats("greedy.margins");
            LlamaGenModel.State s = m.start(new int[] {2, 9, 10, 10});
            float[] logits = m.prefill(s);
            int[][] seq = new int[B][256];
            boolean[] excused = new boolean[B];
            for (int t = 0; t < 256; t++) {
                int[][] next = new int[2 * B][1];
                for (int b = 0; b < B; b++) {
                    int best = 0;
                    float bestV = Float.NEGATIVE_INFINITY;
                    for (int v = 0; v < V; v++) {
                        float c = logits[b * V + v], u = logits[(B + b) * V + v];
                        float l = u + (c - u) * cfg;
                        if (l > bestV) {
                            bestV = l;
                            best = v;
                        }
                    }
                    seq[b][t] = best;
                    if (!excused[b] && best != want[b * 256 + t]) {
                        if (margins[b * 256 + t] < 1e-3) excused[b] = true;
                        else fail("image " + b + ", token " + t + ": got " + best + ", golden " + want[b * 256 + t]);
                    }
                    next[b][0] = best;
                    next[B + b][0] = best;
                }
                if (t < 255) logits = m.forward(s, next);
            }
            System.out.println("LlamaGen greedy CFG tokens: identical");
        }
    }
}
