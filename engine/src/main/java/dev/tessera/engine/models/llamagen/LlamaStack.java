package dev.tessera.engine.models.llamagen;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.nn.KvCache;
import dev.tessera.engine.nn.Linear;
import dev.tessera.engine.nn.Rope2d;
import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.engine.ops.Activation;
import dev.tessera.engine.ops.Ops;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The LLaMA-style blocks of LlamaGen (and NAR, which adds one block): pre-RMSNorm attention with 2-D RoPE and a
 * key/value cache, then a SwiGLU FFN, no biases:
 * <pre>
 *   h = x + wo(attn(rope(q), rope(k), v))   with q, k, v = wqkv(RMSNorm(x))
 *   x = h + w2(SiLU(w1(RMSNorm(h))) ⊙ w3(RMSNorm(h)))
 * </pre>
 * The weights are shared and read-only; each {@link Cache} belongs to one generation.
 */
public final class LlamaStack {
    /** One {@code layers.N} block; {@code w13} stacks {@code w1} and {@code w3} so they run as one GEMM. */
    public record Layer(float[] attnNorm, Linear wqkv, Linear wo, float[] ffnNorm, Linear w13, Linear w2) {
        public static Layer load(Checkpoint ckpt, String prefix, int dim, int hidden, WeightPanels.Format weights) {
            Linear w1 = Linear.load(ckpt, prefix + ".feed_forward.w1", false, hidden, dim, weights);
            Linear w3 = Linear.load(ckpt, prefix + ".feed_forward.w3", false, hidden, dim, weights);
            return new Layer(
                    ckpt.tensor(prefix + ".attention_norm.weight", dim).toFloatArray(),
                    Linear.load(ckpt, prefix + ".attention.wqkv", false, 3 * dim, dim, weights),
                    Linear.load(ckpt, prefix + ".attention.wo", false, dim, dim, weights),
                    ckpt.tensor(prefix + ".ffn_norm.weight", dim).toFloatArray(),
                    Linear.stack(w1, w3),
                    Linear.load(ckpt, prefix + ".feed_forward.w2", false, dim, hidden, weights));
        }
    }

    private final List<Layer> layers;
    private final int dim, heads, hidden;
    private final float eps;
    private final Rope2d rope;
    private final Ops ops;

    public LlamaStack(List<Layer> layers, int dim, int heads, int hidden, float eps, Rope2d rope, Ops ops) {
        this.layers = List.copyOf(layers);
        this.dim = dim;
        this.heads = heads;
        this.hidden = hidden;
        this.eps = eps;
        this.rope = rope;
        this.ops = ops;
    }

    public static List<Layer> loadLayers(
            Checkpoint ckpt, int first, int count, int dim, int hidden, WeightPanels.Format weights) {
        List<Layer> list = new ArrayList<>();
        for (int i = first; i < first + count; i++) list.add(Layer.load(ckpt, "layers." + i, dim, hidden, weights));
        return list;
    }

    public int size() {
        return layers.size();
    }

    public Ops ops() {
        return ops;
    }

    /** Key/value cache of every layer for {@code rows} sequences of up to {@code capacity} positions. */
    public final class Cache {
        final KvCache kv;
        final int rows;
        float[] h, qkv, o, g, a;

        Cache(int rows, int capacity) {
            this.rows = rows;
            this.kv = new KvCache(ops, layers.size(), rows, heads, dim / heads, capacity);
        }

        /** Positions held (condition tokens included). */
        public int length() {
            return kv.length();
        }

        public int rows() {
            return rows;
        }

        /** Forgets every position from {@code newLength} on (rejected drafts). */
        public void truncate(int newLength) {
            kv.truncate(newLength);
        }

        /** Makes the positions written by the last {@link #run} part of the cache. */
        public void advance(int n) {
            kv.advance(n);
        }

        private void ensure(int tokens) {
            int n = rows * tokens;
            if (h == null || h.length < n * dim) {
                h = ops.allocate(n * dim);
                qkv = ops.allocate(n * 3 * dim);
                o = ops.allocate(n * dim);
                g = ops.allocate(n * 2 * hidden);
                a = ops.allocate(n * hidden);
            }
        }
    }

    public Cache newCache(int rows, int capacity) {
        return new Cache(rows, capacity);
    }

    /**
     * Runs layers {@code [from, to)} in place on {@code x [rows·n, dim]}, the n new positions of every row
     * (rotary rows {@code ropePos[i]}), writing their keys and values at cache positions
     * {@code [length, length + n)} of each layer run. Call {@link Cache#advance} once all layers that share these
     * positions have run.
     */
    public void run(Cache c, float[] x, int n, int[] ropePos, boolean causal, int from, int to) {
        if (c.length() + n > c.kv.capacity())
            throw new IllegalStateException("cache of " + c.kv.capacity() + " positions is full");
        c.ensure(n);
        int rows = c.rows * n, hd = dim / heads;
        float[] scale = new float[heads];
        Arrays.fill(scale, (float) (1.0 / Math.sqrt(hd)));
        for (int i = from; i < to; i++) {
            Layer L = layers.get(i);
            ops.rmsNorm(x, 0, c.h, 0, rows, dim, eps, L.attnNorm());
            ops.linear(c.h, 0, rows, L.wqkv(), c.qkv, 0, Activation.NONE);
            ops.rotary(c.qkv, 0, 3 * dim, rows, heads, rope, ropePos, n);
            ops.rotary(c.qkv, dim, 3 * dim, rows, heads, rope, ropePos, n);
            c.kv.store(i, c.qkv, 0, 3 * dim, dim, 2 * dim, n);
            c.kv.attend(i, c.qkv, 0, 3 * dim, n, causal, scale, c.o, 0, dim);
            ops.linear(c.o, 0, rows, L.wo(), c.h, 0, Activation.NONE);
            ops.addGated(x, 0, c.h, 0, rows, dim, null, 0, 0, 1);
            ops.rmsNorm(x, 0, c.h, 0, rows, dim, eps, L.ffnNorm());
            ops.linear(c.h, 0, rows, L.w13(), c.g, 0, Activation.NONE);
            ops.gatedProduct(
                    c.g, 0, 2 * hidden, c.g, hidden, 2 * hidden, rows, hidden, Activation.SILU, c.a, 0, hidden);
            ops.linear(c.a, 0, rows, L.w2(), c.h, 0, Activation.NONE);
            ops.addGated(x, 0, c.h, 0, rows, dim, null, 0, 0, 1);
        }
    }
}
