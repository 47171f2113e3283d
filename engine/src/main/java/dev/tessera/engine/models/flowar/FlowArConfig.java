package dev.tessera.engine.models.flowar;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.CheckpointException;
import java.util.Arrays;

/**
 * The shape of a FlowAR model ({@code models/flowar.py} + {@code flowmodel.py}), read from its checkpoint.
 *
 * @param width         AR width C (encoder and decoder)
 * @param encoderDepth  AR encoder blocks
 * @param decoderDepth  AR decoder blocks
 * @param heads         AR attention heads (head size 64 for FlowAR-S/L, 96 for FlowAR-H)
 * @param mlpHidden     hidden width of the AR blocks' gated MLP ({@code int(8C/3)})
 * @param tokenDim      latent channels per token (16 for MAR's KL-16)
 * @param scales        token-map side of each scale, coarse to fine (1, 2, 4, 8, 16)
 * @param classRows     rows of {@code class_emb} (1001: the last is the null class)
 * @param flowWidth     flow head width W
 * @param flowDepth     flow head blocks
 * @param flowHeads     flow head attention heads (W/64, as the code builds them)
 * @param flowMlpHidden hidden width of the flow head's gated MLP
 * @param cross         flow head blocks with cross-attention to the AR output ({@code Block_v2}, FlowAR-L/H)
 */
public record FlowArConfig(
        int width,
        int encoderDepth,
        int decoderDepth,
        int heads,
        int mlpHidden,
        int tokenDim,
        int[] scales,
        int classRows,
        int flowWidth,
        int flowDepth,
        int flowHeads,
        int flowMlpHidden,
        boolean cross) {

    /** RMSNorm epsilon of every FlowAR norm (not stored in checkpoints). */
    public static final float NORM_EPS = 1e-6f;
    /** The grid side RoPE positions are rescaled to ({@code pt_seq_len}). */
    public static final int ROPE_GRID = 16;

    public FlowArConfig {
        scales = scales.clone();
    }

    @Override
    public int[] scales() {
        return scales.clone();
    }

    public int headDim() {
        return width / heads;
    }

    public int flowHeadDim() {
        return flowWidth / flowHeads;
    }

    /** The null (unconditional) class index, the last row of {@code class_emb}. */
    public int nullClass() {
        return classRows - 1;
    }

    /** Classes a request may ask for: {@code 0 .. nullClass() − 1}. */
    public int numClasses() {
        return classRows - 1;
    }

    public int scaleCount() {
        return scales.length;
    }

    public int side(int si) {
        return scales[si];
    }

    public int tokensAt(int si) {
        return scales[si] * scales[si];
    }

    /** Index of the first token of scale {@code si} in the whole sequence. */
    public int begin(int si) {
        int b = 0;
        for (int i = 0; i < si; i++) b += tokensAt(i);
        return b;
    }

    /** Tokens over all scales (341 for 1, 2, 4, 8, 16). */
    public int tokens() {
        return begin(scales.length);
    }

    /** Side of the final latent map. */
    public int latentSide() {
        return scales[scales.length - 1];
    }

    /**
     * The side every sampled scale is bicubic-resized to before the area resize to the next scale: the final latent
     * grid's side. The release's sampling code writes 16 (its 256 px grid, so the same for every released model);
     * its training code builds the inputs with the grid's side, which is what a model at another resolution (the
     * bundled 32 px one: 8) is trained and must be sampled with.
     */
    public int nextScaleGrid() {
        return latentSide();
    }

    /**
     * Infers the configuration from a FlowAR checkpoint.
     *
     * @param headsOverride AR heads to use instead of the inferred count (0 = infer: the head size is four times
     *                      the length of the blocks' {@code rope.freqs} buffer, 64 for FlowAR-S/L and 96 for
     *                      FlowAR-H; without that buffer, 16 heads at width 1536 and width/64 otherwise, as released)
     */
    public static FlowArConfig infer(Checkpoint ckpt, int headsOverride) {
        for (String key : new String[] {
            "class_emb.weight",
            "z_proj.weight",
            "encoder_pos_embed_learned",
            "encoder_blocks.0.attn.qkv.weight",
            "flownet.input_proj.weight"
        }) {
            if (!ckpt.contains(key)) {
                throw new CheckpointException(ckpt.path(), "not a FlowAR checkpoint (no '" + key + "' tensor)");
            }
        }
        var classEmb = ckpt.tensor("class_emb.weight", -1, -1);
        int classRows = Math.toIntExact(classEmb.dim(0)), C = Math.toIntExact(classEmb.dim(1));
        int tokenDim = Math.toIntExact(ckpt.tensor("z_proj.weight", C, -1).dim(1));
        int L = Math.toIntExact(
                ckpt.tensor("encoder_pos_embed_learned", 1, -1, C).dim(1));
        int enc = count(ckpt, "encoder_blocks."), dec = count(ckpt, "decoder_blocks.");
        if (dec == 0) throw new CheckpointException(ckpt.path(), "missing tensor 'decoder_blocks.0.attn.qkv.weight'");
        int hidden = Math.toIntExact(
                ckpt.tensor("encoder_blocks.0.mlp.fc1_g.weight", -1, C).dim(0));

        int heads;
        String freqs = "encoder_blocks.0.attn.rope.freqs";
        int stored = ckpt.contains(freqs)
                ? C / (4 * Math.toIntExact(ckpt.tensor(freqs, -1).dim(0)))
                : 0;
        if (headsOverride > 0) {
            if (stored > 0 && stored != headsOverride) {
                throw new TesseraException("--heads " + headsOverride + " does not match " + ckpt.path()
                        + ": its rotary frequencies are for " + stored + " heads of " + C / stored);
            }
            heads = headsOverride;
        } else if (stored > 0) {
            heads = stored;
        } else {
            heads = C == 1536 ? 16 : Math.max(1, C / 64);
        }
        if (C % heads != 0 || (C / heads) % 4 != 0) {
            throw new TesseraException(
                    "width " + C + " does not split into " + heads + " heads with a 2-D rotary embedding");
        }

        int W = Math.toIntExact(
                ckpt.tensor("flownet.input_proj.weight", -1, tokenDim).dim(0));
        int flowDepth = 0;
        while (ckpt.contains("flownet.res_blocks." + flowDepth + ".attn.qkv.weight")) flowDepth++;
        if (flowDepth == 0)
            throw new CheckpointException(ckpt.path(), "missing tensor 'flownet.res_blocks.0.attn.qkv.weight'");
        boolean cross = ckpt.contains("flownet.res_blocks.0.crossattn.q.weight");
        int flowHidden = Math.toIntExact(
                ckpt.tensor("flownet.res_blocks.0.mlp.fc1_g.weight", -1, W).dim(0));
        int flowHeads = Math.max(1, W / 64);
        return new FlowArConfig(
                C,
                enc,
                dec,
                heads,
                hidden,
                tokenDim,
                doublingScales(ckpt, L),
                classRows,
                W,
                flowDepth,
                flowHeads,
                flowHidden,
                cross);
    }

    private static int count(Checkpoint ckpt, String prefix) {
        int n = 0;
        while (ckpt.contains(prefix + n + ".attn.qkv.weight")) n++;
        return n;
    }

    /** FlowAR's schedule doubles the side from 1 (1, 2, 4, 8, 16 for 341 tokens). */
    private static int[] doublingScales(Checkpoint ckpt, int L) {
        int sum = 0;
        int[] s = new int[0];
        for (int side = 1; sum < L; side *= 2) {
            s = Arrays.copyOf(s, s.length + 1);
            s[s.length - 1] = side;
            sum += side * side;
        }
        if (sum != L) {
            throw new CheckpointException(
                    ckpt.path(),
                    "the position tables have " + L
                            + " tokens, which is not a sum of doubling scales (1, 2, 4, ...; 341 for 256 px)");
        }
        return s;
    }

    @Override
    public String toString() {
        return String.format(
                "C=%d enc=%d dec=%d heads=%d flow W=%d depth=%d heads=%d %s scales=%s",
                width,
                encoderDepth,
                decoderDepth,
                heads,
                flowWidth,
                flowDepth,
                flowHeads,
                cross ? "cross" : "adaLN",
                Arrays.toString(scales));
    }
}
