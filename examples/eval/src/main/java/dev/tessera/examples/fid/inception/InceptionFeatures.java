package dev.tessera.examples.fid.inception;

/**
 * What the FID Inception gives for one image.
 *
 * @param pool3   the 2048-d global average pool ({@code pool_3:0}): FID, KID, precision/recall
 * @param logits  the 1008 class logits without the FC bias ({@code softmax/logits/MatMul}): the Inception Score
 * @param spatial the first 7 channels of Mixed_6d's 1×1 branch ({@code mixed_6/conv:0}), 17×17×7 flattened in
 *                (h, w, c) order as the ADM suite does: sFID (2023-d)
 */
public record InceptionFeatures(float[] pool3, float[] logits, float[] spatial) {
    public static final int POOL3 = 2048, LOGITS = 1008, SPATIAL = 17 * 17 * 7;
}
