package dev.tessera.samplers.mar;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.models.mar.DiffusionMlp;
import dev.tessera.engine.models.mar.MarConfig;
import dev.tessera.engine.models.mar.MarModel;
import dev.tessera.engine.models.mar.MarTransformer;
import dev.tessera.engine.ops.Ops;
import dev.tessera.engine.testing.Golden;
import dev.tessera.samplers.Progress;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * MAR on a configuration no golden file has: encoder 96 wide × 3 blocks (3 heads), decoder 64 × 1 (4 heads), an
 * 8-slot buffer, 4×4 tokens of 8 channels, 5 classes, a 48 × 3 diffusion MLP, 7 diffusion steps, constant
 * guidance, temperature 0.9; held to {@link NaiveMar}, a float64 re-statement that keeps the masked rows.
 */
class UnseenConfigurationTest {
    static final SyntheticMar.Shape SHAPE = new SyntheticMar.Shape(96, 3, 64, 1, 8, 4, 8, 5, 48, 3);

    static Checkpoint ckpt() {
        return SyntheticMar.checkpoint("unseen-mar", SHAPE, 42, 0.05);
    }

    @Test
    void theConfigurationComesFromTheTensorsAndHeadsFromTheOption() {
        Checkpoint ck = ckpt();
        assertEquals(new MarConfig(96, 3, 3, 384, 64, 1, 4, 256, 8, 4, 8, 5, 48, 3), MarConfig.infer(ck, 3, 4));
        TesseraException e = assertThrows(TesseraException.class, () -> MarConfig.infer(ck, 0, 0));
        assertTrue(e.getMessage().contains("--heads"), e.getMessage());
        e = assertThrows(TesseraException.class, () -> MarConfig.infer(ck, 5, 4));
        assertTrue(e.getMessage().contains("does not split"), e.getMessage());
    }

    @Test
    void encoderDecoderMatchesTheNaiveForward() {
        Checkpoint ck = ckpt();
        MarModel m = MarModel.load(ck, 3, 4, Ops.cpu());
        Random r = new Random(3);
        int B = 2, L = 16, D = 8;
        float[] tokens = new float[B * L * D];
        for (int i = 0; i < tokens.length; i++) tokens[i] = (float) r.nextGaussian();
        boolean[] masked = new boolean[B * L];
        for (int b = 0; b < B; b++) {
            int[] order = new NumpyShuffle(b + 10).shuffledRange(L);
            for (int k = 0; k < 10; k++) masked[b * L + order[k]] = true; // 10 of 16 unknown in each row
        }
        float[] cls = m.transformer().classEmbeddings(new int[] {4, MarTransformer.UNCONDITIONAL});
        float[] z = m.transformer().forward(tokens, masked, B, cls);
        double[] want = new NaiveMar(ck, 3, 4).forward(tokens, masked, B, cls);
        double err = Golden.assertClose(toFloat(want), z, 1e-4, "z of the unseen configuration");
        System.out.printf("MAR unseen configuration: z max abs error %.3g%n", err);
    }

    @Test
    void diffusionMlpMatchesTheNaiveNetwork() {
        Checkpoint ck = ckpt();
        MarModel m = MarModel.load(ck, 3, 4, Ops.cpu());
        Random r = new Random(4);
        int rows = 5;
        float[] x = new float[rows * 8], c = new float[rows * 64];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (int i = 0; i < c.length; i++) c[i] = (float) r.nextGaussian();
        DiffusionMlp head = m.head();
        float[] out = new float[rows * 16];
        head.forward(head.prepare(c, 0, rows), rows, x, 517, out);
        double[] want = new NaiveMar(ck, 3, 4).net(toDouble(x), 517, toDouble(c), rows);
        double err = Golden.assertClose(toFloat(want), out, 1e-4, "diffusion MLP of the unseen configuration");
        System.out.printf("MAR unseen diffusion MLP: max abs error %.3g%n", err);
    }

    @Test
    void generationMatchesTheNaiveSampler() {
        Checkpoint ck = ckpt();
        MarModel m = MarModel.load(ck, 3, 4, Ops.cpu());
        MarSettings s = new MarSettings(5, 2.5, MarSettings.CfgSchedule.CONSTANT, 0.9, 7, null, null);
        int[] classes = {1, 4, 0};
        MarGenerator gen = new MarGenerator(m, null, null);
        MarGenerator.Run run = gen.sampleTokens(classes, s, MarRandom.seeded(9), Progress.NONE);
        double[] want = naiveSample(new NaiveMar(ck, 3, 4), m, classes, s, MarRandom.seeded(9));
        double max = 0;
        for (double v : want) max = Math.max(max, Math.abs(v));
        double err = Golden.assertClose(toFloat(want), run.tokens, 1e-4 * max, "tokens of the unseen configuration");
        System.out.printf("MAR unseen generation: max abs error %.3g of max |token| %.3g%n", err, max);
        assertEquals(5, run.targetForwards);
        int[] again = MarRandom.seeded(9).order(16);
        assertArrayEquals(again, run.orders[0]);
    }

    /** The official loop restated in float64 with the schedule recomputed here. */
    static double[] naiveSample(NaiveMar net, MarModel m, int[] classes, MarSettings s, MarRandom rnd) {
        int B = classes.length, L = 16, D = 8, Wd = 64, K = s.diffusionSteps();
        int[][] orders = new int[B][];
        for (int b = 0; b < B; b++) orders[b] = rnd.order(L);
        // cosine betas, respaced to K steps
        double[] ac = new double[1000];
        double prod = 1;
        for (int i = 0; i < 1000; i++) {
            double a1 = Math.pow(Math.cos((i / 1000.0 + 0.008) / 1.008 * Math.PI / 2), 2);
            double a2 = Math.pow(Math.cos(((i + 1) / 1000.0 + 0.008) / 1.008 * Math.PI / 2), 2);
            prod *= 1 - Math.min(1 - a2 / a1, 0.999);
            ac[i] = prod;
        }
        long[] map = new long[K];
        double[] beta = new double[K];
        double last = 1, cur = 0;
        for (int k = 0; k < K; k++) {
            int t = (int) Math.rint(cur);
            cur += 999.0 / (K - 1);
            map[k] = t;
            beta[k] = 1 - ac[t] / last;
            last = ac[t];
        }
        double[] abar = new double[K];
        prod = 1;
        for (int k = 0; k < K; k++) abar[k] = prod *= 1 - beta[k];
        double[] tokens = new double[B * L * D];
        boolean[] masked = new boolean[B * L];
        Arrays.fill(masked, true);
        int[] labels = {classes[0], classes[1], classes[2], -1, -1, -1};
        float[] cls = m.transformer().classEmbeddings(labels);
        for (int step = 0; step < s.numIter(); step++) {
            float[] tk = new float[2 * B * L * D];
            boolean[] mk = new boolean[2 * B * L];
            for (int h = 0; h < 2; h++) {
                for (int i = 0; i < B * L * D; i++) tk[h * B * L * D + i] = (float) tokens[i];
                System.arraycopy(masked, 0, mk, h * B * L, B * L);
            }
            double[] z = net.forward(tk, mk, 2 * B, cls);
            int known = 0;
            for (int t = 0; t < L; t++) if (masked[t]) known++;
            int len = (int) Math.max(
                    1, Math.min(known - 1, Math.floor(L * Math.cos(Math.PI / 2 * (step + 1) / s.numIter()))));
            boolean[] next = new boolean[B * L], pred = new boolean[B * L];
            for (int b = 0; b < B; b++) for (int k = 0; k < len; k++) next[b * L + orders[b][k]] = true;
            int n = 0;
            for (int i = 0; i < B * L; i++) {
                pred[i] = step == s.numIter() - 1 ? masked[i] : masked[i] != next[i];
                if (pred[i]) n++;
            }
            double[] zc = new double[2 * n * Wd];
            int r = 0;
            for (int h = 0; h < 2; h++)
                for (int i = 0; i < B * L; i++)
                    if (pred[i]) System.arraycopy(z, (h * B * L + i) * Wd, zc, r++ * Wd, Wd);
            float[] x0 = rnd.normal(n * D);
            double[] x = new double[n * D];
            for (int i = 0; i < x.length; i++) x[i] = x0[i];
            for (int k = K - 1; k >= 0; k--) {
                double[] in = new double[2 * n * D];
                System.arraycopy(x, 0, in, 0, n * D);
                System.arraycopy(x, 0, in, n * D, n * D);
                double[] out = net.net(in, map[k], zc, 2 * n);
                float[] e = rnd.normal(2 * n * D);
                double ap = k == 0 ? 1 : abar[k - 1];
                double post = beta[Math.max(k, 1)]
                        * (1 - (k == 0 ? abar[0] : abar[Math.max(k, 1) - 1]))
                        / (1 - abar[Math.max(k, 1)]);
                for (int q = 0; q < n; q++) {
                    for (int d = 0; d < D; d++) {
                        double c = out[q * 2 * D + d], u = out[(n + q) * 2 * D + d], v = out[q * 2 * D + D + d];
                        double eps = u + s.cfg() * (c - u);
                        double xs = x[q * D + d];
                        double xst = Math.sqrt(1 / abar[k]) * xs - Math.sqrt(1 / abar[k] - 1) * eps;
                        double mean = beta[k] * Math.sqrt(ap) / (1 - abar[k]) * xst
                                + (1 - ap) * Math.sqrt(1 - beta[k]) / (1 - abar[k]) * xs;
                        double frac = (v + 1) / 2, lv = frac * Math.log(beta[k]) + (1 - frac) * Math.log(post);
                        x[q * D + d] = mean + (k != 0 ? Math.exp(0.5 * lv) * e[q * D + d] * s.temperature() : 0);
                    }
                }
            }
            r = 0;
            for (int i = 0; i < B * L; i++) if (pred[i]) System.arraycopy(x, r++ * D, tokens, i * D, D);
            masked = next;
        }
        return tokens;
    }

    static float[] toFloat(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) f[i] = (float) a[i];
        return f;
    }

    static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }
}
