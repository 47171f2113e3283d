package dev.tessera.engine.nn;

import dev.tessera.engine.ops.KvStorage;
import dev.tessera.engine.ops.Ops;

/**
 * The key/value cache of a stack of attention layers, for {@code rows} sequences of up to {@code capacity}
 * positions, kept by the backend that computes the attention ({@link Ops#allocateKv}: host arrays on the CPU, device
 * memory on an accelerator). A step writes the keys and values of its n new positions into every layer
 * ({@link #store}), attends over the cached prefix plus those positions ({@link #attend}), and then makes them part
 * of the prefix ({@link #advance}). {@link #close} gives the storage back at once (otherwise it goes when the cache is
 * unreachable).
 */
public final class KvCache implements AutoCloseable {
    private final Ops ops;
    private final KvStorage storage;
    private int length;

    public KvCache(Ops ops, int layers, int rows, int heads, int headDim, int capacity) {
        this.ops = ops;
        this.storage = ops.allocateKv(layers, rows, heads, headDim, capacity);
    }

    /** Positions held. */
    public int length() {
        return length;
    }

    public int rows() {
        return storage.rows();
    }

    public int capacity() {
        return storage.capacity();
    }

    /** Forgets every position from {@code newLength} on (rejected drafts). */
    public void truncate(int newLength) {
        if (newLength < 0 || newLength > length)
            throw new IllegalArgumentException("cannot truncate " + length + " to " + newLength);
        length = newLength;
    }

    /** Makes the n positions written by the last {@link #store} calls part of the prefix. */
    public void advance(int n) {
        if (length + n > capacity()) throw new IllegalStateException("cache of " + capacity() + " positions is full");
        length += n;
    }

    /**
     * Writes the keys and values of n new positions per row into {@code layer} at positions
     * {@code [length, length + n)}: the key of row b's token t, head h, element e is
     * {@code src[srcOff + (b·n + t)·ld + kOff + h·d + e]}, its value the same at {@code vOff}.
     */
    public void store(int layer, float[] src, int srcOff, int ld, int kOff, int vOff, int n) {
        store(layer, rows(), src, srcOff, ld, kOff, vOff, n);
    }

    /** {@link #store} for the first {@code rows} sequences only (a smaller batch in the same cache). */
    public void store(int layer, int rows, float[] src, int srcOff, int ld, int kOff, int vOff, int n) {
        if (length + n > capacity()) throw new IllegalStateException("cache of " + capacity() + " positions is full");
        if (rows > rows()) throw new IllegalArgumentException(rows + " rows in a cache of " + rows());
        ops.storeKv(storage, layer, rows, length, src, srcOff, ld, kOff, vOff, n);
    }

    /**
     * Attention of the n new queries of every row ({@code q[qOff + (b·n + i)·ldq + h·d + e]}) over the prefix and
     * the n stored positions, into {@code out[outOff + (b·n + i)·ldo + h·d + e]}; see {@link Ops#attention}.
     */
    public void attend(
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
        attend(layer, rows(), q, qOff, ldq, n, causal, scale, out, outOff, ldo);
    }

    /** {@link #attend} for the first {@code rows} sequences only. */
    public void attend(
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
        if (rows > rows()) throw new IllegalArgumentException(rows + " rows in a cache of " + rows());
        ops.attendKv(storage, layer, rows, n, q, qOff, ldq, length + n, causal, scale, out, outOff, ldo);
    }

    /** Gives the storage back to the backend; the cache must not be used afterwards. */
    @Override
    public void close() {
        ops.releaseKv(storage);
    }
}
