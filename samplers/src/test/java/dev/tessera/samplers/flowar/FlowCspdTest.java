package dev.tessera.samplers.flowar;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.models.flowar.FlowArConfig;
import dev.tessera.samplers.Generation;
import dev.tessera.samplers.mar.CspdSettings;
import dev.tessera.samplers.mar.CspdVerifier;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The CSpD-style verifier on FlowAR ({@link FlowCspdSampler}): with the draft equal to the target every token is
 * accepted and the images are the target's own; a draft of another width runs and is checked; a draft of another
 * shape is refused; and on a toy flow whose draft drifts by a known amount, the acceptance rate and the rejected
 * tokens' distribution are the rule's (with the released rule at T_in 42 and a swapped residual as negative
 * controls that the same checks reject).
 */
class FlowCspdTest {
    static final Path SMALL = FlowArPipelineTest.SMALL, CROSS = FlowArPipelineTest.CROSS, VAE = FlowArPipelineTest.VAE;
    static final FlowArSettings EM = new FlowArSettings(2.0, 0.9, 6, FlowSampler.EULER_MARUYAMA, null);

    @Test
    void aDraftEqualToTheTargetIsAlwaysAcceptedAndGivesTheTargetsImages() {
        int[] classes = {3, 7};
        try (FlowArPipeline alone = FlowArPipeline.load(SMALL, VAE);
                FlowArPipeline pair = FlowArPipeline.builder()
                        .model(SMALL)
                        .vae(VAE)
                        .draft(SMALL, 0)
                        .load()) {
            Generation<FlowArDetails> want = alone.generate(classes, 5, EM);
            int S = pair.config().scaleCount(), evals = FlowOde.evaluations(FlowSampler.EULER_MARUYAMA, 6);
            long drafted = 0;
            for (int si = 1; si < S; si++)
                drafted += (long) classes.length * pair.config().tokensAt(si);
            for (CspdSettings.Rule rule : CspdSettings.Rule.values()) {
                Generation<FlowArDetails> got =
                        pair.generate(classes, 5, EM.withCspd(new FlowCspdSettings(0.0, 42.0, rule)));
                FlowArDetails.Speculation s = got.details().cspd();
                assertEquals(drafted, s.drafted(), rule + ": drafted tokens (scales 1..S-1)");
                assertEquals(s.drafted(), s.accepted(), rule + ": every drafted token accepted");
                assertEquals(0, s.rejectionProposals());
                assertEquals(S, s.targetForwards());
                assertEquals(S, s.draftForwards());
                assertEquals(evals + (S - 1), s.targetEvaluations(), rule + ": all of scale 0, one per other scale");
                assertEquals((S - 1) * evals, s.draftEvaluations());
                assertArrayEquals(want.details().latents(), got.details().latents(), rule + ": latents");
                for (int b = 0; b < classes.length; b++) {
                    assertArrayEquals(
                            want.images().get(b).pixels(), got.images().get(b).pixels(), rule + ": image " + b);
                }
            }
        }
    }

    @Test
    void aDraftOfAnotherWidthRunsAndIsVerified() {
        try (FlowArPipeline pair =
                FlowArPipeline.builder().model(CROSS).vae(VAE).draft(SMALL, 0).load()) {
            assertTrue(pair.config().width() != pair.draft().config().width()
                    || pair.config().cross());
            FlowArSettings req = EM.withCspd(FlowCspdSettings.DEFAULTS);
            Generation<FlowArDetails> g = pair.generate(new int[] {4}, 2, req);
            FlowArDetails.Speculation s = g.details().cspd();
            for (float v : g.details().latents()) assertTrue(Float.isFinite(v), "finite latents");
            assertTrue(s.drafted() > 0 && s.accepted() < s.drafted(), "different random models disagree somewhere");
            assertTrue(s.rejectionProposals() >= s.drafted() - s.accepted(), "a proposal per rejected token at least");
            assertEquals(0, s.fallbacks(), "no rejected token ran out of rounds");
            // the same call again gives the same images (the verifier's draws come from the seed)
            assertArrayEquals(
                    g.details().latents(),
                    pair.generate(new int[] {4}, 2, req).details().latents());
        }
    }

    @Test
    void aDraftOfAnotherShapeIsRefusedWithAReadableError() {
        FlowArConfig t = config(new int[] {1, 2, 4}, 16), scales = config(new int[] {1, 2, 4, 8}, 16);
        FlowArConfig channels = config(new int[] {1, 2, 4}, 8);
        FlowCspdSampler.checkPair(t, config(new int[] {1, 2, 4}, 16));
        TesseraException e = assertThrows(TesseraException.class, () -> FlowCspdSampler.checkPair(t, scales));
        assertTrue(
                e.getMessage().contains("scales [1,2,4,8]") && e.getMessage().contains("same latent channels"),
                e.getMessage());
        assertThrows(TesseraException.class, () -> FlowCspdSampler.checkPair(t, channels));
        assertThrows(
                IllegalArgumentException.class,
                () -> new FlowArSettings(2.0, 0.9, 6, FlowSampler.EULER, null, FlowCspdSettings.DEFAULTS));
        try (FlowArPipeline alone = FlowArPipeline.load(SMALL, VAE)) {
            TesseraException none = assertThrows(
                    TesseraException.class,
                    () -> alone.generate(new int[] {1}, 1, EM.withCspd(FlowCspdSettings.DEFAULTS)));
            assertTrue(none.getMessage().contains("--draft"), none.getMessage());
        }
    }

    private static FlowArConfig config(int[] scales, int tokenDim) {
        return new FlowArConfig(64, 1, 1, 1, 170, tokenDim, scales, 11, 64, 1, 1, 170, false);
    }

    // ---- a toy flow: N one-channel tokens, the target's velocity 0, the draft's DELTA ----

    static final int N = 40_000, STEPS = 3;
    static final double DELTA = 0.5;
    /** KS critical value at α = 0.001 for n samples: 1.949/√n. */
    static double ksCritical(int n) {
        return 1.949 / Math.sqrt(n);
    }

    /** The draft's last means x, the target's last means μp at the draft's state, and σ. */
    record Toy(float[] x, float[] muP, float sigma) {
        static Toy make(long seed, double draftVelocity) {
            FlowNoise noise = FlowNoise.seeded(seed);
            float[] start = noise.initial(0, 1, N, 1);
            double[] before = new double[N];
            FlowOde.Velocity draft = (r, x, t, v) -> Arrays.fill(v, 0, r * N, (float) draftVelocity);
            FlowOde.Velocity target = (r, x, t, v) -> Arrays.fill(v, 0, r * N, 0f);
            double[] xs = FlowOde.integrate(
                    FlowSampler.EULER_MARUYAMA, draft, 1, 1, N, 1, start, 1.0, 1.0, STEPS, noise, 0, i -> {}, before);
            double[] mp = FlowOde.lastStep(FlowSampler.EULER_MARUYAMA, target, 1, 1, N, 1, before, 1.0, 1.0, STEPS);
            return new Toy(FlowCspdSampler.toFloat(xs), FlowCspdSampler.toFloat(mp), (float)
                    FlowOde.lastStepStd(FlowSampler.EULER_MARUYAMA, STEPS));
        }

        CspdVerifier.Outcome verify(FlowCspdSettings s, long seed) {
            return FlowCspdSampler.verify(s, x, muP, sigma, N, 1, FlowCspdSampler.draws(seed));
        }

        /** The standardised offset of the draft from the target, (x − μp)/σ, the same for every token here. */
        double offset() {
            return (x[0] - muP[0]) / sigma;
        }
    }

    static final FlowCspdSettings EXACT = new FlowCspdSettings(0, 1, CspdSettings.Rule.EXACT);

    @Test
    void onAToyTheAcceptanceRateAndTheResidualAreTheRulesAndBrokenRulesAreCaught() {
        Toy toy = Toy.make(11, DELTA);
        double k = toy.offset();
        for (int i = 0; i < N; i++) assertEquals(k, (toy.x[i] - toy.muP[i]) / toy.sigma, 1e-3, "constant offset");
        // the last step: μ = x + dt·(v·(2 − t) + x) at t = 0.04, dt = −0.04, so the means differ by −0.04·1.96·δ
        assertEquals(-0.04 * 1.96 * DELTA / toy.sigma, k, 1e-4);
        double expected = Math.exp(-0.5 * k * k); // min(1, p(x)/q(x)) with x the draft's mean

        CspdVerifier.Outcome o = toy.verify(EXACT, 3);
        assertTrue(acceptanceMatches(o, expected), "acceptance " + rate(o) + " vs " + expected);
        double d = ksResidual(toy, o);
        assertTrue(d < ksCritical(rejected(o)), "residual KS " + d + " >= " + ksCritical(rejected(o)));

        // negative controls: the released rule at T_in 42 accepts nearly everything; a residual sampled from
        // (q − p)+ (p and q swapped) lies on the wrong side
        CspdVerifier.Outcome tempered = toy.verify(new FlowCspdSettings(0, 42, CspdSettings.Rule.RELEASED), 3);
        assertTrue(!acceptanceMatches(tempered, expected), "tempered acceptance " + rate(tempered));
        CspdVerifier.Outcome swapped =
                FlowCspdSampler.verify(EXACT, toy.muP, toy.x, toy.sigma, N, 1, FlowCspdSampler.draws(3));
        double ds = ksResidual(toy, swapped);
        assertTrue(ds >= ksCritical(rejected(swapped)), "swapped residual KS " + ds);
        System.out.printf(
                "FlowAR CSpD toy: acceptance %.4f (rule %.4f, T_in 42: %.4f); residual KS %.4f (swapped %.3f), "
                        + "critical %.4f%n",
                rate(o), expected, rate(tempered), d, ds, ksCritical(rejected(o)));
    }

    @Test
    void onAToyADraftEqualToTheTargetIsAlwaysAccepted() {
        Toy toy = Toy.make(12, 0.0);
        CspdVerifier.Outcome o = toy.verify(EXACT, 4);
        assertEquals(N, accepted(o));
        assertArrayEquals(toy.x, o.values());
    }

    static int accepted(CspdVerifier.Outcome o) {
        int a = 0;
        for (boolean b : o.accepted()) if (b) a++;
        return a;
    }

    static int rejected(CspdVerifier.Outcome o) {
        return o.accepted().length - accepted(o);
    }

    static double rate(CspdVerifier.Outcome o) {
        return (double) accepted(o) / o.accepted().length;
    }

    /** Within 5 binomial standard deviations. */
    static boolean acceptanceMatches(CspdVerifier.Outcome o, double p) {
        return Math.abs(rate(o) - p) < 5 * Math.sqrt(p * (1 - p) / o.accepted().length);
    }

    /**
     * KS distance of the rejected tokens' standardised values u = (y − μp)/σ against the normalised
     * {@code (p − q)₊} with p = N(0, 1), q = N(k, 1): mass only where u is nearer 0 than k.
     */
    static double ksResidual(Toy toy, CspdVerifier.Outcome o) {
        double k = toy.offset();
        double[] u = new double[rejected(o)];
        for (int i = 0, r = 0; i < N; i++) {
            if (!o.accepted()[i]) u[r++] = (o.values()[i] - toy.muP[i]) / toy.sigma;
        }
        Arrays.sort(u);
        double mid = k / 2, tv = Math.abs(phi(mid) - phi(mid - k));
        double dist = 0;
        for (int i = 0; i < u.length; i++) {
            double y = u[i], f;
            if (k < 0) f = y < mid ? 0 : (phi(y) - phi(y - k) - (phi(mid) - phi(mid - k))) / tv;
            else f = y > mid ? 1 : (phi(y) - phi(y - k)) / tv;
            dist = Math.max(dist, Math.max((i + 1.0) / u.length - f, f - (double) i / u.length));
        }
        return dist;
    }

    static double phi(double x) {
        return 0.5 * (1 + erf(x / Math.sqrt(2)));
    }

    /** Abramowitz–Stegun 7.1.26 (absolute error below 1.5e-7). */
    static double erf(double x) {
        double s = Math.signum(x), a = Math.abs(x), t = 1 / (1 + 0.3275911 * a);
        double y = 1
                - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592)
                        * t
                        * Math.exp(-a * a);
        return s * y;
    }
}
