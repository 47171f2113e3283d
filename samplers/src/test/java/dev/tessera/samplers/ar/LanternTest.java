package dev.tessera.samplers.ar;

import static dev.tessera.samplers.ar.SamplerDistributionTest.ALPHA;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.samplers.ar.Reference.Setting;
import dev.tessera.samplers.ar.SamplerDistributionTest.Fit;
import dev.tessera.samplers.rng.TorchGenerator;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * LANTERN's relaxed acceptance: the worked example of the spec and budgets at their boundaries; with δ = 0 the
 * very tokens of speculative sampling; with δ > 0 the per-candidate budget the method promises, and the output
 * distribution against one computed exactly and independently ({@link Reference}), for one verified slot and for
 * whole sequences drawn by the speculative sampler. Chi-square fits use {@link SamplerDistributionTest#ALPHA}.
 *
 * <p>What δ bounds: the verification target of each candidate, {@code TV(p, p̃_x) = c_m ≤ δ}. It does not bound
 * the distance of the sampler's output from p (samplers.md §4.7: the exact single-step output of a V = 8 toy is
 * up to 0.35 away from p at δ = 0.1; slot 2 below: 0.16 at δ = 0.12), so no test asserts {@code TV(output, p) ≤ δ};
 * the output is tested against its exact distribution instead.
 */
class LanternTest {
    static final float[] P = {0.30f, 0.05f, 0.20f, 0.10f, 0.25f, 0.10f};
    static final float[] Q = {0.05f, 0.40f, 0.05f, 0.30f, 0.10f, 0.10f};

    /** Neighbours of code 1 are 0, 2, 3, 4, 5 (codes on a line at 0, 0.1, -0.2, 0.3, ...). */
    static LatentNeighbours line() {
        float[] cb = {0.0f, 0.1f, 0.25f, 0.33f, 0.5f, 0.7f}; // |1-0|=0.1, |1-2|=0.15, |1-3|=0.23, |1-4|=0.4, |1-5|=0.6
        return LatentNeighbours.of(cb, 6, 1, 5);
    }

    @Test
    void neighboursAreNearestFirstAndExcludeTheCodeItself() {
        LatentNeighbours nn = line();
        int[] got = new int[5];
        for (int j = 0; j < 5; j++) got[j] = nn.neighbour(1, j);
        assertArrayEquals(new int[] {0, 2, 3, 4, 5}, got);
        for (int x = 0; x < 6; x++) for (int j = 0; j < 5; j++) assertTrue(nn.neighbour(x, j) != x);
    }

    @Test
    void relaxedTargetFollowsTheWorkedExample() {
        LatentNeighbours nn = line();
        // k = 2: cumulative neighbour mass c = [0.30, 0.50]
        assertSame(P, new LanternVerifier(nn, 2, 0.1).relaxed(P, 1), "delta 0.1: m = 0, p unchanged");
        float[] r = new LanternVerifier(nn, 2, 0.3).relaxed(P, 1);
        assertEquals(0.35f, r[1], 1e-6f);
        assertEquals(0f, r[0]);
        assertEquals(0.20f, r[2]);
        float[] r5 = new LanternVerifier(nn, 2, 0.5).relaxed(P, 1);
        assertEquals(0.55f, r5[1], 1e-6f, "c_j == delta is included (<=)");
        assertSame(P, new LanternVerifier(nn, 2, 5).relaxed(P, 1), "lambda 5: bound 0.2 < 0.30, m = 0");
        assertEquals(0.55f, new LanternVerifier(nn, 2, 11).relaxed(P, 1)[1], 1e-6f, "lambda 11: bound 0.5, m = 2");
        double sum = 0;
        for (float v : r) sum += v;
        assertEquals(1.0, sum, 1e-6);
    }

    // ---- δ = 0: the tokens of speculative sampling ----

    static final int EV = 6, ET = 10;

    static ToySequence equalityToy(Setting s, long seed) {
        return s.cfg() > 0
                ? ToySequence.guided(EV, ET, seed, seed + 1000, 1.5, s.cfg())
                : new ToySequence(EV, ET, seed, 1.5, false);
    }

    static LatentNeighbours randomTable(int V, int k, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] cb = new float[2 * V];
        for (int i = 0; i < cb.length; i++) cb[i] = (float) r.nextGaussian();
        return LatentNeighbours.of(cb, V, 2, k);
    }

    /**
     * Runs speculative sampling with the exact verifier and with {@code other} on the same models, draft and
     * seed, for every setting, γ = 1..4 and 40 model seeds; returns how many runs gave other tokens or counts.
     */
    static int runsThatDiffer(Verifier other, long[] rejected) {
        int differ = 0;
        for (Setting s : SamplerDistributionTest.SETTINGS) {
            for (int gamma = 1; gamma <= 4; gamma++) {
                SpeculativeSampler exact =
                        new SpeculativeSampler(gamma, s.distribution(), Verifier.EXACT, "speculative");
                SpeculativeSampler lantern = new SpeculativeSampler(gamma, s.distribution(), other, "lantern");
                for (long seed = 0; seed < 40; seed++) {
                    ToySequence t = equalityToy(s, seed);
                    Sampled a = exact.run(t, t.perturbed(seed + 7, 1.0), new TorchGenerator(seed));
                    ToySequence t2 = equalityToy(s, seed);
                    Sampled b = lantern.run(t2, t2.perturbed(seed + 7, 1.0), new TorchGenerator(seed));
                    rejected[0] += a.stats().proposed() - a.stats().accepted();
                    if (!Arrays.equals(a.tokens(), b.tokens())
                            || a.stats().accepted() != b.stats().accepted()
                            || a.stats().targetForwards() != b.stats().targetForwards()) differ++;
                }
            }
        }
        return differ;
    }

    @Test
    void lanternWithZeroBudgetDrawsTheTokensOfSpeculativeSampling() {
        LatentNeighbours nn = randomTable(EV, 5, 3);
        for (int k : new int[] {0, 2, 5}) {
            LanternVerifier lantern = new LanternVerifier(nn, k, 0.0);
            long[] merged = {0}, rejected = {0};
            // δ = 0 still merges neighbours of zero mass (those that top-k / top-p removed): counted here
            Verifier counting = (p, q, x, rng) -> {
                if (lantern.relaxed(p, x) != p) merged[0]++;
                return lantern.verify(p, q, x, rng);
            };
            assertEquals(
                    0,
                    runsThatDiffer(counting, rejected),
                    "k " + k + ": LANTERN with delta 0 differs from speculative sampling");
            assertTrue(rejected[0] > 1000, "drafts were rejected: " + rejected[0]);
            if (k > 0) assertTrue(merged[0] > 1000, "zero-mass neighbours merged at delta 0: " + merged[0]);
        }
    }

    @Test
    void aPositiveBudgetFailsTheSameComparison() {
        // the negative control of the test above: a budget of 0.05 already changes some runs
        int differ = runsThatDiffer(new LanternVerifier(randomTable(EV, 5, 3), 5, 0.05), new long[1]);
        assertTrue(differ > 0, "delta 0.05 must change some runs");
    }

    // ---- one verified slot with δ > 0, exactly ----

    /** A verified slot: target p and draft q (softmax of Gaussian logits) over 8 codes with a 2-D codebook. */
    record Slot(long seed, double[] p, double[] q, float[] pf, float[] qf, float[] codebook) {
        static Slot of(long seed) {
            SplittableRandom r = new SplittableRandom(seed);
            int V = 8;
            double[] lp = new double[V], lq = new double[V];
            for (int v = 0; v < V; v++) {
                lp[v] = 1.2 * r.nextGaussian();
                lq[v] = 1.2 * r.nextGaussian();
            }
            float[] pf = toFloat(Reference.softmax(lp)), qf = toFloat(Reference.softmax(lq));
            float[] cb = new float[2 * V];
            for (int i = 0; i < cb.length; i++) cb[i] = (float) r.nextGaussian();
            return new Slot(seed, toDouble(pf), toDouble(qf), pf, qf, cb);
        }

        int[][] neighbours() {
            double[][] rows = new double[p.length][2];
            for (int i = 0; i < p.length; i++) rows[i] = new double[] {codebook[2 * i], codebook[2 * i + 1]};
            return Reference.neighbours(rows);
        }

        LatentNeighbours table() {
            return LatentNeighbours.of(codebook, p.length, 2, p.length - 1);
        }

        /** The exact output distribution of the verified slot with budget δ over k neighbours. */
        double[] output(int[][] nb, int k, double delta) {
            double[][] targetOf = new double[p.length][];
            for (int x = 0; x < p.length; x++) targetOf[x] = Reference.relaxed(p, x, nb[x], k, delta)[0];
            double[][] slot = Reference.verifiedSlot(q, targetOf);
            double[] out = new double[p.length];
            for (int y = 0; y < p.length; y++) out[y] = slot[0][y] + slot[1][y];
            return out;
        }
    }

    static float[] toFloat(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
        return f;
    }

    static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        double sum = 0;
        for (float x : f) sum += x;
        for (int i = 0; i < f.length; i++) d[i] = f[i] / sum; // exactly normalised in double
        return d;
    }

    static double tv(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]) / 2;
        return s;
    }

    /** The largest {@code TV(p, p̃_x)} over the candidates x of the verifier's relaxed targets. */
    static double worstTargetDistance(LanternVerifier v, Slot s) {
        double worst = 0;
        for (int x = 0; x < s.p().length; x++) worst = Math.max(worst, tv(s.p(), toDouble(v.relaxed(s.pf(), x))));
        return worst;
    }

    /** Draws x ~ q and verifies it, n times; the chi-square fit against {@code expected}. */
    static ChiSquare.Result sampledFit(Verifier v, Slot s, double[] expected, long[] accepted) {
        TorchGenerator rng = new TorchGenerator(1000 + s.seed());
        long[] counts = new long[s.p().length];
        for (int i = 0; i < 40_000; i++) {
            int x = Speculation.sample(s.qf(), rng);
            int y = v.verify(s.pf(), s.qf(), x, rng);
            if (y == x) accepted[0]++;
            counts[y]++;
        }
        return ChiSquare.test(counts, expected);
    }

    static Stream<Arguments> budgets() {
        return Stream.of(1L, 2L, 3L, 4L)
                .flatMap(seed -> Stream.of(0.05, 0.12, 0.25, 0.4).map(d -> Arguments.of(seed, d)));
    }

    @ParameterizedTest
    @MethodSource("budgets")
    void eachCandidatesTargetStaysWithinTheBudgetAndTheOutputIsExact(long seed, double delta) {
        Slot s = Slot.of(seed);
        int[][] nb = s.neighbours();
        int k = 4;
        LanternVerifier v = new LanternVerifier(s.table(), k, delta);
        int merges = 0;
        for (int x = 0; x < s.p().length; x++) {
            for (int j = 0; j < k; j++)
                assertEquals(nb[x][j], s.table().neighbour(x, j), "neighbour " + j + " of " + x);
            double[][] ref = Reference.relaxed(s.p(), x, nb[x], k, delta);
            double[] got = toDouble(v.relaxed(s.pf(), x));
            for (int y = 0; y < s.p().length; y++)
                assertEquals(ref[0][y], got[y], 1e-6, "p~ of candidate " + x + " at " + y);
            double moved = 0;
            for (int j = 0; j < (int) ref[1][0]; j++) moved += s.p()[nb[x][j]];
            assertEquals(moved, tv(s.p(), got), 1e-6, "TV(p, p~_x) is the merged mass c_m");
            assertTrue(
                    tv(s.p(), got) <= delta + 1e-7,
                    "candidate " + x + ": TV(p, p~_x) = " + tv(s.p(), got) + " > delta " + delta);
            if (ref[1][0] > 0) merges++;
        }
        assertTrue(merges > 0, "the budget merged nothing: no test of the relaxation");
        double[] expected = s.output(nb, k, delta);
        long[] accepted = {0};
        ChiSquare.Result fit = sampledFit(v, s, expected, accepted);
        double acceptance = 0;
        for (int x = 0; x < s.p().length; x++)
            acceptance += s.q()[x] * Math.min(1, Reference.relaxed(s.p(), x, nb[x], k, delta)[0][x] / s.q()[x]);
        System.out.printf(
                "[lantern] slot %d, delta %.2f: %d candidates merge, %s, acceptance %.4f (exact %.4f), TV(output, "
                        + "p) = %.3f%n",
                seed, delta, merges, fit, accepted[0] / 40_000.0, acceptance, tv(expected, s.p()));
        assertTrue(fit.p() > ALPHA, "the verified slot differs from LANTERN's exact output: " + fit);
        assertEquals(
                acceptance,
                accepted[0] / 40_000.0,
                5 * Math.sqrt(acceptance * (1 - acceptance) / 40_000),
                "acceptance rate");
    }

    @Test
    void aTooLargeBudgetOrAWrongNeighbourhoodFailsTheSameChecks() {
        double delta = 0.12;
        int k = 4;
        for (long seed = 1; seed <= 4; seed++) {
            Slot s = Slot.of(seed);
            double[] expected = s.output(s.neighbours(), k, delta);
            // twice the budget: candidates' targets move beyond delta, and the output is not LANTERN's at delta
            LanternVerifier wide = new LanternVerifier(s.table(), k, 2 * delta);
            double worst = worstTargetDistance(wide, s);
            ChiSquare.Result fitWide = sampledFit(wide, s, expected, new long[1]);
            System.out.printf(
                    "[lantern control] slot %d, budget %.2f used for %.2f: worst TV(p, p~_x) %.3f, %s%n",
                    seed, 2 * delta, delta, worst, fitWide);
            assertTrue(worst > delta, "the budget check must see the wider budget: " + worst);
            assertTrue(
                    fitWide.p() < ALPHA,
                    "a budget of " + 2 * delta + " must fail the fit at " + delta + ": " + fitWide);
            // the neighbourhoods of a different codebook: within budget, but the wrong mass moves
            LanternVerifier elsewhere = new LanternVerifier(Slot.of(seed + 100).table(), k, delta);
            ChiSquare.Result fitElsewhere = sampledFit(elsewhere, s, expected, new long[1]);
            System.out.printf("[lantern control] slot %d, wrong neighbourhoods: %s%n", seed, fitElsewhere);
            assertTrue(fitElsewhere.p() < ALPHA, "wrong neighbourhoods must fail the fit: " + fitElsewhere);
        }
    }

    @Test
    void samplingMatchesTheRelaxedDistributionAndAcceptanceGrowsWithTheBudget() {
        LatentNeighbours nn = line();
        int[][] nb = new int[6][];
        for (int x = 0; x < 6; x++) nb[x] = new int[] {nn.neighbour(x, 0), nn.neighbour(x, 1)};
        double[] p = toDouble(P), q = toDouble(Q);
        double previousAcceptance = -1;
        for (double delta : new double[] {0.0, 0.12, 0.22, 0.37, 0.47}) { // off the sums of P (multiples of 0.05)
            LanternVerifier v = new LanternVerifier(nn, 2, delta);
            TorchGenerator rng = new TorchGenerator(77);
            long[] counts = new long[6];
            int accepted = 0, n = 60_000;
            for (int i = 0; i < n; i++) {
                int x = Speculation.sample(Q, rng);
                int y = v.verify(P, Q, x, rng);
                if (y == x) accepted++;
                counts[y]++;
            }
            double[][] targetOf = new double[6][];
            for (int x = 0; x < 6; x++) targetOf[x] = Reference.relaxed(p, x, nb[x], 2, delta)[0];
            double[][] slot = Reference.verifiedSlot(q, targetOf);
            double[] expected = new double[6];
            double exactAcceptance = 0;
            for (int y = 0; y < 6; y++) {
                expected[y] = slot[0][y] + slot[1][y];
                exactAcceptance += slot[0][y];
            }
            ChiSquare.Result fit = ChiSquare.test(counts, expected);
            assertTrue(
                    fit.p() > ALPHA,
                    "delta " + delta + ": empirical output differs from LANTERN's distribution, " + fit);
            double acceptance = (double) accepted / n;
            assertEquals(
                    exactAcceptance,
                    acceptance,
                    5 * Math.sqrt(exactAcceptance * (1 - exactAcceptance) / n),
                    "delta " + delta);
            assertTrue(
                    exactAcceptance >= previousAcceptance,
                    "acceptance fell from " + previousAcceptance + " to " + exactAcceptance);
            previousAcceptance = exactAcceptance;
            double tv = tv(expected, p);
            if (delta == 0.0) {
                assertEquals(0.0, tv, 1e-12, "delta 0 is exact");
                assertEquals(0.45, exactAcceptance, 1e-6, "standard acceptance = sum min(p, q) = 0.45");
            } else if (delta >= 0.35) {
                // mass moves from the draft's neighbours onto drafted tokens: the output leans towards q
                assertTrue(tv > 0.01, "delta " + delta + " should change the output, TV = " + tv);
                double towardQ = 0, pq = 0;
                for (int y = 0; y < 6; y++) {
                    towardQ += expected[y] * q[y];
                    pq += p[y] * q[y];
                }
                assertTrue(towardQ > pq, "the relaxed output should put more mass where the drafter does");
            }
        }
    }

    // ---- whole sequences: the speculative sampler with LANTERN's verifier ----

    /** Three codes on a line at 0, 0.3 and 1: neighbours 0 → (1, 2), 1 → (0, 2), 2 → (1, 0). */
    static final float[] LINE3 = {0f, 0.3f, 1f};

    static Stream<Arguments> chains() {
        return Stream.of(SamplerDistributionTest.PLAIN, SamplerDistributionTest.TOP_K)
                .flatMap(s -> Stream.of(1, 2, 3, 4).map(g -> Arguments.of(s, g)));
    }

    static double[] chainDistribution(Setting s, int gamma, double delta) {
        int[][] nb = Reference.neighbours(new double[][] {{LINE3[0]}, {LINE3[1]}, {LINE3[2]}});
        return Reference.lanternSequences(
                SamplerDistributionTest.toy(s, SamplerDistributionTest.TARGET),
                SamplerDistributionTest.draft(s),
                SamplerDistributionTest.T,
                s,
                gamma,
                nb,
                2,
                delta);
    }

    static SamplerDistributionTest.Sampler lanternSampler(Setting s, int gamma, double delta) {
        SpeculativeSampler sd = new SpeculativeSampler(
                gamma, s.distribution(), new LanternVerifier(LatentNeighbours.of(LINE3, 3, 1, 2), 2, delta), "lantern");
        return sd::run;
    }

    @ParameterizedTest
    @MethodSource("chains")
    void lanternSequencesMatchTheirExactDistribution(Setting s, int gamma) {
        double delta = 0.2;
        double[] expected = chainDistribution(s, gamma, delta);
        Fit f = SamplerDistributionTest.fit(
                "LANTERN delta 0.2, gamma " + gamma, s, expected, lanternSampler(s, gamma, delta));
        System.out.printf(
                "[lantern chain] TV(LANTERN sequences, target sequences) = %.3f%n",
                tv(expected, SamplerDistributionTest.exact(s)));
        assertTrue(
                f.chi2().p() > ALPHA,
                "LANTERN gamma " + gamma + " (" + s + ") differs from its exact distribution: " + f.chi2());
        if (gamma >= 2) assertTrue(f.partial() > 100 && f.allPassed()[gamma] > 100, "hard paths not reached: " + f);
    }

    @Test
    void lanternSequencesFailTheFitOfAnotherBudgetOrOfTheTarget() {
        Setting s = SamplerDistributionTest.PLAIN;
        SamplerDistributionTest.Sampler lantern = lanternSampler(s, 3, 0.2);
        Fit asTarget = SamplerDistributionTest.fit(
                "LANTERN delta 0.2 against the target", s, SamplerDistributionTest.exact(s), lantern);
        assertTrue(
                asTarget.chi2().p() < ALPHA,
                "LANTERN with delta 0.2 is not the target distribution: " + asTarget.chi2());
        Fit other = SamplerDistributionTest.fit(
                "LANTERN delta 0.2 against delta 0.1", s, chainDistribution(s, 3, 0.1), lantern);
        assertTrue(other.chi2().p() < ALPHA, "the fit must tell delta 0.2 from 0.1: " + other.chi2());
    }
}
