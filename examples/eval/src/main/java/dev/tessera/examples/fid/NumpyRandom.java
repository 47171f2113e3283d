package dev.tessera.examples.fid;

import dev.tessera.samplers.rng.TorchGenerator;
import java.util.Arrays;

/**
 * NumPy's legacy {@code np.random.RandomState(seed)}: the MT19937 generator seeded by {@code init_genrand}, and the
 * draws that torch-fidelity's metrics make from it, so that the same subsets and the same shuffle come out:
 * {@link #permutation} (a Fisher-Yates shuffle of {@code arange(n)} from the last element down, each index drawn by
 * masked rejection sampling) and {@link #choice} without replacement (the first m of a permutation).
 */
public final class NumpyRandom {
    // RandomState(seed) seeds the same MT19937 the same way (init_genrand) as torch.manual_seed
    private final TorchGenerator mt;

    public NumpyRandom(long seed) {
        mt = new TorchGenerator(seed);
    }

    /** The next 32 random bits (MT19937's tempered output), as an unsigned value. */
    long nextUint32() {
        return mt.nextU32();
    }

    /** A uniform integer in {@code [0, max]} by masked rejection (NumPy's legacy {@code random_interval}). */
    long interval(long max) {
        if (max == 0) return 0;
        long mask = max;
        for (int s = 1; s <= 32; s <<= 1) mask |= mask >>> s;
        if (max > 0xffffffffL) throw new IllegalArgumentException("ranges beyond 32 bits are not needed here");
        long v;
        do {
            v = nextUint32() & mask;
        } while (v > max);
        return v;
    }

    /** {@code RandomState.permutation(n)}. */
    public int[] permutation(int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i >= 1; i--) {
            int j = (int) interval(i);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    /** {@code RandomState.choice(n, m, replace=False)}. */
    public int[] choice(int n, int m) {
        if (m > n) throw new IllegalArgumentException("cannot choose " + m + " of " + n + " without replacement");
        return Arrays.copyOf(permutation(n), m);
    }
}
