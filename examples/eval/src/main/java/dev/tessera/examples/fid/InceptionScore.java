package dev.tessera.examples.fid;

import dev.tessera.engine.TesseraException;
import java.util.Arrays;

/**
 * The Inception Score {@code exp(E_x KL(p(y|x) ‖ p(y)))} over the 1008 bias-free logits, as torch-fidelity
 * computes it: rows shuffled by NumPy's {@code RandomState(seed).permutation(N)} (seed 2020 by default), 10
 * consecutive splits {@code [i·N/10, (i+1)·N/10)}, p(y) the mean of p(y|x) within each split, float64; the mean and
 * the (population) standard deviation over the splits. Shuffling matters: samples stored by class would make each
 * split cover a tenth of the classes.
 *
 * @param mean the Inception Score
 * @param std  its spread over the splits
 */
public record InceptionScore(double mean, double std) {
    public static final int SPLITS = 10;
    public static final long SEED = 2020;

    public static InceptionScore of(float[] logits, int n, int classes) {
        return of(logits, n, classes, SPLITS, SEED);
    }

    public static InceptionScore of(float[] logits, int n, int classes, int splits, long seed) {
        if (logits.length != (long) n * classes)
            throw new IllegalArgumentException(logits.length + " logits for " + n + " x " + classes);
        if (n < splits)
            throw new TesseraException(
                    "the Inception Score needs at least " + splits + " samples (" + splits + " splits), got " + n);
        int[] order = new NumpyRandom(seed).permutation(n);
        double[] scores = new double[splits];
        double[] logp = new double[classes], q = new double[classes];
        for (int s = 0; s < splits; s++) {
            int from = (int) ((long) s * n / splits), to = (int) ((long) (s + 1) * n / splits);
            Arrays.fill(q, 0);
            for (int r = from; r < to; r++) {
                logSoftmax(logits, order[r] * classes, classes, logp);
                for (int c = 0; c < classes; c++) q[c] += Math.exp(logp[c]);
            }
            for (int c = 0; c < classes; c++) q[c] = Math.log(q[c] / (to - from));
            double kl = 0;
            for (int r = from; r < to; r++) {
                logSoftmax(logits, order[r] * classes, classes, logp);
                for (int c = 0; c < classes; c++) kl += Math.exp(logp[c]) * (logp[c] - q[c]);
            }
            scores[s] = Math.exp(kl / (to - from));
        }
        double mean = 0;
        for (double x : scores) mean += x;
        mean /= splits;
        double var = 0;
        for (double x : scores) var += (x - mean) * (x - mean);
        return new InceptionScore(mean, Math.sqrt(var / splits));
    }

    private static void logSoftmax(float[] x, int off, int n, double[] out) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, x[off + i]);
        double sum = 0;
        for (int i = 0; i < n; i++) sum += Math.exp(x[off + i] - max);
        double log = Math.log(sum);
        for (int i = 0; i < n; i++) out[i] = x[off + i] - max - log;
    }
}
