package dev.tessera.engine.models.nar;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.CheckpointException;
import dev.tessera.engine.models.llamagen.LlamaGenConfig;
import dev.tessera.engine.models.llamagen.LlamaStack;
import dev.tessera.engine.nn.Linear;
import dev.tessera.engine.nn.Rope2d;
import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.engine.nn.Weights;
import dev.tessera.engine.ops.Activation;
import dev.tessera.engine.ops.Ops;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicReference;

/**
 * NAR, next-neighbour autoregressive modeling on the LlamaGen stack ({@code NAR-images/autoregressive/models/gpt.py}):
 * the LlamaGen blocks plus one extra block, and two heads. The "right" head ({@code norm}, {@code output}) reads the
 * last main block and predicts the token to the right of each input token; the "below" head ({@code medusa_norm},
 * {@code medusa_output}) reads the extra block and predicts the token beneath it. Tokens are decoded one
 * anti-diagonal (h + w = d) at a time, rows in increasing order; a token sees the class token and every token at a
 * smaller or equal Manhattan distance (the proximity mask), which is exactly everything cached so far plus its own
 * diagonal.
 */
public final class NarModel {
    private final LlamaGenConfig cfg;
    private final int extraLayers;
    private final MemorySegment clsEmb, tokEmb;
    private final LlamaStack stack;
    private final float[] norm, medusaNorm;
    private final Linear output, medusaOutput;
    private final Ops ops;
    private final AtomicReference<State> spare = new AtomicReference<>();

    private NarModel(
            LlamaGenConfig cfg,
            int extraLayers,
            MemorySegment clsEmb,
            MemorySegment tokEmb,
            LlamaStack stack,
            float[] norm,
            Linear output,
            float[] medusaNorm,
            Linear medusaOutput,
            Ops ops) {
        this.cfg = cfg;
        this.extraLayers = extraLayers;
        this.clsEmb = clsEmb;
        this.tokEmb = tokEmb;
        this.stack = stack;
        this.norm = norm;
        this.output = output;
        this.medusaNorm = medusaNorm;
        this.medusaOutput = medusaOutput;
        this.ops = ops;
    }

    /**
     * Loads a NAR GPT. The blocks are {@code layers.0 .. layers.N}; the last {@code extraLayers} (1 in every release,
     * {@code medusa_attention_num}) belong to the "below" head.
     */
    public static NarModel load(Checkpoint ckpt, int headsOverride, int grid, int extraLayers, Ops ops) {
        return load(ckpt, headsOverride, grid, extraLayers, ops, WeightPanels.Format.F32);
    }

    /** As {@link #load(Checkpoint, int, int, int, Ops)}, with the linear layers' weights packed in {@code weights}. */
    public static NarModel load(
            Checkpoint ckpt, int headsOverride, int grid, int extraLayers, Ops ops, WeightPanels.Format weights) {
        if (!ckpt.contains("medusa_output.weight")) {
            throw new CheckpointException(
                    ckpt.path(), "not a NAR checkpoint (no 'medusa_output.weight'; a plain LlamaGen model?)");
        }
        LlamaGenConfig all = LlamaGenConfig.infer(ckpt, headsOverride, grid, -1);
        if (extraLayers < 1 || extraLayers >= all.layers()) {
            throw new TesseraException(
                    "a NAR model with " + all.layers() + " blocks cannot have " + extraLayers + " extra blocks");
        }
        LlamaGenConfig cfg = LlamaGenConfig.infer(ckpt, headsOverride, grid, all.layers() - extraLayers);
        int D = cfg.dim();
        MemorySegment cls = Weights.f32(ckpt.tensor("cls_embedding.embedding_table.weight", cfg.numClasses() + 1, D));
        MemorySegment tok = Weights.f32(ckpt.tensor("tok_embeddings.weight", cfg.vocab(), D));
        Rope2d rope = Rope2d.llamaGen(cfg.clsTokens(), cfg.grid(), cfg.headDim(), cfg.ropeBase());
        LlamaStack stack = new LlamaStack(
                LlamaStack.loadLayers(ckpt, 0, all.layers(), D, cfg.ffnHidden(), weights),
                D,
                cfg.heads(),
                cfg.ffnHidden(),
                cfg.normEps(),
                rope,
                ops);
        return new NarModel(
                cfg,
                extraLayers,
                cls,
                tok,
                stack,
                ckpt.tensor("norm.weight", D).toFloatArray(),
                Linear.load(ckpt, "output", false, cfg.vocab(), D, weights),
                ckpt.tensor("medusa_norm.weight", D).toFloatArray(),
                Linear.load(ckpt, "medusa_output", false, cfg.vocab(), D, weights),
                ops);
    }

    /** The configuration of the main stack ({@code layers} = main blocks). */
    public LlamaGenConfig config() {
        return cfg;
    }

    public int extraLayers() {
        return extraLayers;
    }

    /** One generation: rows (conditional, then unconditional under CFG) and the cache of every block. */
    public final class State {
        final int[] labels;
        final LlamaStack.Cache cache;
        int step;
        /** Handed back by {@link #finish}: no more steps until {@link #start} hands it out again. */
        boolean finished;
        /**
         * Per-step scratch for the longest diagonal: the right head's input, normalised head rows, both heads' logits
         * and the step's result.
         */
        final float[] hR, t, right, below, logits;

        State(int[] labels) {
            this.labels = labels.clone();
            this.cache = stack.newCache(labels.length, cfg.sequence());
            int most = labels.length * cfg.grid();
            hR = ops.allocate(most * cfg.dim());
            t = ops.allocate(most * cfg.dim());
            right = ops.allocate(most * cfg.vocab());
            below = ops.allocate(most * cfg.vocab());
            logits = ops.allocate(most * cfg.vocab()); // both heads mixed by the backend; the sampler reads it
        }

        public int rows() {
            return labels.length;
        }

        /** Forward passes run (the class token's included). */
        public int step() {
            return step;
        }
    }

    /**
     * A new generation for {@code labels} (one row each; under CFG the unconditional rows too). It reuses the arrays
     * of the state last handed back by {@link #finish} when that had as many rows.
     */
    public State start(int[] labels) {
        cfg.checkLabels(labels);
        State s = spare.getAndSet(null);
        if (s == null || s.rows() != labels.length) return new State(labels);
        System.arraycopy(labels, 0, s.labels, 0, labels.length);
        s.cache.truncate(0);
        s.step = 0;
        s.finished = false;
        return s;
    }

    /**
     * Hands back a state no longer used, so that the next {@link #start} with as many rows reuses its cache and
     * scratch arrays instead of allocating them (NAR-B, one image under CFG: 47 MB). The model keeps one such state
     * until then. Logits returned for {@code s} are invalid afterwards, and {@code s} takes no more steps.
     */
    public void finish(State s) {
        if (s.finished) throw new IllegalStateException("this generation was already finished");
        s.finished = true;
        spare.set(s);
    }

    /** Decoding steps for the whole grid: one per anti-diagonal (2·grid − 1). */
    public int steps() {
        return 2 * cfg.grid() - 1;
    }

    /** Raster indices of anti-diagonal d, rows in increasing order. */
    public int[] diagonal(int d) {
        int g = cfg.grid(), h0 = Math.max(0, d - (g - 1)), h1 = Math.min(d, g - 1);
        int[] idx = new int[h1 - h0 + 1];
        for (int h = h0; h <= h1; h++) idx[h - h0] = h * g + (d - h);
        return idx;
    }

    /**
     * Step 0: the class token; returns the logits of token (0, 0), {@code (R + B)/2}, {@code [rows, V]}, at the
     * front of the state's logits array (valid until the next step; the array is sized for the longest diagonal).
     */
    public float[] prefill(State s) {
        if (s.finished) throw new IllegalStateException("this generation was finished");
        if (s.step != 0) throw new IllegalStateException("prefill must come first");
        int D = cfg.dim(), rows = s.rows();
        float[] x = ops.allocate(rows * D);
        for (int r = 0; r < rows; r++) MemorySegment.copy(clsEmb, Weights.F32, 4L * s.labels[r] * D, x, r * D, D);
        ops.hostWrote(x);
        run(s, x, 1, new int[] {0});
        head(s, s.hR, 1, 0, 1, norm, output, s.right);
        head(s, x, 1, 0, 1, medusaNorm, medusaOutput, s.below);
        int size = rows * cfg.vocab();
        ops.average(s.below, 0, s.right, 0, s.logits, 0, size);
        ops.toHost(s.logits, 0, size); // kept: the sampler reads the mixed logits on the host
        s.step = 1;
        return s.logits;
    }

    /**
     * Step k ≥ 1: feeds the tokens of anti-diagonal k−1 ({@code tokens[row][i]} in row order) and returns the
     * logits of anti-diagonal k in row order, {@code [rows, n_k, V]}: the right head's prediction from the left
     * neighbour and the below head's from the upper neighbour, averaged where both exist (as the official
     * {@code forward}: first = R, last = B while the diagonals grow; middle = (B + R)/2). Like {@link #prefill},
     * the result is the front of the state's logits array, overwritten by the next step.
     */
    public float[] step(State s, int[][] tokens) {
        int k = s.step, g = cfg.grid();
        if (s.finished) throw new IllegalStateException("this generation was finished");
        if (k < 1 || k >= steps()) throw new IllegalStateException("step " + k + " of " + steps());
        int[] in = diagonal(k - 1);
        int n = in.length, rows = s.rows(), D = cfg.dim(), V = cfg.vocab();
        float[] x = ops.allocate(rows * n * D);
        for (int r = 0; r < rows; r++) {
            if (tokens[r].length != n)
                throw new IllegalArgumentException("diagonal " + (k - 1) + " has " + n + " tokens");
            for (int i = 0; i < n; i++) {
                int t = tokens[r][i];
                if (t < 0 || t >= V) throw new TesseraException("token " + t + " is outside the vocabulary of " + V);
                MemorySegment.copy(tokEmb, Weights.F32, 4L * t * D, x, (r * n + i) * D, D);
            }
        }
        ops.hostWrote(x);
        int[] rope = new int[n];
        for (int i = 0; i < n; i++) rope[i] = cfg.clsTokens() + in[i];
        run(s, x, n, rope);
        boolean growing = k < g;
        int nOut = growing ? n + 1 : n - 1;
        float[] out = s.logits, R = s.right, B = s.below;
        // the mix runs where the heads ran: only the mixed logits come to the host
        if (growing) {
            head(s, s.hR, n, 0, n, norm, output, R);
            head(s, x, n, 0, n, medusaNorm, medusaOutput, B);
            for (int r = 0; r < rows; r++) {
                int base = r * n * V, o = r * nOut * V;
                ops.copy(R, base, out, o, V); // first: right of (row 0)
                // middle j = 1 .. n−1: (B of input j − 1 + R of input j)/2, one contiguous run per row
                if (n > 1) ops.average(B, base, R, base + V, out, o + V, (n - 1) * V);
                ops.copy(B, base + (n - 1) * V, out, o + n * V, V); // last: below the last row
            }
        } else {
            // shrinking: input j's right neighbour (j + 1) and below neighbour (j) meet at output j; the right head's
            // prediction from the first input and the below head's from the last lie outside the grid, not computed
            head(s, s.hR, n, 1, n, norm, output, R);
            head(s, x, n, 0, n - 1, medusaNorm, medusaOutput, B);
            ops.average(B, 0, R, 0, out, 0, rows * nOut * V);
        }
        ops.toHost(out, 0, rows * nOut * V); // kept: the sampler reads the mixed logits on the host
        s.step++;
        return out;
    }

    /**
     * Runs the main blocks and the extra blocks on n new positions of every row: the main blocks' output (the right
     * head's input) is kept in {@code s.hR}, the extra blocks' (the below head's) is left in {@code x}.
     */
    private void run(State s, float[] x, int n, int[] rope) {
        int main = stack.size() - extraLayers;
        stack.run(s.cache, x, n, rope, false, 0, main);
        ops.copy(x, 0, s.hR, 0, x.length); // on the device
        stack.run(s.cache, x, n, rope, false, main, stack.size());
        s.cache.advance(n);
    }

    /**
     * One head's logits for positions [j0, j1) of each row's n hidden states {@code h}: {@code [rows, j1 − j0, V]}
     * into {@code logits} (the state's right-head or below-head array), left where the backend computed them.
     */
    private void head(State s, float[] h, int n, int j0, int j1, float[] weight, Linear out, float[] logits) {
        int rows = s.rows(), m = j1 - j0, D = cfg.dim();
        if (m == n) ops.rmsNorm(h, 0, s.t, 0, rows * n, D, cfg.normEps(), weight);
        else
            for (int r = 0; r < rows; r++)
                ops.rmsNorm(h, (r * n + j0) * D, s.t, r * m * D, m, D, cfg.normEps(), weight);
        ops.linear(s.t, 0, rows * m, out, logits, 0, Activation.NONE);
    }
}
