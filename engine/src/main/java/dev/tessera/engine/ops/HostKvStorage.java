package dev.tessera.engine.ops;

/**
 * Key/value storage in host arrays, in the layout {@link Ops#attention} reads: keys transposed,
 * {@code kT[((b·H + h)·d + e)·capacity + t]}, values {@code v[((b·H + h)·capacity + t)·d + e]}, one pair of arrays
 * per layer.
 */
final class HostKvStorage implements KvStorage {
    private final int rows, heads, headDim, capacity;
    final float[][] kT, v;

    HostKvStorage(int layers, int rows, int heads, int headDim, int capacity) {
        this.rows = rows;
        this.heads = heads;
        this.headDim = headDim;
        this.capacity = capacity;
        int size = Math.multiplyExact(Math.multiplyExact(rows, heads * headDim), capacity);
        kT = new float[layers][size];
        v = new float[layers][size];
    }

    /** See {@link Ops#storeKv}. */
    void store(int layer, int rows, int at, float[] src, int srcOff, int ld, int kOff, int vOff, int n) {
        int d = headDim, cap = capacity;
        float[] k = kT[layer], vv = v[layer];
        for (int b = 0; b < rows; b++) {
            int s = srcOff + b * n * ld;
            for (int h = 0; h < heads; h++) {
                int bh = b * heads + h, ks = s + kOff + h * d;
                // key element e of the n positions: n consecutive floats of row e of the transposed keys
                for (int e = 0; e < d; e++) {
                    int row = (bh * d + e) * cap + at;
                    for (int t = 0; t < n; t++) k[row + t] = src[ks + t * ld + e];
                }
                for (int t = 0; t < n; t++)
                    System.arraycopy(src, s + t * ld + vOff + h * d, vv, (bh * cap + at + t) * d, d);
            }
        }
    }

    @Override
    public int layers() {
        return kT.length;
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int heads() {
        return heads;
    }

    @Override
    public int headDim() {
        return headDim;
    }

    @Override
    public int capacity() {
        return capacity;
    }
}
