package dev.tessera.engine.models.llamagen;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.CheckpointException;

/**
 * The shape of a LlamaGen class-conditional GPT ({@code autoregressive/models/gpt.py}), read from its checkpoint.
 *
 * @param layers     transformer blocks ({@code layers.N})
 * @param dim        model width
 * @param heads      attention heads (head size = dim / heads); not stored in checkpoints: width/64 by default
 * @param ffnHidden  SwiGLU hidden width ({@code find_multiple(int(8·dim/3), 256)} in the release)
 * @param vocab      image-token vocabulary
 * @param numClasses classes; {@code cls_embedding} has one more row, the unconditional class
 * @param clsTokens  condition tokens in front of the image tokens (1 for class-conditional models)
 * @param grid       side of the image-token grid (16 for 256 px with the VQ-16 tokenizer)
 * @param ropeBase   RoPE base (10000)
 * @param normEps    RMSNorm epsilon (1e-5)
 */
public record LlamaGenConfig(
        int layers,
        int dim,
        int heads,
        int ffnHidden,
        int vocab,
        int numClasses,
        int clsTokens,
        int grid,
        float ropeBase,
        float normEps) {

    public int headDim() {
        return dim / heads;
    }

    /** Image tokens per image. */
    public int tokens() {
        return grid * grid;
    }

    /** Cache capacity: condition tokens plus image tokens. */
    public int sequence() {
        return clsTokens + tokens();
    }

    /**
     * Reads the configuration of the first {@code layerCount} blocks (or all when negative).
     *
     * @param headsOverride heads, 0 for width/64 as in every released size
     * @param grid          side of the token grid (image size / 16)
     */
    public static LlamaGenConfig infer(Checkpoint ckpt, int headsOverride, int grid, int layerCount) {
        if (!ckpt.contains("tok_embeddings.weight") || !ckpt.contains("cls_embedding.embedding_table.weight")) {
            throw new CheckpointException(
                    ckpt.path(),
                    "not a LlamaGen class-conditional GPT checkpoint (no tok_embeddings / cls_embedding tensors)");
        }
        var tok = ckpt.tensor("tok_embeddings.weight", -1, -1);
        int V = Math.toIntExact(tok.dim(0)), D = Math.toIntExact(tok.dim(1));
        int classes = Math.toIntExact(ckpt.tensor("cls_embedding.embedding_table.weight", -1, D)
                        .dim(0))
                - 1;
        int n = 0;
        while (ckpt.contains("layers." + n + ".attention.wqkv.weight")) n++;
        if (n == 0) throw new CheckpointException(ckpt.path(), "missing tensor 'layers.0.attention.wqkv.weight'");
        int layers = layerCount < 0 ? n : layerCount;
        int heads = headsOverride > 0 ? headsOverride : Math.max(1, D / 64);
        if (D % heads != 0 || (D / heads) % 4 != 0) {
            throw new TesseraException("width " + D + " cannot be split into " + heads
                    + " heads with 2-D rotary embeddings (head size must be a multiple of 4)");
        }
        var qkv = ckpt.tensor("layers.0.attention.wqkv.weight", -1, D);
        if (qkv.dim(0) != 3L * D) {
            throw new CheckpointException(
                    ckpt.path(),
                    "tensor 'layers.0.attention.wqkv.weight' has " + qkv.dim(0)
                            + " rows; grouped key/value heads (n_kv_head < n_head) are not supported");
        }
        int hidden = Math.toIntExact(
                ckpt.tensor("layers.0.feed_forward.w1.weight", -1, D).dim(0));
        if (grid < 1) throw new TesseraException("the token grid must be at least 1x1");
        return new LlamaGenConfig(layers, D, heads, hidden, V, classes, 1, grid, 10000f, 1e-5f);
    }

    /** Row labels must be classes of this model, or {@code numClasses} for the unconditional (CFG) rows. */
    public void checkLabels(int[] labels) {
        check(labels, numClasses + 1);
    }

    /** Requested classes must be classes of this model. */
    public void checkClasses(int[] classes) {
        check(classes, numClasses);
    }

    private void check(int[] labels, int end) {
        for (int label : labels) {
            if (label < 0 || label >= end) {
                throw new TesseraException("class " + label + " is out of range: this model has " + numClasses
                        + " classes (0-" + (numClasses - 1) + ")");
            }
        }
    }

    @Override
    public String toString() {
        return "LlamaGen " + layers + " layers, width " + dim + ", " + heads + " heads, vocab " + vocab + ", "
                + numClasses + " classes, " + grid + "x" + grid + " tokens";
    }
}
