package dev.tessera.samplers.rng;

/**
 * One draw of {@code torch.multinomial(p, 1, ...)} from a row of probabilities, as PyTorch 1.13's CPU kernels make
 * it. The two calls the official samplers use consume the generator differently:
 * <ul>
 *   <li>{@code replacement=True} (VAR's helper): one float64 uniform per row, located by binary search in the
 *       float32 cumulative sum normalised by its total (last bucket forced to 1);</li>
 *   <li>{@code replacement=False}, the default (LlamaGen/NAR): one Exp(1) draw q per entry of the row, the result is
 *       {@code argmax p/q} with the first index winning ties.</li>
 * </ul>
 * Both were checked draw for draw against {@code torch.multinomial} with {@code torch.Generator('cpu')}.
 */
public final class TorchMultinomial {
    private TorchMultinomial() {
    }

    /** {@code torch.multinomial(p, 1, replacement=True)} for {@code p[off .. off+V)}. */
    public static int withReplacement(float[] p, int off, int V, TorchGenerator rng) {
        float[] cum = new float[V];
        float sum = 0f;
        for (int j = 0; j < V; j++) {
            sum += p[off + j];
            cum[j] = sum;
        }
        if (!(sum > 0f)) throw new IllegalArgumentException("invalid multinomial distribution (sum of probabilities <= 0)");
        for (int j = 0; j < V; j++) cum[j] /= sum;
        double u = rng.nextDouble();
        cum[V - 1] = 1f;
        int left = 0, right = V;
        while (right - left > 0) {
            int mid = left + (right - left) / 2;
            if (cum[mid] < u) left = mid + 1;
            else right = mid;
        }
        return left;
    }

    /** {@code torch.multinomial(p, 1)} (without replacement) for {@code p[off .. off+V)}: V exponential draws. */
    public static int withoutReplacement(float[] p, int off, int V, TorchGenerator rng) {
        int best = 0;
        float bestScore = -1f;
        for (int v = 0; v < V; v++) {
            float score = p[off + v] / rng.nextExponential();
            if (score > bestScore) {
                bestScore = score;
                best = v;
            }
        }
        return best;
    }
}
