package dev.tessera.examples.fid;

import dev.tessera.engine.TesseraException;

/**
 * The mean and covariance of a set of feature vectors, in float64 as every reference tool computes them:
 * {@code mu = mean(x)}, {@code sigma = np.cov(x, rowvar=False)} (divisor N − 1). Two passes: the mean, then the
 * centred products accumulated block by block with {@link DoubleMatrix#multiply}.
 *
 * @param mu    [D]
 * @param sigma [D, D] row-major
 * @param count how many vectors (0 when read from a file that does not say)
 */
public record FeatureStats(double[] mu, double[] sigma, int dim, long count) {
    private static final int BLOCK = 512;

    public FeatureStats {
        if (mu.length != dim || sigma.length != (long) dim * dim) {
            throw new IllegalArgumentException(
                    "mu [" + mu.length + "] and sigma [" + sigma.length + "] for dimension " + dim);
        }
    }

    public static FeatureStats of(FeatureRows x) {
        int n = x.count(), d = x.dim();
        if (n < 2) throw new TesseraException("statistics need at least 2 feature vectors, got " + n);
        double[] mu = mean(x);
        double[] sigma = new double[d * d];
        double[] block = new double[BLOCK * d];
        for (int from = 0; from < n; from += BLOCK) {
            int rows = Math.min(BLOCK, n - from);
            centred(x, from, rows, mu, block);
            double[] t = DoubleMatrix.transpose(block, rows, d);
            double[] part = DoubleMatrix.multiply(t, block, d, rows, d);
            for (int i = 0; i < part.length; i++) sigma[i] += part[i];
        }
        for (int i = 0; i < sigma.length; i++) sigma[i] /= n - 1;
        DoubleMatrix.symmetrize(sigma, d);
        return new FeatureStats(mu, sigma, d, n);
    }

    static double[] mean(FeatureRows x) {
        int n = x.count(), d = x.dim();
        double[] mu = new double[d];
        double[] block = new double[BLOCK * d];
        for (int from = 0; from < n; from += BLOCK) {
            int rows = Math.min(BLOCK, n - from);
            x.rows(from, rows, block);
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < d; j++) mu[j] += block[r * d + j];
            }
        }
        for (int j = 0; j < d; j++) mu[j] /= n;
        return mu;
    }

    /** Rows {@code [from, from + rows)} minus the mean, into {@code dst}. */
    static void centred(FeatureRows x, int from, int rows, double[] mu, double[] dst) {
        int d = x.dim();
        x.rows(from, rows, dst);
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < d; j++) dst[r * d + j] -= mu[j];
        }
    }
}
