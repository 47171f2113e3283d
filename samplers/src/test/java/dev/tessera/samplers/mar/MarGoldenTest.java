package dev.tessera.samplers.mar;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.models.mar.DiffusionMlp;
import dev.tessera.engine.models.mar.MarConfig;
import dev.tessera.engine.models.mar.MarModel;
import dev.tessera.engine.models.mar.MarTransformer;
import dev.tessera.engine.ops.Ops;
import dev.tessera.engine.testing.DeferredHostOps;
import dev.tessera.engine.testing.Golden;
import dev.tessera.samplers.Generation;
import dev.tessera.tokenizers.kl.KlVae;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * MAR against the official {@code LTH14/mar} code: golden {@code mar-small} (the encoder/decoder, the diffusion MLP,
 * the seeded generation orders and Gaussian draws, the sampled latents and the decoded images).
 */
class MarGoldenTest {
    static final Path MODEL = Golden.testdata().resolve("mar-small/mar.pth");
    static final Path VAE = Golden.testdata().resolve("flowar-small/vae.pth");
    /** The golden README: latents within 1e-4 of their largest magnitude; images 2e-3 abs. */
    static final double LATENT_REL = 1e-4, IMAGE_TOL = 2e-3;

    static MarSettings goldenSettings() {
        return new MarSettings(8, 3.0, MarSettings.CfgSchedule.LINEAR, 1.0, 20, null, null);
    }

    @Test
    void configurationIsReadFromTheTensors() {
        try (Checkpoint ckpt = Checkpoints.open(MODEL)) {
            MarConfig c = MarConfig.infer(ckpt, 2, 2);
            assertEquals(new MarConfig(128, 2, 2, 512, 128, 2, 2, 512, 16, 16, 64, 10, 128, 2), c);
        }
    }

    @Test
    void encoderDecoderAndDiffusionMlpMatchTheOfficialModules() {
        try (Golden g = Golden.vendored("mar-small");
                Checkpoint ckpt = Checkpoints.open(MODEL)) {
            MarModel m = MarModel.load(ckpt, 2, 2, Ops.cpu());
            MarTransformer tr = m.transformer();
            float[] maskF = g.floats("mae.mask");
            boolean[] mask = new boolean[maskF.length];
            for (int i = 0; i < mask.length; i++) mask[i] = maskF[i] != 0;
            float[] enc = tr.encode(g.floats("mae.tokens"), mask, 2, tr.classEmbeddings(new int[] {3, 7}));
            double e1 = Golden.assertClose(g.floats("mae.encoded"), enc, Golden.TOL, "mae.encoded");
            double e2 = Golden.assertClose(g.floats("mae.z"), tr.decode(enc, mask, 2), Golden.TOL, "mae.z");

            float[] x = g.floats("net.x"), c = g.floats("net.c");
            long[] t = longs(g, "net.t");
            DiffusionMlp head = m.head();
            float[] out = new float[6 * 32];
            for (int r = 0; r < 6; r++) {
                // the net takes one timestep per row: run the rows one by one
                float[] o = new float[32];
                head.forward(head.prepare(c, r * 128, 1), 1, Arrays.copyOfRange(x, r * 16, r * 16 + 16), t[r], o);
                System.arraycopy(o, 0, out, r * 32, 32);
            }
            double e3 = Golden.assertClose(g.floats("net.out"), out, Golden.TOL, "net.out");
            System.out.printf("MAR modules: encoded %.3g, z %.3g, net %.3g%n", e1, e2, e3);
        }
    }

    static long[] longs(Golden g, String key) {
        int[] a = g.ints(key);
        long[] l = new long[a.length];
        for (int i = 0; i < a.length; i++) l[i] = a[i];
        return l;
    }

    @Test
    void seededRunReproducesTheOfficialOrdersLatentsAndImages() {
        seeded(Ops.cpu());
    }

    /** The same through a backend that keeps results off the host until asked (a missing sync call fails it). */
    @Test
    void seededRunThroughDeferredHostCopies() {
        seeded(new DeferredHostOps());
    }

    private static void seeded(Ops ops) {
        try (Golden g = Golden.vendored("mar-small");
                MarPipeline p = MarPipeline.builder()
                        .ops(ops)
                        .model(MODEL)
                        .vae(VAE)
                        .heads(2, 2)
                        .load()) {
            Generation<MarDetails> gen = p.generate(new int[] {3, 7}, 777, goldenSettings());
            check(g, gen, "seeded", ops);
        }
    }

    @Test
    void injectedDrawsReproduceTheOfficialRun() {
        try (Golden g = Golden.vendored("mar-small");
                Checkpoint draws = Checkpoints.open(g.file("golden.safetensors"));
                MarPipeline p =
                        MarPipeline.builder().model(MODEL).vae(VAE).heads(2, 2).load()) {
            Generation<MarDetails> gen =
                    p.generate(new int[] {3, 7}, 0, goldenSettings().withRandom(seed -> MarRandom.injected(draws)));
            check(g, gen, "injected", Ops.cpu());
        }
    }

    /**
     * The seeded stream is the recorded one: the orders bit for bit (integers from the same MT19937 words), the
     * Gaussians to float32 rounding (the same uniforms; Box–Muller's log and cos round by an ulp differently in
     * PyTorch's vectorised kernels).
     */
    @Test
    void theSeededStreamIsTheRecordedOne() {
        try (Golden g = Golden.vendored("mar-small");
                Checkpoint draws = Checkpoints.open(g.file("golden.safetensors"))) {
            MarRandom seeded = MarRandom.seeded(777), rec = MarRandom.injected(draws);
            for (int b = 0; b < 2; b++) assertArrayEquals(rec.order(256), seeded.order(256), "order " + b);
            double err = 0;
            for (int k = 0; k < 168; k++) {
                float[] want = g.floats(String.format("sample.randn.%04d", k));
                err = Math.max(err, Golden.assertClose(want, seeded.normal(want.length), 1e-5, "draw " + k));
            }
            System.out.printf("MAR seeded draws: max abs error %.3g over 168 draws%n", err);
        }
    }

    private static void check(Golden g, Generation<MarDetails> gen, String how, Ops ops) {
        MarDetails d = gen.details();
        int[] orders = g.ints("sample.orders");
        for (int b = 0; b < 2; b++) {
            assertArrayEquals(Arrays.copyOfRange(orders, b * 256, b * 256 + 256), d.orders()[b], "order " + b);
        }
        float[] want = g.floats("sample.latents");
        double max = 0;
        for (float v : want) max = Math.max(max, Math.abs(v));
        double err =
                Golden.assertClose(want, d.latents(), LATENT_REL * max, how + " latents (max |latent| " + max + ")");
        float[] image = decode(d, ops);
        double imgErr = Golden.assertClose(g.floats("sample.image"), image, IMAGE_TOL, how + " decoded images");
        System.out.printf(
                "MAR %s: latents max abs error %.3g (%.3g of max |latent| %.3g), images %.3g%n",
                how, err, err / max, max, imgErr);
        assertEquals(8, d.targetForwards());
    }

    private static float[] decode(MarDetails d, Ops ops) {
        try (Checkpoint v = Checkpoints.open(VAE)) {
            float[] s = d.latents().clone();
            for (int i = 0; i < s.length; i++) s[i] /= KlVae.MAR_SCALE;
            return KlVae.load(v, ops).decode(s, 2, 16, 16);
        }
    }
}
