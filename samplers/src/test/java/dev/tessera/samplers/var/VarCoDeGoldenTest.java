package dev.tessera.samplers.var;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.testing.Golden;
import dev.tessera.samplers.Generation;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Collaborative decoding against golden {@code code-small} (the official CoDe code, training-free: a random depth-3
 * drafter, var-small as the refiner, labels [3, 7], cfg 1.5, greedy): every scale's token map identical and the images
 * within 1e-3, for N = 4 and 7 drafted scales.
 */
class VarCoDeGoldenTest {
    private static final int[] PN = {1, 2, 3, 4, 5, 6, 8, 10, 13, 16};
    private static Golden golden;

    @BeforeAll
    static void load() {
        golden = Golden.shared("code-small");
    }

    @AfterAll
    static void close() {
        if (golden != null) golden.close();
    }

    @ParameterizedTest
    @ValueSource(ints = {4, 7})
    void drafterAndRefinerReproduceTheReference(int n) {
        Path small = Golden.testdata().resolve("var-small");
        try (VarPipeline code = VarPipeline.builder()
                .model(small.resolve("var.pth"))
                .vae(small.resolve("vae.pth"))
                .drafter(golden.file("drafter.pth"), n)
                .load()) {
            assertTrue(code.collaborative().isPresent());
            assertEquals(
                    3, code.collaborative().get().drafter().model().config().depth());
            Generation<VarDetails> r = code.generate(new int[] {3, 7}, 0, new VarSettings(1.5, 1, 0.95, false));
            for (int si = 0; si < PN.length; si++) {
                assertArrayEquals(
                        golden.ints("N" + n + ".tokens." + si),
                        r.details().tokens().get(si),
                        "N = " + n + ": tokens of scale " + si + (si < n ? " (drafted)" : " (refined)"));
            }
            float[] image = new float[2 * 3 * 256 * 256];
            for (int b = 0; b < 2; b++) {
                System.arraycopy(r.images().get(b).pixels(), 0, image, b * 3 * 256 * 256, 3 * 256 * 256);
            }
            double err = Golden.assertClose(golden.floats("N" + n + ".image"), image, Golden.TOL, "N = " + n);
            System.out.printf("CoDe N = %d: all tokens identical, image error %.3g%n", n, err);
        }
    }

    /**
     * The documented random stream: one generator, drawn by the drafter for its scales and then by the refiner. With
     * the refiner as its own drafter, a sampled CoDe run is therefore exactly a plain run with the same seed.
     */
    @Test
    void aModelDraftingForItselfSamplesAsAPlainRun() {
        Path small = Golden.testdata().resolve("var-small");
        VarSettings sampled = new VarSettings(4, 50, 0.95, false);
        VarDetails a;
        try (VarPipeline plain = VarPipeline.load(small.resolve("var.pth"), small.resolve("vae.pth"))) {
            a = plain.generate(new int[] {8}, 5, sampled).details();
        }
        for (int n : new int[] {2, 8}) {
            try (VarPipeline self = VarPipeline.builder()
                    .model(small.resolve("var.pth"))
                    .vae(small.resolve("vae.pth"))
                    .drafter(small.resolve("var.pth"), n)
                    .load()) {
                VarDetails b = self.generate(new int[] {8}, 5, sampled).details();
                for (int si = 0; si < PN.length; si++) {
                    assertArrayEquals(a.tokens().get(si), b.tokens().get(si), "N = " + n + ", scale " + si);
                }
                assertArrayEquals(a.fhat(), b.fhat(), "N = " + n + ": f_hat");
            }
        }
    }
}
