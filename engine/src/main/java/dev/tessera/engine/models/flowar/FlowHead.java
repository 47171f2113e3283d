package dev.tessera.engine.models.flowar;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.nn.KvCache;
import dev.tessera.engine.nn.Linear;
import dev.tessera.engine.nn.Rope2d;
import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.engine.ops.Activation;
import dev.tessera.engine.ops.Ops;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * FlowAR's flow-matching head ({@code flownet}, {@code SimpleTransformerAdaLN}): given noisy latent tokens x, a
 * time t and the AR condition z of a scale, it predicts the velocity {@code v = ε − x₀}. Its blocks are either
 * {@code Block_v1} (per-token AdaLN from {@code t + cond_embed(z)}, FlowAR-S) or {@code Block_v2} (per-sample
 * AdaLN on the attention, cross-attention to z, per-token AdaLN on the MLP; FlowAR-L/H).
 *
 * <p>Everything that depends only on z (its embedding, the cross-attention keys and values) is computed once per
 * scale by {@link #prepare}; {@link #velocity} then runs once per ODE step. Immutable and thread-safe; a
 * {@link Context} belongs to one generation.
 */
public final class FlowHead {

    /** One {@code res_blocks.j}: the Block_v2 fields are null for Block_v1 and the other way round. */
    record Block(
            Linear qkv,
            Linear proj,
            Linear fc1g,
            Linear fc1x,
            Linear fc2,
            float[] freqs,
            Linear adaLin,
            Linear adaLinAttn,
            Linear adaLinMlp,
            Linear crossQ,
            Linear crossKv,
            Linear crossProj,
            float[] norm21,
            float[] norm22,
            float[] crossFreqs) {

        static Block load(Checkpoint ckpt, String p, FlowArConfig cfg, WeightPanels.Format weights) {
            int W = cfg.flowWidth(), C = cfg.width(), hid = cfg.flowMlpHidden(), hd = cfg.flowHeadDim();
            Linear qkv = Linear.load(ckpt, p + "attn.qkv", false, 3 * W, W, weights);
            Linear proj = Linear.load(ckpt, p + "attn.proj", true, W, W, weights);
            Linear g = Linear.load(ckpt, p + "mlp.fc1_g", true, hid, W, weights),
                    x = Linear.load(ckpt, p + "mlp.fc1_x", true, hid, W, weights);
            Linear fc2 = Linear.load(ckpt, p + "mlp.fc2", true, W, hid, weights);
            float[] rope = freqs(ckpt, p + "attn.rope.freqs", hd);
            if (!cfg.cross()) {
                return new Block(
                        qkv,
                        proj,
                        g,
                        x,
                        fc2,
                        rope,
                        Linear.load(ckpt, p + "ada_lin", true, 6 * W, W, weights),
                        null,
                        null,
                        null,
                        null,
                        null,
                        null,
                        null,
                        null);
            }
            return new Block(
                    qkv,
                    proj,
                    g,
                    x,
                    fc2,
                    rope,
                    null,
                    Linear.load(ckpt, p + "ada_lin_attn", true, 3 * W, W, weights),
                    Linear.load(ckpt, p + "ada_lin_mlp", true, 3 * W, W, weights),
                    Linear.load(ckpt, p + "crossattn.q", false, W, W, weights),
                    Linear.load(ckpt, p + "crossattn.kv", false, 2 * W, C, weights),
                    Linear.load(ckpt, p + "crossattn.proj", true, W, W, weights),
                    ckpt.tensor(p + "norm2_1.weight", W).toFloatArray(),
                    ckpt.tensor(p + "norm2_2.weight", C).toFloatArray(),
                    freqs(ckpt, p + "crossattn.rope.freqs", hd));
        }

        private static float[] freqs(Checkpoint ckpt, String key, int headDim) {
            return ckpt.contains(key)
                    ? ckpt.tensor(key, headDim / 4).toFloatArray()
                    : Rope2d.frequencies(headDim, 10000f);
        }
    }

    /** Width of the sinusoidal time embedding. */
    static final int FREQUENCY_EMBEDDING = 256;

    private final FlowArConfig cfg;
    private final Ops ops;
    private final Linear time0, time2, condEmbed, inputProj, finalLinear, finalAda;
    private final List<Block> blocks;
    private final float[] timeFreqs;

    private FlowHead(
            FlowArConfig cfg,
            Ops ops,
            Linear time0,
            Linear time2,
            Linear condEmbed,
            Linear inputProj,
            List<Block> blocks,
            Linear finalLinear,
            Linear finalAda) {
        this.cfg = cfg;
        this.ops = ops;
        this.time0 = time0;
        this.time2 = time2;
        this.condEmbed = condEmbed;
        this.inputProj = inputProj;
        this.blocks = blocks;
        this.finalLinear = finalLinear;
        this.finalAda = finalAda;
        // freqs_j = exp(−ln(10000)·j/half) in float32, the scalar rounded to float first as PyTorch does
        int half = FREQUENCY_EMBEDDING / 2;
        timeFreqs = new float[half];
        float a = (float) -Math.log(10000.0);
        for (int j = 0; j < half; j++) timeFreqs[j] = (float) Math.exp((a * j) / half);
    }

    public static FlowHead load(Checkpoint ckpt, FlowArConfig cfg, Ops ops, WeightPanels.Format weights) {
        int W = cfg.flowWidth(), D = cfg.tokenDim();
        List<Block> blocks = new ArrayList<>();
        for (int j = 0; j < cfg.flowDepth(); j++)
            blocks.add(Block.load(ckpt, "flownet.res_blocks." + j + ".", cfg, weights));
        return new FlowHead(
                cfg,
                ops,
                Linear.load(ckpt, "flownet.time_embed.mlp.0", true, W, FREQUENCY_EMBEDDING, weights),
                Linear.load(ckpt, "flownet.time_embed.mlp.2", true, W, W, weights),
                Linear.load(ckpt, "flownet.cond_embed", true, W, cfg.width(), weights),
                Linear.load(ckpt, "flownet.input_proj", true, W, D, weights),
                List.copyOf(blocks),
                Linear.load(ckpt, "flownet.final_layer.linear", true, D, W, weights),
                Linear.load(ckpt, "flownet.final_layer.adaLN_modulation.1", true, 2 * W, W, weights));
    }

    /**
     * The integer timestep the time embedder sees: {@code (t·1000).long()} with the product in float32 and the cast
     * truncating (t = 0.7 gives 700, not 699).
     */
    public static long timestep(float t) {
        return (long) (t * 1000f);
    }

    /**
     * The condition of one scale for up to {@code rows} sequences, and the work arrays of its ODE steps. The
     * scale's n tokens form a square map (side √n), which sets the rotary positions.
     */
    public final class Context {
        final int rows, n;
        final Rope2d[] selfRope, crossRope; // per block
        final float[] c; // cond_embed(z) [rows·n, W]
        final KvCache cross; // Block_v2: the keys and values of z, per block
        final KvCache self; // one block's self-attention keys and values, rewritten every block
        final float[] h, hn, a, mod, qkv, o, g, u, temb, tmod;

        Context(float[] z, int rows, int n) {
            int W = cfg.flowWidth(), C = cfg.width(), R = rows * n, H = cfg.flowHeads(), hd = cfg.flowHeadDim();
            if (z.length != R * C)
                throw new IllegalArgumentException("condition has " + z.length + " values, expected " + R * C);
            this.rows = rows;
            this.n = n;
            int side = (int) Math.round(Math.sqrt(n));
            if (side * side != n) throw new IllegalArgumentException(n + " tokens do not form a square map");
            selfRope = new Rope2d[blocks.size()];
            crossRope = new Rope2d[blocks.size()];
            // the blocks' frequency buffers are normally all equal: one table each for all of them
            Map<List<Float>, Rope2d> tables = new HashMap<>();
            for (int j = 0; j < blocks.size(); j++) {
                Block b = blocks.get(j);
                selfRope[j] = table(tables, side, b.freqs());
                crossRope[j] = b.crossFreqs() == null ? null : table(tables, side, b.crossFreqs());
            }
            c = ops.allocate(R * W);
            ops.linear(z, 0, R, condEmbed, c, 0, Activation.NONE);
            if (cfg.cross()) {
                cross = new KvCache(ops, blocks.size(), rows, H, hd, n);
                float[] zn = ops.allocate(R * C), kv = ops.allocate(R * 2 * W);
                for (int j = 0; j < blocks.size(); j++) {
                    Block b = blocks.get(j);
                    ops.rmsNorm(z, 0, zn, 0, R, C, FlowArConfig.NORM_EPS, b.norm22());
                    ops.linear(zn, 0, R, b.crossKv(), kv, 0, Activation.NONE);
                    crossRope[j].rotateRows(ops, kv, 0, 2 * W, R, n, H);
                    cross.store(j, kv, 0, 2 * W, 0, W, n);
                }
            } else {
                cross = null;
            }
            self = new KvCache(ops, 1, rows, H, hd, n);
            h = ops.allocate(R * W);
            hn = ops.allocate(R * W);
            a = ops.allocate(R * W);
            mod = ops.allocate(R * (cfg.cross() ? 3 : 6) * W);
            qkv = ops.allocate(R * 3 * W);
            o = ops.allocate(R * W);
            g = ops.allocate(R * cfg.flowMlpHidden());
            u = ops.allocate(R * cfg.flowMlpHidden());
            temb = ops.allocate(rows * W);
            tmod = ops.allocate(rows * 3 * W);
        }

        private static Rope2d table(Map<List<Float>, Rope2d> tables, int side, float[] freqs) {
            List<Float> key = new ArrayList<>(freqs.length);
            for (float f : freqs) key.add(f);
            return tables.computeIfAbsent(key, k -> Rope2d.scaledGrid(side, FlowArConfig.ROPE_GRID, freqs));
        }

        /** Sequences this context holds (2B under CFG). */
        public int rows() {
            return rows;
        }
    }

    /** Precomputes what depends only on the AR output {@code z [rows, n, C]} of one scale. */
    public Context prepare(float[] z, int rows, int n) {
        return new Context(z, rows, n);
    }

    /**
     * The velocity {@code v [rows, n, D]} at the noisy tokens {@code x [rows, n, D]} and times {@code t[0..rows)},
     * for the first {@code rows} sequences of the context (under CFG the conditional half alone, or all of it).
     */
    public void velocity(Context ctx, int rows, float[] x, float[] t, float[] v) {
        int W = cfg.flowWidth(),
                D = cfg.tokenDim(),
                n = ctx.n,
                R = rows * n,
                H = cfg.flowHeads(),
                hd = cfg.flowHeadDim();
        if (rows > ctx.rows) throw new IllegalArgumentException(rows + " rows in a context of " + ctx.rows);
        if (x.length < R * D || v.length < R * D || t.length < rows)
            throw new IllegalArgumentException("x, v or t too short");
        float eps = FlowArConfig.NORM_EPS;

        timeEmbedding(t, rows, ctx.temb);
        // a = SiLU(c + t), the input of every per-token modulation
        ops.copy(ctx.c, 0, ctx.a, 0, R * W);
        for (int b = 0; b < rows; b++) ops.addBroadcast(ctx.a, b * n * W, n, 1, W, ctx.temb, b * W);
        ops.activate(ctx.a, 0, R * W, Activation.SILU);
        ops.linear(x, 0, R, inputProj, ctx.h, 0, Activation.NONE);

        float[] scale = new float[H];
        Arrays.fill(scale, (float) (1.0 / Math.sqrt(hd)));
        // Block_v2's attention modulation comes from SiLU(t) alone: the same input for every block
        float[] siluT = null;
        if (cfg.cross()) {
            siluT = ops.allocate(rows * W);
            ops.copy(ctx.temb, 0, siluT, 0, rows * W);
            ops.activate(siluT, 0, siluT.length, Activation.SILU);
        }
        for (int j = 0; j < blocks.size(); j++) {
            Block b = blocks.get(j);
            // attention branch: modulation per token (v1) or per sample from t alone (v2)
            float[] attnMod;
            int stride, group, gamma, sc, sh;
            if (!cfg.cross()) {
                ops.linear(ctx.a, 0, R, b.adaLin(), ctx.mod, 0, Activation.NONE);
                attnMod = ctx.mod;
                stride = 6 * W;
                group = 1;
                gamma = 0;
                sc = 2 * W;
                sh = 4 * W;
            } else {
                ops.linear(siluT, 0, rows, b.adaLinAttn(), ctx.tmod, 0, Activation.NONE);
                attnMod = ctx.tmod;
                stride = 3 * W;
                group = n;
                gamma = 0;
                sc = W;
                sh = 2 * W;
            }
            ops.rmsNorm(ctx.h, 0, ctx.hn, 0, R, W, eps, null);
            ops.modulate(ctx.hn, 0, R, W, attnMod, stride, sc, sh, group);
            ops.linear(ctx.hn, 0, R, b.qkv(), ctx.qkv, 0, Activation.NONE);
            ctx.selfRope[j].rotateRows(ops, ctx.qkv, 0, 3 * W, R, n, H);
            ctx.selfRope[j].rotateRows(ops, ctx.qkv, W, 3 * W, R, n, H);
            ctx.self.store(0, rows, ctx.qkv, 0, 3 * W, W, 2 * W, n);
            ctx.self.attend(0, rows, ctx.qkv, 0, 3 * W, n, false, scale, ctx.o, 0, W);
            ops.linear(ctx.o, 0, R, b.proj(), ctx.hn, 0, Activation.NONE);
            ops.addGated(ctx.h, 0, ctx.hn, 0, R, W, attnMod, stride, gamma, group);

            if (cfg.cross()) {
                // h += crossattn(RMS_w(h), RMS_w(z)): no gate, no modulation
                ops.rmsNorm(ctx.h, 0, ctx.hn, 0, R, W, eps, b.norm21());
                ops.linear(ctx.hn, 0, R, b.crossQ(), ctx.qkv, 0, Activation.NONE);
                ctx.crossRope[j].rotateRows(ops, ctx.qkv, 0, W, R, n, H);
                ctx.cross.attend(j, rows, ctx.qkv, 0, W, n, false, scale, ctx.o, 0, W);
                ops.linear(ctx.o, 0, R, b.crossProj(), ctx.hn, 0, Activation.NONE);
                ops.addGated(ctx.h, 0, ctx.hn, 0, R, W, null, 0, 0, 1);
                ops.linear(ctx.a, 0, R, b.adaLinMlp(), ctx.mod, 0, Activation.NONE);
                stride = 3 * W;
                gamma = 0;
                sc = W;
                sh = 2 * W;
            } else {
                stride = 6 * W;
                gamma = W;
                sc = 3 * W;
                sh = 5 * W;
            }
            ops.rmsNorm(ctx.h, 0, ctx.hn, 0, R, W, eps, null);
            ops.modulate(ctx.hn, 0, R, W, ctx.mod, stride, sc, sh, 1);
            FlowArTransformer.gatedMlp(ops, b.fc1g(), b.fc1x(), b.fc2(), ctx.hn, R, ctx.g, ctx.u, ctx.o);
            ops.addGated(ctx.h, 0, ctx.o, 0, R, W, ctx.mod, stride, gamma, 1);
        }

        // final layer: (shift, scale) = adaLN_modulation(c + t), shift first; v = linear(RMS(h)·(1+scale) + shift)
        float[] fmod = ctx.qkv; // [R, 2W] fits in the qkv array
        ops.linear(ctx.a, 0, R, finalAda, fmod, 0, Activation.NONE);
        ops.rmsNorm(ctx.h, 0, ctx.hn, 0, R, W, eps, null);
        ops.modulate(ctx.hn, 0, R, W, fmod, 2 * W, W, 0, 1);
        ops.linear(ctx.hn, 0, R, finalLinear, v, 0, Activation.NONE);
    }

    /**
     * {@code temb[r] = mlp2(SiLU(mlp0([cos(τ·f), sin(τ·f)])))} with τ = {@link #timestep}(t[r]), one row per sequence.
     */
    private void timeEmbedding(float[] t, int rows, float[] temb) {
        int half = FREQUENCY_EMBEDDING / 2, W = cfg.flowWidth();
        float[] emb = new float[rows * FREQUENCY_EMBEDDING], hidden = ops.allocate(rows * W); // emb: host-written
        for (int r = 0; r < rows; r++) {
            float tau = (float) timestep(t[r]);
            for (int j = 0; j < half; j++) {
                float arg = tau * timeFreqs[j];
                emb[r * FREQUENCY_EMBEDDING + j] = (float) Math.cos(arg);
                emb[r * FREQUENCY_EMBEDDING + half + j] = (float) Math.sin(arg);
            }
        }
        ops.linear(emb, 0, rows, time0, hidden, 0, Activation.SILU);
        ops.linear(hidden, 0, rows, time2, temb, 0, Activation.NONE);
    }
}
