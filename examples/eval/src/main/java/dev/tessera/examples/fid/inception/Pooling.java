package dev.tessera.examples.fid.inception;

import dev.tessera.engine.ops.Ops;
import dev.tessera.engine.ops.Parallel;

/**
 * The network's pools, as the 2015 TF graph defines them: 3×3 max pools (stride 2 without padding, or stride 1
 * with padding 1 that never wins), the 3×3 stride-1 average pool that divides by the number of cells inside the
 * image ({@code count_include_pad=False}: 4 at corners, 6 on edges, 9 inside), and the global average. Cheap next to
 * the convolutions: plain loops on the host, parallel over channels. On a device backend each pool brings its input
 * to the host ({@link Ops#toHost}) and announces its output ({@link Ops#hostWrote}), a map from {@code ops}.
 */
final class Pooling {
    private Pooling() {}

    /** 3×3 max pool with the given stride and padding (padded cells are ignored, i.e. never the maximum). */
    static FeatureMap max3x3(Ops ops, FeatureMap in, int stride, int pad) {
        int H = in.height(), W = in.width();
        int oh = (H + 2 * pad - 3) / stride + 1, ow = (W + 2 * pad - 3) / stride + 1;
        ops.toHost(in.data());
        FeatureMap out = FeatureMap.allocate(ops, in.channels(), oh, ow);
        float[] x = in.data(), y = out.data();
        Parallel.forRange(in.channels(), 4, (c0, c1) -> {
            for (int c = c0; c < c1; c++) {
                int src = c * H * W, dst = c * oh * ow;
                for (int i = 0; i < oh; i++) {
                    int y0 = Math.max(0, i * stride - pad), y1 = Math.min(H, i * stride - pad + 3);
                    for (int j = 0; j < ow; j++) {
                        int x0 = Math.max(0, j * stride - pad), x1 = Math.min(W, j * stride - pad + 3);
                        float m = Float.NEGATIVE_INFINITY;
                        for (int yy = y0; yy < y1; yy++) {
                            for (int xx = x0; xx < x1; xx++) m = Math.max(m, x[src + yy * W + xx]);
                        }
                        y[dst + i * ow + j] = m;
                    }
                }
            }
        });
        ops.hostWrote(out.data());
        return out;
    }

    /** 3×3 average pool, stride 1, padding 1, dividing by the in-bounds cells only. */
    static FeatureMap average3x3(Ops ops, FeatureMap in) {
        int H = in.height(), W = in.width();
        ops.toHost(in.data());
        FeatureMap out = FeatureMap.allocate(ops, in.channels(), H, W);
        float[] x = in.data(), y = out.data();
        Parallel.forRange(in.channels(), 4, (c0, c1) -> {
            for (int c = c0; c < c1; c++) {
                int plane = c * H * W;
                for (int i = 0; i < H; i++) {
                    int y0 = Math.max(0, i - 1), y1 = Math.min(H, i + 2);
                    for (int j = 0; j < W; j++) {
                        int x0 = Math.max(0, j - 1), x1 = Math.min(W, j + 2);
                        float s = 0f;
                        for (int yy = y0; yy < y1; yy++) {
                            for (int xx = x0; xx < x1; xx++) s += x[plane + yy * W + xx];
                        }
                        y[plane + i * W + j] = s / ((y1 - y0) * (x1 - x0));
                    }
                }
            }
        });
        ops.hostWrote(out.data());
        return out;
    }

    /** The mean of every channel plane (float64 sums). */
    static float[] globalAverage(Ops ops, FeatureMap in) {
        ops.toHost(in.data());
        int P = in.plane();
        float[] out = new float[in.channels()];
        for (int c = 0; c < out.length; c++) {
            double s = 0;
            for (int i = c * P; i < (c + 1) * P; i++) s += in.data()[i];
            out[c] = (float) (s / P);
        }
        return out;
    }
}
