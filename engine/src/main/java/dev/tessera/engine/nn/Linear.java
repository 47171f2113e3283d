package dev.tessera.engine.nn;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.PackedWeightCache;
import dev.tessera.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A linear layer {@code y = x·Wᵀ + b} as PyTorch stores it: {@code weight [out, in]} row-major, optional
 * {@code bias [out]}. The weight is a view of the checkpoint mapping (float32) or, for float16/bfloat16
 * checkpoints, a float32 copy.
 *
 * <p>The CPU GEMM reads weights in {@link WeightPanels} layout: {@link #panels()} builds that copy once, on first
 * use, and then releases the checkpoint pages of the original from memory (they are read back from the file only
 * if something asks for {@link #w(int, int)} again), so the process holds each weight once. The panels' element
 * {@link WeightPanels.Format format} is chosen when the layer is created (an argument of loading, never process state);
 * {@link #w(int, int)} returns
 * the weight as that format holds it, so the reference backend computes the same products.
 *
 * <p>A layer read from a checkpoint with a {@link Checkpoint#packedWeights() packed-weight cache} takes its panels
 * from there (mapped from the file an earlier process wrote) and stores them there when they are new.
 */
public final class Linear {
    private final MemorySegment weight;
    private final float[] bias;
    private final int out, in;
    private final WeightPanels.Format format;
    private final Source source;
    private volatile MemorySegment panels;

    /** Where the weight came from, naming its packed form in a {@link PackedWeightCache}. */
    private record Source(PackedWeightCache cache, Path file, String tensor) {
        static Source of(Checkpoint ckpt, String tensor) {
            PackedWeightCache cache = ckpt.packedWeights();
            return cache == PackedWeightCache.NONE ? null : new Source(cache, ckpt.path(), tensor);
        }
    }

    /** A layer whose panels hold float32. */
    public Linear(MemorySegment weight, float[] bias, int out, int in) {
        this(weight, bias, out, in, WeightPanels.Format.F32);
    }

    public Linear(MemorySegment weight, float[] bias, int out, int in, WeightPanels.Format format) {
        this(weight, bias, out, in, format, null);
    }

    private Linear(MemorySegment weight, float[] bias, int out, int in, WeightPanels.Format format, Source source) {
        if (weight.byteSize() != (long) out * in * Float.BYTES) {
            throw new IllegalArgumentException(
                    "weight of " + weight.byteSize() + " bytes for [" + out + ", " + in + "]");
        }
        if (bias != null && bias.length != out) throw new IllegalArgumentException("bias length " + bias.length);
        this.weight = weight;
        this.bias = bias;
        this.out = out;
        this.in = in;
        this.format = Objects.requireNonNull(format);
        this.source = source;
    }

    /**
     * Reads {@code prefix.weight} and, if {@code withBias}, {@code prefix.bias}; shapes come from the file. The panels
     * hold {@code format}.
     */
    public static Linear load(Checkpoint ckpt, String prefix, boolean withBias, WeightPanels.Format format) {
        Tensor w = ckpt.tensor(prefix + ".weight", -1, -1);
        int out = Math.toIntExact(w.dim(0)), in = Math.toIntExact(w.dim(1));
        float[] b = withBias ? ckpt.tensor(prefix + ".bias", out).toFloatArray() : null;
        return new Linear(Weights.f32(w), b, out, in, format, Source.of(ckpt, prefix + ".weight"));
    }

    /** Reads a linear layer whose weight must be {@code [out, in]}; its panels hold {@code format}. */
    public static Linear load(
            Checkpoint ckpt, String prefix, boolean withBias, int out, int in, WeightPanels.Format format) {
        float[] b = withBias ? ckpt.tensor(prefix + ".bias", out).toFloatArray() : null;
        return load(ckpt, prefix + ".weight", b, out, in, format);
    }

    /** The layer of weight tensor {@code weightKey} ({@code [out, in]}) and the given bias (or null). */
    public static Linear load(
            Checkpoint ckpt, String weightKey, float[] bias, int out, int in, WeightPanels.Format format) {
        Tensor w = ckpt.tensor(weightKey, out, in);
        return new Linear(Weights.f32(w), bias, out, in, format, Source.of(ckpt, weightKey));
    }

    /**
     * One layer computing {@code [a(x), b(x)]}: the weights stacked along the output (a copy), so that two
     * projections of the same input run as one GEMM (e.g. the gate and up projections of a SwiGLU FFN).
     */
    public static Linear stack(Linear a, Linear b) {
        if (a.in != b.in)
            throw new IllegalArgumentException("cannot stack layers with " + a.in + " and " + b.in + " inputs");
        if (a.format != b.format)
            throw new IllegalArgumentException("cannot stack " + a.format + " and " + b.format + " layers");
        long na = (long) a.out * a.in * Float.BYTES, nb = (long) b.out * b.in * Float.BYTES;
        MemorySegment w = MemorySegment.ofArray(new float[(a.out + b.out) * a.in]);
        MemorySegment.copy(a.weight, 0, w, 0, na);
        MemorySegment.copy(b.weight, 0, w, na, nb);
        float[] bias = null;
        if (a.bias != null || b.bias != null) {
            bias = new float[a.out + b.out];
            if (a.bias != null) System.arraycopy(a.bias, 0, bias, 0, a.out);
            if (b.bias != null) System.arraycopy(b.bias, 0, bias, a.out, b.out);
        }
        Source source = a.source != null && b.source != null && a.source.file().equals(b.source.file())
                ? new Source(a.source.cache(), a.source.file(), a.source.tensor() + "+" + b.source.tensor())
                : null;
        return new Linear(w, bias, a.out + b.out, a.in, a.format, source);
    }

    public MemorySegment weight() {
        return weight;
    }

    public float[] bias() {
        return bias;
    }

    public int out() {
        return out;
    }

    public int in() {
        return in;
    }

    /** How {@link #panels()} stores the weight. */
    public WeightPanels.Format format() {
        return format;
    }

    /** Weight element {@code W[o, i]}, as the panels hold it (rounded to bfloat16 or float16 in those formats). */
    public float w(int o, int i) {
        return WeightPanels.round(weight.getAtIndex(Weights.F32, (long) o * in + i), format);
    }

    /** The weight in {@link WeightPanels} layout and {@link #format()}, packed on first call (thread-safe). */
    public MemorySegment panels() {
        MemorySegment p = panels;
        if (p == null) {
            synchronized (this) {
                p = panels;
                if (p == null) {
                    p = source == null
                            ? WeightPanels.pack(weight, out, in, format)
                            : source.cache()
                                    .packed(
                                            source.file(),
                                            source.tensor(),
                                            WeightPanels.layout(out, in, format),
                                            WeightPanels.bytes(out, in, format),
                                            o -> WeightPanels.packInto(weight, out, in, format, o));
                    panels = p;
                    if (weight.isMapped()) weight.unload();
                }
            }
        }
        return p;
    }
}
