package dev.tessera.samplers.mar;

import dev.tessera.samplers.rng.TorchGenerator;

/**
 * The part of NumPy's legacy global generator ({@code np.random.seed(s)}, i.e. {@code RandomState}) that MAR's
 * {@code sample_orders} uses: {@code np.random.shuffle} of a 1-D array, bit for bit. RandomState seeds its MT19937
 * with the same {@code init_genrand} as PyTorch's CPU generator, so the 32-bit words come from a
 * {@link TorchGenerator}; the shuffle is Fisher–Yates from the last element down, each index drawn in
 * {@code [0, i]} by masked rejection ({@code random_interval}). Not thread-safe: one per generation.
 */
public final class NumpyShuffle {
    private final TorchGenerator mt;

    /** {@code np.random.seed(seed)}: seeds must lie in {@code [0, 2³²)}, as NumPy requires. */
    public NumpyShuffle(long seed) {
        if (seed < 0 || seed > 0xffffffffL) {
            throw new IllegalArgumentException("NumPy seeds lie in [0, 2^32 - 1]; got " + seed);
        }
        mt = new TorchGenerator(seed);
    }

    /** A uniform integer in {@code [0, max]}, {@code max < 2³²}: the masked rejection of {@code random_interval}. */
    long interval(long max) {
        if (max == 0) return 0;
        long mask = max;
        for (int s = 1; s <= 16; s <<= 1) mask |= mask >>> s;
        long v;
        do {
            v = mt.nextU32() & mask;
        } while (v > max);
        return v;
    }

    /** {@code np.random.shuffle(a)} in place. */
    public void shuffle(int[] a) {
        for (int i = a.length - 1; i >= 1; i--) {
            int j = (int) interval(i);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    /** {@code order = np.array(range(n)); np.random.shuffle(order)}: one MAR generation order. */
    public int[] shuffledRange(int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = i;
        shuffle(a);
        return a;
    }
}
