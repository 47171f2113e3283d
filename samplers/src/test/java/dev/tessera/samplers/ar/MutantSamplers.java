package dev.tessera.samplers.ar;

import dev.tessera.samplers.rng.TorchGenerator;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Test-only copies of {@link SpeculativeSampler#run} and {@link JacobiSampler#run}, statement for statement, with
 * switches that plant one bug each, for the negative controls of the distribution tests: bugs in the bookkeeping
 * (the accepted prefix, the cache cut, the bonus row, the draft distribution of a carried guess) that no production
 * seam reaches. With {@link Bug#NONE} each copy must give the production sampler's tokens and counts bit for bit
 * ({@code SamplerDistributionTest.theCopiesForTheNegativeControlsAreTheProductionSamplers}), so a planted bug is a
 * bug of the production algorithm.
 */
final class MutantSamplers {
    private MutantSamplers() {}

    enum Bug {
        NONE,
        /** Speculative: after a rejection, the rejected draft is committed as well (one token too many). */
        KEEP_ONE_MORE,
        /** Speculative: after a rejection, the last accepted draft is dropped (one token too few). */
        KEEP_ONE_FEWER,
        /** Speculative / SJD: the target cache keeps the first rejected token. */
        CACHE_KEEPS_REJECTED,
        /** Speculative: the bonus token is drawn from the last draft's row instead of the row after it. */
        BONUS_FROM_PREVIOUS_ROW,
        /** SJD: a carried guess is tested against the distribution of the slot before its own. */
        CARRIED_Q_OF_PREVIOUS_SLOT,
        /** SJD: a carried guess is tested against the distribution of the slot after its own. */
        CARRIED_Q_OF_NEXT_SLOT,
        /** SJD: carried guesses pass without a test. */
        CARRIED_ALWAYS_ACCEPTED,
        /** SJD: carried guesses are tested as fresh ones (one-hot Q). Not a bug of the output distribution. */
        CARRIED_AS_ONE_HOT,
        /** SJD: every guess passes. */
        ACCEPT_ALL,
        /** SJD: after a rejection the token comes from p instead of norm((p − Q)₊). */
        RESIDUAL_IS_P
    }

    /** {@link SpeculativeSampler#run} with one planted bug. */
    static Sampled speculative(
            int gamma,
            TokenDistribution dist,
            Verifier verifier,
            Bug bug,
            TokenSequence target,
            TokenSequence draft,
            TorchGenerator rng) {
        if (dist.greedy()) verifier = Verifier.GREEDY;
        int N = target.length(), V = target.vocab();
        int[] c = new int[N];
        int proposed = 0, accepted = 0;
        c[0] = dist.sample(dist.probabilities(target.first(), 0, V), rng);
        draft.first();
        int n = 1;
        while (n < N) {
            int g = Math.min(gamma, N - n - 1);
            int[] x = new int[g];
            float[][] q = new float[g][];
            if (g > 0) {
                int[] pending = Arrays.copyOfRange(c, draft.fed(), n);
                float[][] rows = draft.feed(pending);
                for (int i = 0; i < g; i++) {
                    float[] logits = i == 0 ? rows[rows.length - 1] : draft.feed(new int[] {x[i - 1]})[0];
                    q[i] = dist.probabilities(logits, 0, V);
                    x[i] = dist.sample(q[i], rng);
                }
            }
            int[] verify = new int[g + 1];
            verify[0] = c[n - 1];
            System.arraycopy(x, 0, verify, 1, g);
            float[][] pl = target.feed(verify);
            int kept = 0, next = -1;
            for (int i = 0; i < g; i++) {
                float[] p = dist.probabilities(pl[i], 0, V);
                proposed++;
                int y = verifier.verify(p, q[i], x[i], rng);
                if (y == x[i]) {
                    accepted++;
                    kept++;
                } else {
                    next = y;
                    break;
                }
            }
            boolean rejected = next >= 0;
            if (next < 0)
                next = dist.sample(
                        dist.probabilities(pl[bug == Bug.BONUS_FROM_PREVIOUS_ROW && g > 0 ? g - 1 : g], 0, V), rng);
            if (rejected && bug == Bug.KEEP_ONE_MORE) kept++;
            if (rejected && bug == Bug.KEEP_ONE_FEWER && kept > 0) kept--;
            for (int i = 0; i < kept; i++) c[n + i] = x[i];
            c[n + kept] = next;
            target.truncate(n + kept + (rejected && bug == Bug.CACHE_KEEPS_REJECTED ? 1 : 0));
            if (draft.fed() > n + kept) draft.truncate(n + kept);
            n += kept + 1;
        }
        return new Sampled(
                c, new SamplerStats("mutant", 1, N, target.forwards(), draft.forwards(), proposed, accepted, 0));
    }

    /** {@link JacobiSampler#run} with one planted bug. */
    static Sampled jacobi(
            int window,
            JacobiSampler.Init init,
            int rowWidth,
            TokenDistribution dist,
            Bug bug,
            TokenSequence target,
            TorchGenerator rng) {
        int N = target.length(), V = target.vocab();
        boolean greedy = dist.greedy();
        int[] c = new int[N];
        c[0] = dist.sample(dist.probabilities(target.first(), 0, V), rng);
        int n = 1, proposed = 0, accepted = 0;
        List<Integer> drafts = new ArrayList<>();
        List<float[]> draftQ = new ArrayList<>();
        while (n < N) {
            int W = Math.min(window, N - n);
            while (drafts.size() > W - 1) {
                drafts.removeLast();
                draftQ.removeLast();
            }
            while (drafts.size() < W - 1) {
                drafts.add(fresh(init, rowWidth, c, n, drafts, V, rng));
                draftQ.add(null);
            }
            int[] input = new int[W];
            input[0] = c[n - 1];
            for (int i = 1; i < W; i++) input[i] = drafts.get(i - 1);
            float[][] logits = target.feed(input);
            float[][] p = new float[W][];
            int[] s = new int[W];
            for (int i = 0; i < W; i++) {
                p[i] = dist.probabilities(logits[i], 0, V);
                s[i] = dist.sample(p[i], rng);
            }
            int a = W - 1;
            for (int i = 1; i < W; i++) {
                int d = drafts.get(i - 1);
                float[] q = draftQ.get(i - 1);
                proposed++;
                int y;
                if (greedy) y = TokenDistribution.argmax(p[i - 1]);
                else if (bug == Bug.ACCEPT_ALL || (bug == Bug.CARRIED_ALWAYS_ACCEPTED && q != null)) y = d;
                else if (bug == Bug.RESIDUAL_IS_P)
                    y = rng.nextDouble() < Math.min(1.0, p[i - 1][d] / (q == null ? 1.0 : q[d]))
                            ? d
                            : Speculation.sample(p[i - 1], rng);
                else y = Speculation.acceptOrResample(p[i - 1], p[i - 1], q, d, rng);
                if (y == d) {
                    accepted++;
                    s[i - 1] = d;
                } else {
                    s[i - 1] = y;
                    a = i - 1;
                    break;
                }
            }
            for (int i = 0; i <= a; i++) c[n + i] = s[i];
            drafts.clear();
            draftQ.clear();
            for (int i = a + 1; i < W; i++) {
                drafts.add(s[i]);
                int from = switch (bug) {
                    case CARRIED_Q_OF_PREVIOUS_SLOT -> i - 1;
                    case CARRIED_Q_OF_NEXT_SLOT -> Math.min(i + 1, W - 1);
                    default -> i;
                };
                draftQ.add(greedy || bug == Bug.CARRIED_AS_ONE_HOT ? null : p[from]);
            }
            target.truncate(n + a + (a < W - 1 && bug == Bug.CACHE_KEEPS_REJECTED ? 1 : 0));
            n += a + 1;
        }
        return new Sampled(c, new SamplerStats("mutant", 1, N, target.forwards(), 0, proposed, accepted, 0));
    }

    private static int fresh(
            JacobiSampler.Init init, int rowWidth, int[] c, int n, List<Integer> drafts, int V, TorchGenerator rng) {
        int pos = n + drafts.size();
        if (init == JacobiSampler.Init.REPEAT_HORIZON && rowWidth > 0 && pos % rowWidth != 0) {
            int left = pos - 1;
            return left < n ? c[left] : drafts.get(left - n);
        }
        return (int) (rng.nextDouble() * V);
    }
}
