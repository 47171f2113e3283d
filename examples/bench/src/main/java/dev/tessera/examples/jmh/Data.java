package dev.tessera.examples.jmh;

import java.util.SplittableRandom;

/** Random benchmark inputs. */
final class Data {
    private Data() {}

    static float[] random(int n, long seed, double scale) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) ((r.nextDouble() * 2 - 1) * scale);
        return a;
    }
}
