package dev.tessera.samplers.ar;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.samplers.ar.MutantSamplers.Bug;
import dev.tessera.samplers.ar.Reference.Setting;
import dev.tessera.samplers.rng.TorchGenerator;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The exact samplers reproduce the target's sequence distribution. A toy model with V = 3 and T = 6 is long enough
 * for speculative drafts of γ = 1..4 (partial accepts with their cache cuts, the bonus token after γ accepts) and
 * SJD windows of 2..5 with carried guesses, and small enough to enumerate all 3^6 = 729 sequences. The expected
 * probability of each comes from the toy's raw logits through {@link Reference} (not {@link TokenDistribution}).
 * Every run draws {@value #SAMPLES} sequences at a fixed seed and applies {@link ChiSquare} (a sequence the
 * reference gives probability 0 fails outright).
 *
 * <p>Threshold: about 110 goodness-of-fit tests of correct samplers run in this package (80 here, 29 in
 * {@link LanternTest}), so a fit fails below {@link #ALPHA} = 1e-5: Bonferroni, a family-wise false alarm rate of
 * about 1e-3. Every negative control (a planted bug) goes through the same {@link #fit} with the same samples,
 * seed and threshold and must come out below it. Bugs a production seam can carry use it (a {@link Verifier}
 * lambda); bugs in the samplers' bookkeeping are planted in the statement-for-statement copies of
 * {@link MutantSamplers}, which are held to the production samplers bit for bit.
 */
class SamplerDistributionTest {
    static final int V = 3, T = 6, SAMPLES = 20_000, ROW = 3;
    static final double ALPHA = 1e-5, SCALE = 1.0, DRAFT_NOISE = 0.7;
    static final long TARGET = 21, DRAFT = 57;
    static final Setting PLAIN = new Setting("plain", 1.0, 0, 1.0, 0f),
            COLD = new Setting("temperature 0.7", 0.7, 0, 1.0, 0f),
            TOP_K = new Setting("top-k 2", 1.0, 2, 1.0, 0f),
            TOP_P = new Setting("top-p 0.7", 1.0, 0, 0.7, 0f),
            CFG = new Setting("cfg 2.5", 1.0, 0, 1.0, 2.5f),
            MIXED = new Setting("cfg 2, temperature 1.3, top-p 0.9", 1.3, 0, 0.9, 2.0f);
    static final List<Setting> SETTINGS = List.of(PLAIN, COLD, TOP_K, TOP_P, CFG, MIXED);

    static ToySequence toy(Setting s, long seed) {
        return s.cfg() > 0
                ? ToySequence.guided(V, T, seed, seed + 1000, SCALE, s.cfg())
                : new ToySequence(V, T, seed, SCALE, false);
    }

    /** The draft: the target with every logit moved by noise (acceptance high enough to pass 4 drafts, not 1). */
    static ToySequence draft(Setting s) {
        return toy(s, TARGET).perturbed(DRAFT, DRAFT_NOISE);
    }

    private static final Map<Setting, double[]> EXACT = new HashMap<>();

    static synchronized double[] exact(Setting s) {
        return EXACT.computeIfAbsent(s, k -> Reference.sequences(toy(k, TARGET), T, k));
    }

    interface Sampler {
        Sampled run(TokenSequence target, TokenSequence draft, TorchGenerator rng);
    }

    /**
     * What the runs went through, from the target's feeds and cuts: rounds with a partial accept (≥ 1 accepted,
     * then a rejection), rounds where all of at least two drafts passed (bonus / last sample after them) by the
     * number of drafts, and (SJD only; a speculative round drafts afresh) carried guesses that passed: the
     * accepted tokens of a round that follows a rejection, up to the number of guesses that rejection carried.
     */
    record Fit(ChiSquare.Result chi2, long partial, long[] allPassed, long carriedAccepted) {
        @Override
        public String toString() {
            return chi2 + "; partial accepts " + partial + ", all passed by drafts " + Arrays.toString(allPassed)
                    + ", carried guesses accepted " + carriedAccepted;
        }
    }

    static Fit fit(String name, Setting s, Sampler sampler) {
        return fit(name, s, exact(s), sampler);
    }

    /** {@link #fit} against another expected distribution of the 729 sequences. */
    static Fit fit(String name, Setting s, double[] expected, Sampler sampler) {
        long[] counts = new long[expected.length];
        long partial = 0, carried = 0;
        long[] allPassed = new long[T];
        TorchGenerator rng = new TorchGenerator(12345);
        for (int i = 0; i < SAMPLES; i++) {
            ToySequence target = toy(s, TARGET);
            int[] tokens = sampler.run(target, draft(s), rng).tokens();
            counts[Reference.encode(tokens, V)]++;
            int previousDropped = 0;
            for (int[] r : target.rounds) {
                int len = r[0], dropped = r[1], passed = len - 1 - dropped;
                if (dropped >= 1 && passed >= 1) partial++;
                if (dropped == 0 && len >= 3) allPassed[len - 1]++;
                carried += Math.min(previousDropped, passed);
                previousDropped = dropped;
            }
        }
        Fit f = new Fit(ChiSquare.test(counts, expected), partial, allPassed, carried);
        System.out.println("[fit] " + name + " (" + s + "): " + f);
        return f;
    }

    static void assertFits(String name, Setting s, Sampler sampler) {
        Fit f = fit(name, s, sampler);
        assertTrue(f.chi2().p() > ALPHA, name + " (" + s + ") differs from the exact distribution: " + f.chi2());
    }

    static void assertRejected(String name, Setting s, Sampler sampler) {
        Fit f = fit(name, s, sampler);
        assertTrue(
                f.chi2().p() < ALPHA, "the negative control " + name + " (" + s + ") must fail the test: " + f.chi2());
    }

    static Stream<Setting> settings() {
        return SETTINGS.stream();
    }

    static Stream<Arguments> speculativeCases() {
        return SETTINGS.stream().flatMap(s -> IntStream.rangeClosed(1, 4).mapToObj(g -> Arguments.of(s, g)));
    }

    static Stream<Arguments> jacobiCases() {
        return SETTINGS.stream()
                .flatMap(s -> IntStream.rangeClosed(2, 5)
                        .boxed()
                        .flatMap(w -> Stream.of(JacobiSampler.Init.values()).map(i -> Arguments.of(s, w, i))));
    }

    @Test
    void chiSquareHelperIsRight() {
        assertEquals(Math.log(24), ChiSquare.logGamma(5), 1e-12);
        assertEquals(0.05, ChiSquare.upperGamma(0.5, 3.841459 / 2), 1e-5); // chi2(1) at its 95th percentile
        assertEquals(0.05, ChiSquare.upperGamma(5, 18.307038 / 2), 1e-5); // chi2(10)
        assertEquals(0.01, ChiSquare.upperGamma(25, 76.153891 / 2), 1e-5); // chi2(50) at its 99th percentile
        // X2 = 100/50 + 100/30 + 0 = 16/3, df 2: p = exp(-8/3)
        ChiSquare.Result r = ChiSquare.test(new long[] {60, 20, 20}, new double[] {0.5, 0.3, 0.2});
        assertEquals(16.0 / 3, r.x2(), 1e-12);
        assertEquals(2, r.df());
        assertEquals(Math.exp(-8.0 / 3), r.p(), 1e-12);
        // E = 194, 2, 2, 2: the three small cells pool into one (O = 4, E = 6); X2 = 4/194 + 4/6, df 1
        ChiSquare.Result pooled = ChiSquare.test(new long[] {196, 1, 3, 0}, new double[] {0.97, 0.01, 0.01, 0.01});
        assertEquals(4.0 / 194 + 4.0 / 6, pooled.x2(), 1e-12);
        assertEquals(1, pooled.df());
    }

    @Test
    void aSampleOutsideTheSupportFailsOutright() {
        // perfect counts everywhere else, and the cell of probability 0 is not pooled with anything
        long[] counts = {250_000, 250_000, 499_999, 1};
        double[] p = {0.25, 0.25, 0.5, 0};
        ChiSquare.Result r = ChiSquare.test(counts, p);
        assertEquals(0.0, r.p(), "a sample in a cell of probability 0");
        assertEquals(1, r.outsideSupport());
        assertEquals(3, r.firstOutside());
        // empty cells of probability 0 change nothing
        ChiSquare.Result inside =
                ChiSquare.test(new long[] {260, 240, 500, 0, 0}, new double[] {0.25, 0.25, 0.5, 0, 0});
        ChiSquare.Result without = ChiSquare.test(new long[] {260, 240, 500}, new double[] {0.25, 0.25, 0.5});
        assertEquals(without.x2(), inside.x2());
        assertEquals(without.df(), inside.df());
        assertEquals(without.p(), inside.p());
        // a reference that is not a distribution is an error, not a p-value
        Assertions.assertThrows(
                IllegalArgumentException.class, () -> ChiSquare.test(new long[] {1, 1}, new double[] {0.5, 0.4}));
    }

    @Test
    void theReferenceFollowsLlamaGensRules() {
        float[] c = {1.0f, 2.0f, 0.5f, -1.0f}, u = {0.5f, 0.0f, 1.0f, 0.0f};
        // cfg 2: u + 2 (c - u) = {1.5, 4, 0, -2}
        double[] g = Reference.probabilities(c, u, new Setting("cfg", 1.0, 0, 1.0, 2f));
        double z = Math.exp(1.5) + Math.exp(4) + Math.exp(0) + Math.exp(-2);
        assertEquals(Math.exp(4) / z, g[1], 1e-12);
        // temperature 2 halves the logits; top-k 2 keeps {2, 1}
        double[] k = Reference.probabilities(c, null, new Setting("k", 2.0, 2, 1.0, 0f));
        assertEquals(1 / (1 + Math.exp(-0.5)), k[1], 1e-12);
        assertEquals(0.0, k[2]);
        assertEquals(0.0, k[3]);
        // top-p: softmax(c) = {0.2399, 0.6522, 0.1455, 0.0324}; p 0.6 keeps only the first (0.65 > 0.6),
        // p 0.7 keeps the first whose cumulative sum exceeds it (0.65 + 0.24 = 0.89)
        assertEquals(1.0, Reference.probabilities(c, null, new Setting("p", 1.0, 0, 0.6, 0f))[1], 1e-12);
        double[] p7 = Reference.probabilities(c, null, new Setting("p", 1.0, 0, 0.7, 0f));
        assertEquals(Math.exp(2) / (Math.exp(2) + Math.exp(1)), p7[1], 1e-12);
        assertEquals(0.0, p7[2]);
        // and the implementation agrees with it on the test toys, position by position
        for (Setting s : SETTINGS) {
            ToySequence toy = toy(s, TARGET);
            double[] seq = exact(s);
            double sum = 0;
            for (double x : seq) sum += x;
            assertEquals(1.0, sum, 1e-12);
            for (int len = 0; len < T; len++)
                for (int cell = 0; cell < Math.pow(V, len); cell++) {
                    List<Integer> prefix = new ArrayList<>();
                    for (int t = len - 1, x = cell; t >= 0; t--, x /= V) prefix.addFirst(x % V);
                    float[] impl = s.distribution().probabilities(toy.logits(prefix), 0, V);
                    double[] ref = Reference.probabilities(toy, prefix, s);
                    for (int v = 0; v < V; v++) {
                        assertEquals(ref[v], impl[v], 1e-6, s + ", prefix " + prefix);
                        assertEquals(ref[v] == 0, impl[v] == 0, s + ", prefix " + prefix + ": the supports differ");
                    }
                }
        }
    }

    @ParameterizedTest
    @MethodSource("settings")
    void plainAutoregressiveMatchesTheModel(Setting s) {
        assertFits("AR", s, (t, d, rng) -> new AutoregressiveSampler(s.distribution()).run(t, rng));
    }

    @ParameterizedTest
    @MethodSource("speculativeCases")
    void speculativeSamplingMatchesTheTarget(Setting s, int gamma) {
        SpeculativeSampler sd = new SpeculativeSampler(gamma, s.distribution(), Verifier.EXACT, "speculative");
        Fit f = fit("speculative gamma " + gamma, s, sd::run);
        assertTrue(
                f.chi2().p() > ALPHA,
                "speculative gamma " + gamma + " (" + s + ") differs from the exact distribution: " + f.chi2());
        if (gamma >= 2) {
            assertTrue(f.partial() > 100, "partial accepts were not reached: " + f);
            assertTrue(f.allPassed()[gamma] > 100, "the bonus after " + gamma + " accepts was not reached: " + f);
        }
    }

    @ParameterizedTest
    @MethodSource("jacobiCases")
    void speculativeJacobiDecodingMatchesTheModel(Setting s, int window, JacobiSampler.Init init) {
        JacobiSampler sjd = new JacobiSampler(window, init, ROW, s.distribution());
        String name = "SJD W " + window + " " + init;
        Fit f = fit(name, s, (t, d, rng) -> sjd.run(t, rng));
        assertTrue(f.chi2().p() > ALPHA, name + " (" + s + ") differs from the exact distribution: " + f.chi2());
        assertTrue(f.carriedAccepted() > 100, "no carried guess was accepted: " + f);
        if (window >= 3) assertTrue(f.partial() > 100, "partial accepts were not reached: " + f);
    }

    // ---- negative controls: the same fit, seed, samples and threshold ----

    @Test
    void aBrokenResidualFailsTheTest() {
        // the classic bug: after a rejection, sample from p instead of norm((p - q)+)
        Verifier broken = (p, q, x, rng) -> {
            double ratio = Math.min(1.0, p[x] / q[x]);
            return rng.nextDouble() < ratio ? x : Speculation.sample(p, rng);
        };
        SpeculativeSampler sd = new SpeculativeSampler(3, PLAIN.distribution(), broken, "broken");
        assertRejected("speculative gamma 3, residual p", PLAIN, sd::run);
    }

    @Test
    void acceptingEveryDraftFailsTheTest() {
        SpeculativeSampler lazy = new SpeculativeSampler(3, PLAIN.distribution(), (p, q, x, rng) -> x, "broken");
        assertRejected("speculative gamma 3, every draft accepted", PLAIN, lazy::run);
    }

    @ParameterizedTest
    @EnumSource(
            value = Bug.class,
            names = {"KEEP_ONE_MORE", "KEEP_ONE_FEWER", "CACHE_KEEPS_REJECTED", "BONUS_FROM_PREVIOUS_ROW"})
    void speculativeBookkeepingBugsFailTheTest(Bug bug) {
        TokenDistribution d = PLAIN.distribution();
        assertRejected(
                "speculative gamma 3, " + bug,
                PLAIN,
                (t, dr, rng) -> MutantSamplers.speculative(3, d, Verifier.EXACT, bug, t, dr, rng));
    }

    @ParameterizedTest
    @EnumSource(
            value = Bug.class,
            names = {
                "CARRIED_Q_OF_PREVIOUS_SLOT",
                "CARRIED_Q_OF_NEXT_SLOT",
                "CARRIED_ALWAYS_ACCEPTED",
                "ACCEPT_ALL",
                "RESIDUAL_IS_P",
                "CACHE_KEEPS_REJECTED"
            })
    void jacobiBugsFailTheTest(Bug bug) {
        TokenDistribution d = PLAIN.distribution();
        assertRejected(
                "SJD W 4, " + bug,
                PLAIN,
                (t, dr, rng) -> MutantSamplers.jacobi(4, JacobiSampler.Init.RANDOM, ROW, d, bug, t, rng));
    }

    @Test
    void carriedGuessesTestedAsFreshOnesStayExactButPassLessOften() {
        // a one-hot Q is exact for any guess, however it was chosen: p(y) = p(x)·[y = x] + (1 − p(x))·p(y)/(1 − p(x))
        // for y ≠ x. Forgetting a carried guess's Q is therefore no error of the output, only a loss of speed.
        TokenDistribution d = PLAIN.distribution();
        Fit oneHot = fit(
                "SJD W 4, carried as one-hot",
                PLAIN,
                (t, dr, rng) ->
                        MutantSamplers.jacobi(4, JacobiSampler.Init.RANDOM, ROW, d, Bug.CARRIED_AS_ONE_HOT, t, rng));
        assertTrue(oneHot.chi2().p() > ALPHA, "one-hot Q is exact: " + oneHot.chi2());
        Fit right = fit(
                "SJD W 4", PLAIN, (t, dr, rng) -> new JacobiSampler(4, JacobiSampler.Init.RANDOM, ROW, d).run(t, rng));
        assertTrue(
                oneHot.carriedAccepted() < 0.9 * right.carriedAccepted(),
                "carried guesses accepted: one-hot " + oneHot.carriedAccepted() + ", with their Q "
                        + right.carriedAccepted());
    }

    @Test
    void theCopiesForTheNegativeControlsAreTheProductionSamplers() {
        for (Setting s : SETTINGS) {
            TokenDistribution d = s.distribution();
            for (int gamma = 1; gamma <= 4; gamma++) {
                SpeculativeSampler sd = new SpeculativeSampler(gamma, d, Verifier.EXACT, "speculative");
                for (long seed = 0; seed < 50; seed++) {
                    Sampled a = sd.run(toy(s, TARGET), draft(s), new TorchGenerator(seed));
                    Sampled b = MutantSamplers.speculative(
                            gamma, d, Verifier.EXACT, Bug.NONE, toy(s, TARGET), draft(s), new TorchGenerator(seed));
                    assertSame(a, b, s + ", gamma " + gamma + ", seed " + seed);
                }
            }
            for (int w = 2; w <= 5; w++) {
                for (JacobiSampler.Init init : JacobiSampler.Init.values()) {
                    JacobiSampler sjd = new JacobiSampler(w, init, ROW, d);
                    for (long seed = 0; seed < 50; seed++) {
                        Sampled a = sjd.run(toy(s, TARGET), new TorchGenerator(seed));
                        Sampled b = MutantSamplers.jacobi(
                                w, init, ROW, d, Bug.NONE, toy(s, TARGET), new TorchGenerator(seed));
                        assertSame(a, b, s + ", SJD W " + w + " " + init + ", seed " + seed);
                    }
                }
            }
        }
    }

    private static void assertSame(Sampled a, Sampled b, String what) {
        assertArrayEquals(a.tokens(), b.tokens(), what);
        assertEquals(a.stats().targetForwards(), b.stats().targetForwards(), what);
        assertEquals(a.stats().draftForwards(), b.stats().draftForwards(), what);
        assertEquals(a.stats().proposed(), b.stats().proposed(), what);
        assertEquals(a.stats().accepted(), b.stats().accepted(), what);
    }

    // ---- exact properties ----

    @Test
    void greedySamplersReproduceGreedyDecodingExactly() {
        TokenDistribution greedy = new TokenDistribution(1.0, 1, 1.0);
        for (long seed = 0; seed < 50; seed++) {
            int[] ar = new AutoregressiveSampler(greedy)
                    .run(new ToySequence(8, 12, seed), new TorchGenerator(1))
                    .tokens();
            int[] sd = new SpeculativeSampler(3, greedy, Verifier.EXACT, "speculative")
                    .run(new ToySequence(8, 12, seed), new ToySequence(8, 12, seed + 7), new TorchGenerator(2))
                    .tokens();
            int[] sjd = new JacobiSampler(5, JacobiSampler.Init.RANDOM, 4, greedy)
                    .run(new ToySequence(8, 12, seed), new TorchGenerator(3))
                    .tokens();
            assertArrayEquals(ar, sd, "greedy speculative, model " + seed);
            assertArrayEquals(ar, sjd, "greedy SJD, model " + seed);
        }
    }

    @Test
    void jacobiOnPrefixIndependentModelsAcceptsCarriedGuesses() {
        // when the conditionals ignore the prefix, a carried guess has Q == p at its own position and always
        // passes; fresh guesses (one-hot Q) pass with p(d) ~ 1/V. Windows then alternate between fresh and
        // carried guesses, about 2.3 tokens per forward with W = 4. An off-by-one between a guess and its Q (p of
        // the neighbouring position) would make carried guesses fail too and drop this towards 1.3.
        JacobiSampler sjd = new JacobiSampler(4, JacobiSampler.Init.RANDOM, 4, TokenDistribution.PLAIN);
        Sampled s = sjd.run(new ToySequence(6, 400, 9, 1.0, true), new TorchGenerator(4));
        assertTrue(
                s.stats().tokensPerTargetForward() > 2.0,
                "tokens per forward " + s.stats().tokensPerTargetForward());
    }

    @Test
    void statisticsAreCounted() {
        // identical draft and target: every proposal passes and each round emits γ + 1 = 4 tokens. N = 30: rounds
        // start at tokens 1, 5, ..., 25 with 3 drafts each, and at 29 with none (the last token alone).
        Sampled s = new SpeculativeSampler(3, TokenDistribution.PLAIN, Verifier.EXACT, "speculative")
                .run(new ToySequence(8, 30, 1), new ToySequence(8, 30, 1), new TorchGenerator(5));
        assertEquals(30, s.tokens().length);
        assertEquals(
                new SamplerStats(
                        "speculative",
                        1,
                        30,
                        1 + 8,
                        1 + 7 * 3,
                        21,
                        21,
                        s.stats().seconds()),
                s.stats());
        assertEquals(30.0 / 9, s.stats().tokensPerTargetForward(), 1e-12);
        assertEquals(1.0, s.stats().acceptanceRate());

        // a different draft: each round emits its accepted drafts and one more token, and costs one target forward
        // (and the draft as many forwards as it proposes); so accepted = tokens − target forwards, whatever passed
        long rejected = 0;
        for (long seed = 0; seed < 200; seed++) {
            ToySequence target = new ToySequence(4, 20, seed), draft = new ToySequence(4, 20, seed + 1);
            SamplerStats st = new SpeculativeSampler(3, TokenDistribution.PLAIN, Verifier.EXACT, "speculative")
                    .run(target, draft, new TorchGenerator(seed))
                    .stats();
            assertEquals(20, st.tokens());
            assertEquals(st.tokens() - st.targetForwards(), st.accepted(), "seed " + seed);
            // a round drafts len − 1 tokens (one draft forward each) and tests them up to the first rejection
            assertEquals(1 + target.rounds.stream().mapToInt(r -> r[0] - 1).sum(), st.draftForwards(), "seed " + seed);
            assertEquals(
                    target.rounds.stream()
                            .mapToInt(r -> r[0] - 1 - r[1] + (r[1] > 0 ? 1 : 0))
                            .sum(),
                    st.proposed(),
                    "seed " + seed);
            assertEquals((double) st.accepted() / st.proposed(), st.acceptanceRate(), 1e-12);
            rejected += st.proposed() - st.accepted();
            SamplerStats sj = new JacobiSampler(4, JacobiSampler.Init.RANDOM, 4, TokenDistribution.PLAIN)
                    .run(new ToySequence(4, 20, seed), new TorchGenerator(seed))
                    .stats();
            assertEquals(sj.tokens() - sj.targetForwards(), sj.accepted(), "SJD seed " + seed);
            SamplerStats ar = new AutoregressiveSampler(TokenDistribution.PLAIN)
                    .run(new ToySequence(4, 20, seed), new TorchGenerator(seed))
                    .stats();
            assertEquals(new SamplerStats("ar", 1, 20, 20, 0, 0, 0, ar.seconds()), ar);
        }
        assertTrue(rejected > 100, "the draft differs from the target: rejections expected, saw " + rejected);
    }
}
