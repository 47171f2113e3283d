package dev.tessera.samplers.flowar;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.models.flowar.FlowHead;
import dev.tessera.engine.ops.Ops;
import dev.tessera.engine.testing.DeferredHostOps;
import dev.tessera.engine.testing.Golden;
import dev.tessera.samplers.Generation;
import dev.tessera.tokenizers.kl.KlVae;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

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
        long[] want = {
            1000, 936, 872, 809, 745, 681, 618, 554, 490, 427, 363, 300, 250, 229, 208, 187, 166, 145, 125, 104, 83, 62,
            41, 20
        };
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
        injected(Ops.cpu());
    }

    /** The same through a backend that keeps results off the host until asked (a missing sync call fails it). */
    @Test
    void injectedNoiseThroughDeferredHostCopies() {
        injected(new DeferredHostOps());
    }

    private static void injected(Ops ops) {
        try (Golden g = Golden.vendored("flowar-small");
                FlowArPipeline p =
                        FlowArPipeline.builder().ops(ops).model(SMALL).vae(VAE).load();
                Checkpoint noise = Checkpoints.open(g.file("golden.safetensors"))) {
            FlowArSettings req = new FlowArSettings(
                    2.0, 0.9, 25, FlowSampler.EULER, seed -> FlowNoise.injected(noise, FlowNoise.seeded(seed)));
            Generation<FlowArDetails> gen = p.generate(new int[] {3, 7}, 0, req);
            FlowArDetails r = gen.details();
            double zErr = 0;
            for (int k = 0; k < 5; k++) {
                zErr = Math.max(
                        zErr,
                        Golden.assertClose(
                                g.floats("ar.z." + k),
                                r.conditions().get(k),
                                Golden.TOL,
                                "AR condition of scale " + k));
            }
            double latErr =
                    Golden.assertClose(g.floats("sampled.latents"), r.latents(), SAMPLED_TOL, "sampled latents");
            float[] decoded = decode(p.vae(), r.latents(), 2);
            double imgErr = Golden.assertClose(g.floats("vae.decoded"), decoded, SAMPLED_TOL, "decoded images");
            System.out.printf(
                    "FlowAR golden: AR conditions %.3g, latents %.3g, decoded %.3g (max abs error)%n",
                    zErr, latErr, imgErr);
            assertEquals(24, r.evaluations());
            assertEquals(256, gen.images().getFirst().height());
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
        try (FlowArPipeline p = FlowArPipeline.load(SMALL, VAE);
                Checkpoint g = Checkpoints.open(SAMPLED)) {
            List<String> lines = new ArrayList<>();
            check(
                    p,
                    g,
                    "small.euler.latents",
                    new int[] {1, 5},
                    3,
                    new FlowArSettings(3.0, 0.7, 25, FlowSampler.EULER, null),
                    lines);
            check(
                    p,
                    g,
                    "small.euler50.latents",
                    new int[] {2},
                    4,
                    new FlowArSettings(1.5, 0.9, 50, FlowSampler.EULER, null),
                    lines);
            check(
                    p,
                    g,
                    "small.em.latents",
                    new int[] {0, 9},
                    5,
                    new FlowArSettings(2.0, 0.9, 25, FlowSampler.EULER_MARUYAMA, null),
                    lines);
            // cfg 1: the B conditional rows alone (the official code raises NameError there; its reference was patched)
            check(
                    p,
                    g,
                    "small.nocfg.latents",
                    new int[] {4},
                    7,
                    new FlowArSettings(1.0, 0.9, 25, FlowSampler.EULER, null),
                    lines);
            lines.forEach(System.out::println);
        }
    }

    @Test
    void crossAttentionModelMatchesTheOfficialCpuStream() {
        try (FlowArPipeline p = FlowArPipeline.load(CROSS, VAE);
                Checkpoint g = Checkpoints.open(SAMPLED)) {
            List<String> lines = new ArrayList<>();
            check(
                    p,
                    g,
                    "cross.euler.latents",
                    new int[] {4, 8},
                    6,
                    new FlowArSettings(2.5, 0.9, 25, FlowSampler.EULER, null),
                    lines);
            lines.forEach(System.out::println);
        }
    }

    private static void check(
            FlowArPipeline p,
            Checkpoint g,
            String key,
            int[] classes,
            long seed,
            FlowArSettings s,
            List<String> lines) {
        FlowArDetails r = p.generate(classes, seed, s).details();
        double err = Golden.assertClose(g.tensor(key).toFloatArray(), r.latents(), SAMPLED_TOL, key);
        lines.add(String.format("FlowAR %s (seeded CPU stream): max abs error %.3g", key, err));
    }

    @Test
    void aRequestGivesTheSameImagesEveryTimeAndTheNullClassIsUnconditional() {
        try (FlowArPipeline p = FlowArPipeline.load(SMALL, VAE)) {
            FlowArSettings req = p.defaults().withCfg(1.5).withSteps(4);
            FlowArDetails a = p.generate(new int[] {6, 1000}, 1, req).details(),
                    b = p.generate(new int[] {6, 1000}, 1, req).details();
            assertArrayEquals(a.latents(), b.latents(), 0f);
            assertEquals(2 * 2, a.conditions().getFirst().length / 128); // 2B rows under guidance
            FlowArDetails c = p.generate(
                            new int[] {6}, 1, p.defaults().withCfg(1.0).withSteps(4))
                    .details();
            assertEquals(1, c.conditions().getFirst().length / 128); // B rows without
        }
    }

    @Test
    void badRequestsAreRefusedWithAReason() {
        try (FlowArPipeline p = FlowArPipeline.load(SMALL, VAE)) {
            TesseraException e = assertThrows(
                    TesseraException.class,
                    () -> p.generate(new int[] {1001}, 0)); // 1000 is the null class, the last row
            assertTrue(e.getMessage().contains("out of range"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> p.defaults().withSteps(1));
            assertThrows(IllegalArgumentException.class, () -> p.defaults().withCfg(0.5));
        }
    }
}
