package dev.tessera.samplers.ar;

import dev.tessera.samplers.rng.TorchGenerator;

/**
 * The arithmetic of speculative acceptance, as pure functions (float64 over float32 probabilities).
 */
public final class Speculation {
    private Speculation() {}

    /**
     * Accepts draft {@code x} with probability {@code min(1, target(x)/q(x))} (one uniform draw); on rejection
     * samples the residual {@code norm((target − q)₊)} (falling back to {@code fallback} if it is all zero).
     * {@code q == null} means one-hot at x.
     */
    static int acceptOrResample(float[] target, float[] fallback, float[] q, int x, TorchGenerator rng) {
        double qx = q == null ? 1.0 : q[x];
        double ratio = qx <= 0 ? 1.0 : Math.min(1.0, target[x] / qx);
        if (rng.nextDouble() < ratio) return x;
        return sampleResidual(target, fallback, q, x, rng);
    }

    /** {@code norm((p − q)₊)}, q one-hot at x when null; {@code fallback} when the difference vanishes. */
    static int sampleResidual(float[] p, float[] fallback, float[] q, int x, TorchGenerator rng) {
        int V = p.length;
        double[] r = new double[V];
        double sum = 0;
        for (int v = 0; v < V; v++) {
            double qv = q == null ? (v == x ? 1.0 : 0.0) : q[v];
            double d = p[v] - qv;
            if (d > 0) {
                r[v] = d;
                sum += d;
            }
        }
        if (!(sum > 0)) {
            for (int v = 0; v < V; v++) r[v] = fallback[v];
            sum = 1.0;
        }
        return sample(r, sum, rng);
    }

    /** Inverse CDF sampling of weights {@code w} (sum {@code total}) with one float64 uniform. */
    static int sample(double[] w, double total, TorchGenerator rng) {
        double u = rng.nextDouble() * total, c = 0;
        int last = -1;
        for (int v = 0; v < w.length; v++) {
            if (w[v] <= 0) continue;
            c += w[v];
            last = v;
            if (u < c) return v;
        }
        return last; // rounding at the very end of the cumulative sum
    }

    /** Plain sampling from float probabilities by inverse CDF (used for one-off draws such as bonus tokens). */
    static int sample(float[] p, TorchGenerator rng) {
        double[] w = new double[p.length];
        double total = 0;
        for (int v = 0; v < p.length; v++) {
            w[v] = p[v];
            total += p[v];
        }
        return sample(w, total, rng);
    }
}
