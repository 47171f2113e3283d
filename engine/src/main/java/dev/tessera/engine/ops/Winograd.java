package dev.tessera.engine.ops;

import dev.tessera.engine.nn.Conv2d;
import dev.tessera.engine.nn.Weights;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * 3×3 convolution with stride 1 and padding 1 by Winograd's minimal filtering F(4×4, 3×3) (Lavin & Gray, points
 * 0, ±1, ±2, ∞): each 4×4 block of outputs comes from a 6×6 input tile with 36 multiplications per input channel
 * instead of 144, so the GEMM work of a VQ decoder drops 4×.
 * <pre>
 *   U = G·g·Gᵀ (per filter)      V = Bᵀ·d·B (per input tile)      M_ξν = Σ_c U_ξν[o, c]·V_ξν[c, t]  (36 GEMMs)
 *   Y = Aᵀ·M·A (4×4 outputs per tile)
 * </pre>
 * Tiles are processed in blocks of whole tile rows; the transforms run 16 tiles at a time in vector lanes.
 */
final class Winograd {
    private static final VectorSpecies<Float> S = Gemm.S;
    private static final int L = S.length();
    /** Output tile side m and input tile side α = m + 2. */
    private static final int M = 4, A = 6, AA = A * A;
    /**
     * Interleaving the four output columns of L tiles into 4L pixels of a row: output vector j, lane m is column
     * m mod 4 of tile (jL + m) / 4. {@code JOIN[j]} moves the lanes into place, {@code PHASE[b]} picks column b's.
     * (L is a multiple of 4 for every float shape from 128 bits up.)
     * (The input side keeps a scalar split into column phases: the shuffle version measured slower there.)
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private static final VectorShuffle<Float>[] JOIN = new VectorShuffle[4];

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static final VectorMask<Float>[] PHASE = new VectorMask[4];

    static {
        for (int j = 0; j < 4; j++) {
            int jj = j;
            JOIN[j] = VectorShuffle.fromOp(S, m -> (jj * L + m) / 4);
            boolean[] bits = new boolean[L];
            for (int m = 0; m < L; m++) bits[m] = m % 4 == j;
            PHASE[j] = VectorMask.fromArray(S, bits, 0);
        }
    }

    /** Tiles per block (about): keeps a block's V and M in L2. */
    private static final int TARGET_TILES = 128;

    private Winograd() {}

    /**
     * Worth it for 3×3, stride 1, padding 1 with enough channels and pixels: the filter transform (36·Cout·Cin
     * floats, made per call) must stay small next to the convolution. Measured on a VQ decoder's shapes: 2–2.3x
     * faster than im2col at 32×32, no faster at 16×16 (too few tiles for the GEMM), so smaller maps stay with im2col.
     */
    static boolean applies(Conv2d c, int H, int W) {
        return c.kh() == 3
                && c.kw() == 3
                && c.stride() == 1
                && c.padTop() == 1
                && c.padLeft() == 1
                && c.padBottom() == 1
                && c.padRight() == 1
                && c.cin() >= 16
                && c.cout() >= 16
                && H * W >= 1024;
    }

    /**
     * Transformed filters are made for at most about this many (output, input) channel pairs at a time (36 floats
     * each, 9.4 MB): wide layers on small maps (640 → 640 at 32×32 in VAR's decoder) go through their outputs in
     * groups,
     * so the scratch stays small instead of 36·Cout·Cin floats (59 MB there, which raised the peak RSS by 0.3 GB).
     */
    private static final int MAX_PAIRS = 1 << 16;

    static void conv3x3(float[] in, int inOff, int H, int W, Conv2d conv, float[] out, int outOff) {
        int th = (H + M - 1) / M, tw = (W + M - 1) / M, cin = conv.cin(), cout = conv.cout();
        int rowsPerBlock = Math.max(1, TARGET_TILES / tw);
        int blocks = (th + rowsPerBlock - 1) / rowsPerBlock;
        if ((long) cout * cin <= MAX_PAIRS) {
            float[] U = transformFilters(conv, 0, cout);
            if (blocks >= 2 * Parallel.threads()) { // many blocks: one task each (its kernels run inline)
                Parallel.forEach(
                        blocks,
                        b -> block(
                                in,
                                inOff,
                                H,
                                W,
                                conv,
                                U,
                                b * rowsPerBlock,
                                Math.min(th, (b + 1) * rowsPerBlock),
                                out,
                                outOff));
            } else {
                for (int b = 0; b < blocks; b++) {
                    block(
                            in,
                            inOff,
                            H,
                            W,
                            conv,
                            U,
                            b * rowsPerBlock,
                            Math.min(th, (b + 1) * rowsPerBlock),
                            out,
                            outOff);
                }
            }
            return;
        }
        // wide layers: the outputs in a few equal groups (a multiple of the GEMM's 6 rows each), filters transformed
        // per group; each block's input transform serves every group
        int groups = (int) (((long) cout * cin + MAX_PAIRS - 1) / MAX_PAIRS);
        int group = ((cout + groups - 1) / groups + Gemm.MR - 1) / Gemm.MR * Gemm.MR;
        for (int b = 0; b < blocks; b++) {
            int ty0 = b * rowsPerBlock, ty1 = Math.min(th, ty0 + rowsPerBlock);
            float[] V = transformInputs(in, inOff, H, W, cin, ty0, ty1);
            for (int o0 = 0; o0 < cout; o0 += group) {
                int o1 = Math.min(cout, o0 + group);
                multiplyAndOutput(V, transformFilters(conv, o0, o1), conv, o0, o1, H, W, ty0, ty1, out, outOff);
            }
        }
    }

    /** Tile rows [ty0, ty1), every output: input transform, 36 GEMMs, output transform. */
    private static void block(
            float[] in, int inOff, int H, int W, Conv2d conv, float[] U, int ty0, int ty1, float[] out, int outOff) {
        float[] V = transformInputs(in, inOff, H, W, conv.cin(), ty0, ty1);
        multiplyAndOutput(V, U, conv, 0, conv.cout(), H, W, ty0, ty1, out, outOff);
    }

    /** Padded row stride of V and M for the tiles of tile rows [ty0, ty1). */
    private static int tileStride(int W, int ty0, int ty1) {
        // full-vector stores of a tile row may run up to L − 1 tiles past it (the next row overwrites them): headroom
        int tiles = (ty1 - ty0) * ((W + M - 1) / M);
        return (tiles + L - 1) / L * L + L;
    }

    /**
     * U[ξν][o − o0][c] = (G·g·Gᵀ)[ξ][ν] for the filters g = W[o, c] of outputs [o0, o1); G rows (1/4),
     * (−1/6)(1,1,1), (−1/6)(1,−1,1), ...
     */
    private static float[] transformFilters(Conv2d conv, int o0, int o1) {
        int cin = conv.cin(), plane = (o1 - o0) * cin;
        float[] U = Scratch.get(Scratch.WINO_U, AA * plane);
        MemorySegment w = conv.weight();
        Parallel.forRange(o1 - o0, 8, (r0, r1) -> {
            float[] g = new float[9 * cin], taps = new float[9 * cin], h = new float[3 * A * L], u = new float[A];
            for (int r = r0; r < r1; r++) {
                int o = o0 + r;
                MemorySegment.copy(w, Weights.F32, 36L * o * cin, g, 0, 9 * cin); // the filters of output o
                for (int c = 0; c < cin; c++) for (int k = 0; k < 9; k++) taps[k * cin + c] = g[9 * c + k];
                int c = 0;
                for (; c + L <= cin; c += L) { // L filters at a time, one per lane (the same operations as below)
                    for (int k = 0; k < 3; k++) { // h = g·Gᵀ
                        gRow(
                                FloatVector.fromArray(S, taps, 3 * k * cin + c),
                                FloatVector.fromArray(S, taps, (3 * k + 1) * cin + c),
                                FloatVector.fromArray(S, taps, (3 * k + 2) * cin + c),
                                h,
                                A * k * L,
                                L);
                    }
                    for (int v = 0; v < A; v++) { // U = G·h
                        gRow(
                                FloatVector.fromArray(S, h, v * L),
                                FloatVector.fromArray(S, h, (A + v) * L),
                                FloatVector.fromArray(S, h, (2 * A + v) * L),
                                U,
                                v * plane + r * cin + c,
                                A * plane);
                    }
                }
                for (; c < cin; c++) {
                    int f = 9 * c;
                    for (int k = 0; k < 3; k++)
                        gRow(g[f + 3 * k], g[f + 3 * k + 1], g[f + 3 * k + 2], h, A * k); // h = g·Gᵀ
                    int idx = r * cin + c;
                    for (int v = 0; v < A; v++) { // U = G·h
                        gRow(h[v], h[A + v], h[2 * A + v], u, 0);
                        for (int x = 0; x < A; x++) U[(x * A + v) * plane + idx] = u[x];
                    }
                }
            }
        });
        return U;
    }

    /** {@link #gRow(float, float, float, float[], int)} in every lane: results at out[off + j·step]. */
    private static void gRow(FloatVector a, FloatVector b, FloatVector c, float[] out, int off, int step) {
        a.div(4f).intoArray(out, off);
        a.add(b).add(c).neg().div(6f).intoArray(out, off + step);
        a.sub(b).add(c).neg().div(6f).intoArray(out, off + 2 * step);
        a.div(24f).add(b.div(12f)).add(c.div(6f)).intoArray(out, off + 3 * step);
        a.div(24f).sub(b.div(12f)).add(c.div(6f)).intoArray(out, off + 4 * step);
        c.intoArray(out, off + 5 * step);
    }

    /** G·(a, b, c) for the six rows of G. */
    private static void gRow(float a, float b, float c, float[] out, int off) {
        out[off] = a / 4f;
        out[off + 1] = -(a + b + c) / 6f;
        out[off + 2] = -(a - b + c) / 6f;
        out[off + 3] = a / 24f + b / 12f + c / 6f;
        out[off + 4] = a / 24f - b / 12f + c / 6f;
        out[off + 5] = c;
    }

    /** V[ξν][c][t] for the tiles of tile rows [ty0, ty1) of every input channel (a per-thread scratch array). */
    private static float[] transformInputs(float[] in, int inOff, int H, int W, int cin, int ty0, int ty1) {
        int tw = (W + M - 1) / M, ld = tileStride(W, ty0, ty1);
        float[] V = Scratch.get(Scratch.WINO_V, AA * cin * ld);
        Parallel.forRange(cin, 4, (c0, c1) -> {
            float[] rows = new float[A * 4 * (tw + 2 + L)];
            float[] tmp = new float[AA * L];
            for (int c = c0; c < c1; c++) {
                inputTransform(in, inOff + c * H * W, H, W, ty0, ty1, V, c * ld, cin * ld, rows, tmp);
            }
        });
        return V;
    }

    /** Outputs [o0, o1) of tile rows [ty0, ty1): the 36 GEMMs M = U·V, then Y = Aᵀ·M·A + bias into {@code out}. */
    private static void multiplyAndOutput(
            float[] V,
            float[] U,
            Conv2d conv,
            int o0,
            int o1,
            int H,
            int W,
            int ty0,
            int ty1,
            float[] out,
            int outOff) {
        int cin = conv.cin(), n = o1 - o0, tw = (W + M - 1) / M, tiles = (ty1 - ty0) * tw, ld = tileStride(W, ty0, ty1);
        float[] Mm = Scratch.get(Scratch.WINO_M, AA * n * ld);
        MemorySegment u = MemorySegment.ofArray(U);
        for (int e = 0; e < AA; e++) {
            Gemm.gemm(n, tiles, cin, u, (long) e * n * cin, cin, V, e * cin * ld, ld, Mm, e * n * ld, ld, false);
        }
        float[] bias = conv.bias();
        Parallel.forRange(n, 4, (r0, r1) -> {
            float[] tmp = new float[AA * L], y = new float[M * M * L];
            for (int r = r0; r < r1; r++) {
                int o = o0 + r;
                outputTransform(
                        Mm,
                        r * ld,
                        n * ld,
                        ty0,
                        ty1,
                        tw,
                        H,
                        W,
                        bias == null ? 0f : bias[o],
                        out,
                        outOff + o * H * W,
                        tmp,
                        y);
            }
        });
    }

    /**
     * V[ξν][c][t] = (Bᵀ·d·B)[ξ][ν] for the 6×6 input tiles of one channel plane. Each input row is first split
     * into its four column phases, so the six columns of 16 consecutive tiles are six contiguous loads.
     */
    private static void inputTransform(
            float[] in,
            int plane,
            int H,
            int W,
            int ty0,
            int ty1,
            float[] V,
            int vOff,
            int stride,
            float[] rows,
            float[] tmp) {
        int tw = (W + M - 1) / M, n = tw + 2 + L; // phase rows padded so vector loads never run past them
        for (int ty = ty0; ty < ty1; ty++) {
            // rows[(4i + r)·n + x + 1] = in[4ty − 1 + i][4x + r] (zero outside the image); tiles overlap by two rows,
            // so after the first tile row the last two split rows move up and only four are split anew
            int first = 0;
            if (ty > ty0) {
                System.arraycopy(rows, 4 * M * n, rows, 0, 2 * M * n);
                first = 2;
            }
            for (int i = first; i < A; i++) {
                int r = M * ty - 1 + i, base = 4 * i * n;
                Arrays.fill(rows, base, base + 4 * n, 0f);
                if (r < 0 || r >= H) continue;
                int src = plane + r * W, q = 0, b1 = base + 1;
                for (; 4 * q + 4 <= W; q++) {
                    int s4 = src + 4 * q;
                    rows[b1 + q] = in[s4];
                    rows[b1 + n + q] = in[s4 + 1];
                    rows[b1 + 2 * n + q] = in[s4 + 2];
                    rows[b1 + 3 * n + q] = in[s4 + 3];
                }
                for (int x = 4 * q; x < W; x++) rows[base + (x & 3) * n + (x >> 2) + 1] = in[src + x];
            }
            int t0 = (ty - ty0) * tw;
            for (int tx = 0; tx < tw; tx += L) {
                // w = d·B for each of the six input rows, kept in tmp[(6i + ν)·L]
                for (int i = 0; i < A; i++) {
                    int base = 4 * i * n + tx;
                    FloatVector d0 = FloatVector.fromArray(S, rows, base + 3 * n), // column 4tx − 1
                            d1 = FloatVector.fromArray(S, rows, base + 1), // 4tx
                            d2 = FloatVector.fromArray(S, rows, base + n + 1), // 4tx + 1
                            d3 = FloatVector.fromArray(S, rows, base + 2 * n + 1), // 4tx + 2
                            d4 = FloatVector.fromArray(S, rows, base + 3 * n + 1), // 4tx + 3
                            d5 = FloatVector.fromArray(S, rows, base + 2); // 4tx + 4
                    bt(d0, d1, d2, d3, d4, d5, tmp, A * i * L, L);
                }
                // V = Bᵀ·w, column by column
                int dst = vOff + t0 + tx;
                for (int v = 0; v < A; v++) {
                    FloatVector w0 = FloatVector.fromArray(S, tmp, v * L),
                            w1 = FloatVector.fromArray(S, tmp, (A + v) * L),
                            w2 = FloatVector.fromArray(S, tmp, (2 * A + v) * L),
                            w3 = FloatVector.fromArray(S, tmp, (3 * A + v) * L),
                            w4 = FloatVector.fromArray(S, tmp, (4 * A + v) * L),
                            w5 = FloatVector.fromArray(S, tmp, (5 * A + v) * L);
                    btStore(w0, w1, w2, w3, w4, w5, V, dst + v * stride, A * stride);
                }
            }
        }
    }

    /** The six rows of Bᵀ applied to (d0..d5), stored at out[off + j·step]. */
    private static void bt(
            FloatVector d0,
            FloatVector d1,
            FloatVector d2,
            FloatVector d3,
            FloatVector d4,
            FloatVector d5,
            float[] out,
            int off,
            int step) {
        d0.mul(4f).sub(d2.mul(5f)).add(d4).intoArray(out, off);
        d1.add(d2).mul(-4f).add(d3).add(d4).intoArray(out, off + step);
        d1.sub(d2).mul(4f).sub(d3).add(d4).intoArray(out, off + 2 * step);
        d3.sub(d1).mul(2f).sub(d2).add(d4).intoArray(out, off + 3 * step);
        d1.sub(d3).mul(2f).sub(d2).add(d4).intoArray(out, off + 4 * step);
        d1.mul(4f).sub(d3.mul(5f)).add(d5).intoArray(out, off + 5 * step);
    }

    private static void btStore(
            FloatVector d0,
            FloatVector d1,
            FloatVector d2,
            FloatVector d3,
            FloatVector d4,
            FloatVector d5,
            float[] V,
            int off,
            int step) {
        bt(d0, d1, d2, d3, d4, d5, V, off, step);
    }

    /** out = Aᵀ·M·A + bias for one output channel, written as 4×4 blocks (cut at the borders). */
    private static void outputTransform(
            float[] Mm,
            int mOff,
            int stride,
            int ty0,
            int ty1,
            int tw,
            int H,
            int W,
            float bias,
            float[] out,
            int plane,
            float[] tmp,
            float[] y) {
        for (int ty = ty0; ty < ty1; ty++) {
            int t0 = (ty - ty0) * tw, y0 = M * ty, rowsOut = Math.min(M, H - y0);
            for (int tx = 0; tx < tw; tx += L) {
                int src = mOff + t0 + tx;
                // q = M·A row by row: tmp[(4ξ + b)·L]
                for (int x = 0; x < A; x++) {
                    int r = src + A * x * stride;
                    at(
                            FloatVector.fromArray(S, Mm, r),
                            FloatVector.fromArray(S, Mm, r + stride),
                            FloatVector.fromArray(S, Mm, r + 2 * stride),
                            FloatVector.fromArray(S, Mm, r + 3 * stride),
                            FloatVector.fromArray(S, Mm, r + 4 * stride),
                            FloatVector.fromArray(S, Mm, r + 5 * stride),
                            0f,
                            tmp,
                            4 * x * L,
                            L);
                }
                // Y = Aᵀ·q column by column: y[(4a + b)·L]
                for (int b = 0; b < M; b++) {
                    at(
                            FloatVector.fromArray(S, tmp, b * L),
                            FloatVector.fromArray(S, tmp, (4 + b) * L),
                            FloatVector.fromArray(S, tmp, (8 + b) * L),
                            FloatVector.fromArray(S, tmp, (12 + b) * L),
                            FloatVector.fromArray(S, tmp, (16 + b) * L),
                            FloatVector.fromArray(S, tmp, (20 + b) * L),
                            bias,
                            y,
                            b * L,
                            4 * L);
                }
                int n = Math.min(L, tw - tx);
                if (M * (tx + L) <= W) { // L whole tiles inside the row: interleave the four columns with shuffles
                    for (int a = 0; a < rowsOut; a++) {
                        int row = plane + (y0 + a) * W + M * tx, ya = 4 * a * L;
                        FloatVector p0 = FloatVector.fromArray(S, y, ya),
                                p1 = FloatVector.fromArray(S, y, ya + L),
                                p2 = FloatVector.fromArray(S, y, ya + 2 * L),
                                p3 = FloatVector.fromArray(S, y, ya + 3 * L);
                        for (int j = 0; j < 4; j++) {
                            VectorShuffle<Float> sh = JOIN[j];
                            p0.rearrange(sh)
                                    .blend(p1.rearrange(sh), PHASE[1])
                                    .blend(p2.rearrange(sh), PHASE[2])
                                    .blend(p3.rearrange(sh), PHASE[3])
                                    .intoArray(out, row + j * L);
                        }
                    }
                    continue;
                }
                for (int a = 0; a < rowsOut; a++) {
                    int row = plane + (y0 + a) * W;
                    for (int j = 0; j < n; j++) {
                        int x0 = M * (tx + j), cols = Math.min(M, W - x0);
                        for (int b = 0; b < cols; b++) out[row + x0 + b] = y[(4 * a + b) * L + j];
                    }
                }
            }
        }
    }

    /** The four rows of Aᵀ applied to (m0..m5) (plus a constant), stored at out[off + j·step]. */
    private static void at(
            FloatVector m0,
            FloatVector m1,
            FloatVector m2,
            FloatVector m3,
            FloatVector m4,
            FloatVector m5,
            float bias,
            float[] out,
            int off,
            int step) {
        FloatVector s12 = m1.add(m2), d12 = m1.sub(m2), s34 = m3.add(m4), d34 = m3.sub(m4);
        m0.add(s12).add(s34).add(bias).intoArray(out, off);
        d12.add(d34.mul(2f)).add(bias).intoArray(out, off + step);
        s12.add(s34.mul(4f)).add(bias).intoArray(out, off + 2 * step);
        d12.add(d34.mul(8f)).add(m5).add(bias).intoArray(out, off + 3 * step);
    }
}
