package dev.tessera.examples.fid;

/** N feature vectors of dimension D, row-major, read as float64 blocks (float32 features are widened exactly). */
public interface FeatureRows {
    int count();

    int dim();

    /** Copies rows {@code [from, from + n)} into {@code dst} (row-major, {@code n·dim} values). */
    void rows(int from, int n, double[] dst);

    static FeatureRows of(float[] data, int count, int dim) {
        check(data.length, count, dim);
        return new FeatureRows() {
            public int count() {
                return count;
            }

            public int dim() {
                return dim;
            }

            public void rows(int from, int n, double[] dst) {
                for (int i = 0; i < n * dim; i++) dst[i] = data[from * dim + i];
            }
        };
    }

    static FeatureRows of(double[] data, int count, int dim) {
        check(data.length, count, dim);
        return new FeatureRows() {
            public int count() {
                return count;
            }

            public int dim() {
                return dim;
            }

            public void rows(int from, int n, double[] dst) {
                System.arraycopy(data, from * dim, dst, 0, n * dim);
            }
        };
    }

    private static void check(long length, int count, int dim) {
        if (length != (long) count * dim)
            throw new IllegalArgumentException(length + " values for " + count + " x " + dim);
    }
}
