package dev.tessera.samplers.flowar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * FlowAR's Euler–Maruyama solver ({@link FlowOde} with {@link FlowSampler#EULER_MARUYAMA}) on a toy flow whose
 * distributions are known in closed form. The official step noise is drawn on the GPU, so no official run can fix
 * these samples; instead the solver is checked against mathematics worked out here, independently of its code.
 *
 * <p>The toy: one-dimensional data {@code x0 ~ N(mu, s2)} on FlowAR's linear path {@code x_t = (1−t)·x0 + t·ε},
 * so {@code x_t ~ N((1−t)·mu, (1−t)²·s2 + t²)} and the exact velocity {@code E[ε − x0 | x_t = x]} is linear in x.
 * Every solver step is then an affine map of the state plus Gaussian noise, and the final state is exactly
 * Gaussian with a mean and variance given by a two-line recursion (the discrete-time moments, below, written from
 * the true score {@code −(x − m_t)/var_t} rather than the official score-from-velocity conversion). As the steps
 * grow, the recursion tends to the closed form of the continuous reverse SDE (which keeps the marginals) followed by
 * the solver's final deterministic step from t = 0.04 to 0.
 *
 * <p>Each test draws 2^16–2^18 samples with the real seeded noise source and checks the sample mean and variance
 * (z-scores under 5) and the whole distribution (Kolmogorov–Smirnov, {@code √n·D < 2.2}, p ≈ 1e-4). Negative
 * controls (step noise scaled by dt instead of √dt, the same noise at every step, the score term with the wrong
 * sign, no score correction) are run through the same solver and must be rejected by the same check.
 */
class EulerMaruyamaStatisticsTest {
    /** FlowAR's latent channels; the toy treats every element as an independent sample. */
    static final int D = 16;

    static final Gaussian DATA = new Gaussian(0.7, 0.25);

    /** Data {@code N(mu, s2)} on the linear path. */
    record Gaussian(double mu, double s2) {
        double mean(double t) {
            return (1 - t) * mu;
        }

        double var(double t) {
            return (1 - t) * (1 - t) * s2 + t * t;
        }

        /** {@code E[ε − x0 | x_t = x] = (t − (1−t)·s2)/var_t · (x − m_t) − mu}. */
        double velocity(double x, double t) {
            return (t - (1 - t) * s2) / var(t) * (x - mean(t)) - mu;
        }

        /**
         * The slope of the reverse SDE's drift {@code v − ½·g²·score} with {@code g² = 2t} and the true score
         * {@code −(x − m_t)/var_t}: the drift is {@code slope·(x − m_t) − mu}.
         */
        double driftSlope(double t) {
            return (t - (1 - t) * s2 + t) / var(t);
        }
    }

    /** The official Euler–Maruyama grid, written out: {@code linspace(1, 0.04, steps)} then 0. */
    static double[] grid(int steps) {
        double[] g = new double[steps + 1];
        for (int i = 0; i < steps; i++) g[i] = 1 - 0.96 * i / (steps - 1);
        g[steps] = 0;
        return g;
    }

    /**
     * The exact mean and variance of the final state: the start is N(0, 1); each step is
     * {@code x ← x + dt·(A·x + b) + √(2t)·√|dt|·ε} (no noise on the last), so {@code M ← M + dt·(A·M + b)} and
     * {@code V ← (1 + dt·A)²·V + 2t·|dt|}. Under guidance ({@code s > 1}, {@code t ≤ guidance}) the drift is
     * {@code d_u + s·(d_c − d_u)}, still affine.
     */
    static double[] discreteMoments(Gaussian cond, Gaussian uncond, double cfg, double guidance, int steps) {
        double[] g = grid(steps);
        double mean = 0, var = 1;
        for (int i = 0; i < steps; i++) {
            double t = g[i], dt = g[i + 1] - t;
            double a = cond.driftSlope(t), b = -a * cond.mean(t) - cond.mu();
            if (cfg > 1 && t <= guidance) {
                double au = uncond.driftSlope(t), bu = -au * uncond.mean(t) - uncond.mu();
                a = au + cfg * (a - au);
                b = bu + cfg * (b - bu);
            }
            mean = mean + dt * (a * mean + b);
            var = (1 + dt * a) * (1 + dt * a) * var;
            if (i < steps - 1) var += 2 * t * Math.abs(dt);
        }
        return new double[] {mean, var};
    }

    /**
     * The many-step limit without guidance: the reverse SDE keeps {@code x_t ~ N(m_t, var_t)} down to t = 0.04,
     * then the last step {@code x + (0 − 0.04)·drift} gives mean mu and variance {@code (1 − 0.04·slope)²·var_0.04}.
     */
    static double[] continuousLimit(Gaussian data) {
        double t = 0.04, k = 1 - t * data.driftSlope(t);
        return new double[] {data.mu(), k * k * data.var(t)};
    }

    /** A toy network: row 0 (the conditional sequence) moves along {@code cond}, row 1 along {@code uncond}. */
    static FlowOde.Velocity toy(Gaussian cond, Gaussian uncond, int perRow) {
        return (rows, x, t, v) -> {
            for (int r = 0; r < rows; r++) {
                Gaussian g = r == 0 ? cond : uncond;
                for (int k = r * perRow; k < (r + 1) * perRow; k++) v[k] = (float) g.velocity(x[k], t[r]);
            }
        };
    }

    /** {@code samples} final states of the Tessera solver (one sequence, {@code samples/D} tokens of D channels). */
    static double[] solve(
            FlowOde.Velocity velocity,
            boolean guided,
            double cfg,
            double guidance,
            int steps,
            int samples,
            FlowNoise noise) {
        int n = samples / D, rows = guided ? 2 : 1;
        float[] start = noise.initial(0, rows, n, D);
        return FlowOde.integrate(
                FlowSampler.EULER_MARUYAMA, velocity, rows, 1, n, D, start, cfg, guidance, steps, noise, 0, i -> {});
    }

    /** z-scores of the sample mean and variance against N(mean, var), and the KS statistic √n·D. */
    record Verdict(double zMean, double zVar, double ks) {
        static final double Z = 5, KS = 2.2;

        boolean passes() {
            return Math.abs(zMean) < Z && Math.abs(zVar) < Z && ks < KS;
        }
    }

    static Verdict check(double[] x, double mean, double var) {
        int n = x.length;
        double m = 0;
        for (double v : x) m += v;
        m /= n;
        double ss = 0;
        for (double v : x) ss += (v - m) * (v - m);
        double s2 = ss / (n - 1);
        double zMean = (m - mean) / Math.sqrt(var / n);
        double zVar = (s2 - var) / (var * Math.sqrt(2.0 / (n - 1))); // the sample variance of n Gaussians
        double[] sorted = x.clone();
        Arrays.sort(sorted);
        double sd = Math.sqrt(var), d = 0;
        for (int i = 0; i < n; i++) {
            double f = normalCdf((sorted[i] - mean) / sd);
            d = Math.max(d, Math.max(f - (double) i / n, (double) (i + 1) / n - f));
        }
        return new Verdict(zMean, zVar, Math.sqrt(n) * d);
    }

    /** Φ(z) from Abramowitz–Stegun 7.1.26 (absolute error below 1.5e-7, far under the KS resolution here). */
    static double normalCdf(double z) {
        double x = Math.abs(z) / Math.sqrt(2), t = 1 / (1 + 0.3275911 * x);
        double poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
        double erf = 1 - poly * Math.exp(-x * x);
        return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
    }

    @Test
    void theMomentRecursionTendsToTheClosedForm() {
        // the test's own mathematics: more steps approach the continuous limit at first order in dt
        double[] limit = continuousLimit(DATA);
        double previous = Double.POSITIVE_INFINITY;
        for (int steps : new int[] {25, 100, 400, 1600, 6400}) {
            double[] m = discreteMoments(DATA, DATA, 1, 0, steps);
            assertEquals(DATA.mu(), m[0], 1e-12, "the mean of a centred start is exact at every step count");
            double err = Math.abs(m[1] - limit[1]);
            assertTrue(err < previous / 3, "variance error " + err + " at " + steps + " steps, before " + previous);
            previous = err;
        }
        assertTrue(previous < 1e-4, "variance error at 6400 steps: " + previous);
        // and the limit itself: N(mu, s2) shrunk only by the deterministic last step from t = 0.04
        assertEquals(0.2449766, limit[1], 1e-6);
    }

    @Test
    void officialGridGivesTheExactDiscreteDistribution() {
        int steps = 25, samples = 1 << 18;
        double[] x = solve(toy(DATA, DATA, samples), false, 1, 0, steps, samples, FlowNoise.seeded(11));
        double[] m = discreteMoments(DATA, DATA, 1, 0, steps);
        Verdict v = check(x, m[0], m[1]);
        System.out.printf(
                "Euler-Maruyama, 25 steps, N(%.2f, %.2f) data: expected N(%.6f, %.6f); %s%n",
                DATA.mu(), DATA.s2(), m[0], m[1], v);
        assertTrue(v.passes(), v.toString());
    }

    @Test
    void manyStepsReachTheContinuousLimit() {
        // 1000 steps: the discretisation error of the variance (1.5e-4 relative) is a tenth of the test's 0.55%
        int steps = 1000, samples = 1 << 16;
        double[] x = solve(toy(DATA, DATA, samples), false, 1, 0, steps, samples, FlowNoise.seeded(12));
        double[] limit = continuousLimit(DATA);
        Verdict v = check(x, limit[0], limit[1]);
        System.out.printf("Euler-Maruyama, 1000 steps: closed form N(%.6f, %.6f); %s%n", limit[0], limit[1], v);
        assertTrue(v.passes(), v.toString());
    }

    @Test
    void guidedDriftGivesTheExactDiscreteDistribution() {
        // guidance from t = 0.7 on, strength 1.8, towards N(0.7, 0.25) and away from N(−0.4, 1.2)
        Gaussian uncond = new Gaussian(-0.4, 1.2);
        int steps = 25, samples = 1 << 18;
        double[] x = solve(toy(DATA, uncond, samples), true, 1.8, 0.7, steps, samples, FlowNoise.seeded(13));
        double[] m = discreteMoments(DATA, uncond, 1.8, 0.7, steps);
        Verdict v = check(x, m[0], m[1]);
        System.out.printf("guided Euler-Maruyama: expected N(%.6f, %.6f); %s%n", m[0], m[1], v);
        assertTrue(v.passes(), v.toString());
        // guidance must have moved the distribution measurably, or this test would not see it
        double[] plain = discreteMoments(DATA, uncond, 1, 0.7, steps);
        assertFalse(check(x, plain[0], plain[1]).passes(), "the guided samples also fit the unguided distribution");
    }

    /** Step noise ε·√|dt|·f(step) instead of ε·√|dt|: multiplies every step's draw by {@code factor[step]}. */
    static FlowNoise scaledSteps(FlowNoise base, double[] factor) {
        return new FlowNoise() {
            @Override
            public float[] initial(int scale, int rows, int n, int dim) {
                return base.initial(scale, rows, n, dim);
            }

            @Override
            public double[] step(int scale, int step, int rows, int n, int dim) {
                double[] e = base.step(scale, step, rows, n, dim);
                for (int i = 0; i < e.length; i++) e[i] *= factor[step];
                return e;
            }
        };
    }

    /** The first step's noise again at every step. */
    static FlowNoise frozenSteps(FlowNoise base) {
        return new FlowNoise() {
            double[] first;

            @Override
            public float[] initial(int scale, int rows, int n, int dim) {
                return base.initial(scale, rows, n, dim);
            }

            @Override
            public double[] step(int scale, int step, int rows, int n, int dim) {
                if (first == null) first = base.step(scale, step, rows, n, dim);
                return first.clone();
            }
        };
    }

    /**
     * A velocity {@code w} that makes the solver's drift {@code (2 − t)·w + x} (its linear-path form of
     * {@code w − t·score(w)}) equal {@code target(v, x, t)}: {@code w = (target − x)/(2 − t)}.
     */
    static FlowOde.Velocity withDrift(Gaussian data, DriftRule target, int perRow) {
        return (rows, x, t, v) -> {
            for (int k = 0; k < rows * perRow; k++) {
                double tt = t[k / perRow], xv = x[k];
                v[k] = (float) ((target.drift(data.velocity(xv, tt), xv, tt) - xv) / (2 - tt));
            }
        };
    }

    @FunctionalInterface
    interface DriftRule {
        double drift(double v, double x, double t);
    }

    @Test
    void brokenSolversAreRejectedByTheSameCheck() {
        int steps = 25, samples = 1 << 18;
        double[] g = grid(steps), sqrtDt = new double[steps];
        for (int i = 0; i < steps; i++) sqrtDt[i] = Math.sqrt(Math.abs(g[i + 1] - g[i]));
        double[] m = discreteMoments(DATA, DATA, 1, 0, steps);
        Map<String, double[]> controls = new LinkedHashMap<>();
        controls.put(
                "noise scaled by |dt| instead of sqrt|dt|",
                solve(
                        toy(DATA, DATA, samples),
                        false,
                        1,
                        0,
                        steps,
                        samples,
                        scaledSteps(FlowNoise.seeded(11), sqrtDt)));
        controls.put(
                "noise scaled by sqrt(t) instead of sqrt(2t)",
                solve(
                        toy(DATA, DATA, samples),
                        false,
                        1,
                        0,
                        steps,
                        samples,
                        scaledSteps(FlowNoise.seeded(11), filled(steps, Math.sqrt(0.5)))));
        controls.put(
                "the same noise at every step",
                solve(toy(DATA, DATA, samples), false, 1, 0, steps, samples, frozenSteps(FlowNoise.seeded(11))));
        // the true drift is v − t·score = (2 − t)·v + x on the linear path; with the score's sign flipped: t·v − x
        controls.put(
                "score term with the wrong sign",
                solve(
                        withDrift(DATA, (v, x, t) -> t * v - x, samples),
                        false,
                        1,
                        0,
                        steps,
                        samples,
                        FlowNoise.seeded(11)));
        controls.put(
                "no score correction (drift = v)",
                solve(withDrift(DATA, (v, x, t) -> v, samples), false, 1, 0, steps, samples, FlowNoise.seeded(11)));
        // the rule the toy velocity itself obeys: with the correct drift the same construction must pass
        Verdict same = check(
                solve(
                        withDrift(DATA, (v, x, t) -> (2 - t) * v + x, samples),
                        false,
                        1,
                        0,
                        steps,
                        samples,
                        FlowNoise.seeded(11)),
                m[0],
                m[1]);
        assertTrue(same.passes(), "the drift construction itself: " + same);
        for (var e : controls.entrySet()) {
            Verdict v = check(e.getValue(), m[0], m[1]);
            System.out.printf("negative control '%s': %s%n", e.getKey(), v);
            assertFalse(v.passes(), e.getKey() + " was accepted: " + v);
        }
    }

    static double[] filled(int n, double value) {
        double[] a = new double[n];
        Arrays.fill(a, value);
        return a;
    }
}
