package dev.tessera.samplers.ar;

import dev.tessera.samplers.rng.TorchGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The accelerated samplers reproduce the target's sequence distribution: chi-square goodness of fit of N sampled
 * sequences against the exact probabilities of all V^T sequences of a toy model, at a fixed seed (threshold
 * p < 1e-3), with a deliberately broken acceptance rule as the negative control.
 */
class SamplerDistributionTest {
    static final int V = 4, T = 3, SAMPLES = 40_000;

    /** Exact probability of every sequence (index = base-V number, first token most significant). */
    static double[] exact(ToySequence model, TokenDistribution dist) {
        int cells = (int) Math.pow(V, T);
        double[] prob = new double[cells];
        for (int s = 0; s < cells; s++) {
            int[] seq = decode(s);
            double p = 1;
            List<Integer> prefix = new ArrayList<>();
            for (int t = 0; t < T; t++) {
                float[] pr = dist.probabilities(model.logits(prefix), 0, V);
                p *= pr[seq[t]];
                prefix.add(seq[t]);
            }
            prob[s] = p;
        }
        return prob;
    }

    static int[] decode(int s) {
        int[] seq = new int[T];
        for (int t = T - 1; t >= 0; t--) {
            seq[t] = s % V;
            s /= V;
        }
        return seq;
    }

    static int encode(int[] seq) {
        int s = 0;
        for (int t : seq) s = s * V + t;
        return s;
    }

    interface Run {
        Sampled run(long modelSeed, TorchGenerator rng);
    }

    static double pValue(long modelSeed, TokenDistribution dist, Run run) {
        double[] prob = exact(new ToySequence(V, T, modelSeed), dist);
        long[] counts = new long[prob.length];
        TorchGenerator rng = new TorchGenerator(12345);
        for (int i = 0; i < SAMPLES; i++) counts[encode(run.run(modelSeed, rng).tokens())]++;
        return ChiSquare.pValue(counts, prob);
    }

    static final TokenDistribution PLAIN = TokenDistribution.PLAIN, TOP2 = new TokenDistribution(1.0, 2, 1.0);

    @Test
    void chiSquareHelperIsRight() {
        assertEquals(Math.log(24), ChiSquare.logGamma(5), 1e-12);
        assertEquals(0.05, ChiSquare.upperGamma(0.5, 3.841459 / 2), 1e-5);   // chi2(1) at its 95th percentile
        assertEquals(0.05, ChiSquare.upperGamma(5, 18.307038 / 2), 1e-5);    // chi2(10)
        assertEquals(0.01, ChiSquare.upperGamma(25, 76.153891 / 2), 1e-5);   // chi2(50) at its 99th percentile
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2})
    void plainAutoregressiveMatchesTheModel(long seed) {
        for (TokenDistribution d : new TokenDistribution[] {PLAIN, TOP2}) {
            double p = pValue(seed, d, (s, rng) -> new AutoregressiveSampler(d).run(new ToySequence(V, T, s), rng));
            assertTrue(p > 1e-3, "plain AR chi-square p = " + p);
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {3, 4})
    void speculativeSamplingMatchesTheTarget(long seed) {
        for (TokenDistribution d : new TokenDistribution[] {PLAIN, TOP2}) {
            SpeculativeSampler sd = new SpeculativeSampler(2, d, Verifier.EXACT, "speculative");
            double p = pValue(seed, d, (s, rng) -> sd.run(new ToySequence(V, T, s), new ToySequence(V, T, s + 100), rng));
            assertTrue(p > 1e-3, "speculative chi-square p = " + p + " (" + d + ")");
        }
    }

    @Test
    void lanternWithZeroBudgetIsExactSpeculativeSampling() {
        LatentNeighbours nn = LatentNeighbours.of(new float[] {0, 0, 1, 0, 0, 1, 1, 1}, V, 2, 3);
        for (TokenDistribution d : new TokenDistribution[] {PLAIN, TOP2}) {
            SpeculativeSampler lantern = new SpeculativeSampler(2, d, new LanternVerifier(nn, 3, 0.0), "lantern");
            double p = pValue(5, d, (s, rng) -> lantern.run(new ToySequence(V, T, s), new ToySequence(V, T, s + 100), rng));
            assertTrue(p > 1e-3, "LANTERN delta=0 chi-square p = " + p + " (" + d + ")");
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3})
    void speculativeJacobiDecodingMatchesTheModel(int window) {
        for (TokenDistribution d : new TokenDistribution[] {PLAIN, TOP2}) {
            for (JacobiSampler.Init init : JacobiSampler.Init.values()) {
                JacobiSampler sjd = new JacobiSampler(window, init, 2, d);
                double p = pValue(6, d, (s, rng) -> sjd.run(new ToySequence(V, T, s), rng));
                assertTrue(p > 1e-3, "SJD chi-square p = " + p + " (W=" + window + ", " + init + ", " + d + ")");
            }
        }
    }

    @Test
    void aBrokenResidualFailsTheTest() {
        // the classic bug: after a rejection, sample from p instead of norm((p - q)+)
        Verifier broken = (p, q, x, rng) -> {
            double ratio = Math.min(1.0, p[x] / q[x]);
            return rng.nextDouble() < ratio ? x : Speculation.sample(p, rng);
        };
        SpeculativeSampler sd = new SpeculativeSampler(2, PLAIN, broken, "broken");
        double p = pValue(3, PLAIN, (s, rng) -> sd.run(new ToySequence(V, T, s), new ToySequence(V, T, s + 100), rng));
        assertTrue(p < 1e-3, "the broken sampler must fail the chi-square test, p = " + p);

        Verifier alwaysAccept = (pp, q, x, rng) -> x;   // accept every draft: the draft's distribution comes out
        SpeculativeSampler lazy = new SpeculativeSampler(2, PLAIN, alwaysAccept, "broken");
        double p2 = pValue(3, PLAIN, (s, rng) -> lazy.run(new ToySequence(V, T, s), new ToySequence(V, T, s + 100), rng));
        assertTrue(p2 < 1e-3, "accepting every draft must fail the chi-square test, p = " + p2);
    }

    @Test
    void greedySamplersReproduceGreedyDecodingExactly() {
        TokenDistribution greedy = new TokenDistribution(1.0, 1, 1.0);
        for (long seed = 0; seed < 50; seed++) {
            int[] ar = new AutoregressiveSampler(greedy).run(new ToySequence(8, 12, seed), new TorchGenerator(1)).tokens();
            int[] sd = new SpeculativeSampler(3, greedy, Verifier.EXACT, "speculative")
                    .run(new ToySequence(8, 12, seed), new ToySequence(8, 12, seed + 7), new TorchGenerator(2)).tokens();
            int[] sjd = new JacobiSampler(5, JacobiSampler.Init.RANDOM, 4, greedy).run(new ToySequence(8, 12, seed), new TorchGenerator(3)).tokens();
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
        JacobiSampler sjd = new JacobiSampler(4, JacobiSampler.Init.RANDOM, 4, PLAIN);
        Sampled s = sjd.run(new ToySequence(6, 400, 9, 1.0, true), new TorchGenerator(4));
        assertTrue(s.stats().tokensPerTargetForward() > 2.0, "tokens per forward " + s.stats().tokensPerTargetForward());
    }

    @Test
    void statisticsAreCounted() {
        Sampled s = new SpeculativeSampler(3, PLAIN, Verifier.EXACT, "speculative")
                .run(new ToySequence(8, 30, 1), new ToySequence(8, 30, 1), new TorchGenerator(5));
        // identical draft and target: every proposal passes; each round emits γ + 1 = 4 tokens
        assertEquals(s.stats().proposed(), s.stats().accepted());
        assertEquals(1.0, s.stats().acceptanceRate());
        assertTrue(s.stats().targetForwards() <= 1 + (29 + 3) / 4, "target forwards " + s.stats().targetForwards());
        assertEquals(30, s.tokens().length);
    }
}
