package dev.tessera.examples.fid;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.ops.Ops;
import dev.tessera.engine.ops.Parallel;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Improved precision and recall (Kynkäänniemi et al. 2019) as the ADM evaluator computes them: each point's
 * radius is the squared distance to its k-th nearest neighbour within its own set (k = 3, the point itself not
 * counted); precision is the fraction of samples within the radius of at least one reference point, recall the
 * fraction of reference points within the radius of at least one sample, both with {@code ≤}. Squared distances
 * are {@code max(‖u‖² − 2u·v + ‖v‖², 0)}, the dot products from the engine's float32 GEMM in blocks (ADM uses
 * float16 there; expect ±0.003 against its numbers).
 */
public record PrecisionRecall(double precision, double recall) {
    public static final int K = 3;
    private static final int BLOCK = 1024;

    public static PrecisionRecall of(float[] ref, int nRef, float[] samples, int nSamples, int dim) {
        if (nRef <= K || nSamples <= K) {
            throw new TesseraException("precision/recall need more than " + K + " vectors in each set (got " + nRef
                    + " reference and " + nSamples + " samples)");
        }
        double[] rRef = radii(ref, nRef, dim), rSam = radii(samples, nSamples, dim);
        boolean[] samInRef = new boolean[nSamples], refInSam = new boolean[nRef];
        double[] nr = norms(ref, nRef, dim), ns = norms(samples, nSamples, dim);
        forBlocks(samples, nSamples, ns, ref, nRef, nr, dim, (i, j, d2) -> {
            if (d2 <= rRef[j]) samInRef[i] = true;
            if (d2 <= rSam[i]) refInSam[j] = true;
        });
        return new PrecisionRecall(fraction(samInRef), fraction(refInSam));
    }

    /** The (K+1)-th smallest squared distance of every point to its own set (the first is the point itself). */
    static double[] radii(float[] x, int n, int dim) {
        double[] norms = norms(x, n, dim);
        double[][] best = new double[n][K + 1];
        for (double[] b : best) Arrays.fill(b, Double.POSITIVE_INFINITY);
        forBlocks(x, n, norms, x, n, norms, dim, (i, j, d2) -> insert(best[i], d2));
        double[] r = new double[n];
        for (int i = 0; i < n; i++) r[i] = best[i][K];
        return r;
    }

    /** Keeps the K+1 smallest values, ascending. */
    private static void insert(double[] b, double v) {
        if (v >= b[K]) return;
        int p = K;
        while (p > 0 && b[p - 1] > v) {
            b[p] = b[p - 1];
            p--;
        }
        b[p] = v;
    }

    interface PairVisitor {
        void visit(int i, int j, double squaredDistance);
    }

    /** Visits every pair (row i of u, row j of v) with its squared distance, in blocks of rows. */
    private static void forBlocks(
            float[] u, int nu, double[] normU, float[] v, int nv, double[] normV, int dim, PairVisitor visitor) {
        float[] dots = new float[BLOCK * BLOCK];
        for (int j0 = 0; j0 < nv; j0 += BLOCK) {
            int bj = Math.min(BLOCK, nv - j0);
            float[] vt = new float[dim * bj];
            for (int j = 0; j < bj; j++) {
                for (int k = 0; k < dim; k++) vt[k * bj + j] = v[(j0 + j) * dim + k];
            }
            for (int i0 = 0; i0 < nu; i0 += BLOCK) {
                int bi = Math.min(BLOCK, nu - i0);
                Ops.cpu()
                        .gemm(
                                bi,
                                bj,
                                dim,
                                MemorySegment.ofArray(u),
                                (long) i0 * dim,
                                dim,
                                vt,
                                0,
                                bj,
                                dots,
                                0,
                                bj,
                                false);
                int fi0 = i0, fj0 = j0;
                // rows split between cores: a visitor may update per-row state freely; per-column flags are only
                // ever set to true, which concurrent writers cannot spoil
                Parallel.forRange(bi, 64, (r0, r1) -> {
                    for (int i = r0; i < r1; i++) {
                        for (int j = 0; j < bj; j++) {
                            double d2 = Math.max(normU[fi0 + i] - 2.0 * dots[i * bj + j] + normV[fj0 + j], 0);
                            visitor.visit(fi0 + i, fj0 + j, d2);
                        }
                    }
                });
            }
        }
    }

    private static double[] norms(float[] x, int n, int dim) {
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int k = 0; k < dim; k++) s += (double) x[i * dim + k] * x[i * dim + k];
            out[i] = s;
        }
        return out;
    }

    private static double fraction(boolean[] flags) {
        int c = 0;
        for (boolean f : flags) if (f) c++;
        return (double) c / flags.length;
    }
}
