package dev.tessera.engine.models.var;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.CheckpointException;
import dev.tessera.engine.tensor.Tensor;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The shape of a VAR transformer, read from its checkpoint: nothing here is assumed from a release name.
 *
 * @param depth      number of {@code AdaLNSelfAttn} blocks
 * @param width      model width C (also the conditioning width D)
 * @param heads      attention heads (head size = width / heads)
 * @param mlpHidden  hidden width of the FFN ({@code 4C} in the release)
 * @param vocab      VQ vocabulary size V (rows of {@code head.weight})
 * @param cvae       VQ-VAE latent channels (columns of {@code word_embed.weight})
 * @param numClasses class count; {@code class_emb} has one more row, the unconditional class
 * @param sharedAln  shared AdaLN ({@code shared_ada_lin} + per-block {@code ada_gss}), as in VAR-d36
 * @param attnL2Norm l2-normalised q/k with the learned per-head scale ({@code scale_mul_1H11})
 * @param patchNums  token-map side of each scale, coarse to fine
 * @param normEps    LayerNorm epsilon (1e-6 in the release; not stored in checkpoints)
 */
public record VarConfig(
        int depth,
        int width,
        int heads,
        int mlpHidden,
        int vocab,
        int cvae,
        int numClasses,
        boolean sharedAln,
        boolean attnL2Norm,
        int[] patchNums,
        float normEps) {

    public int headDim() {
        return width / heads;
    }

    public int scales() {
        return patchNums.length;
    }

    /** Tokens in all scales (L). */
    public int tokens() {
        return Arrays.stream(patchNums).map(p -> p * p).sum();
    }

    /** Index of the first token of scale {@code si} in the L-token sequence. */
    public int begin(int si) {
        int b = 0;
        for (int i = 0; i < si; i++) b += patchNums[i] * patchNums[i];
        return b;
    }

    public int tokensAt(int si) {
        return patchNums[si] * patchNums[si];
    }

    /**
     * Infers the configuration from a VAR checkpoint.
     *
     * @param headsOverride heads to use instead of the inferred count (0 = infer: the rows of
     *                      {@code scale_mul_1H11} when present, otherwise width/64 as in the release)
     * @param patchOverride patch schedule to use instead of the one recorded in {@code lvl_1L} (null = recorded);
     *                      it must agree with the checkpoint's token count and number of scales
     */
    public static VarConfig infer(Checkpoint ckpt, int headsOverride, int[] patchOverride) {
        if (!ckpt.contains("pos_1LC") || !ckpt.contains("class_emb.weight") || !ckpt.contains("head.weight")) {
            throw new CheckpointException(
                    ckpt.path(), "not a VAR transformer checkpoint (no pos_1LC / class_emb / head tensors)");
        }
        Tensor pos = ckpt.tensor("pos_1LC", 1, -1, -1);
        int L = Math.toIntExact(pos.dim(1)), C = Math.toIntExact(pos.dim(2));
        int depth = 0;
        while (ckpt.contains("blocks." + depth + ".attn.mat_qkv.weight")) depth++;
        if (depth == 0) throw new CheckpointException(ckpt.path(), "missing tensor 'blocks.0.attn.mat_qkv.weight'");
        Tensor head = ckpt.tensor("head.weight", -1, C);
        int V = Math.toIntExact(head.dim(0));
        Tensor wordEmbed = ckpt.tensor("word_embed.weight", C, -1);
        int cvae = Math.toIntExact(wordEmbed.dim(1));
        int classes = Math.toIntExact(ckpt.tensor("class_emb.weight", -1, C).dim(0)) - 1;
        boolean shared = ckpt.contains("shared_ada_lin.1.weight");
        boolean l2 = ckpt.contains("blocks.0.attn.scale_mul_1H11");
        int heads;
        if (l2) {
            int stored = Math.toIntExact(
                    ckpt.tensor("blocks.0.attn.scale_mul_1H11", 1, -1, 1, 1).dim(1));
            if (headsOverride > 0 && headsOverride != stored) {
                throw new TesseraException("--heads " + headsOverride + " does not match " + ckpt.path()
                        + ": its attention scales are stored for " + stored + " heads");
            }
            heads = stored;
        } else {
            heads = headsOverride > 0 ? headsOverride : Math.max(1, C / 64);
        }
        if (C % heads != 0) throw new TesseraException("width " + C + " is not divisible by " + heads + " heads");
        int hidden =
                Math.toIntExact(ckpt.tensor("blocks.0.ffn.fc1.weight", -1, C).dim(0));
        int levels = Math.toIntExact(ckpt.tensor("lvl_embed.weight", -1, C).dim(0));
        int firstL = Math.toIntExact(ckpt.tensor("pos_start", 1, -1, C).dim(1));

        int[] recorded = ckpt.contains("lvl_1L") ? patchNumsFromLevels(ckpt, L) : null;
        int[] patchNums;
        if (patchOverride != null) {
            String why = mismatch(patchOverride, L, levels, firstL);
            if (why != null) {
                throw new TesseraException(
                        "--patch-nums " + join(patchOverride) + " does not match " + ckpt.path() + ": " + why);
            }
            patchNums = patchOverride.clone();
        } else if (recorded != null) {
            patchNums = recorded;
        } else {
            throw new CheckpointException(
                    ckpt.path(), "has no 'lvl_1L' buffer to read the patch schedule from; pass --patch-nums");
        }
        if (patchNums.length != levels) {
            throw new CheckpointException(
                    ckpt.path(),
                    "lvl_embed has " + levels + " rows but the schedule has " + patchNums.length + " scales");
        }
        return new VarConfig(depth, C, heads, hidden, V, cvae, classes, shared, l2, patchNums, 1e-6f);
    }

    /** Reads the scale of every token from {@code lvl_1L} and turns the run lengths into side lengths. */
    private static int[] patchNumsFromLevels(Checkpoint ckpt, int L) {
        long[] lvl = ckpt.tensor("lvl_1L", 1, L).toLongArray();
        int scales = (int) lvl[L - 1] + 1;
        int[] counts = new int[scales];
        for (int i = 0; i < L; i++) {
            if (lvl[i] < 0 || lvl[i] >= scales || (i > 0 && lvl[i] < lvl[i - 1])) {
                throw new CheckpointException(
                        ckpt.path(), "tensor 'lvl_1L' is not a non-decreasing list of scale indices");
            }
            counts[(int) lvl[i]]++;
        }
        int[] pn = new int[scales];
        for (int s = 0; s < scales; s++) {
            pn[s] = (int) Math.round(Math.sqrt(counts[s]));
            if (pn[s] * pn[s] != counts[s]) {
                throw new CheckpointException(
                        ckpt.path(), "scale " + s + " of 'lvl_1L' has " + counts[s] + " tokens, not a square");
            }
        }
        return pn;
    }

    private static String mismatch(int[] pn, int L, int levels, int firstL) {
        int sum = Arrays.stream(pn).map(p -> p * p).sum();
        if (pn.length != levels) return "the model has " + levels + " scales, the list has " + pn.length;
        if (sum != L) return "the model has " + L + " tokens over its scales, the list gives " + sum;
        if (pn[0] * pn[0] != firstL) return "the first scale must have " + firstL + " token(s)";
        for (int i = 1; i < pn.length; i++) {
            if (pn[i] <= pn[i - 1]) return "sides must increase from scale to scale";
        }
        return null;
    }

    private static String join(int[] pn) {
        return Arrays.stream(pn).mapToObj(Integer::toString).collect(Collectors.joining(","));
    }

    @Override
    public String toString() {
        return "VAR depth " + depth + ", width " + width + ", " + heads + " heads, vocab " + vocab + ", Cvae " + cvae
                + ", " + numClasses + " classes" + (sharedAln ? ", shared AdaLN" : "")
                + (attnL2Norm ? ", l2-norm attention" : "")
                + ", patch_nums " + join(patchNums);
    }
}
