package dev.tessera.samplers.flowar;

import dev.tessera.engine.models.flowar.FlowHead;
import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * Integrates one scale's flow from noise (t = 1) to latents (t = 0) with FlowAR's solvers and guidance:
 * classifier-free guidance {@code u + s·(c − u)} on the velocities (on the drift for Euler–Maruyama), active only
 * when {@code s > 1} and {@code 0 ≤ t ≤ guidance}; while active, the unconditional branch is evaluated on the
 * conditional state.
 *
 * <p>Only the conditional half of the official state is integrated: the unconditional half is never read once
 * guidance starts (its input is replaced by the conditional state) and its result is discarded, so before that
 * point the network runs on the B conditional rows alone and afterwards on 2B. The noise is still drawn for both
 * halves, so the random stream is the official one.
 */
final class FlowOde {
    private FlowOde() {}

    /**
     * @param ctx       the scale's condition for {@code rows} sequences: the B conditional ones first, then (under
     *                  CFG) the B unconditional ones
     * @param B         conditional sequences
     * @param noise     the starting noise of all rows, {@code [rows, n, D]}
     * @param cfgScale  this scale's guidance strength s
     * @param guidance  the largest t at which guidance applies
     * @param onStep    called after every network evaluation with its index
     * @return the conditional sequences' final state {@code [B, n, D]}
     */
    static double[] integrate(
            FlowSampler kind,
            FlowHead head,
            FlowHead.Context ctx,
            int B,
            int n,
            int D,
            float[] noise,
            double cfgScale,
            double guidance,
            int steps,
            FlowNoise stepNoise,
            int scale,
            IntConsumer onStep) {
        return integrate(
                kind,
                (r, x, t, v) -> head.velocity(ctx, r, x, t, v),
                ctx.rows(),
                B,
                n,
                D,
                noise,
                cfgScale,
                guidance,
                steps,
                stepNoise,
                scale,
                onStep);
    }

    /**
     * The network's part of a solver step: the float32 velocities {@code v} of the first {@code rows} sequences of
     * {@code [rows, n, D]} states {@code x} at times {@code t} (one per row). Rows below B are conditional, the rest
     * unconditional.
     */
    @FunctionalInterface
    interface Velocity {
        void evaluate(int rows, float[] x, float[] t, float[] v);
    }

    /**
     * The solver on any velocity field (the flow head, or a toy one in tests).
     *
     * @param rows the sequences the condition holds: B, or 2B under CFG
     */
    static double[] integrate(
            FlowSampler kind,
            Velocity velocity,
            int rows,
            int B,
            int n,
            int D,
            float[] noise,
            double cfgScale,
            double guidance,
            int steps,
            FlowNoise stepNoise,
            int scale,
            IntConsumer onStep) {
        return integrate(
                kind, velocity, rows, B, n, D, noise, cfgScale, guidance, steps, stepNoise, scale, onStep, null);
    }

    /**
     * {@link #integrate(FlowSampler, Velocity, int, int, int, int, float[], double, double, int, FlowNoise, int,
     * IntConsumer)} that also copies the state before the last step into {@code beforeLast} (when not null): the
     * state a verifier evaluates another model's last step at ({@link #lastStep}).
     */
    static double[] integrate(
            FlowSampler kind,
            Velocity velocity,
            int rows,
            int B,
            int n,
            int D,
            float[] noise,
            double cfgScale,
            double guidance,
            int steps,
            FlowNoise stepNoise,
            int scale,
            IntConsumer onStep,
            double[] beforeLast) {
        int m = B * n * D;
        double[] grid = kind.grid(steps);
        double[] x = new double[m];
        for (int k = 0; k < m; k++) x[k] = noise[k];
        Work w = new Work(m, B);
        int evaluations = grid.length - 1;
        for (int i = 0; i < evaluations; i++) {
            boolean stochastic = kind == FlowSampler.EULER_MARUYAMA && i < evaluations - 1;
            double[] eps = stochastic ? stepNoise.step(scale, i, rows, n, D) : null;
            if (i == evaluations - 1 && beforeLast != null) System.arraycopy(x, 0, beforeLast, 0, m);
            step(kind, velocity, rows, B, m, grid, i, x, eps, cfgScale, guidance, w);
            onStep.accept(i);
        }
        return x;
    }

    /**
     * The solver's last step alone, from the state {@code xPrev [B, n, D]} at the last time point but one: the
     * final mean of this velocity field along a trajectory another model made (the CSpD-style verifier). The same
     * arithmetic as the last step of {@link #integrate}.
     */
    static double[] lastStep(
            FlowSampler kind,
            Velocity velocity,
            int rows,
            int B,
            int n,
            int D,
            double[] xPrev,
            double cfgScale,
            double guidance,
            int steps) {
        double[] grid = kind.grid(steps);
        double[] x = xPrev.clone();
        step(
                kind,
                velocity,
                rows,
                B,
                B * n * D,
                grid,
                grid.length - 2,
                x,
                null,
                cfgScale,
                guidance,
                new Work(x.length, B));
        return x;
    }

    /**
     * The standard deviation the solver's last step would have if it added noise: Euler–Maruyama's
     * {@code sqrt(2t)·sqrt(|dt|)} at the last time point but one (the step itself is the deterministic mean).
     */
    static double lastStepStd(FlowSampler kind, int steps) {
        double[] grid = kind.grid(steps);
        double tc = grid[grid.length - 2], dt = grid[grid.length - 1] - tc;
        return Math.sqrt(2 * tc) * Math.sqrt(Math.abs(dt));
    }

    /** The network's input, output and time arrays of a solver, for up to 2B sequences. */
    private record Work(float[] in, float[] v, float[] t) {
        Work(int m, int B) {
            this(new float[2 * m], new float[2 * m], new float[2 * B]);
        }
    }

    /** Step i of the grid on the state x (in place); {@code eps} is the step's noise (null: none). */
    private static void step(
            FlowSampler kind,
            Velocity velocity,
            int rows,
            int B,
            int m,
            double[] grid,
            int i,
            double[] x,
            double[] eps,
            double cfgScale,
            double guidance,
            Work w) {
        boolean canGuide = rows == 2 * B;
        float[] in = w.in(), v = w.v(), t = w.t();
        double tc = grid[i], tn = grid[i + 1], dt = tn - tc;
        boolean active = canGuide && cfgScale > 1.0 && tc <= guidance && tc >= 0.0;
        int r = active ? 2 * B : B;
        for (int k = 0; k < m; k++) in[k] = (float) x[k];
        if (active) System.arraycopy(in, 0, in, m, m);
        Arrays.fill(t, 0, r, (float) tc);
        velocity.evaluate(r, in, t, v);
        double diffusion = 2 * tc, sqrtAbsDt = Math.sqrt(Math.abs(dt)), sqrtDiffusion = Math.sqrt(diffusion);
        for (int k = 0; k < m; k++) {
            double d = drift(kind, v[k], x[k], tc, diffusion);
            if (active) {
                double u = drift(kind, v[m + k], x[k], tc, diffusion);
                d = u + cfgScale * (d - u);
            }
            if (kind == FlowSampler.EULER) {
                x[k] = x[k] + dt * d;
            } else if (eps != null) {
                x[k] = x[k] + d * dt + sqrtDiffusion * (eps[k] * sqrtAbsDt);
            } else {
                x[k] = x[k] + dt * d; // Euler–Maruyama's last step: the mean
            }
        }
    }

    /**
     * The drift at state x: the velocity for Euler; for Euler–Maruyama {@code v − ½·(2t)·score} with the linear
     * path's score {@code (r·v − x) / (t² − r·t)}, {@code r = (1 − t)/(−1)}, in the official order of operations.
     */
    private static double drift(FlowSampler kind, float velocity, double x, double t, double diffusion) {
        double v = velocity;
        if (kind == FlowSampler.EULER) return v;
        double r = (1 - t) / -1.0;
        double var = t * t - r * 1.0 * t;
        double score = (r * v - x) / var;
        return v - 0.5 * diffusion * score;
    }

    /** Network evaluations per scale. */
    static int evaluations(FlowSampler kind, int steps) {
        return kind.grid(steps).length - 1;
    }
}
