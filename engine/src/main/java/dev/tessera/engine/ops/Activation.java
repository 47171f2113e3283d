package dev.tessera.engine.ops;

/** Element-wise activations, fused into linear layers where it pays. */
public enum Activation {
    NONE,
    /** {@code 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))}, PyTorch's {@code GELU(approximate='tanh')}. */
    GELU_TANH,
    /** {@code 0.5·x·(1 + erf(x/√2))}, PyTorch's default GELU. */
    GELU_ERF,
    /** {@code x·sigmoid(x)}. */
    SILU,
    /** {@code max(x, 0)}. */
    RELU;

    private static final double SQRT_2_OVER_PI = Math.sqrt(2.0 / Math.PI);

    /** The scalar definition (the reference for the vectorised kernels). */
    public float apply(float x) {
        return switch (this) {
            case NONE -> x;
            case GELU_TANH -> (float) (0.5 * x * (1.0 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))));
            case GELU_ERF -> (float) (0.5 * x * (1.0 + Erf.erf(x / Math.sqrt(2.0))));
            case SILU -> (float) (x / (1.0 + Math.exp(-x)));
            case RELU -> x > 0f ? x : (x == x ? 0f : x); // NaN stays NaN, as torch.relu
        };
    }
}
