package dev.tessera.examples.fid;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.ops.Parallel;
import java.util.Arrays;

/**
 * Eigenvalues (and optionally eigenvectors) of a real symmetric matrix in float64, with no complex arithmetic:
 * Householder reduction to tridiagonal form {@code A = Q·T·Qᵀ}, then the implicit QL algorithm with Wilkinson
 * shifts on T (the EISPACK tred2/tql2 pair, written from the mathematics). Eigenvectors are Q times the
 * accumulated plane rotations. The O(n³) parts (the reduction's matrix-vector products and rank-2 updates,
 * building Q, applying the rotations) are split between cores; n = 2048 takes seconds.
 */
public final class SymmetricEigen {
    private static final double EPS = 0x1p-52;
    private static final int PARALLEL_FROM = 96;

    private SymmetricEigen() {}

    /**
     * The decomposition {@code A = Vᵀ·diag(values)·V}.
     *
     * @param values  ascending
     * @param vectors row j is the unit eigenvector of {@code values[j]} ({@code [n, n]} row-major), or null
     */
    public record Result(double[] values, double[] vectors, int n) {
        public double[] vector(int j) {
            return Arrays.copyOfRange(vectors, j * n, (j + 1) * n);
        }
    }

    /** Eigenvalues only (ascending). {@code a} is {@code [n, n]} row-major, symmetric, and is not modified. */
    public static double[] values(double[] a, int n) {
        return decompose(a, n, false).values();
    }

    /** Eigenvalues and, when {@code vectors}, eigenvectors. {@code a} is not modified. */
    public static Result decompose(double[] a, int n, boolean vectors) {
        if (a.length != n * n)
            throw new IllegalArgumentException("expected " + n + "x" + n + ", got " + a.length + " values");
        for (double x : a) {
            if (!Double.isFinite(x))
                throw new TesseraException("cannot decompose a matrix with NaN or infinite entries");
        }
        double[] w = a.clone();
        double[] d = new double[n], e = new double[n], beta = new double[n];
        tridiagonalize(w, n, d, e, beta);
        double[] z = vectors ? transformationTransposed(w, n, beta) : null;
        diagonalize(d, e, z, n);
        return sorted(d, z, n);
    }

    /**
     * Householder reduction: for k = 0..n−3 the reflector {@code I − β·v·vᵀ} on rows/columns k+1.. zeroes column k
     * below the subdiagonal. Leaves the diagonal in d, the subdiagonal in e (e[k] couples k and k+1), and each
     * reflector's v in row k of w (from column k+1) with its β.
     */
    private static void tridiagonalize(double[] w, int n, double[] d, double[] e, double[] beta) {
        double[] p = new double[n];
        for (int k = 0; k < n - 2; k++) {
            int s = k + 1, m = n - s, row = k * n;
            double tail = 0;
            for (int j = s + 1; j < n; j++) tail += w[row + j] * w[row + j];
            double x0 = w[row + s];
            d[k] = w[row + k];
            if (tail == 0) { // already tridiagonal in this column
                e[k] = x0;
                beta[k] = 0;
                continue;
            }
            double norm = Math.sqrt(x0 * x0 + tail);
            double alpha = x0 > 0 ? -norm : norm;
            w[row + s] = x0 - alpha; // v = x − α·e1, kept in row k
            double vv = w[row + s] * w[row + s] + tail;
            double b = 2 / vv;
            beta[k] = b;
            e[k] = alpha;
            // p = β·A22·v
            Parallel.forRange(m, m >= PARALLEL_FROM ? 16 : m, (i0, i1) -> {
                for (int i = s + i0; i < s + i1; i++) {
                    double acc = 0;
                    int ri = i * n;
                    for (int j = s; j < n; j++) acc += w[ri + j] * w[row + j];
                    p[i] = b * acc;
                }
            });
            double pv = 0;
            for (int i = s; i < n; i++) pv += p[i] * w[row + i];
            double kk = 0.5 * b * pv;
            for (int i = s; i < n; i++) p[i] -= kk * w[row + i]; // q = p − K·v
            // A22 −= v·qᵀ + q·vᵀ
            Parallel.forRange(m, m >= PARALLEL_FROM ? 16 : m, (i0, i1) -> {
                for (int i = s + i0; i < s + i1; i++) {
                    double vi = w[row + i], qi = p[i];
                    int ri = i * n;
                    for (int j = s; j < n; j++) w[ri + j] -= vi * p[j] + qi * w[row + j];
                }
            });
        }
        if (n >= 2) {
            d[n - 2] = w[(n - 2) * n + n - 2];
            e[n - 2] = w[(n - 2) * n + n - 1];
        }
        d[n - 1] = w[(n - 1) * n + n - 1];
        e[n - 1] = 0;
    }

    /**
     * Qᵀ with Q = H_0·H_1·…·H_{n−3}, built from the right end (each step touches only the trailing block that is
     * not yet the identity) and transposed, so that the QL rotations become operations on rows.
     */
    private static double[] transformationTransposed(double[] w, int n, double[] beta) {
        double[] q = new double[n * n];
        for (int i = 0; i < n; i++) q[i * n + i] = 1;
        double[] u = new double[n];
        for (int k = n - 3; k >= 0; k--) {
            if (beta[k] == 0) continue;
            int s = k + 1, m = n - s, row = k * n;
            double b = beta[k];
            // u = vᵀ·Q[s.., s..] (column ranges split between cores)
            Parallel.forRange(m, m >= PARALLEL_FROM ? 64 : m, (j0, j1) -> {
                Arrays.fill(u, s + j0, s + j1, 0);
                for (int i = s; i < n; i++) {
                    double vi = w[row + i];
                    int ri = i * n;
                    for (int j = s + j0; j < s + j1; j++) u[j] += vi * q[ri + j];
                }
            });
            // Q[s.., s..] −= β·v·uᵀ
            Parallel.forRange(m, m >= PARALLEL_FROM ? 16 : m, (i0, i1) -> {
                for (int i = s + i0; i < s + i1; i++) {
                    double f = b * w[row + i];
                    int ri = i * n;
                    for (int j = s; j < n; j++) q[ri + j] -= f * u[j];
                }
            });
        }
        return DoubleMatrix.transpose(q, n, n);
    }

    /**
     * Implicit QL with Wilkinson shifts on the tridiagonal (d, e); eigenvalues are left in d. When {@code z} is
     * given (rows = the current basis vectors), every plane rotation is applied to it: the rotations of a sweep
     * are recorded, then applied to column ranges of z in parallel.
     */
    private static void diagonalize(double[] d, double[] e, double[] z, int n) {
        int[] ri = new int[n];
        double[] rc = new double[n], rs = new double[n];
        // an off-diagonal element below ε·‖T‖ is negligible: eigenvalues are only determined to that (a test
        // relative to the neighbouring diagonal alone stalls on clusters of zero eigenvalues, which rank-deficient
        // covariances have by the thousand)
        double norm = 0;
        for (int i = 0; i < n; i++) norm = Math.max(norm, Math.abs(d[i]) + Math.abs(e[i]));
        double negligible = EPS * norm;
        for (int l = 0; l < n; l++) {
            int iter = 0;
            while (true) {
                int m = l;
                for (; m < n - 1; m++) {
                    if (Math.abs(e[m]) <= negligible) break;
                }
                if (m == l) break;
                if (++iter > 60)
                    throw new TesseraException("the symmetric eigensolver did not converge (n = " + n + ")");
                double g = (d[l + 1] - d[l]) / (2 * e[l]);
                double r = Math.hypot(g, 1.0);
                g = d[m] - d[l] + e[l] / (g + Math.copySign(r, g));
                double s = 1, c = 1, p = 0;
                int rotations = 0;
                boolean deflated = false;
                for (int i = m - 1; i >= l; i--) {
                    double f = s * e[i], b = c * e[i];
                    r = Math.hypot(f, g);
                    e[i + 1] = r;
                    if (r == 0) { // underflow: the matrix splits here
                        d[i + 1] -= p;
                        e[m] = 0;
                        deflated = true;
                        break;
                    }
                    s = f / r;
                    c = g / r;
                    g = d[i + 1] - p;
                    r = (d[i] - g) * s + 2 * c * b;
                    p = s * r;
                    d[i + 1] = g + p;
                    g = c * r - b;
                    ri[rotations] = i;
                    rc[rotations] = c;
                    rs[rotations] = s;
                    rotations++;
                }
                if (z != null && rotations > 0) rotate(z, n, ri, rc, rs, rotations);
                if (deflated) continue;
                d[l] -= p;
                e[l] = g;
                e[m] = 0;
            }
        }
    }

    /**
     * Rows i and i+1 of z: {@code (row_i, row_i+1) ← (c·row_i − s·row_i+1, s·row_i + c·row_i+1)}, rotations in order.
     */
    private static void rotate(double[] z, int n, int[] ri, double[] rc, double[] rs, int count) {
        Parallel.forRange(n, n >= PARALLEL_FROM && count >= 8 ? 64 : n, (k0, k1) -> {
            for (int t = 0; t < count; t++) {
                int a = ri[t] * n, b = a + n;
                double c = rc[t], s = rs[t];
                for (int k = k0; k < k1; k++) {
                    double x = z[a + k], y = z[b + k];
                    z[b + k] = s * x + c * y;
                    z[a + k] = c * x - s * y;
                }
            }
        });
    }

    private static Result sorted(double[] d, double[] z, int n) {
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Arrays.sort(order, (x, y) -> Double.compare(d[x], d[y]));
        double[] values = new double[n];
        double[] vectors = z == null ? null : new double[n * n];
        for (int j = 0; j < n; j++) {
            values[j] = d[order[j]];
            if (z != null) System.arraycopy(z, order[j] * n, vectors, j * n, n);
        }
        return new Result(values, vectors, n);
    }
}
