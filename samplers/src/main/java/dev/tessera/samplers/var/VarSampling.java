package dev.tessera.samplers.var;

import dev.tessera.engine.ops.VectorMath;
import dev.tessera.samplers.Softmax;
import dev.tessera.samplers.rng.TorchGenerator;
import dev.tessera.samplers.rng.TorchMultinomial;
import java.util.Arrays;

/**
 * VAR's token choice ({@code models/helpers.py}, {@code sample_with_top_k_top_p_}), one row of V logits at a time:
 * <ol>
 *   <li>top-k (k &gt; 0): logits below the k-th largest become −∞ (ties with it survive);</li>
 *   <li>top-p (p &gt; 0): sort ascending, softmax, cumulative sum; entries whose cumulative sum is ≤ 1 − p become −∞,
 *       never the largest;</li>
 *   <li>softmax, then one {@code torch.multinomial(p, 1, replacement=True)} draw per row, rows in order (one
 *       float64 uniform each; see {@link TorchMultinomial}).</li>
 * </ol>
 * The filtering is done in place on the logits, as in the official code (the smoothed path reuses them).
 */
public final class VarSampling {
    private VarSampling() {}

    /** Applies top-k and top-p masking in place to {@code logits[off .. off+V)}. */
    public static void filter(float[] logits, int off, int V, int topK, double topP) {
        if (topK > 0 && topK < V) {
            float kth = kthLargest(logits, off, V, topK);
            for (int v = off; v < off + V; v++) if (logits[v] < kth) logits[v] = Float.NEGATIVE_INFINITY;
        }
        if (topP > 0) {
            // sort the finite entries ascending (masked ones have probability 0 and stay masked)
            long[] keyed = new long[V];
            int n = 0;
            for (int v = 0; v < V; v++) {
                float x = logits[off + v];
                if (x != Float.NEGATIVE_INFINITY) keyed[n++] = ((long) sortableBits(x) << 32) | v;
            }
            Arrays.sort(keyed, 0, n);
            float max = logits[off + (int) keyed[n - 1]];
            float[] e = new float[n];
            double sum = 0;
            for (int i = 0; i < n; i++) {
                e[i] = VectorMath.exp(logits[off + (int) keyed[i]] - max); // the exp of the softmax below
                sum += e[i];
            }
            // cumsum of the float32 softmax, accumulated in float64 as PyTorch's CPU cumsum does
            double cum = 0, limit = 1 - topP;
            for (int i = 0; i < n - 1; i++) {
                cum += (float) (e[i] / sum);
                if ((float) cum <= limit) logits[off + (int) keyed[i]] = Float.NEGATIVE_INFINITY;
            }
        }
    }

    /** Float bits mapped to an int whose signed order is the float order. */
    private static int sortableBits(float x) {
        int b = Float.floatToIntBits(x);
        return b >= 0 ? b : b ^ 0x7fffffff;
    }

    /** The k-th largest value of a row (a partial selection, O(V log k)). */
    static float kthLargest(float[] a, int off, int V, int k) {
        float[] copy = Arrays.copyOfRange(a, off, off + V);
        Arrays.sort(copy);
        return copy[V - k];
    }

    /** In-place softmax of a row, float32 like PyTorch's (max-subtracted). */
    public static void softmax(float[] x, int off, int V) {
        Softmax.inPlace(x, off, V);
    }

    /** One {@code torch.multinomial(p, 1, replacement=True)} draw, as VAR's helper calls it. */
    public static int multinomial(float[] p, int off, int V, TorchGenerator rng) {
        return TorchMultinomial.withReplacement(p, off, V, rng);
    }

    /** The index of the largest logit (the first on ties): top-k = 1 decoding. */
    public static int argmax(float[] x, int off, int V) {
        int best = 0;
        for (int v = 1; v < V; v++) if (x[off + v] > x[off + best]) best = v;
        return best;
    }
}
