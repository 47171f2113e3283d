package dev.tessera.samplers.ar;

import dev.tessera.samplers.rng.TorchGenerator;
import java.util.ArrayList;
import java.util.List;

/**
 * Speculative Jacobi Decoding (Teng et al., ICLR 2025), training-free, one image at a time. A window of W
 * positions is re-predicted in every forward pass from the current guesses; a guess d for a slot is accepted with
 * probability {@code min(1, p_now(d) / Q(d))}, where Q is the distribution it was drawn from in the previous
 * iteration (one-hot for fresh guesses), and the first rejected slot takes a token from
 * {@code norm((p_now − Q)₊)}. Unaccepted positions keep their freshly sampled values as the next guesses; the key
 * /value entries of rejected guesses are cut. Token 0 comes from the condition pass, as in plain decoding.
 */
public final class JacobiSampler {
    /** How fresh guesses are made. */
    public enum Init {
        /** Uniform over the vocabulary (the SJD default). */
        RANDOM,
        /** Copy of the token to the left in the raster grid (column 0: uniform), SJD's LlamaGen setting. */
        REPEAT_HORIZON
    }

    private final int window;
    private final Init init;
    private final int rowWidth;
    private final TokenDistribution dist;

    /**
     * @param window   W, positions per forward (the committed token plus W−1 guesses); 16 in the released scripts
     * @param rowWidth tokens per raster row, for {@link Init#REPEAT_HORIZON}
     */
    public JacobiSampler(int window, Init init, int rowWidth, TokenDistribution dist) {
        if (window < 1) throw new IllegalArgumentException("the window must hold at least 1 position");
        this.window = window;
        this.init = init;
        this.rowWidth = rowWidth;
        this.dist = dist;
    }

    public Sampled run(TokenSequence target, TorchGenerator rng) {
        long t0 = System.nanoTime();
        int N = target.length(), V = target.vocab();
        boolean greedy = dist.greedy();
        int[] c = new int[N];
        c[0] = dist.sample(dist.probabilities(target.first(), 0, V), rng);
        int n = 1, proposed = 0, accepted = 0;
        List<Integer> drafts = new ArrayList<>();
        List<float[]> draftQ = new ArrayList<>(); // null = one-hot (a fresh guess)
        while (n < N) {
            int W = Math.min(window, N - n);
            while (drafts.size() > W - 1) {
                drafts.removeLast();
                draftQ.removeLast();
            }
            while (drafts.size() < W - 1) {
                drafts.add(fresh(c, n, drafts, V, rng));
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
                proposed++;
                int y = greedy
                        ? TokenDistribution.argmax(p[i - 1])
                        : Speculation.acceptOrResample(p[i - 1], p[i - 1], draftQ.get(i - 1), d, rng);
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
            // the slots after the commit keep their fresh samples, with the distributions they came from
            drafts.clear();
            draftQ.clear();
            for (int i = a + 1; i < W; i++) {
                drafts.add(s[i]);
                draftQ.add(greedy ? null : p[i]);
            }
            target.truncate(n + a); // c[n-1] and the accepted guesses stay cached
            n += a + 1;
        }
        SamplerStats stats = new SamplerStats(
                "sjd", 1, N, target.forwards(), 0, proposed, accepted, (System.nanoTime() - t0) * 1e-9);
        return new Sampled(c, stats);
    }

    /** A new guess for position {@code n + drafts.size()}. */
    private int fresh(int[] c, int n, List<Integer> drafts, int V, TorchGenerator rng) {
        int pos = n + drafts.size();
        if (init == Init.REPEAT_HORIZON && rowWidth > 0 && pos % rowWidth != 0) {
            int left = pos - 1; // committed or already guessed
            return left < n ? c[left] : drafts.get(left - n);
        }
        return (int) (rng.nextDouble() * V);
    }
}
