package dev.tessera.samplers.flowar;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.io.Checkpoint;
import dev.tessera.samplers.rng.TorchGenerator;

/**
 * Where FlowAR's Gaussian noise comes from. The official code draws every scale's starting noise with
 * {@code torch.randn(2B, n, 16)} on the CPU generator (one draw per scale, both CFG halves, in (row, token,
 * channel) order), which {@link #seeded} reproduces; Euler–Maruyama's per-step {@code randn_like} of the float64
 * state is drawn on the GPU there, a stream that cannot be reproduced, so here it comes from a second CPU generator
 * and the starting noise stays the official stream. {@link #injected} reads recorded noise instead, for parity
 * checks and for replaying a run. A noise source has state: use each for one generation.
 */
public interface FlowNoise {

    /** The starting noise of scale {@code scale}: {@code rows·n·dim} float32 values. */
    float[] initial(int scale, int rows, int n, int dim);

    /** Euler–Maruyama's noise of step {@code step} at scale {@code scale}: {@code rows·n·dim} float64 values. */
    double[] step(int scale, int step, int rows, int n, int dim);

    /**
     * The starting noise of {@code torch.manual_seed(seed)} on PyTorch's CPU generator; Euler–Maruyama's step noise
     * from a second CPU generator seeded with {@link #stepSeed}.
     */
    static FlowNoise seeded(long seed) {
        TorchGenerator g = new TorchGenerator(seed), steps = new TorchGenerator(stepSeed(seed));
        return new FlowNoise() {
            @Override
            public float[] initial(int scale, int rows, int n, int dim) {
                float[] a = new float[rows * n * dim];
                g.fillNormal(a, 0, a.length);
                return a;
            }

            @Override
            public double[] step(int scale, int step, int rows, int n, int dim) {
                double[] a = new double[rows * n * dim];
                steps.fillNormal(a, 0, a.length);
                return a;
            }
        };
    }

    /** The seed of the step-noise generator: {@code (seed ^ 0x5DEECE66D) & 0xffffffff}. */
    static long stepSeed(long seed) {
        return (seed ^ 0x5DEECE66DL) & 0xffffffffL;
    }

    /**
     * Noise recorded in a safetensors file: {@code noise.<scale>} of shape {@code (rows, n, dim)} for the starting
     * noise (required), {@code noise.<scale>.<step>} for Euler–Maruyama's steps (when absent, those come from
     * {@code steps}).
     */
    static FlowNoise injected(Checkpoint file, FlowNoise steps) {
        return new FlowNoise() {
            @Override
            public float[] initial(int scale, int rows, int n, int dim) {
                String key = "noise." + scale;
                if (!file.contains(key)) {
                    throw new TesseraException(file.path() + ": no tensor '" + key + "' (the noise of scale " + scale
                            + ", shape (" + rows + ", " + n + ", " + dim + "))");
                }
                return file.tensor(key, rows, n, dim).toFloatArray();
            }

            @Override
            public double[] step(int scale, int step, int rows, int n, int dim) {
                String key = "noise." + scale + "." + step;
                return file.contains(key)
                        ? file.tensor(key, rows, n, dim).toDoubleArray()
                        : steps.step(scale, step, rows, n, dim);
            }
        };
    }
}
