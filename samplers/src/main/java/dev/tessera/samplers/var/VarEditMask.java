package dev.tessera.samplers.var;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.ops.Interpolation;
import java.util.Arrays;

/**
 * Which parts of an image a zero-shot VAR edit keeps, on the finest token map ({@code side × side}, row-major): 1 keeps
 * the input's tokens, 0 lets the model generate them, values between are allowed (a mask drawn at another size). This
 * is the {@code edit_mask} of VAR's editing notebook ({@code demo_zero_shot_edit.ipynb}).
 *
 * <p>Scale k keeps the input's token at a position when the mask, resized to that scale's side by bilinear
 * interpolation ({@code align_corners=False}), is above 0.5 there; scales of at most 3 tokens always keep the input
 * (the notebook's {@code replace_embedding}).
 *
 * @param side the finest token map's side (16 for 256 px VAR)
 * @param keep {@code side²} values in [0, 1]
 */
public record VarEditMask(int side, float[] keep) {
    public VarEditMask {
        if (side <= 0 || keep.length != side * side) {
            throw new TesseraException(
                    "an edit mask of side " + side + " needs " + side * side + " values, got " + keep.length);
        }
        for (float v : keep) {
            if (!(v >= 0f && v <= 1f)) throw new TesseraException("edit mask values must be in [0, 1], got " + v);
        }
        keep = keep.clone();
    }

    /**
     * The notebook's {@code get_edit_mask}: a box given as fractions of the image, its edges at
     * {@code round(y0·side)} ... {@code round(y1·side)} (halves to even, as Python rounds). In-painting regenerates
     * inside the box and keeps the rest; out-painting ({@code inpainting = false}) keeps the inside and regenerates the
     * rest.
     */
    public static VarEditMask box(int side, double y0, double x0, double y1, double x1, boolean inpainting) {
        for (double f : new double[] {y0, x0, y1, x1}) {
            if (!(f >= 0 && f <= 1)) throw new TesseraException("box edges are fractions in [0, 1], got " + f);
        }
        if (!(y0 < y1 && x0 < x1)) {
            throw new TesseraException(
                    "the box must have y0 < y1 and x0 < x1, got " + y0 + "," + x0 + "," + y1 + "," + x1);
        }
        int r0 = (int) Math.rint(y0 * side), r1 = (int) Math.rint(y1 * side);
        int c0 = (int) Math.rint(x0 * side), c1 = (int) Math.rint(x1 * side);
        float[] keep = new float[side * side];
        for (int r = 0; r < side; r++) {
            for (int c = 0; c < side; c++) {
                boolean inside = r >= r0 && r < r1 && c >= c0 && c < c1;
                keep[r * side + c] = inside != inpainting ? 1f : 0f;
            }
        }
        return new VarEditMask(side, keep);
    }

    /**
     * A mask from a picture of any size, given as its per-pixel whiteness {@code [H, W]} in [0, 1] (white =
     * regenerate): the average whiteness over each finest-scale cell (adaptive average pooling) is the share to
     * regenerate, so a cell is kept at the finest scale when less than half of it is white.
     */
    public static VarEditMask fromWhiteness(float[] white, int H, int W, int side) {
        if (H <= 0 || W <= 0 || white.length != H * W) throw new TesseraException("mask picture of the wrong size");
        float[] share = new float[side * side];
        Interpolation.areaPlane(white, 0, H, W, share, 0, side, side);
        float[] keep = new float[side * side];
        for (int i = 0; i < keep.length; i++) keep[i] = Math.max(0f, Math.min(1f, 1f - share[i]));
        return new VarEditMask(side, keep);
    }

    /** The mask values (a copy). */
    @Override
    public float[] keep() {
        return keep.clone();
    }

    /** Whether scale side {@code pn} keeps the input's token at each of its {@code pn²} positions. */
    public boolean[] kept(int pn) {
        boolean[] k = new boolean[pn * pn];
        if (pn * pn <= 3) {
            Arrays.fill(k, true);
            return k;
        }
        float[] m = new float[pn * pn];
        Interpolation.bilinearPlane(keep, 0, side, side, m, 0, pn, pn);
        for (int i = 0; i < k.length; i++) k[i] = m[i] > 0.5f;
        return k;
    }

    /** How many of the finest map's positions the edit regenerates (kept below one half). */
    public int regenerated() {
        int n = 0;
        for (boolean k : kept(side)) if (!k) n++;
        return n;
    }
}
