package dev.tessera.samplers.ar;

import dev.tessera.samplers.Softmax;
import dev.tessera.samplers.rng.TorchGenerator;
import dev.tessera.samplers.rng.TorchMultinomial;
import java.util.Arrays;

/**
 * LlamaGen's token choice ({@code autoregressive/models/generate.py}): logits divided by {@code max(T, 1e-5)},
 * Hugging Face style top-k (keep logits ≥ the k-th largest) and top-p (sorted descending, drop where the
 * cumulative probability exceeds p, always keeping the first), softmax in float32, then
 * {@code torch.multinomial(probs, 1)}. The same processed distribution is the {@code p} and {@code q} of every
 * speculative acceptance test.
 *
 * @param temperature {@code T}; values below 1e-5 act as 1e-5
 * @param topK        0 = off
 * @param topP        1 = off
 */
public record TokenDistribution(double temperature, int topK, double topP) {

    public TokenDistribution {
        if (!(temperature >= 0)) throw new IllegalArgumentException("temperature must be >= 0");
        if (topK < 0) throw new IllegalArgumentException("top-k must be >= 0");
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top-p must be in (0, 1]");
    }

    /** Plain sampling from the model's distribution. */
    public static final TokenDistribution PLAIN = new TokenDistribution(1.0, 0, 1.0);

    /** Greedy: top-k 1 (argmax, first on ties). */
    public boolean greedy() {
        return topK == 1;
    }

    /** The processed distribution of one row of logits (a new array; {@code logits} is not changed). */
    public float[] probabilities(float[] logits, int off, int V) {
        return probabilitiesInPlace(Arrays.copyOfRange(logits, off, off + V));
    }

    /** {@link #probabilities} of a whole array of logits the caller no longer needs, computed in it (returned). */
    public float[] probabilitiesInPlace(float[] l) {
        int V = l.length;
        float inv = (float) Math.max(temperature, 1e-5);
        for (int v = 0; v < V; v++) l[v] = l[v] / inv;
        if (topK > 0 && topK < V) {
            float[] sorted = l.clone();
            Arrays.sort(sorted);
            float kth = sorted[V - topK];
            for (int v = 0; v < V; v++) if (l[v] < kth) l[v] = Float.NEGATIVE_INFINITY;
        }
        if (topP < 1.0) topP(l, V);
        Softmax.inPlace(l, 0, V);
        return l;
    }

    /**
     * Removes, in descending order, every entry after the first whose cumulative probability exceeds p (masked
     * entries have probability 0 and stay masked, so only the finite ones are sorted).
     */
    private void topP(float[] l, int V) {
        long[] keyed = new long[V];
        int n = 0;
        for (int v = 0; v < V; v++) {
            if (l[v] != Float.NEGATIVE_INFINITY)
                keyed[n++] = ((long) ~sortableBits(l[v]) << 32) | v; // descending value, then index
        }
        Arrays.sort(keyed, 0, n);
        float[] sorted = new float[n];
        for (int i = 0; i < n; i++) sorted[i] = l[(int) keyed[i]];
        float[] p = softmax(sorted);
        double cum = 0; // PyTorch's CPU cumsum accumulates float32 values in float64
        float limit = (float) topP;
        boolean previousAbove = false;
        for (int i = 0; i < n; i++) {
            if (previousAbove) l[(int) keyed[i]] = Float.NEGATIVE_INFINITY; // shifted right: keep the first above
            cum += p[i];
            previousAbove = (float) cum > limit;
        }
    }

    /** Float bits as an int whose signed order is the float order. */
    private static int sortableBits(float x) {
        int b = Float.floatToIntBits(x);
        return b >= 0 ? b : b ^ 0x7fffffff;
    }

    static float[] softmax(float[] l) {
        float[] p = l.clone();
        Softmax.inPlace(p, 0, p.length);
        return p;
    }

    /**
     * The logits to sample position {@code logits[c .. c+V)} from: under guidance the official
     * {@code u + (c − u)·cfg} with the unconditional row at {@code u} (a multiply, then an add, two roundings),
     * else the conditional row as it is; a new array either way.
     */
    public static float[] guided(float[] logits, int c, int u, boolean apply, float cfg, int V) {
        float[] l = new float[V];
        if (!apply) {
            System.arraycopy(logits, c, l, 0, V);
            return l;
        }
        for (int v = 0; v < V; v++) l[v] = logits[u + v] + (logits[c + v] - logits[u + v]) * cfg;
        return l;
    }

    /** One token from processed probabilities: argmax when greedy, else {@code torch.multinomial(p, 1)}. */
    public int sample(float[] p, TorchGenerator rng) {
        if (greedy()) return argmax(p);
        return TorchMultinomial.withoutReplacement(p, 0, p.length, rng);
    }

    public static int argmax(float[] p) {
        int best = 0;
        for (int v = 1; v < p.length; v++) if (p[v] > p[best]) best = v;
        return best;
    }
}
