package dev.tessera.engine.nn;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.tensor.Tensor;

import java.lang.foreign.MemorySegment;

/**
 * A linear layer {@code y = x·Wᵀ + b} as PyTorch stores it: {@code weight [out, in]} row-major, optional
 * {@code bias [out]}. The weight stays a view of the checkpoint mapping (float32) or, for float16/bfloat16
 * checkpoints, a float32 copy.
 */
public record Linear(MemorySegment weight, float[] bias, int out, int in) {

    public Linear {
        if (weight.byteSize() != (long) out * in * Float.BYTES) {
            throw new IllegalArgumentException("weight of " + weight.byteSize() + " bytes for [" + out + ", " + in + "]");
        }
        if (bias != null && bias.length != out) throw new IllegalArgumentException("bias length " + bias.length);
    }

    /** Reads {@code prefix.weight} and, if {@code withBias}, {@code prefix.bias}; shapes come from the file. */
    public static Linear load(Checkpoint ckpt, String prefix, boolean withBias) {
        Tensor w = ckpt.tensor(prefix + ".weight", -1, -1);
        int out = Math.toIntExact(w.dim(0)), in = Math.toIntExact(w.dim(1));
        float[] b = withBias ? ckpt.tensor(prefix + ".bias", out).toFloatArray() : null;
        return new Linear(Weights.f32(w), b, out, in);
    }

    /** Reads a linear layer whose weight must be {@code [out, in]}. */
    public static Linear load(Checkpoint ckpt, String prefix, boolean withBias, int out, int in) {
        Tensor w = ckpt.tensor(prefix + ".weight", out, in);
        float[] b = withBias ? ckpt.tensor(prefix + ".bias", out).toFloatArray() : null;
        return new Linear(Weights.f32(w), b, out, in);
    }

    /** Weight element {@code W[o, i]}. */
    public float w(int o, int i) {
        return weight.getAtIndex(Weights.F32, (long) o * in + i);
    }
}
