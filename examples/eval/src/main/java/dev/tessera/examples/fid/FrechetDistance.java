package dev.tessera.examples.fid;

import dev.tessera.engine.TesseraException;

/**
 * The Fréchet distance between two Gaussians, {@code ‖μ1 − μ2‖² + tr Σ1 + tr Σ2 − 2·tr (Σ1·Σ2)^½}, without a
 * matrix square root of the non-symmetric product: its trace is the sum of the square roots of the eigenvalues of
 * Σ1·Σ2, which are those of the symmetric {@code M = Bᵀ·Σ2·B} with {@code B = V·diag(√w)} from
 * {@code Σ1 = V·diag(w)·Vᵀ}. Two symmetric eigendecompositions in float64; eigenvalues of either matrix below the
 * rounding
 * level {@code n·ε·λmax} (zero or negative ones from a rank-deficient covariance) count as zero, and B keeps only
 * the columns of the others. This agrees with
 * the sqrtm-based code of pytorch-fid, TTUR and the ADM evaluator to about 1e-10 relative on full-rank
 * statistics.
 *
 * <p>When one side is N vectors with N − 1 < D (its covariance has rank below D), {@link #of(FeatureRows,
 * FeatureStats)} uses the N × N matrix {@code Xc·Σ2·Xcᵀ/(N−1)} instead, whose nonzero eigenvalues are the same.
 */
public final class FrechetDistance {
    private FrechetDistance() {}

    /**
     * The distance and its parts.
     *
     * @param minEigenvalue the most negative eigenvalue met (of Σ1 or M) relative to the largest one; clearly
     *                      negative values (below −1e-6) mean the statistics are not proper covariances
     */
    public record Result(double distance, double meanTerm, double traceTerm, double minEigenvalue) {}

    public static Result of(FeatureStats a, FeatureStats b) {
        check(a.dim(), b.dim());
        int d = a.dim();
        SymmetricEigen.Result e1 = SymmetricEigen.decompose(a.sigma(), d, true);
        double[] w = e1.values();
        double top = Math.max(Math.abs(w[d - 1]), Double.MIN_NORMAL);
        double minRel = Math.min(0, w[0] / top);
        double floor = noiseFloor(w[d - 1], d);
        int r = 0;
        for (double x : w) if (x > floor) r++;
        // B [d, r]: eigenvectors of the positive eigenvalues, scaled by their square roots
        double[] bm = new double[d * r];
        for (int j = d - r, c = 0; j < d; j++, c++) {
            double sq = Math.sqrt(w[j]);
            for (int i = 0; i < d; i++) bm[i * r + c] = e1.vectors()[j * d + i] * sq;
        }
        double[] s2b = DoubleMatrix.multiply(b.sigma(), bm, d, d, r);
        double[] m = DoubleMatrix.multiply(DoubleMatrix.transpose(bm, d, r), s2b, r, d, r);
        TraceRoot t = traceRoot(m, r);
        return result(
                a.mu(),
                b.mu(),
                DoubleMatrix.trace(a.sigma(), d),
                DoubleMatrix.trace(b.sigma(), d),
                t.sum,
                Math.min(minRel, t.minRel));
    }

    /** The distance between the statistics of {@code x} and {@code b}, exploiting a low-rank covariance of x. */
    public static Result of(FeatureRows x, FeatureStats b) {
        check(x.dim(), b.dim());
        int n = x.count(), d = x.dim();
        if (n - 1 >= d) return of(FeatureStats.of(x), b);
        if (n < 2) throw new TesseraException("statistics need at least 2 feature vectors, got " + n);
        double[] mu = FeatureStats.mean(x);
        double[] xc = new double[n * d];
        FeatureStats.centred(x, 0, n, mu, xc);
        double traceA = 0;
        for (double v : xc) traceA += v * v;
        traceA /= n - 1;
        // Xc·Σ2·Xcᵀ/(N−1), an N × N symmetric PSD matrix
        double[] xs = DoubleMatrix.multiply(xc, b.sigma(), n, d, d);
        double[] m = DoubleMatrix.multiply(xs, DoubleMatrix.transpose(xc, n, d), n, d, n);
        for (int i = 0; i < m.length; i++) m[i] /= n - 1;
        TraceRoot t = traceRoot(m, n);
        return result(mu, b.mu(), traceA, DoubleMatrix.trace(b.sigma(), d), t.sum, t.minRel);
    }

    private record TraceRoot(double sum, double minRel) {}

    /** Σ √max(λ, 0) over the eigenvalues of a symmetric(-up-to-rounding) matrix. */
    private static TraceRoot traceRoot(double[] m, int n) {
        if (n == 0) return new TraceRoot(0, 0);
        DoubleMatrix.symmetrize(m, n);
        double[] lambda = SymmetricEigen.values(m, n);
        double top = Math.max(Math.abs(lambda[n - 1]), Double.MIN_NORMAL), s = 0, floor = noiseFloor(lambda[n - 1], n);
        for (double l : lambda) s += l > floor ? Math.sqrt(l) : 0;
        return new TraceRoot(s, Math.min(0, lambda[0] / top));
    }

    /**
     * Eigenvalues of an n × n symmetric matrix are only determined to about {@code n·ε·λmax}: below that they are
     * rounding noise (the zero eigenvalues of a rank-deficient covariance come out as ±1e-16·λmax), and their
     * square roots would add noise of order {@code √(n·ε)} relative. They count as zero.
     */
    private static double noiseFloor(double max, int n) {
        return Math.max(max, 0) * n * 0x1p-52;
    }

    private static Result result(double[] mu1, double[] mu2, double tr1, double tr2, double trRoot, double minRel) {
        double diff = 0;
        for (int i = 0; i < mu1.length; i++) diff += (mu1[i] - mu2[i]) * (mu1[i] - mu2[i]);
        double trace = tr1 + tr2 - 2 * trRoot;
        return new Result(diff + trace, diff, trace, minRel);
    }

    private static void check(int d1, int d2) {
        if (d1 != d2) throw new TesseraException("cannot compare statistics of dimension " + d1 + " and " + d2);
    }
}
