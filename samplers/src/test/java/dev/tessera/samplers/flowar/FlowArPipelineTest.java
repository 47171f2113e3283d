package dev.tessera.samplers.flowar;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.models.flowar.FlowHead;
import dev.tessera.engine.testing.Golden;
import dev.tessera.tokenizers.kl.KlVae;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * FlowAR end to end against the official {@code sample_tokens} + {@code vae.decode}: golden {@code flowar-small}
 * with its recorded noise injected, and runs made here on the seeded CPU stream ({@code flowar-sampled}).
 */
class FlowArPipelineTest {
    static final Path SMALL = Golden.testdata().resolve("flowar-small/flowar.pth");
    static final Path VAE = Golden.testdata().resolve("flowar-small/vae.pth");
    static final Path CROSS = Golden.testdata().resolve("flowar-sampled/flowar-cross.pth");
    static final Path SAMPLED = Golden.testdata().resolve("flowar-sampled/golden.safetensors");
    /** The golden README's tolerance for sampled latents and decoded images (24 Euler steps per scale). */
    static final double SAMPLED_TOL = 2e-3;

    @Test
    void theOfficialGridHas24StepsAndTruncatedTimesteps() {
        double[] grid = FlowSampler.EULER.grid(25);
        assertEquals(25, grid.length);
        long[] want = {1000, 936, 872, 809, 745, 681, 618, 554, 490, 427, 363, 300, 250, 229, 208, 187, 166, 145, 125, 104,
                83, 62, 41, 20};
        long[] got = new long[24];
        for (int i = 0; i < 24; i++) got[i] = FlowHead.timestep((float) grid[i]);
        assertArrayEquals(want, got);
        assertEquals(0.0, grid[24]);
        // guidance 0.9 starts at step 2 (t = 0.8727), 0.7 at step 5
        assertTrue(grid[1] > 0.9 && grid[2] <= 0.9);
        assertTrue(grid[4] > 0.7 && grid[5] <= 0.7);
        double[] fifty = FlowSampler.EULER.grid(50);
        assertEquals(51, fifty.length);
        assertEquals(980, FlowHead.timestep((float) fifty[1]));
        assertEquals(20, FlowHead.timestep((float) fifty[49]));
        double[] em = FlowSampler.EULER_MARUYAMA.grid(25);
        assertEquals(26, em.length);
        assertEquals(0.04, em[24], 1e-15);
        assertEquals(0.0, em[25]);
    }

    @Test
    void injectedNoiseReproducesTheGoldenConditionsLatentsAndImages() {
        try (Golden g = Golden.vendored("flowar-small"); FlowArPipeline p = FlowArPipeline.load(SMALL, VAE);
             Checkpoint noise = Checkpoints.open(g.file("golden.safetensors"))) {
            FlowArRequest req = FlowArRequest.builder().classes(3, 7).cfg(2.0).guidance(0.9).steps(25)
                    .noise(() -> FlowNoise.injected(noise, FlowNoise.seeded(0))).build();
            FlowArResult r = p.generate(req);
            double zErr = 0;
            for (int k = 0; k < 5; k++) {
                zErr = Math.max(zErr, Golden.assertClose(g.floats("ar.z." + k), r.conditions().get(k), Golden.TOL, "AR condition of scale " + k));
            }
            double latErr = Golden.assertClose(g.floats("sampled.latents"), r.latents(), SAMPLED_TOL, "sampled latents");
            float[] decoded = decode(p.vae(), r.latents(), 2);
            double imgErr = Golden.assertClose(g.floats("vae.decoded"), decoded, SAMPLED_TOL, "decoded images");
            System.out.printf("FlowAR golden: AR conditions %.3g, latents %.3g, decoded %.3g (max abs error)%n", zErr, latErr, imgErr);
            assertEquals(24, r.evaluations());
            assertEquals(256, r.images().getFirst().height());
        }
    }

    /** {@code vae.decode(latents / 0.2325)} of B maps [16, 16, 16]. */
    static float[] decode(KlVae vae, float[] latents, int B) {
        float[] s = latents.clone();
        for (int i = 0; i < s.length; i++) s[i] /= KlVae.MAR_SCALE;
        return vae.decode(s, B, 16, 16);
    }

    @Test
    void seededRunsMatchTheOfficialCpuStream() {
        try (FlowArPipeline p = FlowArPipeline.load(SMALL, VAE); Checkpoint g = Checkpoints.open(SAMPLED)) {
            List<String> lines = new ArrayList<>();
            check(p, g, "small.euler.latents", FlowArRequest.builder().classes(1, 5).seed(3).cfg(3.0).guidance(0.7).steps(25), lines);
            check(p, g, "small.euler50.latents", FlowArRequest.builder().classes(2).seed(4).cfg(1.5).guidance(0.9).steps(50), lines);
            check(p, g, "small.em.latents", FlowArRequest.builder().classes(0, 9).seed(5).cfg(2.0).guidance(0.9).steps(25)
                    .sampler(FlowSampler.EULER_MARUYAMA), lines);
            // cfg 1: the B conditional rows alone (the official code raises NameError there; its reference was patched)
            check(p, g, "small.nocfg.latents", FlowArRequest.builder().classes(4).seed(7).cfg(1.0).guidance(0.9).steps(25), lines);
            lines.forEach(System.out::println);
        }
    }

    @Test
    void crossAttentionModelMatchesTheOfficialCpuStream() {
        try (FlowArPipeline p = FlowArPipeline.load(CROSS, VAE); Checkpoint g = Checkpoints.open(SAMPLED)) {
            List<String> lines = new ArrayList<>();
            check(p, g, "cross.euler.latents", FlowArRequest.builder().classes(4, 8).seed(6).cfg(2.5).guidance(0.9).steps(25), lines);
            lines.forEach(System.out::println);
        }
    }

    private static void check(FlowArPipeline p, Checkpoint g, String key, FlowArRequest.Builder b, List<String> lines) {
        FlowArResult r = p.generate(b.build());
        double err = Golden.assertClose(g.tensor(key).toFloatArray(), r.latents(), SAMPLED_TOL, key);
        lines.add(String.format("FlowAR %s (seeded CPU stream): max abs error %.3g", key, err));
    }

    @Test
    void aRequestGivesTheSameImagesEveryTimeAndTheNullClassIsUnconditional() {
        try (FlowArPipeline p = FlowArPipeline.load(SMALL, VAE)) {
            FlowArRequest req = FlowArRequest.builder().classes(6, 1000).seed(1).cfg(1.5).steps(4).build();
            FlowArResult a = p.generate(req), b = p.generate(req);
            assertArrayEquals(a.latents(), b.latents(), 0f);
            assertEquals(2 * 2, a.conditions().getFirst().length / 128);   // 2B rows under guidance
            FlowArResult c = p.generate(FlowArRequest.builder().classes(6).seed(1).cfg(1.0).steps(4).build());
            assertEquals(1, c.conditions().getFirst().length / 128);       // B rows without
        }
    }

    @Test
    void badRequestsAreRefusedWithAReason() {
        try (FlowArPipeline p = FlowArPipeline.load(SMALL, VAE)) {
            TesseraException e = assertThrows(TesseraException.class,
                    () -> p.generate(FlowArRequest.builder().classes(1001).build()));   // 1000 is the null class, the last row
            assertTrue(e.getMessage().contains("out of range"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> FlowArRequest.builder().classes(1).steps(1).build());
            assertThrows(IllegalArgumentException.class, () -> FlowArRequest.builder().classes(1).cfg(0.5).build());
        }
    }
}
