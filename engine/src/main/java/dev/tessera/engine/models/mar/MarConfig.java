package dev.tessera.engine.models.mar;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.CheckpointException;

/**
 * The shape of a MAR model ({@code models/mar.py} + {@code models/diffloss.py}), read from its checkpoint.
 *
 * @param encoderWidth   encoder width (the class embedding's width)
 * @param encoderDepth   encoder blocks
 * @param encoderHeads   encoder attention heads (not stored: from the width or an option)
 * @param encoderHidden  hidden width of the encoder blocks' MLP
 * @param decoderWidth   decoder width (the diffusion MLP's condition width)
 * @param decoderDepth   decoder blocks
 * @param decoderHeads   decoder attention heads
 * @param decoderHidden  hidden width of the decoder blocks' MLP
 * @param tokenDim       latent channels per token (16 for KL-16)
 * @param side           token-grid side (16 at 256 px)
 * @param bufferSize     class-buffer slots in front of the tokens (64 in the releases)
 * @param numClasses     rows of {@code class_emb} (no null row: {@code fake_latent} is the unconditional embedding)
 * @param headWidth      diffusion MLP width
 * @param headDepth      diffusion MLP residual blocks
 */
public record MarConfig(
        int encoderWidth,
        int encoderDepth,
        int encoderHeads,
        int encoderHidden,
        int decoderWidth,
        int decoderDepth,
        int decoderHeads,
        int decoderHidden,
        int tokenDim,
        int side,
        int bufferSize,
        int numClasses,
        int headWidth,
        int headDepth) {

    /** LayerNorm epsilon of every MAR norm ({@code partial(nn.LayerNorm, eps=1e-6)}; not stored in checkpoints). */
    public static final float NORM_EPS = 1e-6f;

    /** Tokens per image ({@code seq_len}). */
    public int tokens() {
        return side * side;
    }

    public int encoderHeadDim() {
        return encoderWidth / encoderHeads;
    }

    public int decoderHeadDim() {
        return decoderWidth / decoderHeads;
    }

    /**
     * The official head count of a released width: 768 (MAR-B) 12, 1024 (MAR-L) 16, 1280 (MAR-H) 16; 0 for any
     * other width (then the heads must be given).
     */
    public static int releasedHeads(int width) {
        return switch (width) {
            case 768 -> 12;
            case 1024, 1280 -> 16;
            default -> 0;
        };
    }

    /**
     * Infers the configuration from a MAR checkpoint (a flat state dict, or the {@code model_ema} of a released
     * file).
     *
     * @param encoderHeads encoder heads (0: the released count for the width)
     * @param decoderHeads decoder heads (0: the released count for the width)
     */
    public static MarConfig infer(Checkpoint ckpt, int encoderHeads, int decoderHeads) {
        for (String key : new String[] {
            "class_emb.weight",
            "fake_latent",
            "z_proj.weight",
            "encoder_pos_embed_learned",
            "decoder_pos_embed_learned",
            "diffusion_pos_embed_learned",
            "mask_token",
            "diffloss.net.input_proj.weight"
        }) {
            if (!ckpt.contains(key)) {
                throw new CheckpointException(ckpt.path(), "not a MAR checkpoint (no '" + key + "' tensor)");
            }
        }
        var classEmb = ckpt.tensor("class_emb.weight", -1, -1);
        int classes = Math.toIntExact(classEmb.dim(0)), We = Math.toIntExact(classEmb.dim(1));
        int D = Math.toIntExact(ckpt.tensor("z_proj.weight", We, -1).dim(1));
        int Wd = Math.toIntExact(ckpt.tensor("mask_token", 1, 1, -1).dim(2));
        int L = Math.toIntExact(
                ckpt.tensor("diffusion_pos_embed_learned", 1, -1, Wd).dim(1));
        int total = Math.toIntExact(
                ckpt.tensor("encoder_pos_embed_learned", 1, -1, We).dim(1));
        int side = (int) Math.round(Math.sqrt(L));
        if (side * side != L) {
            throw new CheckpointException(
                    ckpt.path(), "the diffusion position table has " + L + " rows, which is not a square token grid");
        }
        int buffer = total - L;
        if (buffer < 0) {
            throw new CheckpointException(
                    ckpt.path(), "the encoder position table has " + total + " rows, fewer than the " + L + " tokens");
        }
        ckpt.tensor("decoder_pos_embed_learned", 1, total, Wd);
        int enc = count(ckpt, "encoder_blocks."), dec = count(ckpt, "decoder_blocks.");
        if (enc == 0) throw new CheckpointException(ckpt.path(), "missing tensor 'encoder_blocks.0.attn.qkv.weight'");
        if (dec == 0) throw new CheckpointException(ckpt.path(), "missing tensor 'decoder_blocks.0.attn.qkv.weight'");
        int encHidden = Math.toIntExact(
                ckpt.tensor("encoder_blocks.0.mlp.fc1.weight", -1, We).dim(0));
        int decHidden = Math.toIntExact(
                ckpt.tensor("decoder_blocks.0.mlp.fc1.weight", -1, Wd).dim(0));
        int W = Math.toIntExact(
                ckpt.tensor("diffloss.net.input_proj.weight", -1, D).dim(0));
        int headDepth = 0;
        while (ckpt.contains("diffloss.net.res_blocks." + headDepth + ".mlp.0.weight")) headDepth++;
        if (headDepth == 0)
            throw new CheckpointException(ckpt.path(), "missing tensor 'diffloss.net.res_blocks.0.mlp.0.weight'");
        int he = heads(encoderHeads, We, "encoder"), hd = heads(decoderHeads, Wd, "decoder");
        return new MarConfig(We, enc, he, encHidden, Wd, dec, hd, decHidden, D, side, buffer, classes, W, headDepth);
    }

    private static int heads(int given, int width, String which) {
        int h = given > 0 ? given : releasedHeads(width);
        if (h == 0) {
            throw new TesseraException("the " + which + " width " + width
                    + " is not a released MAR size and checkpoints do not record heads: give them with --heads E,D");
        }
        if (width % h != 0) {
            throw new TesseraException("the " + which + " width " + width + " does not split into " + h + " heads");
        }
        return h;
    }

    private static int count(Checkpoint ckpt, String prefix) {
        int n = 0;
        while (ckpt.contains(prefix + n + ".attn.qkv.weight")) n++;
        return n;
    }

    @Override
    public String toString() {
        return String.format(
                "MAR enc %dx%d (%d heads) dec %dx%d (%d heads) buffer=%d tokens=%dx%dx%d classes=%d"
                        + " diffusion MLP %dx%d",
                encoderDepth,
                encoderWidth,
                encoderHeads,
                decoderDepth,
                decoderWidth,
                decoderHeads,
                bufferSize,
                side,
                side,
                tokenDim,
                numClasses,
                headDepth,
                headWidth);
    }
}
