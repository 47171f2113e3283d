package dev.tessera.samplers.var;

import dev.tessera.samplers.GeneratedImage;

import java.util.Arrays;
import java.util.List;

/**
 * The outcome of one VAR generation.
 *
 * @param images    one image per requested class, in request order
 * @param tokens    the chosen tokens of each scale, {@code [B·pn²]} row-major per image
 * @param patchNums token-map side of each scale
 * @param fhat      the accumulated VQ features {@code [B, Cvae, side, side]} that were decoded
 * @param timings   where the time went
 */
public record VarResult(List<GeneratedImage> images, List<int[]> tokens, int[] patchNums, float[] fhat, Timings timings) {

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
