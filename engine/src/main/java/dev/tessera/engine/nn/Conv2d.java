package dev.tessera.engine.nn;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * A 2-D convolution as PyTorch stores it: {@code weight [cout, cin, kh, kw]} (cross-correlation), optional
 * {@code bias [cout]}, a stride and zero padding on each side (top, left, bottom, right).
 */
public record Conv2d(
        MemorySegment weight,
        float[] bias,
        int cout,
        int cin,
        int kh,
        int kw,
        int stride,
        int padTop,
        int padLeft,
        int padBottom,
        int padRight) {

    public Conv2d {
        if (weight.byteSize() != (long) cout * cin * kh * kw * Float.BYTES) {
            throw new IllegalArgumentException("conv weight of " + weight.byteSize() + " bytes");
        }
    }

    /** Loads {@code prefix.weight} / {@code prefix.bias}; stride 1 and "same" padding (k/2 on every side). */
    public static Conv2d load(Checkpoint ckpt, String prefix) {
        Tensor w = ckpt.tensor(prefix + ".weight", -1, -1, -1, -1);
        int kh = (int) w.dim(2), kw = (int) w.dim(3);
        return load(ckpt, prefix, 1, kh / 2, kw / 2, kh / 2, kw / 2);
    }

    /** Loads a convolution with explicit stride and padding. */
    public static Conv2d load(
            Checkpoint ckpt, String prefix, int stride, int padTop, int padLeft, int padBottom, int padRight) {
        Tensor w = ckpt.tensor(prefix + ".weight", -1, -1, -1, -1);
        int cout = Math.toIntExact(w.dim(0)), cin = Math.toIntExact(w.dim(1));
        int kh = Math.toIntExact(w.dim(2)), kw = Math.toIntExact(w.dim(3));
        float[] b = ckpt.contains(prefix + ".bias")
                ? ckpt.tensor(prefix + ".bias", cout).toFloatArray()
                : null;
        return new Conv2d(Weights.f32(w), b, cout, cin, kh, kw, stride, padTop, padLeft, padBottom, padRight);
    }

    public int outHeight(int h) {
        return (h + padTop + padBottom - kh) / stride + 1;
    }

    public int outWidth(int w) {
        return (w + padLeft + padRight - kw) / stride + 1;
    }

    /** Weight element {@code W[o, c, y, x]}. */
    public float w(int o, int c, int y, int x) {
        return weight.getAtIndex(Weights.F32, (((long) o * cin + c) * kh + y) * kw + x);
    }
}
