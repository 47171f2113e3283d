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
        int m = B * n * D;
        boolean canGuide = rows == 2 * B;
        double[] grid = kind.grid(steps);
        double[] x = new double[m];
        for (int k = 0; k < m; k++) x[k] = noise[k];
        float[] in = new float[2 * m], v = new float[2 * m], t = new float[2 * B];
        int evaluations = grid.length - 1;
        for (int i = 0; i < evaluations; i++) {
            double tc = grid[i], tn = grid[i + 1], dt = tn - tc;
            boolean active = canGuide && cfgScale > 1.0 && tc <= guidance && tc >= 0.0;
            int r = active ? 2 * B : B;
            for (int k = 0; k < m; k++) in[k] = (float) x[k];
            if (active) System.arraycopy(in, 0, in, m, m);
            Arrays.fill(t, 0, r, (float) tc);
            boolean stochastic = kind == FlowSampler.EULER_MARUYAMA && i < evaluations - 1;
            double[] eps = stochastic ? stepNoise.step(scale, i, rows, n, D) : null;
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
                } else if (stochastic) {
                    x[k] = x[k] + d * dt + sqrtDiffusion * (eps[k] * sqrtAbsDt);
                } else {
                    x[k] = x[k] + dt * d; // Euler–Maruyama's last step: the mean
                }
            }
            onStep.accept(i);
        }
        return x;
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
