package dev.tessera.samplers.flowar;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.io.Checkpoint;
import dev.tessera.samplers.rng.TorchGenerator;

/**
 * Where FlowAR's Gaussian noise comes from. The official code draws every scale's starting noise with
 * {@code torch.randn(2B, n, 16)} on the CPU generator (one draw per scale, both CFG halves, in (row, token,
 * channel) order) and, with Euler–Maruyama, one {@code randn_like} of the float64 state per step; {@link #seeded}
 * reproduces that stream. {@link #injected} reads recorded noise instead, for parity checks and for replaying a run.
 */
public interface FlowNoise {

    /** The starting noise of scale {@code scale}: {@code rows·n·dim} float32 values. */
    float[] initial(int scale, int rows, int n, int dim);

    /** Euler–Maruyama's noise of step {@code step} at scale {@code scale}: {@code rows·n·dim} float64 values. */
    double[] step(int scale, int step, int rows, int n, int dim);

    /** The stream of {@code torch.manual_seed(seed)} on PyTorch's CPU generator. */
    static FlowNoise seeded(long seed) {
        TorchGenerator g = new TorchGenerator(seed);
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
                g.fillNormal(a, 0, a.length);
                return a;
            }
        };
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
                return file.contains(key) ? file.tensor(key, rows, n, dim).toDoubleArray() : steps.step(scale, step, rows, n, dim);
            }
        };
    }
}
