package dev.tessera.engine.nn;

import dev.tessera.engine.ops.Ops;

/**
 * The key/value cache of a stack of attention layers, for {@code rows} sequences of up to {@code capacity}
 * positions, in the layout {@link Ops#attention} reads: keys transposed, {@code kT[((b·H + h)·d + e)·capacity + t]},
 * values {@code v[((b·H + h)·capacity + t)·d + e]}. A step writes the keys and values of its n new positions into
 * every layer ({@link #store}), attends over the cached prefix plus those positions ({@link #attend}), and then
 * makes them part of the prefix ({@link #advance}).
 */
public final class KvCache {
    private final int rows, heads, headDim, capacity;
    private final float[][] kT, v;
    private int length;

    public KvCache(int layers, int rows, int heads, int headDim, int capacity) {
        this.rows = rows;
        this.heads = heads;
        this.headDim = headDim;
        this.capacity = capacity;
        int size = Math.multiplyExact(Math.multiplyExact(rows, heads * headDim), capacity);
        kT = new float[layers][size];
        v = new float[layers][size];
    }

    /** Positions held. */
    public int length() {
        return length;
    }

    public int rows() {
        return rows;
    }

    public int capacity() {
        return capacity;
    }

    /** Forgets every position from {@code newLength} on (rejected drafts). */
    public void truncate(int newLength) {
        if (newLength < 0 || newLength > length)
            throw new IllegalArgumentException("cannot truncate " + length + " to " + newLength);
        length = newLength;
    }

    /** Makes the n positions written by the last {@link #store} calls part of the prefix. */
    public void advance(int n) {
        if (length + n > capacity) throw new IllegalStateException("cache of " + capacity + " positions is full");
        length += n;
    }

    /**
     * Writes the keys and values of n new positions per row into {@code layer} at positions
     * {@code [length, length + n)}: the key of row b's token t, head h, element e is
     * {@code src[srcOff + (b·n + t)·ld + kOff + h·d + e]}, its value the same at {@code vOff}.
     */
    public void store(int layer, float[] src, int srcOff, int ld, int kOff, int vOff, int n) {
        store(layer, rows, src, srcOff, ld, kOff, vOff, n);
    }

    /** {@link #store} for the first {@code rows} sequences only (a smaller batch in the same cache). */
    public void store(int layer, int rows, float[] src, int srcOff, int ld, int kOff, int vOff, int n) {
        if (length + n > capacity) throw new IllegalStateException("cache of " + capacity + " positions is full");
        if (rows > this.rows) throw new IllegalArgumentException(rows + " rows in a cache of " + this.rows);
        int d = headDim, cap = capacity;
        float[] k = kT[layer], vv = v[layer];
        for (int b = 0; b < rows; b++) {
            int s = srcOff + b * n * ld;
            for (int h = 0; h < heads; h++) {
                int bh = b * heads + h, ks = s + kOff + h * d;
                // key element e of the n positions: n consecutive floats of row e of the transposed keys
                for (int e = 0; e < d; e++) {
                    int row = (bh * d + e) * cap + length;
                    for (int t = 0; t < n; t++) k[row + t] = src[ks + t * ld + e];
                }
                for (int t = 0; t < n; t++)
                    System.arraycopy(src, s + t * ld + vOff + h * d, vv, (bh * cap + length + t) * d, d);
            }
        }
    }

    /**
     * Attention of the n new queries of every row ({@code q[qOff + (b·n + i)·ldq + h·d + e]}) over the prefix and
     * the n stored positions, into {@code out[outOff + (b·n + i)·ldo + h·d + e]}; see {@link Ops#attention}.
     */
    public void attend(
            Ops ops,
            int layer,
            float[] q,
            int qOff,
            int ldq,
            int n,
            boolean causal,
            float[] scale,
            float[] out,
            int outOff,
            int ldo) {
        attend(ops, layer, rows, q, qOff, ldq, n, causal, scale, out, outOff, ldo);
    }

    /** {@link #attend} for the first {@code rows} sequences only. */
    public void attend(
            Ops ops,
            int layer,
            int rows,
            float[] q,
            int qOff,
            int ldq,
            int n,
            boolean causal,
            float[] scale,
            float[] out,
            int outOff,
            int ldo) {
        if (rows > this.rows) throw new IllegalArgumentException(rows + " rows in a cache of " + this.rows);
        ops.attention(
                rows,
                heads,
                n,
                headDim,
                q,
                qOff,
                ldq,
                kT[layer],
                v[layer],
                capacity,
                length + n,
                causal,
                scale,
                out,
                outOff,
                ldo);
    }
}
