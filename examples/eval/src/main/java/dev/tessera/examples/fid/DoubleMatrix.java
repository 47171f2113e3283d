package dev.tessera.examples.fid;

import dev.tessera.engine.ops.Parallel;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Float64 matrix products for the statistics (covariances of 50,000 × 2048 features, the Fréchet distance's
 * 2048 × 2048 products). Matrices are row-major {@code double[]}. {@link #multiply} is blocked for the caches
 * (a panel of B of {@value #KC} × {@value #JC} stays in L2 while all rows of A pass over it), keeps a 4-row ×
 * 2-vector tile of C in registers, and splits rows between cores; {@link #multiplyNaive} is its test oracle.
 */
public final class DoubleMatrix {
    private static final VectorSpecies<Double> S = DoubleVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final int KC = 256, JC = 512, MR = 4;

    private DoubleMatrix() {}

    /** {@code C = A·B} for {@code A [n, k]} and {@code B [k, m]}. */
    public static double[] multiply(double[] a, double[] b, int n, int k, int m) {
        double[] c = new double[n * m];
        for (int k0 = 0; k0 < k; k0 += KC) {
            int kc = Math.min(KC, k - k0);
            for (int j0 = 0; j0 < m; j0 += JC) {
                int jc = Math.min(JC, m - j0), fk0 = k0, fj0 = j0;
                int blocks = (n + MR - 1) / MR;
                Parallel.forRange(blocks, 2, (b0, b1) -> {
                    for (int blk = b0; blk < b1; blk++) {
                        int i0 = blk * MR, rows = Math.min(MR, n - i0);
                        if (rows == MR) tile4(a, b, c, i0, k, m, fk0, kc, fj0, jc);
                        else for (int i = i0; i < i0 + rows; i++) tail(a, b, c, i, k, m, fk0, kc, fj0, fj0 + jc);
                    }
                });
            }
        }
        return c;
    }

    /** C[i0..i0+3][j0..j0+jc) += A[i0..i0+3][k0..k0+kc) · B[k0..k0+kc)[j0..j0+jc). */
    private static void tile4(
            double[] a, double[] b, double[] c, int i0, int k, int m, int k0, int kc, int j0, int jc) {
        int a0 = i0 * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k;
        int j = j0, end = j0 + jc;
        for (; j + 2 * L <= end; j += 2 * L) {
            DoubleVector c00 = DoubleVector.zero(S),
                    c01 = c00,
                    c10 = c00,
                    c11 = c00,
                    c20 = c00,
                    c21 = c00,
                    c30 = c00,
                    c31 = c00;
            for (int p = k0; p < k0 + kc; p++) {
                int bp = p * m + j;
                DoubleVector b0 = DoubleVector.fromArray(S, b, bp), b1 = DoubleVector.fromArray(S, b, bp + L);
                DoubleVector x = DoubleVector.broadcast(S, a[a0 + p]);
                c00 = x.fma(b0, c00);
                c01 = x.fma(b1, c01);
                x = DoubleVector.broadcast(S, a[a1 + p]);
                c10 = x.fma(b0, c10);
                c11 = x.fma(b1, c11);
                x = DoubleVector.broadcast(S, a[a2 + p]);
                c20 = x.fma(b0, c20);
                c21 = x.fma(b1, c21);
                x = DoubleVector.broadcast(S, a[a3 + p]);
                c30 = x.fma(b0, c30);
                c31 = x.fma(b1, c31);
            }
            add(c, i0 * m + j, c00, c01);
            add(c, (i0 + 1) * m + j, c10, c11);
            add(c, (i0 + 2) * m + j, c20, c21);
            add(c, (i0 + 3) * m + j, c30, c31);
        }
        for (int i = i0; i < i0 + MR; i++) tail(a, b, c, i, k, m, k0, kc, j, end);
    }

    private static void add(double[] c, int off, DoubleVector v0, DoubleVector v1) {
        DoubleVector.fromArray(S, c, off).add(v0).intoArray(c, off);
        DoubleVector.fromArray(S, c, off + L).add(v1).intoArray(c, off + L);
    }

    /** Scalar columns {@code [j, end)} of row i. */
    private static void tail(double[] a, double[] b, double[] c, int i, int k, int m, int k0, int kc, int j, int end) {
        for (int p = k0; p < k0 + kc; p++) {
            double x = a[i * k + p];
            int bp = p * m, cp = i * m;
            for (int q = j; q < end; q++) c[cp + q] += x * b[bp + q];
        }
    }

    /** The plain triple loop (the test oracle). */
    public static double[] multiplyNaive(double[] a, double[] b, int n, int k, int m) {
        double[] c = new double[n * m];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < m; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) s += a[i * k + p] * b[p * m + j];
                c[i * m + j] = s;
            }
        }
        return c;
    }

    /** {@code Aᵀ} of {@code A [n, m]}. */
    public static double[] transpose(double[] a, int n, int m) {
        double[] t = new double[n * m];
        for (int i0 = 0; i0 < n; i0 += 32) {
            for (int j0 = 0; j0 < m; j0 += 32) {
                for (int i = i0; i < Math.min(n, i0 + 32); i++) {
                    for (int j = j0; j < Math.min(m, j0 + 32); j++) t[j * n + i] = a[i * m + j];
                }
            }
        }
        return t;
    }

    /** {@code (A + Aᵀ)/2} in place, for a square matrix that should be symmetric up to rounding. */
    public static void symmetrize(double[] a, int n) {
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                double v = 0.5 * (a[i * n + j] + a[j * n + i]);
                a[i * n + j] = v;
                a[j * n + i] = v;
            }
        }
    }

    public static double trace(double[] a, int n) {
        double t = 0;
        for (int i = 0; i < n; i++) t += a[i * n + i];
        return t;
    }
}
