package dev.tessera.samplers.mar;

import dev.tessera.engine.io.Checkpoint;
import java.util.Arrays;

/**
 * A plain float64 re-statement of MAR's forward and diffusion MLP for tests, written differently from the engine:
 * the whole buffer + token sequence goes through every block, attention simply ignores the masked keys (the
 * official code drops those rows instead; the known rows come out the same), weights are read by key at each use.
 */
final class NaiveMar {
    private final Checkpoint ck;
    private final int encHeads, decHeads;

    NaiveMar(Checkpoint ck, int encHeads, int decHeads) {
        this.ck = ck;
        this.encHeads = encHeads;
        this.decHeads = decHeads;
    }

    private float[] w(String k) {
        return ck.tensor(k).toFloatArray();
    }

    private int dim(String k, int i) {
        return (int) ck.tensor(k).shape()[i];
    }

    /** {@code y[r] = W x[r] + b} for rows of width in. */
    double[] linear(String p, double[] x, int rows) {
        float[] W = w(p + ".weight"), b = w(p + ".bias");
        int out = dim(p + ".weight", 0), in = dim(p + ".weight", 1);
        double[] y = new double[rows * out];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double s = b[o];
                for (int i = 0; i < in; i++) s += W[o * in + i] * x[r * in + i];
                y[r * out + o] = s;
            }
        }
        return y;
    }

    static double[] layerNorm(double[] x, int rows, int C, float[] g, float[] b) {
        double[] y = new double[x.length];
        for (int r = 0; r < rows; r++) {
            double m = 0, v = 0;
            for (int c = 0; c < C; c++) m += x[r * C + c];
            m /= C;
            for (int c = 0; c < C; c++) v += (x[r * C + c] - m) * (x[r * C + c] - m);
            v /= C;
            for (int c = 0; c < C; c++) {
                double n = (x[r * C + c] - m) / Math.sqrt(v + 1e-6);
                y[r * C + c] = g == null ? n : n * g[c] + b[c];
            }
        }
        return y;
    }

    private double[] ln(String p, double[] x, int rows, int C) {
        return layerNorm(x, rows, C, w(p + ".weight"), w(p + ".bias"));
    }

    static double gelu(double x) {
        return 0.5 * x * (1 + erf(x / Math.sqrt(2)));
    }

    /** erf by its series (|x| small) or continued fraction; accurate to ~1e-12, ample for these tests. */
    static double erf(double x) {
        double t = Math.abs(x);
        if (t > 6) return Math.signum(x);
        double sum = 0, term = t;
        for (int n = 0; n < 200; n++) {
            double add = term / (2 * n + 1);
            sum += add;
            term *= -t * t / (n + 1);
            if (Math.abs(add) < 1e-17) break;
        }
        return Math.signum(x) * 2 / Math.sqrt(Math.PI) * sum;
    }

    static double silu(double x) {
        return x / (1 + Math.exp(-x));
    }

    /** One timm Block over S positions per row, attention limited to the keys with {@code known[b·S + s]}. */
    private void block(String p, double[] x, int B, int S, int W, int H, boolean[] known) {
        int d = W / H;
        double[] h = ln(p + "norm1", x, B * S, W), qkv = linear(p + "attn.qkv", h, B * S);
        double[] o = new double[B * S * W];
        for (int b = 0; b < B; b++) {
            for (int hh = 0; hh < H; hh++) {
                for (int i = 0; i < S; i++) {
                    double[] sc = new double[S];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < S; j++) {
                        if (!known[b * S + j]) continue;
                        double s = 0;
                        for (int e = 0; e < d; e++)
                            s += qkv[(b * S + i) * 3 * W + hh * d + e] * qkv[(b * S + j) * 3 * W + W + hh * d + e];
                        sc[j] = s / Math.sqrt(d);
                        max = Math.max(max, sc[j]);
                    }
                    double z = 0;
                    for (int j = 0; j < S; j++) if (known[b * S + j]) z += Math.exp(sc[j] - max);
                    for (int j = 0; j < S; j++) {
                        if (!known[b * S + j]) continue;
                        double a = Math.exp(sc[j] - max) / z;
                        for (int e = 0; e < d; e++)
                            o[(b * S + i) * W + hh * d + e] += a * qkv[(b * S + j) * 3 * W + 2 * W + hh * d + e];
                    }
                }
            }
        }
        double[] pr = linear(p + "attn.proj", o, B * S);
        for (int i = 0; i < x.length; i++) x[i] += pr[i];
        double[] m = linear(p + "mlp.fc1", ln(p + "norm2", x, B * S, W), B * S);
        for (int i = 0; i < m.length; i++) m[i] = gelu(m[i]);
        double[] f = linear(p + "mlp.fc2", m, B * S);
        for (int i = 0; i < x.length; i++) x[i] += f[i];
    }

    /** z {@code [B, L, Wd]} of tokens {@code [B, L, D]}, masked {@code [B, L]}, class rows {@code [B, We]}. */
    double[] forward(float[] tokens, boolean[] masked, int B, float[] cls) {
        int We = dim("class_emb.weight", 1), D = dim("z_proj.weight", 1), Wd = dim("mask_token", 2);
        int L = dim("diffusion_pos_embed_learned", 1), S = dim("encoder_pos_embed_learned", 1), buf = S - L;
        double[] tk = new double[tokens.length];
        for (int i = 0; i < tk.length; i++) tk[i] = tokens[i];
        double[] zp = linear("z_proj", tk, B * L);
        float[] ep = w("encoder_pos_embed_learned");
        double[] x = new double[B * S * We];
        boolean[] known = new boolean[B * S];
        for (int b = 0; b < B; b++) {
            for (int s = 0; s < S; s++) {
                known[b * S + s] = s < buf || !masked[b * L + s - buf];
                for (int c = 0; c < We; c++) {
                    double v = s < buf ? cls[b * We + c] : zp[(b * L + s - buf) * We + c];
                    x[(b * S + s) * We + c] = v + ep[s * We + c];
                }
            }
        }
        x = ln("z_proj_ln", x, B * S, We);
        for (int i = 0; ck.contains("encoder_blocks." + i + ".norm1.weight"); i++)
            block("encoder_blocks." + i + ".", x, B, S, We, encHeads, known);
        x = ln("encoder_norm", x, B * S, We);
        double[] y = linear("decoder_embed", x, B * S);
        float[] mt = w("mask_token"), dp = w("decoder_pos_embed_learned");
        boolean[] all = new boolean[B * S];
        Arrays.fill(all, true);
        for (int b = 0; b < B; b++) {
            for (int s = 0; s < S; s++) {
                for (int c = 0; c < Wd; c++) {
                    int k = (b * S + s) * Wd + c;
                    y[k] = (known[b * S + s] ? y[k] : mt[c]) + dp[s * Wd + c];
                }
            }
        }
        for (int i = 0; ck.contains("decoder_blocks." + i + ".norm1.weight"); i++)
            block("decoder_blocks." + i + ".", y, B, S, Wd, decHeads, all);
        y = ln("decoder_norm", y, B * S, Wd);
        float[] fp = w("diffusion_pos_embed_learned");
        double[] z = new double[B * L * Wd];
        for (int b = 0; b < B; b++)
            for (int t = 0; t < L; t++)
                for (int c = 0; c < Wd; c++) z[(b * L + t) * Wd + c] = y[(b * S + buf + t) * Wd + c] + fp[t * Wd + c];
        return z;
    }

    /** The diffusion MLP: {@code out [rows, 2D]} at x {@code [rows, D]}, timestep t, conditions c {@code [rows, Wd]}.
     */
    double[] net(double[] x, long t, double[] c, int rows) {
        String p = "diffloss.net.";
        int W = dim(p + "input_proj.weight", 0);
        double[] freq = new double[256];
        for (int j = 0; j < 128; j++) {
            double f = Math.exp(-Math.log(10000) * j / 128);
            freq[j] = Math.cos(t * f);
            freq[128 + j] = Math.sin(t * f);
        }
        double[] te = linear(p + "time_embed.mlp.0", freq, 1);
        for (int i = 0; i < te.length; i++) te[i] = silu(te[i]);
        te = linear(p + "time_embed.mlp.2", te, 1);
        double[] y = linear(p + "cond_embed", c, rows);
        for (int r = 0; r < rows; r++) for (int k = 0; k < W; k++) y[r * W + k] = silu(y[r * W + k] + te[k]);
        double[] h = linear(p + "input_proj", x, rows);
        for (int i = 0; ck.contains(p + "res_blocks." + i + ".in_ln.weight"); i++) {
            String b = p + "res_blocks." + i + ".";
            double[] mod = linear(b + "adaLN_modulation.1", y, rows);
            double[] n = ln(b + "in_ln", h, rows, W);
            for (int r = 0; r < rows; r++)
                for (int k = 0; k < W; k++)
                    n[r * W + k] = n[r * W + k] * (1 + mod[r * 3 * W + W + k]) + mod[r * 3 * W + k];
            double[] m = linear(b + "mlp.0", n, rows);
            for (int k = 0; k < m.length; k++) m[k] = silu(m[k]);
            m = linear(b + "mlp.2", m, rows);
            for (int r = 0; r < rows; r++)
                for (int k = 0; k < W; k++) h[r * W + k] += mod[r * 3 * W + 2 * W + k] * m[r * W + k];
        }
        double[] mod = linear(p + "final_layer.adaLN_modulation.1", y, rows);
        double[] n = layerNorm(h, rows, W, null, null);
        for (int r = 0; r < rows; r++)
            for (int k = 0; k < W; k++) n[r * W + k] = n[r * W + k] * (1 + mod[r * 2 * W + W + k]) + mod[r * 2 * W + k];
        return linear(p + "final_layer.linear", n, rows);
    }
}
