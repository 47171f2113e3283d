package dev.tessera.examples.fid;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.ops.Ops;
import java.lang.foreign.MemorySegment;

/**
 * The Kernel Inception Distance (Bińkowski et al.): the unbiased MMD² with the polynomial kernel
 * {@code k(x, y) = (xᵀy/D + 1)³}, averaged over random subsets of m vectors of each set, drawn as torch-fidelity
 * draws them ({@code RandomState(seed).choice(N, m, replace=False)}, first set then second, per subset). The
 * within-set sums leave out the diagonal, the cross sum keeps it. Dot products run through the engine's float32
 * GEMM (torch-fidelity computes in float32 too); kernels and sums in float64.
 *
 * @param mean       KID (often printed ×10³)
 * @param std        its spread over the subsets
 * @param subsetSize the m used
 */
public record KernelInceptionDistance(double mean, double std, int subsets, int subsetSize) {
    public static final int SUBSETS = 100, SUBSET_SIZE = 1000;
    public static final long SEED = 2020;

    /**
     * With torch-fidelity's defaults (100 subsets of 1000, seed 2020), the subset size lowered to the smaller set's
     * size when a set has fewer than 1000 vectors (clean-fid's rule; torch-fidelity refuses instead).
     */
    public static KernelInceptionDistance of(float[] a, int na, float[] b, int nb, int dim) {
        return of(a, na, b, nb, dim, SUBSETS, Math.min(SUBSET_SIZE, Math.min(na, nb)), SEED);
    }

    public static KernelInceptionDistance of(
            float[] a, int na, float[] b, int nb, int dim, int subsets, int m, long seed) {
        if (m < 2) throw new TesseraException("KID needs at least 2 vectors in each set, got " + Math.min(na, nb));
        if (m > na || m > nb)
            throw new TesseraException(
                    "KID subset size " + m + " is larger than a set (" + na + " and " + nb + " vectors)");
        NumpyRandom rng = new NumpyRandom(seed);
        double[] mmd = new double[subsets];
        for (int s = 0; s < subsets; s++) {
            float[] x = gather(a, rng.choice(na, m), dim), y = gather(b, rng.choice(nb, m), dim);
            double xx = kernelSum(x, x, m, dim, true),
                    yy = kernelSum(y, y, m, dim, true),
                    xy = kernelSum(x, y, m, dim, false);
            mmd[s] = (xx + yy) / ((double) m * (m - 1)) - 2 * xy / ((double) m * m);
        }
        double mean = 0, var = 0;
        for (double v : mmd) mean += v;
        mean /= subsets;
        for (double v : mmd) var += (v - mean) * (v - mean);
        return new KernelInceptionDistance(mean, Math.sqrt(var / subsets), subsets, m);
    }

    private static float[] gather(float[] data, int[] rows, int dim) {
        float[] out = new float[rows.length * dim];
        for (int i = 0; i < rows.length; i++) System.arraycopy(data, rows[i] * dim, out, i * dim, dim);
        return out;
    }

    /** Σ_{i,j} k(x_i, y_j), leaving out i = j when {@code offDiagonal}. */
    private static double kernelSum(float[] x, float[] y, int m, int dim, boolean offDiagonal) {
        float[] yt = new float[dim * m];
        for (int i = 0; i < m; i++) {
            for (int k = 0; k < dim; k++) yt[k * m + i] = y[i * dim + k];
        }
        float[] dots = new float[m * m];
        Ops.cpu().gemm(m, m, dim, MemorySegment.ofArray(x), 0, dim, yt, 0, m, dots, 0, m, false);
        double sum = 0;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < m; j++) {
                if (offDiagonal && i == j) continue;
                double k = (double) dots[i * m + j] / dim + 1;
                sum += k * k * k;
            }
        }
        return sum;
    }
}
