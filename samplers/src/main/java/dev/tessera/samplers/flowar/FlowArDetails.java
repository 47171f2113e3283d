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
 */
public record FlowArDetails(
        float[] latents,
        int side,
        List<float[]> conditions,
        int evaluations,
        double arSeconds,
        double flowSeconds,
        double decodeSeconds) {

    public double totalSeconds() {
        return arSeconds + flowSeconds + decodeSeconds;
    }
}
