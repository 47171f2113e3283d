package dev.tessera.samplers.ar;

import dev.tessera.samplers.rng.TorchGenerator;
import java.util.Arrays;

/**
 * Speculative sampling with a draft model (Leviathan et al. 2023; Chen et al. 2023), one image at a time. Each
 * round the draft proposes γ tokens (γ draft forwards), the target scores them in one forward, and the
 * {@link Verifier} keeps the longest acceptable prefix plus one token from the residual (or a bonus token when all
 * pass). Rejected drafts are cut from both key/value caches. With the exact verifier the output distribution is
 * that of the target; with {@link LanternVerifier} it is LANTERN's relaxed one.
 */
public final class SpeculativeSampler {
    private final int gamma;
    private final TokenDistribution dist;
    private final Verifier verifier;
    private final String name;

    public SpeculativeSampler(int gamma, TokenDistribution dist, Verifier verifier, String name) {
        if (gamma < 1) throw new IllegalArgumentException("gamma must be at least 1");
        this.gamma = gamma;
        this.dist = dist;
        this.verifier = dist.greedy() ? Verifier.GREEDY : verifier;
        this.name = name;
    }

    public Sampled run(TokenSequence target, TokenSequence draft, TorchGenerator rng) {
        if (draft.vocab() != target.vocab() || draft.length() != target.length()) {
            throw new IllegalArgumentException("the draft model must share the target's tokenizer and length");
        }
        long t0 = System.nanoTime();
        int N = target.length(), V = target.vocab();
        int[] c = new int[N];
        int proposed = 0, accepted = 0;

        // token 0 comes from the target's condition pass; the draft runs its own condition pass to stay in step
        c[0] = dist.sample(dist.probabilities(target.first(), 0, V), rng);
        draft.first();
        int n = 1; // committed; the target holds c[0..n-2], the last committed token is fed next round
        while (n < N) {
            int g = Math.min(gamma, N - n - 1);
            int[] x = new int[g];
            float[][] q = new float[g][];
            if (g > 0) {
                // the draft catches up on committed tokens it has not seen, then proposes g tokens
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
            if (next < 0) next = dist.sample(dist.probabilities(pl[g], 0, V), rng); // all passed: bonus token
            for (int i = 0; i < kept; i++) c[n + i] = x[i];
            c[n + kept] = next;
            // keep the verified prefix: c[n-1] and the accepted drafts; the new last token is fed next round
            target.truncate(n + kept);
            if (draft.fed() > n + kept) draft.truncate(n + kept);
            n += kept + 1;
        }
        SamplerStats stats = new SamplerStats(
                name, 1, N, target.forwards(), draft.forwards(), proposed, accepted, (System.nanoTime() - t0) * 1e-9);
        return new Sampled(c, stats);
    }
}
