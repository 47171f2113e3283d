package dev.tessera.tokenizers.ldm;

import dev.tessera.engine.ops.Ops;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Reusable activation arrays for the convolutional autoencoders: layers take arrays of exact sizes and give them
 * back when done, so a decode allocates each size a few times instead of once per layer. Not thread-safe; one per
 * decoding thread. Arrays handed out hold stale values: every kernel writing into them overwrites all of them.
 *
 * <p>With a backend ({@link #Buffers(Ops)}) the arrays come from {@link Ops#allocate}, so an accelerator keeps them
 * on the device from one layer to the next; host code that reads or writes them says so ({@link Ops#toHost},
 * {@link Ops#hostWrote}).
 */
public final class Buffers {
    private final Map<Integer, ArrayDeque<float[]>> free = new HashMap<>();
    private final Set<Integer> taken = new HashSet<>();
    private final Ops ops; // null: plain arrays
    private boolean keepAll;

    /** Plain host arrays. */
    public Buffers() {
        this(null);
    }

    /** Arrays allocated through {@code ops} (null: plain host arrays). */
    public Buffers(Ops ops) {
        this.ops = ops;
    }

    /** The backend these arrays come from (null for plain host arrays). */
    public Ops ops() {
        return ops;
    }

    public float[] take(int size) {
        taken.add(size);
        ArrayDeque<float[]> q = free.get(size);
        if (q != null && !q.isEmpty()) return q.pop();
        return ops == null ? new float[size] : ops.allocate(size);
    }

    public FeatureMap map(int channels, int height, int width) {
        return new FeatureMap(take(channels * height * width), channels, height, width);
    }

    public void give(float[] a) {
        free.computeIfAbsent(a.length, k -> new ArrayDeque<>()).push(a);
    }

    public void give(FeatureMap m) {
        give(m.data());
    }

    /** Forgets the free arrays smaller than {@code size} floats, so their memory can be reclaimed (unless kept). */
    public void dropBelow(int size) {
        if (!keepAll) free.keySet().removeIf(k -> k < size);
    }

    /**
     * Whether {@link #dropBelow} keeps the smaller arrays: for buffers kept from one decode to the next, whose
     * coarser levels take the same sizes again.
     */
    public void keepAll(boolean keep) {
        keepAll = keep;
    }

    /**
     * Forgets the free arrays of sizes not taken since the last call (kept for another decode, arrays of an earlier,
     * larger image must not stay behind when the images get smaller).
     */
    public void dropUntaken() {
        free.keySet().removeIf(k -> !taken.contains(k));
        taken.clear();
    }
}
