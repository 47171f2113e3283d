package dev.tessera.engine.models.var;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.nn.KvCache;
import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.engine.ops.Activation;
import dev.tessera.engine.ops.Ops;
import java.util.Arrays;

/**
 * VAR's next-scale transformer ({@code models/var.py}, {@code basic_var.py}): class-conditioned AdaLN blocks with
 * a key/value cache across scales. A sampler drives it one scale at a time:
 * <pre>
 *   State s = var.start(labels);              // conditional rows first, then the unconditional ones for CFG
 *   float[] x = var.firstInput(s);
 *   for si in scales:
 *       logits = var.forward(s, si, x);       // [rows, pn², V]
 *       ... choose tokens, update f_hat, area-downsample to the next side ...
 *       x = var.nextInput(si + 1, next, copies);
 * </pre>
 * The weights are immutable and shared; each {@link State} belongs to one generation, so one model serves any
 * number of threads, each with its own state.
 */
public final class VarTransformer {
    private final VarConfig cfg;
    private final VarWeights w;
    private final Ops ops;

    public VarTransformer(VarConfig cfg, VarWeights w, Ops ops) {
        this.cfg = cfg;
        this.w = w;
        this.ops = ops;
    }

    /** Reads config and weights from a checkpoint; see {@link VarConfig#infer} for the overrides. */
    public static VarTransformer load(Checkpoint ckpt, int headsOverride, int[] patchOverride, Ops ops) {
        return load(ckpt, headsOverride, patchOverride, ops, WeightPanels.Format.F32);
    }

    /** As {@link #load(Checkpoint, int, int[], Ops)}, with the linear layers' weights packed in {@code weights}. */
    public static VarTransformer load(
            Checkpoint ckpt, int headsOverride, int[] patchOverride, Ops ops, WeightPanels.Format weights) {
        VarConfig cfg = VarConfig.infer(ckpt, headsOverride, patchOverride);
        return new VarTransformer(cfg, VarWeights.load(ckpt, cfg, weights), ops);
    }

    public VarConfig config() {
        return cfg;
    }

    public Ops ops() {
        return ops;
    }

    /** Per-generation state: the conditioning of every row, its AdaLN modulations, and the key/value cache. */
    public final class State {
        final int rows;
        final float[] cond;
        final float[][] blockMod;
        final float[] headMod;
        final KvCache cache;
        /** Work arrays sized for the largest scale, reused by every block of every scale. */
        final float[] h, qkv, o, f;

        int nextScale;

        State(int[] labels) {
            int C = cfg.width();
            rows = labels.length;
            cond = new float[rows * C];
            for (int r = 0; r < rows; r++) {
                int label = labels[r];
                if (label < 0 || label > cfg.numClasses()) {
                    throw new TesseraException("class " + label + " is out of range: this model has " + cfg.numClasses()
                            + " classes (0-" + (cfg.numClasses() - 1) + ")");
                }
                System.arraycopy(w.classEmb(), label * C, cond, r * C, C);
            }
            // AdaLN modulations depend only on the class: computed once per generation, not once per scale
            float[] siluCond = ops.allocate(cond.length);
            System.arraycopy(cond, 0, siluCond, 0, cond.length);
            ops.hostWrote(siluCond);
            ops.activate(siluCond, 0, siluCond.length, Activation.SILU);
            blockMod = new float[cfg.depth()][];
            float[] shared = null;
            if (w.sharedAdaLin() != null) {
                shared = ops.allocate(rows * 6 * C);
                ops.linear(siluCond, 0, rows, w.sharedAdaLin(), shared, 0, Activation.NONE);
            }
            for (int i = 0; i < cfg.depth(); i++) {
                VarWeights.Block blk = w.blocks().get(i);
                float[] mod = ops.allocate(rows * 6 * C);
                if (blk.adaLin() != null) {
                    ops.linear(siluCond, 0, rows, blk.adaLin(), mod, 0, Activation.NONE);
                } else {
                    ops.copy(shared, 0, mod, 0, mod.length);
                    ops.addBroadcast(mod, 0, rows, 1, 6 * C, blk.adaGss(), 0);
                }
                blockMod[i] = mod;
            }
            headMod = ops.allocate(rows * 2 * C);
            ops.linear(siluCond, 0, rows, w.headAdaLin(), headMod, 0, Activation.NONE);
            cache = new KvCache(ops, cfg.depth(), rows, cfg.heads(), cfg.headDim(), cfg.tokens());
            int maxTokens = 0;
            for (int si = 0; si < cfg.scales(); si++) maxTokens = Math.max(maxTokens, cfg.tokensAt(si));
            int maxRows = rows * maxTokens;
            h = ops.allocate(maxRows * C);
            qkv = ops.allocate(maxRows * 3 * C);
            o = ops.allocate(maxRows * C);
            f = ops.allocate(maxRows * cfg.mlpHidden());
        }

        /** Rows in the batch (2B under classifier-free guidance). */
        public int rows() {
            return rows;
        }
    }

    /**
     * Starts a generation for the given class labels, one per row; the unconditional class is
     * {@code numClasses}. Under CFG pass the B labels followed by B copies of {@code numClasses}.
     */
    public State start(int[] labels) {
        return new State(labels);
    }

    /** The first scale's input: {@code class_emb + pos_start + lvl_embed[0] + pos_1LC[0..first_l)}. */
    public float[] firstInput(State s) {
        int C = cfg.width(), n = cfg.tokensAt(0);
        float[] x = ops.allocate(s.rows * n * C);
        for (int r = 0; r < s.rows; r++) {
            for (int t = 0; t < n; t++) System.arraycopy(s.cond, r * C, x, (r * n + t) * C, C);
        }
        ops.hostWrote(x);
        ops.addBroadcast(x, 0, s.rows, n, C, w.posStart(), 0);
        ops.addBroadcast(x, 0, s.rows, n, C, w.lvlPos(), 0);
        return x;
    }

    /**
     * The input of scale {@code si > 0}: {@code word_embed(f) + lvl_pos} for the area-downsampled VQ features
     * {@code f [n, pn², Cvae]} (row-major token maps), repeated {@code copies} times along the batch (2 under CFG:
     * the conditional and unconditional rows see the same features).
     */
    public float[] nextInput(int si, float[] f, int n, int copies) {
        int C = cfg.width(), tokens = cfg.tokensAt(si), begin = cfg.begin(si);
        if (f.length != n * tokens * cfg.cvae()) {
            throw new IllegalArgumentException(
                    "scale " + si + " input has " + f.length + " values, expected " + n * tokens * cfg.cvae());
        }
        int len = n * tokens * C;
        float[] x = ops.allocate(copies * len);
        ops.linear(f, 0, n * tokens, w.wordEmbed(), x, 0, Activation.NONE);
        ops.addBroadcast(x, 0, n, tokens, C, w.lvlPos(), begin * C);
        for (int k = 1; k < copies; k++) ops.copy(x, 0, x, k * len, len); // bit for bit, on the device
        return x;
    }

    /**
     * Runs every block on the tokens {@code x [rows, pn², C]} of scale {@code si} (which must be the next scale of
     * this state), appending their keys and values to the cache, and returns the logits {@code [rows, pn², V]}.
     */
    public float[] forward(State s, int si, float[] x) {
        if (si != s.nextScale)
            throw new IllegalStateException("scale " + si + " run out of order (expected " + s.nextScale + ")");
        int C = cfg.width(), l = cfg.tokensAt(si), rows = s.rows * l;
        if (x.length != rows * C)
            throw new IllegalArgumentException("input has " + x.length + " values, expected " + rows * C);
        float[] h = s.h;
        for (int i = 0; i < cfg.depth(); i++) block(s, i, x, l, h, s.qkv, s.o, s.f);
        s.cache.advance(l);
        s.nextScale++;
        // head: LN(x)·(1 + scale) + shift, scale first
        ops.layerNorm(x, 0, h, 0, rows, C, cfg.normEps(), s.headMod, 2 * C, 0, C, l);
        float[] logits = ops.allocate(rows * cfg.vocab());
        ops.linear(h, 0, rows, w.head(), logits, 0, Activation.NONE);
        ops.toHost(logits); // the sampler reads them
        return logits;
    }

    /** One AdaLNSelfAttn block, in place on x. Modulation chunks: γ1, γ2, scale1, scale2, shift1, shift2. */
    private void block(State s, int i, float[] x, int l, float[] h, float[] qkv, float[] o, float[] f) {
        VarWeights.Block blk = w.blocks().get(i);
        int C = cfg.width(), rows = s.rows * l, H = cfg.heads(), d = cfg.headDim();
        float[] mod = s.blockMod[i];
        int M = 6 * C;

        // x += attn(LN(x)·(1+scale1) + shift1)·γ1
        ops.layerNorm(x, 0, h, 0, rows, C, cfg.normEps(), mod, M, 2 * C, 4 * C, l);
        ops.linear(h, 0, rows, blk.qkv(), qkv, 0, Activation.NONE);
        float[] scale = new float[H];
        if (blk.scaleMul() != null) {
            // q ← normalize(q)·scaleMul[h], k ← normalize(k), per head
            ops.l2NormalizeHeads(qkv, 0, 3 * C, rows, H, d, blk.scaleMul());
            ops.l2NormalizeHeads(qkv, C, 3 * C, rows, H, d, null);
            Arrays.fill(scale, 1f);
        } else {
            Arrays.fill(scale, 0.25f / (float) Math.sqrt(d));
        }
        s.cache.store(i, qkv, 0, 3 * C, C, 2 * C, l);
        s.cache.attend(i, qkv, 0, 3 * C, l, false, scale, o, 0, C);
        ops.linear(o, 0, rows, blk.proj(), h, 0, Activation.NONE);
        ops.addGated(x, 0, h, 0, rows, C, mod, M, 0, l);

        // x += ffn(LN(x)·(1+scale2) + shift2)·γ2
        ops.layerNorm(x, 0, h, 0, rows, C, cfg.normEps(), mod, M, 3 * C, 5 * C, l);
        ops.linear(h, 0, rows, blk.fc1(), f, 0, Activation.GELU_TANH);
        ops.linear(f, 0, rows, blk.fc2(), h, 0, Activation.NONE);
        ops.addGated(x, 0, h, 0, rows, C, mod, M, C, l);
    }
}
