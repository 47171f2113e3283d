package dev.tessera.engine.ops;

import dev.tessera.engine.nn.Conv2d;
import dev.tessera.engine.nn.Weights;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

/**
 * 3×3 convolution with stride 1 and padding 1 by Winograd's minimal filtering F(2×2, 3×3): each 2×2 block of
 * outputs comes from a 4×4 input tile with 16 multiplications per input channel instead of 36, so the GEMM work
 * of a VQ-VAE decoder drops 2.25×. The transforms use only ±1 and ½, so the rounding stays that of a direct
 * convolution (within float32 reassociation).
 * <pre>
 *   U = G·g·Gᵀ (per filter)      V = Bᵀ·d·B (per input tile)      M_ξν = Σ_c U_ξν[o, c]·V_ξν[c, t]  (16 GEMMs)
 *   Y = Aᵀ·M·A (2×2 outputs per tile)
 * </pre>
 * Tiles are processed in blocks of whole tile rows; each block's 16 GEMMs use {@link Gemm}.
 */
final class Winograd {
    private static final VectorSpecies<Float> S = Gemm.S;
    private static final int L = S.length();
    /** Tiles per block (about): keeps V and M of a block in L2. */
    private static final int TARGET_TILES = 256;
    private Winograd() {
    }

    /**
     * Worth it for 3×3, stride 1, padding 1 with enough channels and pixels: the filter transform (16·Cout·Cin
     * floats, made per call) must stay small next to the convolution, so maps under 64×64 stay with im2col.
     */
    static boolean applies(Conv2d c, int H, int W) {
        return c.kh() == 3 && c.kw() == 3 && c.stride() == 1 && c.padTop() == 1 && c.padLeft() == 1
                && c.padBottom() == 1 && c.padRight() == 1 && c.cin() >= 16 && c.cout() >= 16 && H * W >= 4096;
    }

    static void conv3x3(float[] in, int inOff, int H, int W, Conv2d conv, float[] out, int outOff) {
        int cin = conv.cin(), cout = conv.cout();
        int th = (H + 1) / 2, tw = (W + 1) / 2;
        float[] U = transformFilters(conv);
        int rowsPerBlock = Math.max(1, TARGET_TILES / tw);
        int blocks = (th + rowsPerBlock - 1) / rowsPerBlock;
        if (blocks >= 2 * Parallel.threads()) {
            Parallel.forEach(blocks, b -> block(in, inOff, H, W, conv, U, b * rowsPerBlock,
                    Math.min(th, (b + 1) * rowsPerBlock), out, outOff));
        } else {
            for (int b = 0; b < blocks; b++) {
                block(in, inOff, H, W, conv, U, b * rowsPerBlock, Math.min(th, (b + 1) * rowsPerBlock), out, outOff);
            }
        }
    }

    /** U[ξν][o][c] = (G·g·Gᵀ)[ξ][ν] for every filter g = W[o, c]. */
    private static float[] transformFilters(Conv2d conv) {
        int cin = conv.cin(), cout = conv.cout(), plane = cout * cin;
        float[] U = Scratch.get(Scratch.WINO_U, 16 * plane);
        MemorySegment w = conv.weight();
        Parallel.forRange(cout, 8, (o0, o1) -> {
            float[] g = new float[9], h = new float[12];
            for (int o = o0; o < o1; o++) {
                for (int c = 0; c < cin; c++) {
                    MemorySegment.copy(w, Weights.F32, 36L * ((long) o * cin + c), g, 0, 9);
                    for (int k = 0; k < 3; k++) {   // h = g·Gᵀ, row by row
                        float g0 = g[3 * k], g1 = g[3 * k + 1], g2 = g[3 * k + 2];
                        h[4 * k] = g0;
                        h[4 * k + 1] = 0.5f * (g0 + g1 + g2);
                        h[4 * k + 2] = 0.5f * (g0 - g1 + g2);
                        h[4 * k + 3] = g2;
                    }
                    int idx = o * cin + c;
                    for (int v = 0; v < 4; v++) {    // U = G·h, column by column
                        float h0 = h[v], h1 = h[4 + v], h2 = h[8 + v];
                        U[(v) * plane + idx] = h0;
                        U[(4 + v) * plane + idx] = 0.5f * (h0 + h1 + h2);
                        U[(8 + v) * plane + idx] = 0.5f * (h0 - h1 + h2);
                        U[(12 + v) * plane + idx] = h2;
                    }
                }
            }
        });
        return U;
    }

    /** Tile rows [ty0, ty1): input transform, 16 GEMMs, output transform. */
    private static void block(float[] in, int inOff, int H, int W, Conv2d conv, float[] U, int ty0, int ty1,
                              float[] out, int outOff) {
        int cin = conv.cin(), cout = conv.cout(), tw = (W + 1) / 2;
        // full-vector stores of a tile row may run up to L − 1 tiles past it (the next row overwrites them): headroom
        int tiles = (ty1 - ty0) * tw, ld = (tiles + L - 1) / L * L + L;
        float[] V = Scratch.get(Scratch.WINO_V, 16 * cin * ld);
        float[] M = Scratch.get(Scratch.WINO_M, 16 * cout * ld);
        Parallel.forRange(cin, 4, (c0, c1) -> {
            float[] rows = new float[8 * (tw + 1 + L)];
            for (int c = c0; c < c1; c++) inputTransform(in, inOff + c * H * W, H, W, ty0, ty1, V, c * ld, cin * ld, rows);
        });
        MemorySegment u = MemorySegment.ofArray(U);
        for (int e = 0; e < 16; e++) {
            Gemm.gemm(cout, tiles, cin, u, (long) e * cout * cin, cin, V, e * cin * ld, ld, M, e * cout * ld, ld, false);
        }
        float[] bias = conv.bias();
        Parallel.forRange(cout, 4, (o0, o1) -> {
            for (int o = o0; o < o1; o++) {
                outputTransform(M, o * ld, cout * ld, ty0, ty1, tw, H, W, bias == null ? 0f : bias[o], out, outOff + o * H * W);
            }
        });
    }

    /**
     * V[ξν][c][t] = (Bᵀ·d·B)[ξ][ν] for the 4×4 input tiles of one channel plane. Each input row is first split
     * into its odd and even columns so that the four columns of 16 consecutive tiles are four contiguous loads.
     */
    private static void inputTransform(float[] in, int plane, int H, int W, int ty0, int ty1, float[] V, int vOff,
                                       int stride, float[] rows) {
        int tw = (W + 1) / 2, n = tw + 1 + L;   // row buffers padded so vector loads never run past them
        for (int ty = ty0; ty < ty1; ty++) {
            // rows[4 i]: odd[x] = in[r, 2x−1]; rows[4 i + 1]... stored as O then E for each of the four input rows
            for (int i = 0; i < 4; i++) {
                int r = 2 * ty - 1 + i, o = (2 * i) * n, e = (2 * i + 1) * n;
                java.util.Arrays.fill(rows, o, o + 2 * n, 0f);
                if (r < 0 || r >= H) continue;
                int src = plane + r * W;
                for (int x = 0; x <= tw; x++) {
                    int odd = 2 * x - 1, even = 2 * x;
                    rows[o + x] = odd >= 0 && odd < W ? in[src + odd] : 0f;
                    rows[e + x] = even < W ? in[src + even] : 0f;
                }
            }
            int t0 = (ty - ty0) * tw;
            for (int tx = 0; tx < tw; tx += L) {
                // w = d·B for each of the four input rows (d0..d3: columns 2tx−1 .. 2tx+2 of 16 tiles)
                int o = tx, e = n + tx;
                FloatVector d0 = FloatVector.fromArray(S, rows, o), d1 = FloatVector.fromArray(S, rows, e),
                        d2 = FloatVector.fromArray(S, rows, o + 1), d3 = FloatVector.fromArray(S, rows, e + 1);
                FloatVector w00 = d0.sub(d2), w01 = d1.add(d2), w02 = d2.sub(d1), w03 = d1.sub(d3);
                o += 2 * n;
                e += 2 * n;
                d0 = FloatVector.fromArray(S, rows, o);
                d1 = FloatVector.fromArray(S, rows, e);
                d2 = FloatVector.fromArray(S, rows, o + 1);
                d3 = FloatVector.fromArray(S, rows, e + 1);
                FloatVector w10 = d0.sub(d2), w11 = d1.add(d2), w12 = d2.sub(d1), w13 = d1.sub(d3);
                o += 2 * n;
                e += 2 * n;
                d0 = FloatVector.fromArray(S, rows, o);
                d1 = FloatVector.fromArray(S, rows, e);
                d2 = FloatVector.fromArray(S, rows, o + 1);
                d3 = FloatVector.fromArray(S, rows, e + 1);
                FloatVector w20 = d0.sub(d2), w21 = d1.add(d2), w22 = d2.sub(d1), w23 = d1.sub(d3);
                o += 2 * n;
                e += 2 * n;
                d0 = FloatVector.fromArray(S, rows, o);
                d1 = FloatVector.fromArray(S, rows, e);
                d2 = FloatVector.fromArray(S, rows, o + 1);
                d3 = FloatVector.fromArray(S, rows, e + 1);
                FloatVector w30 = d0.sub(d2), w31 = d1.add(d2), w32 = d2.sub(d1), w33 = d1.sub(d3);
                // V = Bᵀ·w, column by column
                int dst = vOff + t0 + tx;
                store(w00, w10, w20, w30, V, dst, stride, 0);
                store(w01, w11, w21, w31, V, dst, stride, 1);
                store(w02, w12, w22, w32, V, dst, stride, 2);
                store(w03, w13, w23, w33, V, dst, stride, 3);
            }
        }
    }

    /** Column ν of Bᵀ·w: rows ξ = 0..3 go to V[4ξ + ν]. */
    private static void store(FloatVector w0, FloatVector w1, FloatVector w2, FloatVector w3, float[] V, int dst,
                              int stride, int v) {
        w0.sub(w2).intoArray(V, dst + v * stride);
        w1.add(w2).intoArray(V, dst + (4 + v) * stride);
        w2.sub(w1).intoArray(V, dst + (8 + v) * stride);
        w1.sub(w3).intoArray(V, dst + (12 + v) * stride);
    }

    /** out = Aᵀ·M·A + bias for one output channel, written as 2×2 blocks (cut at odd borders). */
    private static void outputTransform(float[] M, int mOff, int stride, int ty0, int ty1, int tw, int H, int W,
                                        float bias, float[] out, int plane) {
        float[] y = new float[4 * L];
        for (int ty = ty0; ty < ty1; ty++) {
            int t0 = (ty - ty0) * tw, row = plane + 2 * ty * W;
            boolean second = 2 * ty + 1 < H;
            for (int tx = 0; tx < tw; tx += L) {
                tile(M, mOff + t0 + tx, stride, bias, y);
                // interleave: tile j gives out[2ty + a][2(tx + j) + b] = y[(2a + b)·L + j]
                int n = Math.min(L, tw - tx), x0 = 2 * tx;
                for (int j = 0; j < n; j++) {
                    int x = x0 + 2 * j;
                    out[row + x] = y[j];
                    if (x + 1 < W) out[row + x + 1] = y[L + j];
                    if (second) {
                        out[row + W + x] = y[2 * L + j];
                        if (x + 1 < W) out[row + W + x + 1] = y[3 * L + j];
                    }
                }
            }
        }
    }

    /** Y = Aᵀ·M·A + bias for L consecutive tiles: y[(2a + b)·L + j] is output (a, b) of tile j. */
    private static void tile(float[] M, int src, int stride, float bias, float[] y) {
        // q = M·A, row ξ: q_ξ0 = m_ξ0 + m_ξ1 + m_ξ2, q_ξ1 = m_ξ1 − m_ξ2 − m_ξ3
        FloatVector q00 = colSum(M, src, stride), q01 = colDiff(M, src, stride);
        FloatVector q10 = colSum(M, src + 4 * stride, stride), q11 = colDiff(M, src + 4 * stride, stride);
        FloatVector q20 = colSum(M, src + 8 * stride, stride), q21 = colDiff(M, src + 8 * stride, stride);
        FloatVector q30 = colSum(M, src + 12 * stride, stride), q31 = colDiff(M, src + 12 * stride, stride);
        // Y = Aᵀ·q
        q00.add(q10).add(q20).add(bias).intoArray(y, 0);
        q01.add(q11).add(q21).add(bias).intoArray(y, L);
        q10.sub(q20).sub(q30).add(bias).intoArray(y, 2 * L);
        q11.sub(q21).sub(q31).add(bias).intoArray(y, 3 * L);
    }

    private static FloatVector colSum(float[] M, int at, int stride) {
        return FloatVector.fromArray(S, M, at).add(FloatVector.fromArray(S, M, at + stride))
                .add(FloatVector.fromArray(S, M, at + 2 * stride));
    }

    private static FloatVector colDiff(float[] M, int at, int stride) {
        return FloatVector.fromArray(S, M, at + stride).sub(FloatVector.fromArray(S, M, at + 2 * stride))
                .sub(FloatVector.fromArray(S, M, at + 3 * stride));
    }
}
