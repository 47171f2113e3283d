package dev.tessera.samplers.flowar;

/**
 * The ODE/SDE solvers of FlowAR's {@code models/sampler.py}. Time runs from 1 (noise) to 0 (data); the state is
 * float64, the network float32.
 */
public enum FlowSampler {
    /**
     * {@code euler_sampler}, the one the official evaluation uses. Its grid: 51 points from 1 to 0 for 50 steps,
     * otherwise {@code linspace(1, 0.3, steps/2)} followed by {@code linspace(0.25, 0, steps/2 + 1)} (25 steps
     * give 25 points, i.e. 24 Euler steps, with a jump from 0.3 to 0.25).
     */
    EULER,
    /**
     * {@code euler_maruyama_sampler}: {@code linspace(1, 0.04, steps)} then 0; every step but the last adds
     * {@code sqrt(2t)·ε·sqrt(|dt|)} of fresh float64 noise to a drift corrected by the score; the last step is the
     * deterministic mean.
     */
    EULER_MARUYAMA;

    /** The time points of this solver for {@code steps} (at least 2). */
    public double[] grid(int steps) {
        if (steps < 2) throw new IllegalArgumentException("at least 2 steps are needed, not " + steps);
        if (this == EULER_MARUYAMA) {
            double[] a = linspace(1, 0.04, steps), g = new double[steps + 1];
            System.arraycopy(a, 0, g, 0, steps);
            return g; // the last point is 0
        }
        if (steps == 50) return linspace(1, 0, 51);
        double[] a = linspace(1, 0.3, steps / 2), b = linspace(0.25, 0, steps / 2 + 1);
        double[] g = new double[a.length + b.length];
        System.arraycopy(a, 0, g, 0, a.length);
        System.arraycopy(b, 0, g, a.length, b.length);
        return g;
    }

    /** {@code torch.linspace} in float64, by its scalar rule (the first half from the start, the rest from the end). */
    static double[] linspace(double start, double end, int n) {
        double[] v = new double[n];
        if (n == 1) {
            v[0] = start;
            return v;
        }
        double step = (end - start) / (n - 1);
        for (int i = 0; i < n; i++) v[i] = i < n / 2 ? start + step * i : end - step * (n - 1 - i);
        return v;
    }

    /** Parses {@code euler} / {@code euler-maruyama}. */
    public static FlowSampler parse(String s) {
        return switch (s) {
            case "euler" -> EULER;
            case "euler-maruyama", "euler_maruyama", "sde" -> EULER_MARUYAMA;
            default -> throw new IllegalArgumentException("unknown FlowAR sampler '" + s + "' (euler, euler-maruyama)");
        };
    }
}
