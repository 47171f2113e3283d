package dev.tessera.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.models.flowar.FlowArModel;
import dev.tessera.engine.models.flowar.FlowHead;
import dev.tessera.engine.models.llamagen.LlamaGenModel;
import dev.tessera.engine.models.nar.NarModel;
import dev.tessera.engine.models.var.VarConfig;
import dev.tessera.engine.models.var.VarTransformer;
import dev.tessera.engine.ops.Ops;
import dev.tessera.engine.testing.Golden;
import dev.tessera.samplers.Generation;
import dev.tessera.samplers.Progress;
import dev.tessera.samplers.var.VarDetails;
import dev.tessera.samplers.var.VarPipeline;
import dev.tessera.samplers.var.VarSettings;
import dev.tessera.tokenizers.kl.KlVae;
import dev.tessera.tokenizers.llamagen.VqModel;
import dev.tessera.tokenizers.var.MultiScaleVqVae;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;

/**
 * The model families and tokenizers end to end on the first OpenCL device (PoCL in CI), against the same goldens and
 * tolerances ({@link Golden#TOL}) as their CPU tests; greedy tokens identical unless the golden margin is below 1e-3.
 */
class OpenClParityTest {

    @Test
    void varGreedyPipelineReproducesTokensFhatAndImage() {
        Ops ops = OpenClTesting.first();
        try (Golden g = Golden.vendored("var-small");
                VarPipeline p = VarPipeline.builder()
                        .model(g.file("var.pth"))
                        .vae(g.file("vae.pth"))
                        .ops(ops)
                        .load()) {
            Generation<VarDetails> gen =
                    p.generate(new int[] {3, 7}, 0, new VarSettings(1.5, 1, 0, false), Progress.NONE);
            VarDetails r = gen.details();
            int B = 2;
            int[] pn = p.config().patchNums();
            boolean[] stopped = new boolean[B];
            for (int si = 0; si < pn.length; si++) {
                int[] want = g.ints("greedy.tokens." + si);
                float[] margin = g.floats("greedy.margins." + si);
                int n = pn[si] * pn[si];
                for (int b = 0; b < B; b++) {
                    for (int t = 0; t < n && !stopped[b]; t++) {
                        int i = b * n + t;
                        if (want[i] == r.tokens().get(si)[i]) continue;
                        if (margin[i] < 1e-3) stopped[b] = true; // a near tie excuses the rest of this image
                        else
                            fail("scale " + si + ", image " + b + ", token " + t + ": got "
                                    + r.tokens().get(si)[i] + ", golden " + want[i] + " (margin " + margin[i] + ")");
                    }
                }
            }
            assertEquals(
                    false, stopped[0] || stopped[1], "no near-tie was expected (smallest golden margin is 4.6e-3)");
            double fhatErr = Golden.assertClose(g.floats("greedy.fhat.9"), r.fhat(), Golden.TOL, "final f_hat");
            float[] image = new float[B * 3 * 256 * 256];
            for (int b = 0; b < B; b++)
                System.arraycopy(gen.images().get(b).pixels(), 0, image, b * 3 * 65536, 3 * 65536);
            double imgErr = Golden.assertClose(g.floats("greedy.image"), image, Golden.TOL, "greedy image");
            System.out.printf(
                    "VAR greedy on %s: tokens identical, f_hat error %.3g, image error %.3g%n",
                    ops.name(), fhatErr, imgErr);
        }
    }

    @Test
    void varTeacherForcedLogits() {
        try (Golden g = Golden.vendored("var-small");
                Checkpoint ckpt = Checkpoints.open(g.file("var.pth"))) {
            VarTransformer var = VarTransformer.load(ckpt, 0, null, OpenClTesting.first());
            VarConfig c = var.config();
            int B = 2, L = c.tokens(), V = c.vocab(), cv = c.cvae();
            float[] input = g.floats("teacher.input"), expected = g.floats("teacher.logits");
            VarTransformer.State s = var.start(new int[] {3, 7});
            float[] x = var.firstInput(s);
            double worst = 0;
            for (int si = 0; si < c.scales(); si++) {
                int l = c.tokensAt(si), begin = c.begin(si);
                if (si > 0) {
                    float[] f = new float[B * l * cv];
                    for (int b = 0; b < B; b++)
                        System.arraycopy(input, (b * (L - 1) + begin - 1) * cv, f, b * l * cv, l * cv);
                    x = var.nextInput(si, f, B, 1);
                }
                float[] logits = var.forward(s, si, x);
                float[] want = new float[B * l * V];
                for (int b = 0; b < B; b++) System.arraycopy(expected, (b * L + begin) * V, want, b * l * V, l * V);
                worst = Math.max(
                        worst, Golden.assertClose(want, logits, Golden.TOL, "VAR teacher logits, scale " + si));
            }
            System.out.printf("VAR teacher-forced logits on OpenCL: max abs error %.3g%n", worst);
        }
    }

    @Test
    void llamaGenTeacherForcedLogitsAndGreedyTokens() {
        try (Golden g = Golden.vendored("llamagen-small");
                Checkpoint ckpt = Checkpoints.open(g.file("gpt.pth"))) {
            LlamaGenModel m = LlamaGenModel.load(ckpt, 4, 16, OpenClTesting.first());
            int[] tokens = g.ints("greedy.tokens");
            int V = 1024, B = 2;
            LlamaGenModel.State s = m.start(new int[] {2, 9});
            float[] first = m.prefill(s);
            int[][] in = new int[B][255];
            for (int b = 0; b < B; b++) System.arraycopy(tokens, b * 256, in[b], 0, 255);
            float[] rest = m.forward(s, in);
            float[] got = new float[B * 256 * V];
            for (int b = 0; b < B; b++) {
                System.arraycopy(first, b * V, got, b * 256 * V, V);
                System.arraycopy(rest, b * 255 * V, got, (b * 256 + 1) * V, 255 * V);
            }
            double err = Golden.assertClose(g.floats("teacher.logits"), got, Golden.TOL, "LlamaGen teacher logits");
            System.out.printf("LlamaGen teacher-forced logits on OpenCL: max abs error %.3g%n", err);

            // greedy CFG decoding, one token per step through the KV cache
            float[] margins = g.floats("greedy.margins");
            s = m.start(new int[] {2, 9, 10, 10});
            float[] logits = m.prefill(s);
            boolean[] excused = new boolean[B];
            for (int t = 0; t < 256; t++) {
                int[][] next = new int[2 * B][1];
                for (int b = 0; b < B; b++) {
                    int best = argmaxCfg(logits, b * V, (B + b) * V, V, 2f);
                    if (!excused[b] && best != tokens[b * 256 + t]) {
                        if (margins[b * 256 + t] < 1e-3) excused[b] = true;
                        else
                            fail("LlamaGen image " + b + ", token " + t + ": got " + best + ", golden "
                                    + tokens[b * 256 + t]);
                    }
                    next[b][0] = best;
                    next[B + b][0] = best;
                }
                if (t < 255) logits = m.forward(s, next);
            }
        }
    }

    @Test
    void narTeacherForcedLogitsAndGreedyTokens() {
        try (Golden g = Golden.vendored("nar-small");
                Checkpoint ckpt = Checkpoints.open(g.file("gpt.pth"))) {
            NarModel m = NarModel.load(ckpt, 4, 16, 1, OpenClTesting.first());
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
                    for (int j = 0; j < out.length; j++)
                        System.arraycopy(l, (b * out.length + j) * V, got, (b * 256 + out[j]) * V, V);
                }
            }
            m.finish(s);
            double err = Golden.assertClose(g.floats("teacher.logits"), got, Golden.TOL, "NAR teacher logits");
            System.out.printf("NAR teacher-forced logits on OpenCL: max abs error %.3g%n", err);

            s = m.start(new int[] {4, 8, 10, 10});
            int[] greedy = new int[B * 256];
            l = m.prefill(s);
            for (int k = 0; k < m.steps(); k++) {
                int[] pos = m.diagonal(k);
                int[][] feed = new int[2 * B][pos.length];
                for (int j = 0; j < pos.length; j++) {
                    for (int b = 0; b < B; b++) {
                        int best = argmaxCfg(l, (b * pos.length + j) * V, ((B + b) * pos.length + j) * V, V, 2f);
                        greedy[b * 256 + pos[j]] = best;
                        feed[b][j] = best;
                        feed[B + b][j] = best;
                    }
                }
                if (k + 1 < m.steps()) l = m.step(s, feed);
            }
            m.finish(s);
            Assertions.assertArrayEquals(tokens, greedy, "greedy NAR tokens on OpenCL");
        }
    }

    @Test
    void flowArFlowHeadVelocity() {
        try (Golden g = Golden.vendored("flowar-small");
                Checkpoint ckpt = Checkpoints.open(g.file("flowar.pth"))) {
            FlowArModel m = FlowArModel.load(ckpt, 0, OpenClTesting.first());
            float[] want = g.floats("flownet.v");
            FlowHead head = m.flowHead();
            FlowHead.Context ctx = head.prepare(g.floats("flownet.cond"), 4, 9);
            float[] v = new float[want.length];
            head.velocity(ctx, 4, g.floats("flownet.x"), g.floats("flownet.t"), v);
            double err = Golden.assertClose(want, v, Golden.TOL, "FlowAR flow head velocity");
            System.out.printf("FlowAR flow head on OpenCL: max abs error %.3g%n", err);
        }
    }

    @Test
    void tokenizersDecodeTheGoldenImages() {
        Ops ops = OpenClTesting.first();
        try (Golden g = Golden.vendored("var-small");
                Checkpoint ckpt = Checkpoints.open(g.file("vae.pth"))) {
            int[] pn = {1, 2, 3, 4, 5, 6, 8, 10, 13, 16};
            MultiScaleVqVae vae = MultiScaleVqVae.load(ckpt, pn, 0.5f, ops);
            List<int[]> tokens = new ArrayList<>();
            for (int si = 0; si < pn.length; si++) tokens.add(g.ints("vae.tokens." + si));
            double err = Golden.assertClose(
                    g.floats("vae.decoded"),
                    vae.decode(vae.tokensToFhat(tokens, 1), 1),
                    Golden.TOL,
                    "VAR VQ-VAE idxBl_to_img");
            System.out.printf("VAR VQ-VAE decode on OpenCL: max abs error %.3g%n", err);
        }
        try (Golden g = Golden.vendored("llamagen-small");
                Checkpoint ckpt = Checkpoints.open(g.file("vq.pth"))) {
            VqModel vq = VqModel.load(ckpt, true, ops);
            double err = Golden.assertClose(
                    g.floats("vq.decoded"),
                    vq.decode(g.ints("greedy.tokens"), 2, 16),
                    Golden.TOL,
                    "LlamaGen VQ decode_code");
            System.out.printf("LlamaGen VQ decode on OpenCL: max abs error %.3g%n", err);
        }
        try (Golden g = Golden.vendored("flowar-small");
                Checkpoint ckpt = Checkpoints.open(g.file("vae.pth"))) {
            KlVae vae = KlVae.load(ckpt, ops);
            float[] lat = g.floats("sampled.latents");
            for (int i = 0; i < lat.length; i++) lat[i] /= KlVae.MAR_SCALE;
            double err =
                    Golden.assertClose(g.floats("vae.decoded"), vae.decode(lat, 2, 16, 16), Golden.TOL, "KL-16 decode");
            System.out.printf("KL-16 decode on OpenCL: max abs error %.3g%n", err);
        }
    }

    /**
     * The encoders (convolutions, then the nearest-code search on the device) against the goldens' codes, with the
     * CPU tests' criterion: at least 99% identical per scale (an encoder feature within rounding of two codes may pick
     * either).
     */
    @Test
    void tokenizersEncodeTheGoldenImages() {
        Ops ops = OpenClTesting.first();
        try (Golden g = Golden.vendored("var-small");
                Checkpoint ckpt = Checkpoints.open(g.file("vae.pth"))) {
            int[] pn = {1, 2, 3, 4, 5, 6, 8, 10, 13, 16};
            MultiScaleVqVae vae = MultiScaleVqVae.load(ckpt, pn, 0.5f, ops);
            List<int[]> tokens = vae.encode(g.floats("vae.input"), 1, 256, 256);
            for (int si = 0; si < pn.length; si++) {
                agree(g.ints("vae.tokens." + si), tokens.get(si), "VAR VQ-VAE encoder scale " + si);
            }
        }
        try (Golden g = Golden.vendored("llamagen-small");
                Checkpoint ckpt = Checkpoints.open(g.file("vq.pth"))) {
            VqModel vq = VqModel.load(ckpt, true, ops);
            agree(g.ints("vq.codes"), vq.encode(g.floats("vq.input"), 1, 256, 256), "LlamaGen VQ encoder");
        }
    }

    private static void agree(int[] want, int[] got, String what) {
        int same = 0;
        for (int i = 0; i < want.length; i++) if (want[i] == got[i]) same++;
        System.out.printf("%s on OpenCL: %d/%d codes identical%n", what, same, want.length);
        if (same < 0.99 * want.length) fail(what + ": only " + same + "/" + want.length + " codes agree");
    }

    private static int argmaxCfg(float[] l, int c, int u, int V, float cfg) {
        int best = 0;
        float bestV = Float.NEGATIVE_INFINITY;
        for (int v = 0; v < V; v++) {
            float x = l[u + v] + (l[c + v] - l[u + v]) * cfg;
            if (x > bestV) {
                bestV = x;
                best = v;
            }
        }
        return best;
    }
}
