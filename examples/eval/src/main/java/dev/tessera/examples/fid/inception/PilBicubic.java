package dev.tessera.examples.fid.inception;

/**
 * Pillow's {@code Image.resize(size, BICUBIC)} on a float32 ("F" mode) plane, the resize of clean-fid's default
 * mode: separable (horizontal pass first, the intermediate kept in float32), Keys' cubic with a = −0.5 stretched by
 * the downscaling factor (so downsampling is antialiased), taps that fall outside the image dropped and the rest
 * renormalised. Weights are computed and summed in float64, each pass rounded to float32, as Pillow does.
 */
final class PilBicubic {
    private static final double A = -0.5, SUPPORT = 2.0;

    private PilBicubic() {}

    /** One plane {@code [H, W]} to {@code [oh, ow]}. */
    static void resizePlane(float[] in, int inOff, int H, int W, float[] out, int outOff, int oh, int ow) {
        Coefficients cx = coefficients(W, ow), cy = coefficients(H, oh);
        float[] tmp = new float[H * ow];
        for (int y = 0; y < H; y++) {
            for (int x = 0; x < ow; x++) {
                double s = 0;
                int first = cx.first[x], k = x * cx.size;
                for (int t = 0; t < cx.count[x]; t++) s += in[inOff + y * W + first + t] * cx.weight[k + t];
                tmp[y * ow + x] = (float) s;
            }
        }
        for (int y = 0; y < oh; y++) {
            int first = cy.first[y], k = y * cy.size;
            for (int x = 0; x < ow; x++) {
                double s = 0;
                for (int t = 0; t < cy.count[y]; t++) s += tmp[(first + t) * ow + x] * cy.weight[k + t];
                out[outOff + y * ow + x] = (float) s;
            }
        }
    }

    /** For each output index: the first input tap, the number of taps, and their normalised weights. */
    private record Coefficients(int[] first, int[] count, double[] weight, int size) {}

    private static Coefficients coefficients(int in, int out) {
        double scale = (double) in / out;
        double filterScale = Math.max(scale, 1.0);
        double support = SUPPORT * filterScale;
        int size = (int) Math.ceil(support) * 2 + 1;
        int[] first = new int[out], count = new int[out];
        double[] weight = new double[out * size];
        for (int i = 0; i < out; i++) {
            double center = (i + 0.5) * scale;
            int lo = Math.max((int) (center - support + 0.5), 0);
            int hi = Math.min((int) (center + support + 0.5), in);
            double sum = 0;
            for (int j = lo; j < hi; j++) {
                double w = cubic((j - center + 0.5) / filterScale);
                weight[i * size + j - lo] = w;
                sum += w;
            }
            if (sum != 0) {
                for (int j = lo; j < hi; j++) weight[i * size + j - lo] /= sum;
            }
            first[i] = lo;
            count[i] = hi - lo;
        }
        return new Coefficients(first, count, weight, size);
    }

    /** Keys' cubic convolution kernel with a = −0.5. */
    private static double cubic(double x) {
        x = Math.abs(x);
        if (x < 1.0) return ((A + 2.0) * x - (A + 3.0)) * x * x + 1;
        if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * A;
        return 0.0;
    }
}
