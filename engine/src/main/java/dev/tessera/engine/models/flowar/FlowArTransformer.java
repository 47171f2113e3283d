package dev.tessera.engine.models.flowar;

import dev.tessera.engine.TesseraException;
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
 * FlowAR's scale-wise AR transformer ({@code forward_mae_encoder} + {@code forward_mae_decoder} at inference): an
 * encoder and a decoder stack of class-conditioned AdaLN blocks, each with its own key/value cache across scales.
 * For every scale it turns the scale's input tokens into the per-token condition z of the flow head:
 * <pre>
 *   State s = ar.start(labels);                  // conditional rows, then the null-class rows under CFG
 *   float[] x = ar.firstInput(s);                // the class embeddings: scale 0 is the class token
 *   for si in scales:
 *       float[] z = ar.forward(s, si, x);        // [rows, n_si, C]
 *       ... the flow head samples the scale's latents from z ...
 *       x = ar.nextInput(si + 1, latents, B, copies);
 * </pre>
 * Immutable and thread-safe; each {@link State} belongs to one generation.
 */
public final class FlowArTransformer {

    /** One AR block's weights ({@code encoder_blocks.i} / {@code decoder_blocks.i}). */
    record Block(Linear qkv, Linear proj, Linear fc1g, Linear fc1x, Linear fc2, Linear adaLin, Rope2d[] rope) {
        static Block load(Checkpoint ckpt, String p, FlowArConfig cfg, WeightPanels.Format weights) {
            int C = cfg.width();
            float[] freqs = ckpt.contains(p + "attn.rope.freqs")
                    ? ckpt.tensor(p + "attn.rope.freqs", cfg.headDim() / 4).toFloatArray()
                    : Rope2d.frequencies(cfg.headDim(), 10000f);
            return new Block(
                    Linear.load(ckpt, p + "attn.qkv", true, 3 * C, C, weights),
                    Linear.load(ckpt, p + "attn.proj", true, C, C, weights),
                    Linear.load(ckpt, p + "mlp.fc1_g", true, cfg.mlpHidden(), C, weights),
                    Linear.load(ckpt, p + "mlp.fc1_x", true, cfg.mlpHidden(), C, weights),
                    Linear.load(ckpt, p + "mlp.fc2", true, C, cfg.mlpHidden(), weights),
                    Linear.load(ckpt, p + "ada_lin.1", true, 6 * C, C, weights),
                    ropeTables(cfg, freqs));
        }
    }

    /** One rotary table per scale (positions rescaled to the 16-grid). */
    static Rope2d[] ropeTables(FlowArConfig cfg, float[] freqs) {
        Rope2d[] t = new Rope2d[cfg.scaleCount()];
        for (int si = 0; si < t.length; si++) t[si] = Rope2d.scaledGrid(cfg.side(si), FlowArConfig.ROPE_GRID, freqs);
        return t;
    }

    private final FlowArConfig cfg;
    private final Ops ops;
    private final float[] classEmb, encPos, decPos, diffPos, zProjLn, encNorm, decNorm;
    private final Linear zProj, decoderEmbed;
    private final List<Block> encoder, decoder;

    private FlowArTransformer(
            FlowArConfig cfg,
            Ops ops,
            float[] classEmb,
            float[] encPos,
            float[] decPos,
            float[] diffPos,
            Linear zProj,
            float[] zProjLn,
            List<Block> encoder,
            float[] encNorm,
            Linear decoderEmbed,
            List<Block> decoder,
            float[] decNorm) {
        this.cfg = cfg;
        this.ops = ops;
        this.classEmb = classEmb;
        this.encPos = encPos;
        this.decPos = decPos;
        this.diffPos = diffPos;
        this.zProj = zProj;
        this.zProjLn = zProjLn;
        this.encoder = encoder;
        this.encNorm = encNorm;
        this.decoderEmbed = decoderEmbed;
        this.decoder = decoder;
        this.decNorm = decNorm;
    }

    public static FlowArTransformer load(Checkpoint ckpt, FlowArConfig cfg, Ops ops, WeightPanels.Format weights) {
        int C = cfg.width(), L = cfg.tokens();
        List<Block> enc = new ArrayList<>(), dec = new ArrayList<>();
        for (int i = 0; i < cfg.encoderDepth(); i++)
            enc.add(Block.load(ckpt, "encoder_blocks." + i + ".", cfg, weights));
        for (int i = 0; i < cfg.decoderDepth(); i++)
            dec.add(Block.load(ckpt, "decoder_blocks." + i + ".", cfg, weights));
        return new FlowArTransformer(
                cfg,
                ops,
                ckpt.tensor("class_emb.weight", cfg.classRows(), C).toFloatArray(),
                ckpt.tensor("encoder_pos_embed_learned", 1, L, C).toFloatArray(),
                ckpt.tensor("decoder_pos_embed_learned", 1, L, C).toFloatArray(),
                ckpt.tensor("diffusion_pos_embed_learned", 1, L, C).toFloatArray(),
                Linear.load(ckpt, "z_proj", true, C, cfg.tokenDim(), weights),
                ckpt.tensor("z_proj_ln.weight", C).toFloatArray(),
                List.copyOf(enc),
                ckpt.tensor("encoder_norm.weight", C).toFloatArray(),
                Linear.load(ckpt, "decoder_embed", true, C, C, weights),
                List.copyOf(dec),
                ckpt.tensor("decoder_norm.weight", C).toFloatArray());
    }

    public FlowArConfig config() {
        return cfg;
    }

    public Ops ops() {
        return ops;
    }

    /** Per-generation state: every row's class embedding, its blocks' AdaLN modulations, the two caches. */
    public final class State {
        final int rows;
        final float[] cls;
        final float[][] encMod, decMod;
        final KvCache encCache, decCache;
        int nextScale;

        State(int[] labels) {
            int C = cfg.width();
            rows = labels.length;
            cls = new float[rows * C];
            for (int r = 0; r < rows; r++) {
                int label = labels[r];
                if (label < 0 || label >= cfg.classRows()) {
                    throw new TesseraException("class " + label + " is out of range: this model has " + cfg.numClasses()
                            + " classes (0-" + (cfg.numClasses() - 1) + ")");
                }
                System.arraycopy(classEmb, label * C, cls, r * C, C);
            }
            // the modulations depend only on the class: once per generation, not once per scale
            float[] silu = ops.allocate(cls.length);
            System.arraycopy(cls, 0, silu, 0, cls.length);
            ops.hostWrote(silu);
            ops.activate(silu, 0, silu.length, Activation.SILU);
            encMod = modulations(encoder, silu);
            decMod = modulations(decoder, silu);
            encCache = new KvCache(ops, encoder.size(), rows, cfg.heads(), cfg.headDim(), cfg.tokens());
            decCache = new KvCache(ops, decoder.size(), rows, cfg.heads(), cfg.headDim(), cfg.tokens());
        }

        private float[][] modulations(List<Block> blocks, float[] silu) {
            float[][] mod = new float[blocks.size()][];
            for (int i = 0; i < mod.length; i++) {
                mod[i] = ops.allocate(rows * 6 * cfg.width());
                ops.linear(silu, 0, rows, blocks.get(i).adaLin(), mod[i], 0, Activation.NONE);
            }
            return mod;
        }

        public int rows() {
            return rows;
        }
    }

    /**
     * Starts a generation; one label per row, the null class being {@link FlowArConfig#nullClass()}. Under CFG pass
     * the B labels followed by B copies of the null class.
     */
    public State start(int[] labels) {
        return new State(labels);
    }

    /** Scale 0's input: each row's class embedding (the class token is the whole first "map"). */
    public float[] firstInput(State s) {
        float[] x = ops.allocate(s.cls.length);
        System.arraycopy(s.cls, 0, x, 0, x.length);
        ops.hostWrote(x);
        return x;
    }

    /**
     * The input of scale {@code si > 0} from the latents sampled at scale {@code si − 1}, {@code [n, side², D]}
     * tokens: each map bicubic-resized to the final grid's side ({@link FlowArConfig#nextScaleGrid}: 16 for the
     * released models), then area-resized to this scale's side, then {@code z_proj}; repeated {@code copies} times
     * along the batch (2 under CFG).
     */
    public float[] nextInput(int si, float[] latents, int n, int copies) {
        int D = cfg.tokenDim(),
                prev = cfg.side(si - 1),
                side = cfg.side(si),
                full = cfg.nextScaleGrid(),
                C = cfg.width();
        if (latents.length != n * prev * prev * D) {
            throw new IllegalArgumentException("scale " + (si - 1) + " latents have " + latents.length
                    + " values, expected " + n * prev * prev * D);
        }
        int N = side * side;
        float[] tokens = new float[n * N * D];
        float[] map = new float[D * prev * prev], big = new float[D * full * full], small = new float[D * N];
        for (int b = 0; b < n; b++) {
            toMap(latents, b * prev * prev * D, prev * prev, D, map);
            ops.resizeBicubic(map, 0, D, prev, prev, big, 0, full, full);
            ops.resizeArea(big, 0, D, full, full, small, 0, side, side);
            for (int t = 0; t < N; t++) {
                for (int c = 0; c < D; c++) tokens[(b * N + t) * D + c] = small[c * N + t];
            }
        }
        int len = n * N * C;
        float[] x = ops.allocate(copies * len);
        ops.linear(tokens, 0, n * N, zProj, x, 0, Activation.NONE);
        for (int k = 1; k < copies; k++) ops.copy(x, 0, x, k * len, len); // bit for bit, on the device
        return x;
    }

    /** Tokens {@code [N, D]} to a channel-major map {@code [D, N]}. */
    static void toMap(float[] tokens, int off, int N, int D, float[] map) {
        for (int t = 0; t < N; t++) {
            for (int c = 0; c < D; c++) map[c * N + t] = tokens[off + t * D + c];
        }
    }

    /**
     * Runs scale {@code si} (the next one of this state) on its input tokens {@code x [rows, n, C]} and returns the
     * flow head's condition {@code z [rows, n, C]}: position embedding, {@code z_proj_ln}, encoder, {@code
     * encoder_norm}, {@code decoder_embed} + position embedding, decoder, {@code decoder_norm}, plus the diffusion
     * position embedding. x is overwritten.
     */
    public float[] forward(State s, int si, float[] x) {
        if (si != s.nextScale)
            throw new IllegalStateException("scale " + si + " run out of order (expected " + s.nextScale + ")");
        int C = cfg.width(), n = cfg.tokensAt(si), rows = s.rows * n, begin = cfg.begin(si);
        if (x.length != rows * C)
            throw new IllegalArgumentException("input has " + x.length + " values, expected " + rows * C);
        Work w = new Work(ops, rows, C, cfg.mlpHidden());

        addPositions(x, encPos, s.rows, n, begin);
        ops.rmsNorm(x, 0, x, 0, rows, C, FlowArConfig.NORM_EPS, zProjLn);
        for (int i = 0; i < encoder.size(); i++) block(encoder.get(i), s.encMod[i], s.encCache, i, si, x, s.rows, n, w);
        ops.rmsNorm(x, 0, x, 0, rows, C, FlowArConfig.NORM_EPS, encNorm);

        float[] y = ops.allocate(rows * C);
        ops.linear(x, 0, rows, decoderEmbed, y, 0, Activation.NONE);
        addPositions(y, decPos, s.rows, n, begin);
        for (int i = 0; i < decoder.size(); i++) block(decoder.get(i), s.decMod[i], s.decCache, i, si, y, s.rows, n, w);
        ops.rmsNorm(y, 0, y, 0, rows, C, FlowArConfig.NORM_EPS, decNorm);
        addPositions(y, diffPos, s.rows, n, begin);

        s.encCache.advance(n);
        s.decCache.advance(n);
        s.nextScale++;
        ops.toHost(y); // the sampler keeps the conditions
        return y;
    }

    /** Work arrays of one scale. */
    private record Work(float[] h, float[] qkv, float[] o, float[] g, float[] u) {
        Work(Ops ops, int rows, int C, int hidden) {
            this(
                    ops.allocate(rows * C),
                    ops.allocate(rows * 3 * C),
                    ops.allocate(rows * C),
                    ops.allocate(rows * hidden),
                    ops.allocate(rows * hidden));
        }
    }

    /** {@code x[b, t] += table[begin + t]} for every row b. */
    private void addPositions(float[] x, float[] table, int rows, int n, int begin) {
        int C = cfg.width();
        ops.addBroadcast(x, 0, rows, n, C, table, begin * C);
    }

    /**
     * One AR block in place on x (modulation chunks γ1, γ2, scale1, scale2, shift1, shift2 per row):
     * {@code x += attn(RMS(x)·(1+s1) + β1)·γ1}, {@code x += mlp(RMS(x)·(1+s2) + β2)·γ2}, RMS without weight, the
     * attention with RoPE on this scale's q and k and the whole cache as context.
     */
    private void block(Block blk, float[] mod, KvCache cache, int layer, int si, float[] x, int seqs, int n, Work w) {
        int C = cfg.width(), rows = seqs * n, H = cfg.heads(), d = cfg.headDim(), M = 6 * C;
        float eps = FlowArConfig.NORM_EPS;

        ops.rmsNorm(x, 0, w.h, 0, rows, C, eps, null);
        ops.modulate(w.h, 0, rows, C, mod, M, 2 * C, 4 * C, n);
        ops.linear(w.h, 0, rows, blk.qkv(), w.qkv, 0, Activation.NONE);
        Rope2d rope = blk.rope()[si];
        rope.rotateRows(ops, w.qkv, 0, 3 * C, rows, n, H);
        rope.rotateRows(ops, w.qkv, C, 3 * C, rows, n, H);
        cache.store(layer, w.qkv, 0, 3 * C, C, 2 * C, n);
        float[] scale = new float[H];
        Arrays.fill(scale, (float) (1.0 / Math.sqrt(d)));
        cache.attend(layer, w.qkv, 0, 3 * C, n, false, scale, w.o, 0, C);
        ops.linear(w.o, 0, rows, blk.proj(), w.h, 0, Activation.NONE);
        ops.addGated(x, 0, w.h, 0, rows, C, mod, M, 0, n);

        ops.rmsNorm(x, 0, w.h, 0, rows, C, eps, null);
        ops.modulate(w.h, 0, rows, C, mod, M, 3 * C, 5 * C, n);
        gatedMlp(ops, blk.fc1g(), blk.fc1x(), blk.fc2(), w.h, rows, w.g, w.u, w.o);
        ops.addGated(x, 0, w.o, 0, rows, C, mod, M, C, n);
    }

    /** timm's {@code SwiGLU} built with GELU: {@code out = fc2(GELU_erf(fc1_g(h)) ⊙ fc1_x(h))}. */
    static void gatedMlp(
            Ops ops, Linear fc1g, Linear fc1x, Linear fc2, float[] h, int rows, float[] g, float[] u, float[] out) {
        ops.linear(h, 0, rows, fc1g, g, 0, Activation.GELU_ERF);
        ops.linear(h, 0, rows, fc1x, u, 0, Activation.NONE);
        int n = fc1g.out();
        ops.gatedProduct(g, 0, n, u, 0, n, rows, n, Activation.NONE, g, 0, n);
        ops.linear(g, 0, rows, fc2, out, 0, Activation.NONE);
    }
}
