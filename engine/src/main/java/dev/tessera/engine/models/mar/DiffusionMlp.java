package dev.tessera.engine.models.mar;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.nn.Linear;
import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.engine.ops.Activation;
import dev.tessera.engine.ops.Ops;
import java.util.ArrayList;
import java.util.List;

/**
 * MAR's per-token diffusion network ({@code diffloss.net}, {@code SimpleMLPAdaLN}): given noisy tokens x, a
 * timestep and the condition z of each token it predicts ε and the learned-variance values (2·D outputs):
 * <pre>
 *   y = TimestepEmbedder(t) + cond_embed(z);  h = input_proj(x)
 *   per block: (shift, scale, gate) = Linear(SiLU(y)); h += gate · mlp(LN(h)·(1 + scale) + shift)
 *   out = linear(LN_noaffine(h)·(1 + scale') + shift')  with (shift', scale') = Linear(SiLU(y))
 * </pre>
 * Everything that depends on z alone is computed once per token batch by {@link #prepare}. Immutable and
 * thread-safe; a {@link Context} belongs to one batch of tokens.
 */
public final class DiffusionMlp {
    /** Width of the sinusoidal time embedding. */
    static final int FREQUENCY_EMBEDDING = 256;

    record Block(float[] lnW, float[] lnB, Linear fc1, Linear fc2, Linear ada) {}

    private final MarConfig cfg;
    private final Ops ops;
    private final Linear time0, time2, condEmbed, inputProj, finalLinear, finalAda;
    private final List<Block> blocks;
    private final float[] timeFreqs;

    private DiffusionMlp(MarConfig cfg, Ops ops, Checkpoint ckpt, WeightPanels.Format f) {
        this.cfg = cfg;
        this.ops = ops;
        int W = cfg.headWidth(), D = cfg.tokenDim();
        String p = "diffloss.net.";
        time0 = Linear.load(ckpt, p + "time_embed.mlp.0", true, W, FREQUENCY_EMBEDDING, f);
        time2 = Linear.load(ckpt, p + "time_embed.mlp.2", true, W, W, f);
        condEmbed = Linear.load(ckpt, p + "cond_embed", true, W, cfg.decoderWidth(), f);
        inputProj = Linear.load(ckpt, p + "input_proj", true, W, D, f);
        List<Block> bs = new ArrayList<>();
        for (int i = 0; i < cfg.headDepth(); i++) {
            String b = p + "res_blocks." + i + ".";
            bs.add(new Block(
                    ckpt.tensor(b + "in_ln.weight", W).toFloatArray(),
                    ckpt.tensor(b + "in_ln.bias", W).toFloatArray(),
                    Linear.load(ckpt, b + "mlp.0", true, W, W, f),
                    Linear.load(ckpt, b + "mlp.2", true, W, W, f),
                    Linear.load(ckpt, b + "adaLN_modulation.1", true, 3 * W, W, f)));
        }
        blocks = List.copyOf(bs);
        finalLinear = Linear.load(ckpt, p + "final_layer.linear", true, 2 * D, W, f);
        finalAda = Linear.load(ckpt, p + "final_layer.adaLN_modulation.1", true, 2 * W, W, f);
        // freqs_j = exp(−ln(10000)·j/half), each step in float32 as PyTorch computes it
        int half = FREQUENCY_EMBEDDING / 2;
        timeFreqs = new float[half];
        float a = (float) -Math.log(10000.0);
        for (int j = 0; j < half; j++) timeFreqs[j] = (float) Math.exp((a * j) / half);
    }

    public static DiffusionMlp load(Checkpoint ckpt, MarConfig cfg, Ops ops, WeightPanels.Format weights) {
        return new DiffusionMlp(cfg, ops, ckpt, weights);
    }

    /** Latent channels per token (D). */
    public int tokenDim() {
        return cfg.tokenDim();
    }

    /** The condition of up to {@code rows} tokens and the work arrays of their network evaluations. */
    public final class Context {
        final int rows;
        final float[] c, y, h, hn, mod, mid, temb, hidden, emb;

        Context(float[] z, int zOff, int rows) {
            int W = cfg.headWidth();
            this.rows = rows;
            c = ops.allocate(rows * W);
            ops.linear(z, zOff, rows, condEmbed, c, 0, Activation.NONE);
            y = ops.allocate(rows * W);
            h = ops.allocate(rows * W);
            hn = ops.allocate(rows * W);
            mod = ops.allocate(rows * 3 * W);
            mid = ops.allocate(rows * W);
            temb = ops.allocate(W);
            hidden = ops.allocate(W);
            emb = ops.allocate(FREQUENCY_EMBEDDING);
        }

        public int rows() {
            return rows;
        }
    }

    /** Precomputes {@code cond_embed(z)} of {@code rows} conditions {@code z[zOff ..]} of width decoderWidth. */
    public Context prepare(float[] z, int zOff, int rows) {
        return new Context(z, zOff, rows);
    }

    /**
     * The network's output {@code out [rows, 2D]} (ε, then the variance values) at {@code x [rows, D]} and the
     * original (not respaced) timestep {@code t}, the same for every row, for the first {@code rows} rows of the
     * context.
     */
    public void forward(Context ctx, int rows, float[] x, long t, float[] out) {
        int W = cfg.headWidth(), D = cfg.tokenDim(), R = rows;
        if (rows > ctx.rows) throw new IllegalArgumentException(rows + " rows in a context of " + ctx.rows);
        if (x.length < R * D || out.length < R * 2 * D) throw new IllegalArgumentException("x or out too short");
        timeEmbedding(ctx, t);
        ops.copy(ctx.c, 0, ctx.y, 0, R * W);
        ops.addBroadcast(ctx.y, 0, R, 1, W, ctx.temb, 0); // c + t, one time for every row
        ops.activate(ctx.y, 0, R * W, Activation.SILU); // every modulation reads SiLU(y)
        ops.linear(x, 0, R, inputProj, ctx.h, 0, Activation.NONE);
        for (Block b : blocks) {
            ops.linear(ctx.y, 0, R, b.ada(), ctx.mod, 0, Activation.NONE); // shift, scale, gate
            ops.layerNorm(ctx.h, 0, ctx.hn, 0, R, W, MarConfig.NORM_EPS, null, 0, 0, 0, 1);
            ops.affine(ctx.hn, 0, R, W, b.lnW(), b.lnB());
            ops.modulate(ctx.hn, 0, R, W, ctx.mod, 3 * W, W, 0, 1);
            ops.linear(ctx.hn, 0, R, b.fc1(), ctx.mid, 0, Activation.SILU);
            ops.linear(ctx.mid, 0, R, b.fc2(), ctx.hn, 0, Activation.NONE);
            ops.addGated(ctx.h, 0, ctx.hn, 0, R, W, ctx.mod, 3 * W, 2 * W, 1);
        }
        ops.linear(ctx.y, 0, R, finalAda, ctx.mod, 0, Activation.NONE); // shift, scale
        ops.layerNorm(ctx.h, 0, ctx.hn, 0, R, W, MarConfig.NORM_EPS, ctx.mod, 2 * W, W, 0, 1);
        ops.linear(ctx.hn, 0, R, finalLinear, out, 0, Activation.NONE);
    }

    /** {@code temb = mlp2(SiLU(mlp0([cos(t·f), sin(t·f)])))} in float32. */
    private void timeEmbedding(Context ctx, long t) {
        int half = FREQUENCY_EMBEDDING / 2;
        float tau = (float) t;
        for (int j = 0; j < half; j++) {
            float arg = tau * timeFreqs[j];
            ctx.emb[j] = (float) Math.cos(arg);
            ctx.emb[half + j] = (float) Math.sin(arg);
        }
        ops.hostWrote(ctx.emb);
        ops.linear(ctx.emb, 0, 1, time0, ctx.hidden, 0, Activation.SILU);
        ops.linear(ctx.hidden, 0, 1, time2, ctx.temb, 0, Activation.NONE);
    }
}
