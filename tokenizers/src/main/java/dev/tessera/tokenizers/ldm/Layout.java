package dev.tessera.tokenizers.ldm;

/**
 * How an LDM-style autoencoder names its modules in the checkpoint. The blocks are the same; only the keys and
 * the order of the decoder's levels differ.
 *
 * @param upLevels         decoder level prefix ({@code up} / {@code conv_blocks})
 * @param downLevels       encoder level prefix ({@code down} / {@code conv_blocks})
 * @param block            residual block list name inside a level ({@code block} / {@code res})
 * @param mid1             first middle residual block
 * @param midAttn          middle attention block
 * @param mid2             second middle residual block
 * @param decoderReversed  decoder levels are numbered by resolution and run from the last to the first (taming,
 *                         VAR, MAR); otherwise they are numbered in the order they run (LlamaGen)
 */
public record Layout(
        String upLevels,
        String downLevels,
        String block,
        String mid1,
        String midAttn,
        String mid2,
        boolean decoderReversed) {

    /** CompVis taming-transformers / latent-diffusion naming, used by VAR's VQ-VAE and MAR's KL-VAE. */
    public static final Layout TAMING =
            new Layout("up", "down", "block", "mid.block_1", "mid.attn_1", "mid.block_2", true);

    /** LlamaGen's VQ models: {@code conv_blocks.N.res.M}, {@code mid.0/1/2}. */
    public static final Layout LLAMAGEN =
            new Layout("conv_blocks", "conv_blocks", "res", "mid.0", "mid.1", "mid.2", false);
}
