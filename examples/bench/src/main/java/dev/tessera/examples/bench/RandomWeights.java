package dev.tessera.examples.bench;

import dev.tessera.engine.io.InMemoryCheckpoint;
import dev.tessera.engine.io.SafetensorsWriter;
import dev.tessera.engine.nn.Rope2d;
import dev.tessera.engine.ops.Parallel;
import dev.tessera.engine.tensor.DType;
import dev.tessera.engine.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Random weights with the exact keys and shapes of the released checkpoints, built in memory so that anyone can
 * benchmark without downloading gigabytes. Values are uniform with a fan-in scale, so activations stay in range.
 */
public final class RandomWeights implements AutoCloseable {
    private final Map<String, Tensor> tensors = new LinkedHashMap<>();
    private final Arena arena = Arena.ofShared();
    private final long seed;
    private long bytes;

    public RandomWeights(long seed) {
        this.seed = seed;
    }

    /** Adds a float32 tensor with values uniform in ±scale. */
    public void add(String key, double scale, long... shape) {
        long n = Tensor.numel(shape);
        MemorySegment seg = arena.allocate(n * 4, 64);
        long keySeed = seed * 0x9E3779B97F4A7C15L + key.hashCode();
        int chunks = (int) Math.max(1, Math.min(256, n / (1 << 16)));
        Parallel.forEach(chunks, c -> {
            long s = n * c / chunks, e = n * (c + 1) / chunks;
            long x = keySeed ^ (c * 0xBF58476D1CE4E5B9L) | 1;
            for (long i = s; i < e; i++) {
                x ^= x << 13;
                x ^= x >>> 7;
                x ^= x << 17;
                float u = ((x >>> 40) * 0x1.0p-24f) * 2f - 1f;
                seg.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (float) (u * scale));
            }
        });
        tensors.put(key, new Tensor(key, DType.F32, shape, seg));
        bytes += n * 4;
    }

    /** A linear layer {@code [out, in]} (+ bias) with the usual 1/√in scale. */
    public void linear(String prefix, int out, int in, boolean bias) {
        add(prefix + ".weight", 1.0 / Math.sqrt(in), out, in);
        if (bias) add(prefix + ".bias", 0.02, out);
    }

    public void conv(String prefix, int cout, int cin, int k) {
        add(prefix + ".weight", 1.0 / Math.sqrt(cin * k * k), cout, cin, k, k);
        add(prefix + ".bias", 0.02, cout);
    }

    public void norm(String prefix, int c) {
        ones(prefix + ".weight", c);
        add(prefix + ".bias", 0.02, c);
    }

    /** A tensor of ones (norm weights without a bias). */
    public void ones(String key, int c) {
        MemorySegment w = arena.allocate(c * 4L, 64);
        for (int i = 0; i < c; i++) w.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, 1f);
        tensors.put(key, new Tensor(key, DType.F32, new long[] {c}, w));
        bytes += c * 4L;
    }

    /** A rotary embedding's {@code freqs} buffer for head size hd: hd/4 values {@code 1/10000^(2k/(hd/2))}. */
    public void ropeFreqs(String key, int headDim) {
        float[] f = Rope2d.frequencies(headDim, 10000f);
        MemorySegment w = arena.allocate(f.length * 4L, 64);
        for (int i = 0; i < f.length; i++) w.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, f[i]);
        tensors.put(key, new Tensor(key, DType.F32, new long[] {f.length}, w));
        bytes += f.length * 4L;
    }

    public void put(Tensor t) {
        tensors.put(t.name(), t);
        bytes += t.data().byteSize();
    }

    public long bytes() {
        return bytes;
    }

    public InMemoryCheckpoint build(String name) {
        return new InMemoryCheckpoint(name, tensors);
    }

    /**
     * Writes the tensors as a safetensors file and frees them: loading that file is what a user's run does
     * (memory mapping, packing, page release), so benchmarks measure the real path.
     */
    public Path writeTo(Path file) {
        SafetensorsWriter.write(
                file, tensors.values(), Map.of("format", "pt", "note", "random weights for benchmarking"));
        close();
        return file;
    }

    /** Frees the in-memory tensors. */
    @Override
    public void close() {
        tensors.clear();
        if (arena.scope().isAlive()) arena.close();
    }
}
