package dev.tessera.samplers.rng;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

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
    /** Uniforms drawn ahead, at most (the stream advances exactly as one draw per entry). */
    private static final int BLOCK = 1024;

    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    private static final int DL = D.length();
    /** Floats of p, DL at a time (null where DL floats are no vector shape: the scalar loop alone then). */
    private static final VectorSpecies<Float> F = floats(DL);

    private static VectorSpecies<Float> floats(int lanes) {
        int bits = lanes * 32;
        return bits == 64 || bits == 128 || bits == 256 || bits == 512
                ? VectorSpecies.of(float.class, VectorShape.forBitSize(bits))
                : null;
    }

    private TorchMultinomial() {}

    /** {@code torch.multinomial(p, 1, replacement=True)} for {@code p[off .. off+V)}. */
    public static int withReplacement(float[] p, int off, int V, TorchGenerator rng) {
        float[] cum = new float[V];
        float sum = 0f;
        for (int j = 0; j < V; j++) {
            sum += p[off + j];
            cum[j] = sum;
        }
        if (!(sum > 0f))
            throw new IllegalArgumentException("invalid multinomial distribution (sum of probabilities <= 0)");
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

    /**
     * {@code torch.multinomial(p, 1)} (without replacement) for {@code p[off .. off+V)}: V exponential draws
     * {@code q = (float) -log1p(-u)}, the winner is the first {@code argmax p/q} in float32.
     *
     * <p>Every u is drawn (the stream must advance as PyTorch's does), but the logarithm is only taken where the
     * entry could still win: since {@code -ln(1 − u) ≥ u}, {@code u > (1 + 10⁻³)·p/best} already gives
     * {@code q > (1 + 10⁻³)·p/best}, so {@code p/q} stays below the best score even after rounding q and the
     * quotient to float32 (relative errors near 10⁻⁷). The result is draw for draw that of the full loop
     * ({@link #withoutReplacementFull}, kept for tests); typically a few dozen logarithms are taken instead of V.
     */
    public static int withoutReplacement(float[] p, int off, int V, TorchGenerator rng) {
        int best = 0;
        float bestScore = -1f;
        double bound = -1; // (1 + 10⁻³) / bestScore once bestScore > 0; negative: no bound yet
        double[] us = new double[Math.min(V, BLOCK)];
        for (int v0 = 0; v0 < V; v0 += BLOCK) {
            int m = Math.min(BLOCK, V - v0);
            rng.nextDoubles(us, 0, m); // the draws of the block at once
            for (int j = 0; j < m; ) {
                // DL entries at a time: skipped together when none of them can win (the test below, in every lane)
                if (bound > 0 && F != null && j + DL <= m) {
                    DoubleVector pv = (DoubleVector)
                            FloatVector.fromArray(F, p, off + v0 + j).convertShape(VectorOperators.F2D, D, 0);
                    if (DoubleVector.fromArray(D, us, j)
                            .compare(VectorOperators.GT, pv.mul(bound).add(1e-12))
                            .allTrue()) {
                        j += DL;
                        continue;
                    }
                }
                for (int e = Math.min(m, j + DL); j < e; j++) {
                    double u = us[j];
                    float pv = p[off + v0 + j];
                    if (bound > 0 && u > pv * bound + 1e-12) continue;
                    float score = pv / (float) -Math.log1p(-u);
                    if (score > bestScore) {
                        bestScore = score;
                        best = v0 + j;
                        if (score > 0f) bound = (1 + 1e-3) / score;
                    }
                }
            }
        }
        return best;
    }

    /** {@link #withoutReplacement} without the shortcut: one logarithm per entry. */
    static int withoutReplacementFull(float[] p, int off, int V, TorchGenerator rng) {
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
