package dev.tessera.samplers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.testing.Golden;
import dev.tessera.samplers.ar.TokenSettings;
import dev.tessera.samplers.flowar.FlowArDetails;
import dev.tessera.samplers.flowar.FlowArPipeline;
import dev.tessera.samplers.flowar.FlowArSettings;
import dev.tessera.samplers.flowar.FlowNoise;
import dev.tessera.samplers.flowar.FlowSampler;
import dev.tessera.samplers.llamagen.LlamaGenPipeline;
import dev.tessera.samplers.llamagen.LlamaGenSettings;
import dev.tessera.samplers.mar.MarDetails;
import dev.tessera.samplers.mar.MarPipeline;
import dev.tessera.samplers.mar.MarSettings;
import dev.tessera.samplers.nar.NarPipeline;
import dev.tessera.samplers.var.VarDetails;
import dev.tessera.samplers.var.VarPipeline;
import dev.tessera.samplers.var.VarSettings;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every family through the one {@link Pipeline} interface, on the vendored test checkpoints: the images a generic
 * caller gets (labels, sizes, pixels in [0, 1]) are those of the golden references, and the typed details carry
 * the golden tokens (VAR, LlamaGen, NAR) or latents (FlowAR, with the reference's noise injected; MAR, seeded).
 */
class PipelineContractTest {
    static final Path T = Golden.testdata();

    enum Family {
        VAR,
        LLAMAGEN,
        NAR,
        FLOWAR,
        MAR
    }

    @ParameterizedTest
    @EnumSource(Family.class)
    void theCommonInterfaceReproducesTheGoldens(Family family) {
        switch (family) {
            case VAR -> {
                try (Golden g = Golden.vendored("var-small");
                        VarPipeline p = VarPipeline.builder()
                                .model(T.resolve("var-small/var.pth"))
                                .vae(T.resolve("var-small/vae.pth"))
                                .load()) {
                    Generation<VarDetails> r =
                            generate(p, "var", 10, new int[] {3, 7}, 0, new VarSettings(1.5, 1, 0, false));
                    for (int si = 0; si < 10; si++)
                        assertArrayEquals(
                                g.ints("greedy.tokens." + si),
                                r.details().tokens().get(si),
                                "scale " + si);
                    Golden.assertClose(g.floats("greedy.image"), pixels(r), Golden.TOL, "VAR images via Pipeline");
                    assertEquals(VarSettings.OFFICIAL, p.defaults());
                }
            }
            case LLAMAGEN -> {
                try (Golden g = Golden.vendored("llamagen-small");
                        LlamaGenPipeline p = LlamaGenPipeline.builder()
                                .model(T.resolve("llamagen-small/gpt.pth"))
                                .vq(T.resolve("llamagen-small/vq.pth"))
                                .heads(4)
                                .load()) {
                    Generation<TokenDetails> r = generate(
                            p,
                            "llamagen",
                            10,
                            new int[] {2, 9},
                            0,
                            LlamaGenSettings.builder().topK(1).build());
                    assertTokens(g.ints("greedy.tokens"), r.details());
                    Golden.assertClose(
                            unit(g.floats("vq.decoded")), pixels(r), Golden.TOL / 2, "LlamaGen images via Pipeline");
                    assertEquals(2.0, p.defaults().cfg());
                }
            }
            case NAR -> {
                try (Golden g = Golden.vendored("nar-small");
                        NarPipeline p = NarPipeline.builder()
                                .model(T.resolve("nar-small/gpt.pth"))
                                .vq(T.resolve("llamagen-small/vq.pth"))
                                .heads(4)
                                .load()) {
                    Generation<TokenDetails> r = generate(
                            p,
                            "nar",
                            10,
                            new int[] {4, 8},
                            0,
                            TokenSettings.builder().topK(1).build());
                    assertTokens(g.ints("greedy.tokens"), r.details());
                    Golden.assertClose(
                            unit(g.floats("vq.decoded")), pixels(r), Golden.TOL / 2, "NAR images via Pipeline");
                    assertEquals(TokenSettings.OFFICIAL, p.defaults());
                }
            }
            case FLOWAR -> {
                try (Golden g = Golden.vendored("flowar-small");
                        FlowArPipeline p = FlowArPipeline.builder()
                                .model(T.resolve("flowar-small/flowar.pth"))
                                .vae(T.resolve("flowar-small/vae.pth"))
                                .load();
                        Checkpoint noise = Checkpoints.open(g.file("golden.safetensors"))) {
                    FlowArSettings s = new FlowArSettings(
                            2.0, 0.9, 25, FlowSampler.EULER, seed -> FlowNoise.injected(noise, FlowNoise.seeded(seed)));
                    Generation<FlowArDetails> r = generate(p, "flowar", 1000, new int[] {3, 7}, 0, s);
                    Golden.assertClose(
                            g.floats("sampled.latents"), r.details().latents(), 2e-3, "FlowAR latents via Pipeline");
                    // the images are the golden decode in 8-bit levels: within half a level plus the decode tolerance
                    float[] want = unit(g.floats("vae.decoded"));
                    for (int i = 0; i < want.length; i++)
                        want[i] = Math.max(0f, Math.min(1f, want[i])); // 8-bit levels clip
                    Golden.assertClose(want, pixels(r), 0.5 / 255 + 2e-3, "FlowAR images via Pipeline");
                    assertEquals(FlowArSettings.officialFor(p.config()), p.defaults());
                }
            }
            case MAR -> {
                try (Golden g = Golden.vendored("mar-small");
                        MarPipeline p = MarPipeline.builder()
                                .model(T.resolve("mar-small/mar.pth"))
                                .vae(T.resolve("flowar-small/vae.pth"))
                                .heads(2, 2)
                                .load()) {
                    MarSettings s = p.defaults().withNumIter(8).withCfg(3.0).withDiffusionSteps(20);
                    Generation<MarDetails> r = generate(p, "mar", 10, new int[] {3, 7}, 777, s);
                    float[] want = g.floats("sample.latents");
                    double max = 0;
                    for (float v : want) max = Math.max(max, Math.abs(v));
                    Golden.assertClose(want, r.details().latents(), 1e-4 * max, "MAR latents via Pipeline");
                    float[] img = unit(g.floats("sample.image"));
                    for (int i = 0; i < img.length; i++) img[i] = Math.max(0f, Math.min(1f, img[i]));
                    Golden.assertClose(img, pixels(r), 0.5 / 255 + 2e-3, "MAR images via Pipeline");
                    assertEquals(MarSettings.officialFor(p.config()), p.defaults());
                }
            }
        }
    }

    /** What any caller of the interface sees: one image per class, in order, of the family's side, decode progress. */
    static <S extends SamplingSettings, D> Generation<D> generate(
            Pipeline<S, D> p, String family, int numClasses, int[] classes, long seed, S s) {
        assertEquals(family, p.family());
        assertEquals(numClasses, p.numClasses());
        assertNotNull(p.defaults());
        List<String> decoded = new ArrayList<>();
        Generation<D> r = p.generate(classes, seed, s, (stage, done, total) -> {
            if (stage.equals("decode")) decoded.add(done + "/" + total);
        });
        assertEquals(classes.length, r.images().size());
        for (int b = 0; b < classes.length; b++) {
            GeneratedImage img = r.images().get(b);
            assertEquals(classes[b], img.label());
            assertEquals(3L * img.height() * img.width(), img.pixels().length);
        }
        List<String> want = new ArrayList<>();
        for (int b = 1; b <= classes.length; b++) want.add(b + "/" + classes.length);
        assertEquals(want, decoded, "decode progress");
        return r;
    }

    static float[] pixels(Generation<?> r) {
        int n = r.images().getFirst().pixels().length;
        float[] all = new float[n * r.images().size()];
        for (int b = 0; b < r.images().size(); b++)
            System.arraycopy(r.images().get(b).pixels(), 0, all, b * n, n);
        return all;
    }

    static float[] unit(float[] x) {
        float[] y = x.clone();
        for (int i = 0; i < y.length; i++) y[i] = (y[i] + 1f) * 0.5f;
        return y;
    }

    static void assertTokens(int[] golden, TokenDetails d) {
        for (int b = 0; b < d.tokens().size(); b++) {
            assertArrayEquals(
                    Arrays.copyOfRange(golden, b * 256, (b + 1) * 256),
                    d.tokens().get(b),
                    "image " + b);
        }
    }
}
