package dev.tessera.engine.ops;

import dev.tessera.engine.nn.Conv2d;
import dev.tessera.engine.nn.GroupNorm;
import dev.tessera.engine.nn.Linear;
import dev.tessera.engine.nn.Rope2d;
import dev.tessera.engine.nn.Weights;
import java.lang.foreign.MemorySegment;

/**
 * The test oracle: every kernel written as the plain loops of its definition, single-threaded, with float64
 * accumulation where a sum is long. Readable first; slow.
 */
public final class ReferenceOps implements Ops {
    public static final ReferenceOps INSTANCE = new ReferenceOps();

    private ReferenceOps() {}

    @Override
    public String name() {
        return "reference";
    }

    @Override
    public void gemm(
            int M,
            int N,
            int K,
            MemorySegment a,
            long aOff,
            int lda,
            float[] b,
            int bOff,
            int ldb,
            float[] c,
            int cOff,
            int ldc,
            boolean accumulate) {
        for (int m = 0; m < M; m++) {
            for (int n = 0; n < N; n++) {
                double s = accumulate ? c[cOff + m * ldc + n] : 0.0;
                for (int k = 0; k < K; k++) {
                    s += (double) a.getAtIndex(Weights.F32, aOff + (long) m * lda + k) * b[bOff + k * ldb + n];
                }
                c[cOff + m * ldc + n] = (float) s;
            }
        }
    }

    @Override
    public void linear(float[] x, int xOff, int M, Linear w, float[] y, int yOff, Activation act) {
        for (int m = 0; m < M; m++) {
            for (int o = 0; o < w.out(); o++) {
                double s = w.bias() == null ? 0.0 : w.bias()[o];
                for (int i = 0; i < w.in(); i++) s += (double) x[xOff + m * w.in() + i] * w.w(o, i);
                y[yOff + m * w.out() + o] = act.apply((float) s);
            }
        }
    }

    @Override
    public void layerNorm(
            float[] x,
            int xOff,
            float[] out,
            int outOff,
            int rows,
            int C,
            float eps,
            float[] mod,
            int modStride,
            int scaleOff,
            int shiftOff,
            int rowsPerGroup) {
        for (int r = 0; r < rows; r++) {
            double mean = 0;
            for (int c = 0; c < C; c++) mean += x[xOff + r * C + c];
            mean /= C;
            double var = 0;
            for (int c = 0; c < C; c++) {
                double d = x[xOff + r * C + c] - mean;
                var += d * d;
            }
            var /= C;
            double inv = 1.0 / Math.sqrt(var + eps);
            int g = mod == null ? 0 : r / rowsPerGroup;
            for (int c = 0; c < C; c++) {
                double v = (x[xOff + r * C + c] - mean) * inv;
                if (mod != null) {
                    v = v * (1.0 + mod[g * modStride + scaleOff + c]) + mod[g * modStride + shiftOff + c];
                }
                out[outOff + r * C + c] = (float) v;
            }
        }
    }

    @Override
    public void modulate(
            float[] x,
            int xOff,
            int rows,
            int C,
            float[] mod,
            int modStride,
            int scaleOff,
            int shiftOff,
            int rowsPerGroup) {
        for (int r = 0; r < rows; r++) {
            int g = (r / rowsPerGroup) * modStride;
            for (int c = 0; c < C; c++) {
                int i = xOff + r * C + c;
                x[i] = x[i] * (1f + mod[g + scaleOff + c]) + mod[g + shiftOff + c];
            }
        }
    }

    @Override
    public void addGated(
            float[] x,
            int xOff,
            float[] y,
            int yOff,
            int rows,
            int C,
            float[] mod,
            int modStride,
            int gammaOff,
            int rowsPerGroup) {
        for (int r = 0; r < rows; r++) {
            int g = mod == null ? 0 : (r / rowsPerGroup) * modStride + gammaOff;
            for (int c = 0; c < C; c++) {
                float t = y[yOff + r * C + c];
                x[xOff + r * C + c] += mod == null ? t : t * mod[g + c];
            }
        }
    }

    @Override
    public void rmsNorm(float[] x, int xOff, float[] out, int outOff, int rows, int C, float eps, float[] weight) {
        for (int r = 0; r < rows; r++) {
            double ss = 0;
            for (int c = 0; c < C; c++) ss += (double) x[xOff + r * C + c] * x[xOff + r * C + c];
            double inv = 1.0 / Math.sqrt(ss / C + eps);
            for (int c = 0; c < C; c++) {
                double v = x[xOff + r * C + c] * inv;
                out[outOff + r * C + c] = (float) (weight == null ? v : (float) v * weight[c]);
            }
        }
    }

    @Override
    public void activate(float[] x, int off, int n, Activation act) {
        for (int i = off; i < off + n; i++) x[i] = act.apply(x[i]);
    }

    @Override
    public void softmax(float[] x, int off, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = off; i < off + n; i++) max = Math.max(max, x[i]);
        double sum = 0;
        for (int i = off; i < off + n; i++) sum += Math.exp(x[i] - max);
        for (int i = off; i < off + n; i++) x[i] = (float) (Math.exp(x[i] - max) / sum);
    }

    @Override
    public void attention(
            int B,
            int H,
            int l,
            int d,
            float[] q,
            int qOff,
            int ldq,
            float[] kT,
            float[] v,
            int tMax,
            int T,
            boolean causal,
            float[] scale,
            float[] out,
            int outOff,
            int ldo) {
        double[] p = new double[T];
        for (int b = 0; b < B; b++) {
            for (int h = 0; h < H; h++) {
                int kBase = (b * H + h) * d * tMax, vBase = (b * H + h) * tMax * d;
                for (int i = 0; i < l; i++) {
                    int qi = qOff + (b * l + i) * ldq + h * d;
                    int keys = causal ? T - l + i + 1 : T;
                    double max = Double.NEGATIVE_INFINITY;
                    for (int t = 0; t < keys; t++) {
                        double s = 0;
                        for (int e = 0; e < d; e++) s += (double) q[qi + e] * kT[kBase + e * tMax + t];
                        p[t] = s * scale[h];
                        max = Math.max(max, p[t]);
                    }
                    double sum = 0;
                    for (int t = 0; t < keys; t++) {
                        p[t] = Math.exp(p[t] - max);
                        sum += p[t];
                    }
                    int oi = outOff + (b * l + i) * ldo + h * d;
                    for (int e = 0; e < d; e++) {
                        double s = 0;
                        for (int t = 0; t < keys; t++) s += p[t] * v[vBase + t * d + e];
                        out[oi + e] = (float) (s / sum);
                    }
                }
            }
        }
    }

    @Override
    public void rotary(float[] x, int off, int ld, int rows, int heads, Rope2d rope, int[] positions, int period) {
        int hd = rope.headDim();
        for (int r = 0; r < rows; r++) {
            for (int h = 0; h < heads; h++) rope.rotate(x, off + r * ld + h * hd, positions[r % period]);
        }
    }

    @Override
    public void l2NormalizeHeads(float[] x, int off, int ld, int rows, int heads, int d, float[] mul) {
        for (int r = 0; r < rows; r++) {
            for (int h = 0; h < heads; h++) {
                int o = off + r * ld + h * d;
                float ss = 0f;
                for (int j = 0; j < d; j++) ss += x[o + j] * x[o + j];
                float norm = Math.max((float) Math.sqrt(ss), 1e-12f), m = mul == null ? 1f : mul[h];
                for (int j = 0; j < d; j++) x[o + j] = x[o + j] / norm * m;
            }
        }
    }

    @Override
    public void gatedProduct(
            float[] g,
            int gOff,
            int ldg,
            float[] u,
            int uOff,
            int ldu,
            int rows,
            int n,
            Activation act,
            float[] out,
            int outOff,
            int ldo) {
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < n; j++)
                out[outOff + r * ldo + j] = act.apply(g[gOff + r * ldg + j]) * u[uOff + r * ldu + j];
        }
    }

    @Override
    public void addBroadcast(float[] x, int xOff, int count, int n, int C, float[] table, int tableOff) {
        for (int b = 0; b < count; b++) {
            for (int t = 0; t < n; t++) {
                for (int c = 0; c < C; c++) x[xOff + (b * n + t) * C + c] += table[tableOff + t * C + c];
            }
        }
    }

    @Override
    public void affine(float[] x, int off, int rows, int C, float[] w, float[] b) {
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < C; c++) x[off + r * C + c] = x[off + r * C + c] * w[c] + b[c];
        }
    }

    @Override
    public void blend(float[] x, int xOff, float a, float[] y, int yOff, float b, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] = x[xOff + i] * a + y[yOff + i] * b;
    }

    @Override
    public void clamp(float[] x, int off, int n, float lo, float hi) {
        for (int i = off; i < off + n; i++) x[i] = Math.max(lo, Math.min(hi, x[i]));
    }

    @Override
    public void average(float[] x, int xOff, float[] y, int yOff, float[] out, int outOff, int n) {
        Ops.checkAverage(x, xOff, y, yOff, out, outOff, n);
        for (int i = 0; i < n; i++) out[outOff + i] = (x[xOff + i] + y[yOff + i]) / 2;
    }

    @Override
    public void copy(float[] src, int srcOff, float[] dst, int dstOff, int n) {
        Ops.checkCopy(src, srcOff, dst, dstOff, n);
        for (int i = 0; i < n; i++) dst[dstOff + i] = src[srcOff + i];
    }

    @Override
    public void copyRows(float[] src, int srcOff, int[] srcRows, float[] dst, int dstOff, int[] dstRows, int n, int C) {
        Ops.checkDistinct(src, dst);
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < C; c++) dst[dstOff + dstRows[i] * C + c] = src[srcOff + srcRows[i] * C + c];
        }
    }

    @Override
    public void transpose(float[] a, int aOff, int rows, int cols, float[] t, int tOff) {
        Ops.checkDistinct(a, t);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) t[tOff + c * rows + r] = a[aOff + r * cols + c];
        }
    }

    @Override
    public void lookupCodes(float[] codebook, int C, int[] tokens, int tokOff, int n, float[] out, int outOff) {
        for (int t = 0; t < n; t++) {
            for (int c = 0; c < C; c++) out[outOff + c * n + t] = codebook[tokens[tokOff + t] * C + c];
        }
    }

    @Override
    public void nearestCodes(
            float[] z, int zOff, int C, int n, float[] codebook, float[] norms, int K, int[] out, int outOff) {
        for (int t = 0; t < n; t++) {
            float zz = 0f;
            for (int c = 0; c < C; c++) zz += z[zOff + c * n + t] * z[zOff + c * n + t];
            float best = Float.POSITIVE_INFINITY;
            int arg = 0;
            for (int k = 0; k < K; k++) {
                float dot = 0f;
                for (int c = 0; c < C; c++) dot += z[zOff + c * n + t] * codebook[k * C + c];
                float d = (zz + norms[k]) - 2f * dot;
                if (d < best) {
                    best = d;
                    arg = k;
                }
            }
            out[outOff + t] = arg;
        }
    }

    @Override
    public void conv2d(float[] in, int inOff, int H, int W, Conv2d conv, float[] out, int outOff) {
        int oh = conv.outHeight(H), ow = conv.outWidth(W);
        for (int o = 0; o < conv.cout(); o++) {
            for (int y = 0; y < oh; y++) {
                for (int x = 0; x < ow; x++) {
                    double s = conv.bias() == null ? 0.0 : conv.bias()[o];
                    for (int c = 0; c < conv.cin(); c++) {
                        for (int ky = 0; ky < conv.kh(); ky++) {
                            int iy = y * conv.stride() + ky - conv.padTop();
                            if (iy < 0 || iy >= H) continue;
                            for (int kx = 0; kx < conv.kw(); kx++) {
                                int ix = x * conv.stride() + kx - conv.padLeft();
                                if (ix < 0 || ix >= W) continue;
                                s += (double) in[inOff + (c * H + iy) * W + ix] * conv.w(o, c, ky, kx);
                            }
                        }
                    }
                    out[outOff + (o * oh + y) * ow + x] = (float) s;
                }
            }
        }
    }

    @Override
    public void groupNorm(float[] x, int xOff, int C, int HW, GroupNorm gn, boolean silu, float[] out, int outOff) {
        int cpg = C / gn.groups();
        for (int g = 0; g < gn.groups(); g++) {
            int base = xOff + g * cpg * HW, n = cpg * HW;
            double mean = 0;
            for (int i = 0; i < n; i++) mean += x[base + i];
            mean /= n;
            double var = 0;
            for (int i = 0; i < n; i++) {
                double dd = x[base + i] - mean;
                var += dd * dd;
            }
            var /= n;
            double inv = 1.0 / Math.sqrt(var + gn.eps());
            for (int c = g * cpg; c < (g + 1) * cpg; c++) {
                for (int i = 0; i < HW; i++) {
                    float v = (float) ((x[xOff + c * HW + i] - mean) * inv * gn.weight()[c] + gn.bias()[c]);
                    out[outOff + c * HW + i] = silu ? Activation.SILU.apply(v) : v;
                }
            }
        }
    }

    @Override
    public void upsampleNearest2x(float[] in, int inOff, int C, int H, int W, float[] out, int outOff) {
        for (int c = 0; c < C; c++) {
            for (int y = 0; y < 2 * H; y++) {
                for (int x = 0; x < 2 * W; x++) {
                    out[outOff + (c * 2 * H + y) * 2 * W + x] = in[inOff + (c * H + y / 2) * W + x / 2];
                }
            }
        }
    }

    @Override
    public void resizeBicubic(float[] in, int inOff, int C, int H, int W, float[] out, int outOff, int oh, int ow) {
        for (int c = 0; c < C; c++) {
            Interpolation.bicubicPlane(in, inOff + c * H * W, H, W, out, outOff + c * oh * ow, oh, ow);
        }
    }

    @Override
    public void resizeArea(float[] in, int inOff, int C, int H, int W, float[] out, int outOff, int oh, int ow) {
        for (int c = 0; c < C; c++) {
            Interpolation.areaPlane(in, inOff + c * H * W, H, W, out, outOff + c * oh * ow, oh, ow);
        }
    }
}
