package dev.tessera.samplers.flowar;

import java.util.List;

/**
 * What a FlowAR generation adds to its images (which are quantised as the official evaluation writes them,
 * {@code round(clip((x+1)/2·255))}, halves to even).
 *
 * @param latents         the sampled latents {@code [B, D, side, side]} (what {@code sample_tokens} returns, before
 *                        the division by 0.2325)
 * @param conditions      the AR output of every scale, {@code [rows, n, C]} (rows = 2B under CFG)
 * @param evaluations     flow-head evaluations per scale
 * @param arSeconds       time in the AR transformer
 * @param flowSeconds     time in the flow head and solver
 * @param decodeSeconds   time in the VAE decoder
 * @param cspd            what the CSpD-style verifier did (null without it)
 */
public record FlowArDetails(
        float[] latents,
        int side,
        List<float[]> conditions,
        int evaluations,
        double arSeconds,
        double flowSeconds,
        double decodeSeconds,
        Speculation cspd) {

    /** Details of a generation by the model alone. */
    public FlowArDetails(
            float[] latents,
            int side,
            List<float[]> conditions,
            int evaluations,
            double arSeconds,
            double flowSeconds,
            double decodeSeconds) {
        this(latents, side, conditions, evaluations, arSeconds, flowSeconds, decodeSeconds, null);
    }

    /**
     * The work of the CSpD-style verifier (the {@code conditions} above are then the target's).
     *
     * @param targetForwards     AR transformer passes of the target (one per scale)
     * @param draftForwards      AR transformer passes of the draft (one per scale: its cache needs every scale)
     * @param targetEvaluations  flow-head evaluations of the target (all of a pre-filled scale's, one per drafted
     *                           scale)
     * @param draftEvaluations   flow-head evaluations of the draft
     * @param drafted            tokens the draft proposed and the target checked
     * @param accepted           drafted tokens accepted as they were
     * @param rejectionProposals proposals the rejection phase drew, summed over the rejected tokens
     * @param fallbacks          rejected tokens never accepted within the cap (given the target's last proposal)
     */
    public record Speculation(
            int targetForwards,
            int draftForwards,
            int targetEvaluations,
            int draftEvaluations,
            long drafted,
            long accepted,
            long rejectionProposals,
            long fallbacks) {

        /** Accepted / drafted (NaN without drafts). */
        public double acceptanceRate() {
            return drafted == 0 ? Double.NaN : (double) accepted / drafted;
        }
    }

    public double totalSeconds() {
        return arSeconds + flowSeconds + decodeSeconds;
    }
}
