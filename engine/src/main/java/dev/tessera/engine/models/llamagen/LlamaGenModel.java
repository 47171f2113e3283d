package dev.tessera.engine.models.llamagen;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.nn.Linear;
import dev.tessera.engine.nn.Rope2d;
import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.engine.nn.Weights;
import dev.tessera.engine.ops.Activation;
import dev.tessera.engine.ops.Ops;
import java.lang.foreign.MemorySegment;

/**
 * LlamaGen's class-conditional GPT ({@code autoregressive/models/gpt.py}, {@code c2i}): the class embedding as the
 * first position, then image tokens in raster order, 2-D RoPE, LLaMA blocks with a key/value cache, RMSNorm and the
 * output head. Rows are independent sequences (under classifier-free guidance: the conditional rows, then the
 * unconditional ones).
 * <pre>
 *   State s = model.start(labels);
 *   float[] logits = model.prefill(s);          // [rows, V]: distribution of image token 0
 *   logits = model.forward(s, tokens);          // tokens [rows][n] appended; [rows, n, V]: tokens k+1 .. k+n
 *   model.truncate(s, length);                  // drop rejected drafts (length counts the class token)
 * </pre>
 * Thread-safe: the weights are shared and read-only; each {@link State} belongs to one generation.
 */
public final class LlamaGenModel {
    private final LlamaGenConfig cfg;
    private final MemorySegment clsEmb, tokEmb;
    private final LlamaStack stack;
    private final float[] norm;
    private final Linear output;
    private final Ops ops;

    LlamaGenModel(
            LlamaGenConfig cfg,
            MemorySegment clsEmb,
            MemorySegment tokEmb,
            LlamaStack stack,
            float[] norm,
            Linear output,
            Ops ops) {
        this.cfg = cfg;
        this.clsEmb = clsEmb;
        this.tokEmb = tokEmb;
        this.stack = stack;
        this.norm = norm;
        this.output = output;
        this.ops = ops;
    }

    /** Loads a LlamaGen GPT; see {@link LlamaGenConfig#infer} for heads and grid. */
    public static LlamaGenModel load(Checkpoint ckpt, int headsOverride, int grid, Ops ops) {
        return load(ckpt, headsOverride, grid, ops, WeightPanels.Format.F32);
    }

    /** As {@link #load(Checkpoint, int, int, Ops)}, with the linear layers' weights packed in {@code weights}. */
    public static LlamaGenModel load(
            Checkpoint ckpt, int headsOverride, int grid, Ops ops, WeightPanels.Format weights) {
        LlamaGenConfig cfg = LlamaGenConfig.infer(ckpt, headsOverride, grid, -1);
        int D = cfg.dim();
        MemorySegment cls = Weights.f32(ckpt.tensor("cls_embedding.embedding_table.weight", cfg.numClasses() + 1, D));
        MemorySegment tok = Weights.f32(ckpt.tensor("tok_embeddings.weight", cfg.vocab(), D));
        Rope2d rope = Rope2d.llamaGen(cfg.clsTokens(), cfg.grid(), cfg.headDim(), cfg.ropeBase());
        LlamaStack stack = new LlamaStack(
                LlamaStack.loadLayers(ckpt, 0, cfg.layers(), D, cfg.ffnHidden(), weights),
                D,
                cfg.heads(),
                cfg.ffnHidden(),
                cfg.normEps(),
                rope,
                ops);
        float[] norm = ckpt.tensor("norm.weight", D).toFloatArray();
        Linear out = Linear.load(ckpt, "output", false, cfg.vocab(), D, weights);
        return new LlamaGenModel(cfg, cls, tok, stack, norm, out, ops);
    }

    public LlamaGenConfig config() {
        return cfg;
    }

    /** One generation: the rows' labels and their key/value cache. */
    public final class State {
        final int[] labels;
        final LlamaStack.Cache cache;

        State(int[] labels) {
            this.labels = labels.clone();
            this.cache = stack.newCache(labels.length, cfg.sequence());
        }

        public int rows() {
            return labels.length;
        }

        /** Positions in the cache, the class token included. */
        public int length() {
            return cache.length();
        }

        /** Image tokens in the cache. */
        public int tokens() {
            return cache.length() - cfg.clsTokens();
        }
    }

    /** A new generation for these row labels ({@code numClasses} = unconditional). */
    public State start(int[] labels) {
        cfg.checkLabels(labels);
        return new State(labels);
    }

    /** Runs the class token; returns the logits of image token 0, {@code [rows, V]}. */
    public float[] prefill(State s) {
        if (s.length() != 0) throw new IllegalStateException("prefill must come first");
        int D = cfg.dim(), rows = s.rows();
        float[] x = ops.allocate(rows * D);
        for (int r = 0; r < rows; r++) {
            MemorySegment.copy(clsEmb, Weights.F32, 4L * s.labels[r] * D, x, r * D, D);
        }
        ops.hostWrote(x);
        return run(s, x, 1, new int[] {0});
    }

    /**
     * Appends image tokens ({@code tokens[row][i]}, the same count for every row) after the cached ones and returns
     * {@code [rows, n, V]}: row r, entry i is the distribution of the image token after {@code tokens[r][i]}.
     */
    public float[] forward(State s, int[][] tokens) {
        int rows = s.rows(), n = tokens[0].length, D = cfg.dim();
        if (tokens.length != rows)
            throw new IllegalArgumentException(tokens.length + " token rows for " + rows + " rows");
        if (s.length() == 0) throw new IllegalStateException("prefill first");
        if (s.tokens() + n > cfg.tokens())
            throw new IllegalArgumentException("more tokens than the " + cfg.tokens() + " of an image");
        float[] x = ops.allocate(rows * n * D);
        int[] pos = new int[n];
        for (int i = 0; i < n; i++) pos[i] = s.length() + i;
        for (int r = 0; r < rows; r++) {
            if (tokens[r].length != n) throw new IllegalArgumentException("rows must feed the same number of tokens");
            for (int i = 0; i < n; i++) {
                int t = tokens[r][i];
                if (t < 0 || t >= cfg.vocab())
                    throw new TesseraException("token " + t + " is outside the vocabulary of " + cfg.vocab());
                MemorySegment.copy(tokEmb, Weights.F32, 4L * t * D, x, (r * n + i) * D, D);
            }
        }
        ops.hostWrote(x);
        return run(s, x, n, pos);
    }

    /** Keeps the first {@code length} positions (class token included). */
    public void truncate(State s, int length) {
        if (length < 1) throw new IllegalArgumentException("the class token stays");
        s.cache.truncate(length);
    }

    private float[] run(State s, float[] x, int n, int[] pos) {
        int rows = s.rows() * n, D = cfg.dim();
        stack.run(s.cache, x, n, pos, true, 0, stack.size());
        s.cache.advance(n);
        float[] h = ops.allocate(rows * D);
        ops.rmsNorm(x, 0, h, 0, rows, D, cfg.normEps(), norm);
        float[] logits = ops.allocate(rows * cfg.vocab());
        ops.linear(h, 0, rows, output, logits, 0, Activation.NONE);
        ops.toHost(logits); // the sampler reads them
        return logits;
    }
}
