package dev.tessera.examples.fid;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.models.mar.DiffusionMlp;
import dev.tessera.engine.models.mar.MarConfig;
import dev.tessera.engine.models.mar.MarTransformer;
import dev.tessera.engine.testing.Golden;
import dev.tessera.samplers.BundledModels;
import dev.tessera.samplers.Generation;
import dev.tessera.samplers.Progress;
import dev.tessera.samplers.mar.MarDetails;
import dev.tessera.samplers.mar.MarPipeline;
import dev.tessera.tokenizers.kl.KlVae;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The bundled MAR pair (examples/models/fmnist/mar-target, mar-draft on kl-vae, loaded as the released files are):
 * the same outputs as the recipe's PyTorch modules on those files (testdata/fmnist-mar, made by
 * examples/train/mar_check.py) and samples the bundled judge recognises.
 */
class FashionMnistMarZooTest {
    static final Path BUNDLE = FashionMnistLlamaGenZooTest.BUNDLE;
    static final Path EXPECTED = Golden.testdata().resolve("fmnist-mar/expected.safetensors");
    /** Sampled latents and images: 16 MAR steps of 500 DDPM steps each in float32 against PyTorch's (as FlowAR's). */
    static final double SAMPLED_TOL = 2e-3;

    static MarPipeline load(String model, int heads) {
        return MarPipeline.builder()
                .model(BUNDLE.resolve(model))
                .vae(BUNDLE.resolve(BundledModels.MAR_VAE))
                .heads(heads, heads)
                .load();
    }

    @Test
    void theBundledModelsAreReadFromTheirTensors() {
        try (MarPipeline p = load(BundledModels.MAR_MODEL, BundledModels.MAR_HEADS);
                MarPipeline d = load(BundledModels.MAR_DRAFT, BundledModels.MAR_DRAFT_HEADS)) {
            assertEquals(new MarConfig(128, 2, 2, 512, 128, 2, 2, 512, 16, 8, 16, 10, 128, 3), p.config());
            assertEquals(new MarConfig(64, 1, 1, 256, 64, 1, 1, 256, 16, 8, 16, 10, 64, 2), d.config());
            assertEquals(4, p.vae().downsampling(), "the 32 px autoencoder downsamples by 4: an 8x8 token grid");
        }
    }

    @Test
    void targetAndDraftSampleAsThePyTorchModules() {
        try (Checkpoint want = Checkpoints.open(EXPECTED)) {
            for (String role : new String[] {"target", "draft"}) {
                boolean target = role.equals("target");
                try (MarPipeline p = load(
                        target ? BundledModels.MAR_MODEL : BundledModels.MAR_DRAFT,
                        target ? BundledModels.MAR_HEADS : BundledModels.MAR_DRAFT_HEADS)) {
                    // the encoder and decoder on known tokens and a mask
                    MarTransformer tr = p.model().transformer();
                    float[] maskF = want.tensor(role + ".mae.mask").toFloatArray();
                    boolean[] mask = new boolean[maskF.length];
                    for (int i = 0; i < mask.length; i++) mask[i] = maskF[i] != 0;
                    float[] enc = tr.encode(
                            want.tensor(role + ".mae.tokens").toFloatArray(), mask, 2, tr.classEmbeddings(new int[] {
                                3, 7
                            }));
                    Golden.assertClose(
                            want.tensor(role + ".mae.z").toFloatArray(),
                            tr.decode(enc, mask, 2),
                            Golden.TOL,
                            role + " encoder/decoder");
                    // the diffusion MLP alone, one row (one timestep) at a time
                    DiffusionMlp head = p.model().head();
                    float[] x = want.tensor(role + ".net.x").toFloatArray(),
                            t = want.tensor(role + ".net.t").toFloatArray(),
                            c = want.tensor(role + ".net.c").toFloatArray();
                    int D = p.config().tokenDim(), W = p.config().decoderWidth();
                    float[] out = new float[t.length * 2 * D];
                    for (int r = 0; r < t.length; r++) {
                        float[] o = new float[2 * D];
                        head.forward(
                                head.prepare(c, r * W, 1), 1, Arrays.copyOfRange(x, r * D, r * D + D), (long) t[r], o);
                        System.arraycopy(o, 0, out, r * 2 * D, 2 * D);
                    }
                    Golden.assertClose(
                            want.tensor(role + ".net.out").toFloatArray(), out, Golden.TOL, role + " diffusion MLP");
                    // the whole sampler from the seeded stream (NumPy's orders, PyTorch's CPU Gaussians)
                    int[] classes = {0, 1, 2, 3};
                    Generation<MarDetails> g = p.generate(classes, 7, BundledModels.MAR_SAMPLING, Progress.NONE);
                    double err = Golden.assertClose(
                            want.tensor(role + ".latents").toFloatArray(),
                            g.details().latents(),
                            SAMPLED_TOL,
                            role + " sampled latents");
                    System.out.printf("bundled MAR %s: latents max abs error %.3g%n", role, err);
                    assertEquals(BundledModels.MAR_NUM_ITER, g.details().targetForwards());
                    if (target) {
                        float[] lat = g.details().latents().clone();
                        for (int i = 0; i < lat.length; i++) lat[i] /= KlVae.MAR_SCALE;
                        double e = Golden.assertClose(
                                want.tensor("vae.decoded").toFloatArray(),
                                p.vae().decode(lat, 4, 8, 8),
                                SAMPLED_TOL,
                                "decoded images");
                        System.out.printf("bundled MAR target: decoded images max abs error %.3g%n", e);
                    }
                }
            }
        }
    }

    @Test
    void theBundledMarDrawsRecognisableClasses() {
        try (MarPipeline p = load(BundledModels.MAR_MODEL, BundledModels.MAR_HEADS)) {
            FashionMnistLlamaGenZooTest.assertRecognisable(
                    "MAR",
                    c -> p.generate(new int[] {c, c, c}, 2000 + c, BundledModels.MAR_SAMPLING, Progress.NONE)
                            .images());
        }
    }
}
