package dev.tessera.samplers.ar;

import dev.tessera.engine.ops.Parallel;
import java.util.Arrays;

/**
 * For every code of a VQ codebook, its k nearest other codes by Euclidean distance between the stored (not
 * normalised) codebook rows, nearest first (LANTERN's latent neighbourhoods {@code A_k(x)}; a code is not its own
 * neighbour). Computed once per tokenizer.
 */
public final class LatentNeighbours {
    private final int size, k;
    private final int[] table; // [size][k]

    private LatentNeighbours(int size, int k, int[] table) {
        this.size = size;
        this.k = k;
        this.table = table;
    }

    /** Builds the table from a codebook {@code [size, dim]} row-major. Ties keep the lower index first. */
    public static LatentNeighbours of(float[] codebook, int size, int dim, int k) {
        if (k < 0 || k > size - 1) throw new IllegalArgumentException("k must be in [0, " + (size - 1) + "]");
        int[] table = new int[size * k];
        Parallel.forRange(size, 16, (a0, a1) -> {
            double[] d = new double[size];
            long[] keyed = new long[size - 1];
            for (int a = a0; a < a1; a++) {
                for (int b = 0; b < size; b++) {
                    double s = 0;
                    for (int j = 0; j < dim; j++) {
                        double t = codebook[a * dim + j] - codebook[b * dim + j];
                        s += t * t;
                    }
                    d[b] = s;
                }
                int n = 0;
                for (int b = 0; b < size; b++) {
                    if (b == a) continue;
                    // squared distances are >= 0: their double bits order like the values; keep 32 bits of them
                    keyed[n++] = (Float.floatToIntBits((float) d[b]) & 0xffffffffL) << 32 | b;
                }
                if (k > 0 && k < n) select(keyed, n, k); // the k smallest first, in any order
                Arrays.sort(keyed, 0, k);
                for (int j = 0; j < k; j++) table[a * k + j] = (int) keyed[j];
            }
        });
        return new LatentNeighbours(size, k, table);
    }

    /** Partially orders {@code a[0..n)} so that its k smallest values come first (quickselect). */
    static void select(long[] a, int n, int k) {
        int lo = 0, hi = n - 1;
        while (lo < hi) {
            long pivot = a[(lo + hi) >>> 1];
            int i = lo, j = hi;
            while (i <= j) {
                while (a[i] < pivot) i++;
                while (a[j] > pivot) j--;
                if (i <= j) {
                    long t = a[i];
                    a[i] = a[j];
                    a[j] = t;
                    i++;
                    j--;
                }
            }
            if (k - 1 <= j) hi = j;
            else if (k - 1 >= i) lo = i;
            else return;
        }
    }

    /** The j-th nearest code of x (j = 0 is the nearest). */
    public int neighbour(int x, int j) {
        return table[x * k + j];
    }

    public int k() {
        return k;
    }

    public int size() {
        return size;
    }
}
