package dev.tessera.samplers.var;

import java.util.Arrays;
import java.util.List;

/**
 * What a VAR generation adds to its images.
 *
 * @param tokens    the chosen tokens of each scale, {@code [B·pn²]} row-major per image
 * @param patchNums token-map side of each scale
 * @param fhat      the accumulated VQ features {@code [B, Cvae, side, side]} that were decoded
 * @param timings   where the time went
 */
public record VarDetails(List<int[]> tokens, int[] patchNums, float[] fhat, Timings timings) {

    /** Seconds spent per phase: the transformer at each scale, token choice, and VQ-VAE decoding. */
    public record Timings(double[] transformerSeconds, double samplingSeconds, double vqSeconds, double decodeSeconds) {
        public double transformerTotal() {
            return Arrays.stream(transformerSeconds).sum();
        }

        public double total() {
            return transformerTotal() + samplingSeconds + vqSeconds + decodeSeconds;
        }
    }

    /** The token map of scale {@code si} of image {@code b}, row-major {@code [pn²]}. */
    public int[] tokens(int b, int si) {
        int n = patchNums[si] * patchNums[si];
        return Arrays.copyOfRange(tokens.get(si), b * n, (b + 1) * n);
    }
}
