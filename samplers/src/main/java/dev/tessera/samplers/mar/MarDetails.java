package dev.tessera.samplers.mar;

/**
 * What a MAR generation adds to its images (quantised as the official evaluation writes them,
 * {@code round(clip((x+1)/2·255))}).
 *
 * @param latents            the sampled latents {@code [B, D, side, side]} (what {@code sample_tokens} returns,
 *                           before the division by 0.2325)
 * @param orders             each image's generation order
 * @param targetForwards     encoder/decoder passes of the target model (one per step, or per verification)
 * @param draftForwards      encoder/decoder passes of the draft model (CSpD)
 * @param drafted            tokens the draft proposed and the target checked (CSpD)
 * @param accepted           drafted tokens accepted as they were
 * @param rejectionProposals proposals the rejection phase drew, summed over the rejected tokens' rounds
 * @param fallbacks          rejected tokens never accepted within the cap (given the target's last proposal)
 * @param marSeconds         time in the encoder/decoder passes
 * @param diffusionSeconds   time in the diffusion MLP and the sampler
 * @param decodeSeconds      time in the VAE decoder
 */
public record MarDetails(
        float[] latents,
        int side,
        int[][] orders,
        int targetForwards,
        int draftForwards,
        long drafted,
        long accepted,
        long rejectionProposals,
        long fallbacks,
        double marSeconds,
        double diffusionSeconds,
        double decodeSeconds) {

    /** Accepted / drafted (NaN without drafts). */
    public double acceptanceRate() {
        return drafted == 0 ? Double.NaN : (double) accepted / drafted;
    }

    public double totalSeconds() {
        return marSeconds + diffusionSeconds + decodeSeconds;
    }
}
