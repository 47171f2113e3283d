package dev.tessera.examples.fid;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.models.flowar.FlowArConfig;
import dev.tessera.engine.models.flowar.FlowHead;
import dev.tessera.engine.ops.Ops;
import dev.tessera.engine.testing.Golden;
import dev.tessera.samplers.BundledModels;
import dev.tessera.samplers.Generation;
import dev.tessera.samplers.Progress;
import dev.tessera.samplers.flowar.FlowArDetails;
import dev.tessera.samplers.flowar.FlowArPipeline;
import dev.tessera.samplers.flowar.FlowArSettings;
import dev.tessera.samplers.flowar.FlowSampler;
import dev.tessera.tokenizers.kl.KlVae;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The bundled FlowAR pair and its KL autoencoder (examples/models/fmnist/flowar-target, flowar-draft, kl-vae, loaded
 * as the released files are): the same outputs as the recipe's PyTorch modules on those files
 * (testdata/fmnist-flowar, made by examples/train/flowar_check.py), and samples the bundled judge recognises.
 */
class FashionMnistFlowArZooTest {
    static final Path BUNDLE = FashionMnistLlamaGenZooTest.BUNDLE;
    static final Path EXPECTED = Golden.testdata().resolve("fmnist-flowar/expected.safetensors");
    /** As the flowar-sampled parity: 24 Euler steps on four scales in float32 against PyTorch's. */
    static final double SAMPLED_TOL = 2e-3;

    static FlowArPipeline load(String model) {
        return FlowArPipeline.builder()
                .model(BUNDLE.resolve(model))
                .vae(BUNDLE.resolve(BundledModels.FLOWAR_VAE))
                .defaults(BundledModels.FLOWAR_SAMPLING)
                .load();
    }

    @Test
    void theBundledModelsAreReadFromTheirTensors() {
        try (FlowArPipeline p = load(BundledModels.FLOWAR_MODEL)) {
            FlowArConfig c = p.config();
            assertArrayEquals(new int[] {1, 2, 4, 8}, c.scales(), "scales of the 8x8 grid");
            assertEquals(8, c.nextScaleGrid(), "sampled scales are resized to the grid's side");
            assertEquals(10, c.numClasses());
            assertEquals(4, p.vae().downsampling(), "the 32 px autoencoder downsamples by 4 (two levels)");
            assertEquals(16, p.vae().latentChannels());
        }
    }

    @Test
    void targetAndDraftSampleAsThePyTorchModules() {
        try (Checkpoint want = Checkpoints.open(EXPECTED)) {
            for (String role : new String[] {"target", "draft"}) {
                String file = role.equals("target") ? BundledModels.FLOWAR_MODEL : BundledModels.FLOWAR_DRAFT;
                try (FlowArPipeline p = load(file)) {
                    // the flow head alone
                    FlowHead head = p.model().flowHead();
                    float[] x = want.tensor(role + ".flow.x").toFloatArray(),
                            t = want.tensor(role + ".flow.t").toFloatArray(),
                            cond = want.tensor(role + ".flow.cond").toFloatArray();
                    int rows = t.length, n = x.length / rows / p.config().tokenDim();
                    float[] v = new float[x.length];
                    head.velocity(head.prepare(cond, rows, n), rows, x, t, v);
                    Golden.assertClose(
                            want.tensor(role + ".flow.v").toFloatArray(), v, Golden.TOL, role + " flow head");
                    // the whole sampler: seeded CPU noise, Euler 25 steps, cfg 3, guidance 0.9
                    int[] classes = new int[10];
                    for (int c = 0; c < 10; c++) classes[c] = c;
                    FlowArSettings s = new FlowArSettings(3.0, 0.9, 25, FlowSampler.EULER, null);
                    Generation<FlowArDetails> g = p.generate(classes, 7, s, Progress.NONE);
                    double err = Golden.assertClose(
                            want.tensor(role + ".latents").toFloatArray(),
                            g.details().latents(),
                            SAMPLED_TOL,
                            role + " sampled latents");
                    System.out.printf("bundled FlowAR %s: latents max abs error %.3g%n", role, err);
                    if (role.equals("target")) {
                        float[] lat = g.details().latents().clone();
                        for (int i = 0; i < lat.length; i++) lat[i] /= KlVae.MAR_SCALE;
                        Golden.assertClose(
                                want.tensor("vae.decoded").toFloatArray(),
                                p.vae().decode(lat, 10, 8, 8),
                                SAMPLED_TOL,
                                "decoded images");
                    }
                }
            }
        }
    }

    @Test
    void theAutoencoderEncodesAndDecodesAsPyTorch() {
        try (Checkpoint want = Checkpoints.open(EXPECTED);
                Checkpoint file = Checkpoints.open(BUNDLE.resolve(BundledModels.FLOWAR_VAE))) {
            KlVae vae = KlVae.load(file, Ops.cpu());
            float[] enc = vae.encode(want.tensor("vae.images").toFloatArray(), 4, 32, 32);
            Golden.assertClose(want.tensor("vae.encoded").toFloatArray(), enc, Golden.TOL, "posterior means");
        }
    }

    @Test
    void theBundledFlowArDrawsRecognisableClasses() {
        try (FlowArPipeline p = load(BundledModels.FLOWAR_MODEL)) {
            FashionMnistLlamaGenZooTest.assertRecognisable(
                    "FlowAR",
                    c -> p.generate(new int[] {c, c, c}, 2000 + c, BundledModels.FLOWAR_SAMPLING, Progress.NONE)
                            .images());
        }
    }
}
