package dev.tessera.samplers.mar;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.models.mar.MarModel;
import dev.tessera.engine.ops.Ops;
import dev.tessera.engine.testing.Golden;
import dev.tessera.samplers.Progress;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The released-rule CSpD against the released runner ({@code MarkXCloud/CSpD}, golden {@code cspd-small}): the
 * orders, every verification's acceptance ratios, the draws in call order, and the latents, seeded and injected.
 */
class CspdGoldenTest {
    static final Path DIR = Golden.testdata().resolve("cspd-small");
    /** The golden README: token vectors within 1e-3. */
    static final double TOKEN_TOL = 1e-3;
    /**
     * The ratios' relative agreement (not a README tolerance: the ratios come from products of 16 last-step
     * deviations and the exponential of 19 × 16 summed log-deviations, all float32, of a steered network whose x0
     * cancels 3e4-fold at the first step; measured worst 3.2e-2).
     */
    static final double RATIO_REL = 4e-2;

    static MarSettings settings() {
        return new MarSettings(
                8,
                3.0,
                MarSettings.CfgSchedule.LINEAR,
                1.0,
                20,
                null,
                new CspdSettings(2, 0.15, 42.0, CspdSettings.Rule.RELEASED));
    }

    static MarGenerator.Run run(MarRandom rnd) {
        try (Checkpoint t = Checkpoints.open(DIR.resolve("target.pth"));
                Checkpoint d = Checkpoints.open(DIR.resolve("draft.pth"))) {
            MarModel target = MarModel.load(t, 2, 2, Ops.cpu()), draft = MarModel.load(d, 2, 2, Ops.cpu());
            MarSettings s = settings();
            return new CspdSampler(target, draft, new Ddpm(20), s, Progress.NONE).run(new int[] {3, 7}, rnd);
        }
    }

    @Test
    void seededRunReproducesTheReleasedRunner() {
        try (Golden g = Golden.vendored("cspd-small")) {
            check(g, run(MarRandom.seeded(2024)), "seeded");
        }
    }

    @Test
    void injectedDrawsReproduceTheReleasedRunner() {
        try (Golden g = Golden.vendored("cspd-small");
                Checkpoint draws = Checkpoints.open(g.file("golden.safetensors"))) {
            check(g, run(MarRandom.injected(draws)), "injected");
        }
    }

    /** The seeded stream gives the recorded draws in the runner's call order (kinds and sizes too). */
    @Test
    void theSeededStreamIsTheRecordedOne() {
        try (Golden g = Golden.vendored("cspd-small")) {
            MarRandom s = MarRandom.seeded(2024);
            double err = Golden.assertClose(g.floats("run.draw.0000.randn"), s.normal(2 * 256 * 16), 1e-5, "noise");
            err = Math.max(
                    err,
                    Golden.assertClose(g.floats("run.draw.0001.randn"), s.normal(2 * 256 * 20 * 16), 1e-5, "steps"));
            int[] orders = g.ints("run.orders");
            for (int b = 0; b < 2; b++)
                assertArrayEquals(Arrays.copyOfRange(orders, b * 256, b * 256 + 256), s.order(256), "order " + b);
            System.out.printf("CSpD seeded shared noises: max abs error %.3g%n", err);
        }
    }

    private static void check(Golden g, MarGenerator.Run run, String how) {
        int[] orders = g.ints("run.orders");
        for (int b = 0; b < 2; b++)
            assertArrayEquals(Arrays.copyOfRange(orders, b * 256, b * 256 + 256), run.orders[b], how + " order " + b);
        assertEquals(4, run.ratios.size(), "verifications");
        double worstRel = 0;
        int flips = 0;
        for (int v = 0; v < 4; v++) {
            float[] want = g.floats(String.format("run.verify.%02d.ratio", v)), got = run.ratios.get(v);
            float[] u = g.floats(String.format("run.draw.%04d.rand_like", 2 + 3 * v)); // the acceptance uniforms
            assertEquals(want.length, got.length, "tokens verified at verification " + v);
            for (int i = 0; i < want.length; i++) {
                assertTrue(Float.isFinite(got[i]) && Float.isFinite(want[i]), "ratio " + v + "/" + i + ": " + got[i]);
                // relative, except below the resolution of a float32 uniform (2^-24), where no decision can depend on
                // it
                double rel = Math.abs(got[i] - want[i]) / Math.max(Math.abs(want[i]), 0x1.0p-24);
                worstRel = Math.max(worstRel, rel);
                if ((got[i] > u[i]) != (want[i] > u[i])) {
                    flips++;
                    // a flipped decision is excused only where the golden ratio and its uniform nearly tie
                    assertTrue(
                            Math.abs(want[i] - u[i]) <= RATIO_REL * want[i],
                            how + ": decision of token " + i + " at verification " + v + " flipped (ratio " + got[i]
                                    + ", golden " + want[i] + ", uniform " + u[i] + ")");
                }
            }
        }
        assertTrue(
                worstRel < RATIO_REL, how + ": acceptance ratios within " + RATIO_REL + " relative, worst " + worstRel);
        // the latents (B, 16, 16, 16) from the tokens (B, 256, 16)
        float[] lat = new float[2 * 16 * 256];
        for (int b = 0; b < 2; b++)
            for (int t = 0; t < 256; t++)
                for (int c = 0; c < 16; c++) lat[(b * 16 + c) * 256 + t] = run.tokens[(b * 256 + t) * 16 + c];
        double err = Golden.assertClose(g.floats("run.latents"), lat, TOKEN_TOL, how + " CSpD latents");
        System.out.printf(
                "CSpD %s: ratios worst relative error %.3g, %d decisions flipped, latents max abs error %.3g; "
                        + "drafted %d, accepted %d, rejection proposals %d, fallbacks %d%n",
                how, worstRel, flips, err, run.drafted, run.accepted, run.proposals, run.fallbacks);
        assertEquals(472, run.drafted);
        assertEquals(0, run.fallbacks);
    }

    /**
     * Alignment bookkeeping (spec 5.8 test 3): with the draft equal to the target and a check after every draft
     * step, every token is accepted and the result is bit-identical to the target making every step itself
     * (pre-fill 1) along the same noises.
     */
    @Test
    void aDraftEqualToTheTargetChangesNothing() {
        try (Checkpoint t = Checkpoints.open(DIR.resolve("target.pth"))) {
            MarModel target = MarModel.load(t, 2, 2, Ops.cpu());
            for (CspdSettings.Rule rule : CspdSettings.Rule.values()) {
                MarSettings spec = settings().withNumIter(6).withCspd(new CspdSettings(1, 0.0, 42.0, rule));
                MarSettings alone = spec.withCspd(new CspdSettings(1, 1.0, 42.0, rule));
                Ddpm ddpm = new Ddpm(20);
                MarGenerator.Run a = new CspdSampler(target, target, ddpm, spec, Progress.NONE)
                        .run(new int[] {3, 7}, MarRandom.seeded(5));
                MarGenerator.Run b = new CspdSampler(target, target, ddpm, alone, Progress.NONE)
                        .run(new int[] {3, 7}, MarRandom.seeded(5));
                assertEquals(a.drafted, a.accepted, rule + ": every drafted token accepted");
                assertTrue(a.drafted > 0);
                assertEquals(0, b.drafted);
                assertArrayEquals(b.tokens, a.tokens, 0f, rule + ": CSpD with draft = target vs the target alone");
            }
        }
    }
}
