package dev.tessera.engine.ops;

import dev.tessera.engine.nn.WeightPanels;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vectorised matrix product {@code C (+)= A·B}: A row-major in a segment (typically weights, a view of the
 * checkpoint mapping), B row-major in an array (activations or an im2col panel, read as vectors along its rows),
 * C row-major.
 *
 * <p>Register tiling: a 6×(4 vectors) block of C lives in 24 vector registers while k runs over a block of K;
 * each step loads 4 vectors of B and broadcasts 6 scalars of A for 24 fused multiply-adds. K is split into blocks
 * of {@value #KC}; the 6 A rows of a block are first copied into a small per-thread array (scalar reads from a
 * mapped segment in the inner loop cost more than the copy; a segment over a whole float[] is read in place), then
 * every column panel of B passes under them.
 * (Linear layers, {@link #linear}, turn this around: A is the activations, B the weights in panels.)
 * Columns are taken in blocks of {@value #NB} so that a block of B stays in L2 while every row block passes over it.
 * Work is split between threads by row blocks of A (each weight read by one thread), or by column blocks when there
 * are more of those (a 1×1 convolution over a large map: B read once); either way every output is one fused
 * multiply-add chain over k in order: results do not depend on the thread count, the split or N.
 */
final class Gemm {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static final int MR = 6;
    static final int NV = 4;
    static final int NR = NV * L;
    static final int KC = 256;
    /** Columns of B per block in {@link #gemm}: 256 x 512 floats = 512 KB, half an L2. */
    static final int NB = 512;
    /** bfloat16 panel rows: L shorts widened to L ints (the float32 bit patterns). */
    private static final VectorSpecies<Short> HALF = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));

    private static final VectorSpecies<Integer> INT = VectorSpecies.of(int.class, S.vectorShape());
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    static {
        if (NR != WeightPanels.WIDTH) {
            throw new IllegalStateException(
                    "weight panels of " + WeightPanels.WIDTH + " rows for a " + NR + "-wide register tile");
        }
    }

    private Gemm() {}

    static void gemm(
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
        if (M <= 0 || N <= 0) return;
        if (!accumulate) {
            for (int m = 0; m < M; m++) Arrays.fill(c, cOff + m * ldc, cOff + m * ldc + N, 0f);
        }
        if (K <= 0) return;
        // the micro-kernels read A's rows as broadcasts from an array: a whole float[] behind the segment is read in
        // place (Winograd's transformed filters, attention's queries and scores); anything else (mapped weights) is
        // copied a row block at a time into a small one
        float[] aArray = a.heapBase().orElse(null) instanceof float[] f && a.byteSize() == 4L * f.length ? f : null;
        int rowBlocks = (M + MR - 1) / MR;
        // grain: enough row blocks per task that a task does at least ~1 MFLOP
        long flopsPerBlock = 2L * MR * N * K;
        int grain = (int) Math.max(1, Math.min(rowBlocks, 1_000_000 / Math.max(1, flopsPerBlock)));
        int colBlocks = (N + NB - 1) / NB;
        if (colBlocks > rowBlocks) {
            // wide and short (a 1x1 convolution over a large map): threads split the columns, so B is read once
            Parallel.forRange(colBlocks, 1, (cb0, cb1) -> {
                float[] panel = Scratch.get(Scratch.GEMM_PANEL, MR * KC);
                for (int k0 = 0; k0 < K; k0 += KC) {
                    for (int cb = cb0; cb < cb1; cb++) {
                        int n0 = cb * NB;
                        for (int rb = 0; rb < rowBlocks; rb++) {
                            rowBlock(
                                    rb,
                                    k0,
                                    Math.min(KC, K - k0),
                                    n0,
                                    Math.min(NB, N - n0),
                                    M,
                                    a,
                                    aArray,
                                    aOff,
                                    lda,
                                    panel,
                                    b,
                                    bOff,
                                    ldb,
                                    c,
                                    cOff,
                                    ldc);
                        }
                    }
                }
            });
            return;
        }
        Parallel.forRange(rowBlocks, grain, (rb0, rb1) -> {
            float[] panel = Scratch.get(Scratch.GEMM_PANEL, MR * KC);
            for (int k0 = 0; k0 < K; k0 += KC) {
                // columns in blocks of NB: a block of B (kc x NB, at most 512 KB) stays in L2 for every row block
                for (int n0 = 0; n0 < N; n0 += NB) {
                    for (int rb = rb0; rb < rb1; rb++) {
                        rowBlock(
                                rb,
                                k0,
                                Math.min(KC, K - k0),
                                n0,
                                Math.min(NB, N - n0),
                                M,
                                a,
                                aArray,
                                aOff,
                                lda,
                                panel,
                                b,
                                bOff,
                                ldb,
                                c,
                                cOff,
                                ldc);
                    }
                }
            }
        });
    }

    /**
     * C[rows of block rb, n0 .. n0+nb) += A[same rows, k0 .. k0+kc)·B[k0 .. k0+kc, n0 .. n0+nb); {@code aArray} is
     * the float[] behind {@code a} when it is one (read in place), else null.
     */
    private static void rowBlock(
            int rb,
            int k0,
            int kc,
            int n0,
            int nb,
            int M,
            MemorySegment a,
            float[] aArray,
            long aOff,
            int lda,
            float[] panel,
            float[] b,
            int bOff,
            int ldb,
            float[] c,
            int cOff,
            int ldc) {
        int m0 = rb * MR, rows = Math.min(MR, M - m0);
        float[] arr;
        int a0, ld;
        if (aArray != null) {
            arr = aArray;
            a0 = (int) (aOff + (long) m0 * lda + k0);
            ld = lda;
        } else {
            arr = panel;
            a0 = 0;
            ld = kc;
            if (kc == lda) { // the rows are contiguous (K fits one block): one copy
                MemorySegment.copy(a, F32, 4 * (aOff + (long) m0 * lda), panel, 0, rows * kc);
            } else {
                for (int i = 0; i < rows; i++) {
                    MemorySegment.copy(a, F32, 4 * (aOff + (long) (m0 + i) * lda + k0), panel, i * kc, kc);
                }
            }
        }
        int bRow = bOff + k0 * ldb + n0, cRow = cOff + m0 * ldc + n0;
        if (rows == MR) {
            int n = 0;
            for (; n + NR <= nb; n += NR) kernel6x4(kc, arr, a0, ld, b, bRow + n, ldb, c, cRow + n, ldc);
            for (; n + L <= nb; n += L) kernel6x1(kc, arr, a0, ld, b, bRow + n, ldb, c, cRow + n, ldc);
            if (n < nb) kernel6x1Masked(kc, nb - n, arr, a0, ld, b, bRow + n, ldb, c, cRow + n, ldc);
        } else {
            for (int i = 0; i < rows; i++) {
                for (int n = 0; n < nb; n += NR) {
                    kernel1xN(kc, Math.min(NR, nb - n), arr, a0 + i * ld, b, bRow + n, ldb, c, cRow + i * ldc + n);
                }
            }
        }
    }

    /**
     * A linear layer's product: {@code C[m, n] = bias[n] + Σ_k X[m, k]·W[n, k]} for m < M, n < N, with W in
     * {@link dev.tessera.engine.nn.WeightPanels} layout (read as vectors, one panel row per k) and the rows of X
     * broadcast six at a time (from a packed copy of a chunk of X). Threads split the panels of W, so each weight is
     * read by one thread; each goes through its panels front to back. {@code f} is
     * the panels' element format: float32, or bfloat16 or float16 (widened to float32 exactly as it is loaded; the
     * sums are float32 either way).
     */
    static void linear(
            int M,
            int N,
            int K,
            float[] x,
            int xOff,
            MemorySegment panels,
            WeightPanels.Format f,
            float[] bias,
            float[] c,
            int cOff,
            int ldc) {
        for (int m = 0; m < M; m++) {
            int row = cOff + m * ldc;
            if (bias == null) Arrays.fill(c, row, row + N, 0f);
            else System.arraycopy(bias, 0, c, row, N);
        }
        // rows of X in chunks small enough to pack (at most 2M floats: the scratch stays 8 MB, the chunk's KC
        // columns stay in L2); one chunk for every decoding step and for VAR-d16's largest scale under CFG
        int mc = Math.max(MR, Math.min(M, (1 << 21) / Math.max(1, K) / MR * MR));
        for (int m0 = 0; m0 < M; m0 += mc) {
            linearRows(Math.min(mc, M - m0), N, K, x, xOff + m0 * K, panels, f, c, cOff + m0 * ldc, ldc);
        }
    }

    /** {@link #linear} for M ≤ a chunk of rows, C already holding the bias. */
    private static void linearRows(
            int M,
            int N,
            int K,
            float[] x,
            int xOff,
            MemorySegment panels,
            WeightPanels.Format f,
            float[] c,
            int cOff,
            int ldc) {
        final int eb = f.bytes;
        int P = (N + NR - 1) / NR;
        long flopsPerPanel = 2L * M * NR * K;
        int grain = (int) Math.max(1, Math.min(P, 2_000_000 / Math.max(1, flopsPerPanel)));
        // X in row blocks of MR, each cut into blocks of KC columns stored contiguously (block (m0, k0) at
        // m0·K + k0·rows, row stride kc): rows of a large power-of-two K would otherwise share cache sets
        float[] a = Scratch.get(Scratch.GEMM_ROWS, M * K);
        for (int m0 = 0; m0 < M; m0 += MR) {
            int rows = Math.min(MR, M - m0);
            for (int k0 = 0; k0 < K; k0 += KC) {
                int kc = Math.min(KC, K - k0), dst = m0 * K + k0 * rows;
                for (int i = 0; i < rows; i++) System.arraycopy(x, xOff + (m0 + i) * K + k0, a, dst + i * kc, kc);
            }
        }
        // panel by panel, front to back through memory: each block of KC panel rows is read from memory once and
        // then serves every row block of X from cache (the workers only read the packed rows)
        Parallel.forRange(P, grain, (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                int n0 = p * NR, cols = Math.min(NR, N - n0);
                float[] out = c;
                int oOff = cOff + n0, ld = ldc;
                if (cols < NR) {
                    // a partial last panel: accumulate in full-width rows, copy back the valid columns
                    out = new float[M * NR];
                    for (int i = 0; i < M; i++) System.arraycopy(c, oOff + i * ldc, out, i * NR, cols);
                    oOff = 0;
                    ld = NR;
                }
                for (int k0 = 0; k0 < K; k0 += KC) {
                    int kc = Math.min(KC, K - k0);
                    long bOff = (long) eb * (((long) p * K + k0) * NR);
                    for (int m0 = 0; m0 < M; m0 += MR) {
                        int rows = Math.min(MR, M - m0);
                        panelTile(kc, rows, a, m0 * K + k0 * rows, kc, panels, bOff, f, out, oOff + m0 * ld, ld);
                    }
                }
                if (out != c) {
                    for (int i = 0; i < M; i++) System.arraycopy(out, i * NR, c, cOff + n0 + i * ldc, cols);
                }
            }
        });
    }

    private static void panelTile(
            int kc,
            int rows,
            float[] a,
            int aOff,
            int lda,
            MemorySegment b,
            long bOff,
            WeightPanels.Format f,
            float[] c,
            int cOff,
            int ldc) {
        switch (rows) {
            case MR -> panel6(kc, a, aOff, lda, b, bOff, f, c, cOff, ldc);
            case 5 -> {
                panel2(kc, a, aOff, lda, b, bOff, f, c, cOff, ldc);
                panel2(kc, a, aOff + 2 * lda, lda, b, bOff, f, c, cOff + 2 * ldc, ldc);
                panel1(kc, a, aOff + 4 * lda, b, bOff, f, c, cOff + 4 * ldc);
            }
            case 4 -> {
                panel2(kc, a, aOff, lda, b, bOff, f, c, cOff, ldc);
                panel2(kc, a, aOff + 2 * lda, lda, b, bOff, f, c, cOff + 2 * ldc, ldc);
            }
            case 3 -> {
                panel2(kc, a, aOff, lda, b, bOff, f, c, cOff, ldc);
                panel1(kc, a, aOff + 2 * lda, b, bOff, f, c, cOff + 2 * ldc);
            }
            case 2 -> panel2(kc, a, aOff, lda, b, bOff, f, c, cOff, ldc);
            default -> panel1(kc, a, aOff, b, bOff, f, c, cOff);
        }
    }

    /** C[2, 4L] += A[2, kc]·B: two rows share every load of the weight panel (decoding with CFG has 2 rows). */
    private static void panel2(
            int kc,
            float[] a,
            int aOff,
            int lda,
            MemorySegment b,
            long bOff,
            WeightPanels.Format f,
            float[] c,
            int cOff,
            int ldc) {
        int r = cOff + ldc;
        FloatVector c00 = FloatVector.fromArray(S, c, cOff),
                c01 = FloatVector.fromArray(S, c, cOff + L),
                c02 = FloatVector.fromArray(S, c, cOff + 2 * L),
                c03 = FloatVector.fromArray(S, c, cOff + 3 * L),
                c10 = FloatVector.fromArray(S, c, r),
                c11 = FloatVector.fromArray(S, c, r + L),
                c12 = FloatVector.fromArray(S, c, r + 2 * L),
                c13 = FloatVector.fromArray(S, c, r + 3 * L);
        final long step = (long) f.bytes * NR, v = (long) f.bytes * L;
        int k = 0;
        // two k per iteration: eight loads in flight keep the memory stream busy (twice the bandwidth of one)
        for (; k + 2 <= kc; k += 2) {
            long bk = bOff + k * step;
            FloatVector b0 = load(b, bk, f),
                    b1 = load(b, bk + v, f),
                    b2 = load(b, bk + 2 * v, f),
                    b3 = load(b, bk + 3 * v, f);
            FloatVector e0 = load(b, bk + step, f),
                    e1 = load(b, bk + step + v, f),
                    e2 = load(b, bk + step + 2 * v, f),
                    e3 = load(b, bk + step + 3 * v, f);
            FloatVector x = FloatVector.broadcast(S, a[aOff + k]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            c02 = x.fma(b2, c02);
            c03 = x.fma(b3, c03);
            x = FloatVector.broadcast(S, a[aOff + lda + k]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            c12 = x.fma(b2, c12);
            c13 = x.fma(b3, c13);
            x = FloatVector.broadcast(S, a[aOff + k + 1]);
            c00 = x.fma(e0, c00);
            c01 = x.fma(e1, c01);
            c02 = x.fma(e2, c02);
            c03 = x.fma(e3, c03);
            x = FloatVector.broadcast(S, a[aOff + lda + k + 1]);
            c10 = x.fma(e0, c10);
            c11 = x.fma(e1, c11);
            c12 = x.fma(e2, c12);
            c13 = x.fma(e3, c13);
        }
        for (; k < kc; k++) {
            long bk = bOff + k * step;
            FloatVector b0 = load(b, bk, f),
                    b1 = load(b, bk + v, f),
                    b2 = load(b, bk + 2 * v, f),
                    b3 = load(b, bk + 3 * v, f);
            FloatVector x = FloatVector.broadcast(S, a[aOff + k]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            c02 = x.fma(b2, c02);
            c03 = x.fma(b3, c03);
            x = FloatVector.broadcast(S, a[aOff + lda + k]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            c12 = x.fma(b2, c12);
            c13 = x.fma(b3, c13);
        }
        c00.intoArray(c, cOff);
        c01.intoArray(c, cOff + L);
        c02.intoArray(c, cOff + 2 * L);
        c03.intoArray(c, cOff + 3 * L);
        c10.intoArray(c, r);
        c11.intoArray(c, r + L);
        c12.intoArray(c, r + 2 * L);
        c13.intoArray(c, r + 3 * L);
    }

    /**
     * L weights at {@code byteOff}: float32; bfloat16 widened (its bits are the high half of a float32); or float16
     * widened exactly: its sign, exponent and mantissa moved to a float32's places (the sign-extended short shifted
     * left 13 bits, the bits between sign and exponent cleared) give a float32 2^-112 times the value, normal or
     * subnormal, and a multiplication by 2^112 (exact) rescales it. Infinite and NaN halves never reach here
     * ({@link WeightPanels#to16} refuses them).
     */
    private static FloatVector load(MemorySegment b, long byteOff, WeightPanels.Format f) {
        if (f == WeightPanels.Format.F32) return FloatVector.fromMemorySegment(S, b, byteOff, ByteOrder.LITTLE_ENDIAN);
        IntVector bits = (IntVector) ShortVector.fromMemorySegment(HALF, b, byteOff, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.S2I, INT, 0);
        if (f == WeightPanels.Format.BF16)
            return bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
        return bits.lanewise(VectorOperators.LSHL, 13)
                .lanewise(VectorOperators.AND, 0x8FFF_E000)
                .reinterpretAsFloats()
                .mul(0x1p112f);
    }

    /** C[6, 4L] += A[6, kc]·B with B a weight panel (one contiguous row of 4L floats per k). */
    private static void panel6(
            int kc,
            float[] a,
            int aOff,
            int lda,
            MemorySegment b,
            long bOff,
            WeightPanels.Format f,
            float[] c,
            int cOff,
            int ldc) {
        FloatVector c00 = FloatVector.fromArray(S, c, cOff),
                c01 = FloatVector.fromArray(S, c, cOff + L),
                c02 = FloatVector.fromArray(S, c, cOff + 2 * L),
                c03 = FloatVector.fromArray(S, c, cOff + 3 * L);
        int r = cOff + ldc;
        FloatVector c10 = FloatVector.fromArray(S, c, r),
                c11 = FloatVector.fromArray(S, c, r + L),
                c12 = FloatVector.fromArray(S, c, r + 2 * L),
                c13 = FloatVector.fromArray(S, c, r + 3 * L);
        r += ldc;
        FloatVector c20 = FloatVector.fromArray(S, c, r),
                c21 = FloatVector.fromArray(S, c, r + L),
                c22 = FloatVector.fromArray(S, c, r + 2 * L),
                c23 = FloatVector.fromArray(S, c, r + 3 * L);
        r += ldc;
        FloatVector c30 = FloatVector.fromArray(S, c, r),
                c31 = FloatVector.fromArray(S, c, r + L),
                c32 = FloatVector.fromArray(S, c, r + 2 * L),
                c33 = FloatVector.fromArray(S, c, r + 3 * L);
        r += ldc;
        FloatVector c40 = FloatVector.fromArray(S, c, r),
                c41 = FloatVector.fromArray(S, c, r + L),
                c42 = FloatVector.fromArray(S, c, r + 2 * L),
                c43 = FloatVector.fromArray(S, c, r + 3 * L);
        r += ldc;
        FloatVector c50 = FloatVector.fromArray(S, c, r),
                c51 = FloatVector.fromArray(S, c, r + L),
                c52 = FloatVector.fromArray(S, c, r + 2 * L),
                c53 = FloatVector.fromArray(S, c, r + 3 * L);
        final long step = (long) f.bytes * NR, v = (long) f.bytes * L;
        final int a1 = aOff + lda, a2 = a1 + lda, a3 = a2 + lda, a4 = a3 + lda, a5 = a4 + lda;
        for (int k = 0; k < kc; k++) {
            long bk = bOff + k * step;
            FloatVector b0 = load(b, bk, f),
                    b1 = load(b, bk + v, f),
                    b2 = load(b, bk + 2 * v, f),
                    b3 = load(b, bk + 3 * v, f);
            FloatVector x = FloatVector.broadcast(S, a[aOff + k]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            c02 = x.fma(b2, c02);
            c03 = x.fma(b3, c03);
            x = FloatVector.broadcast(S, a[a1 + k]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            c12 = x.fma(b2, c12);
            c13 = x.fma(b3, c13);
            x = FloatVector.broadcast(S, a[a2 + k]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            c22 = x.fma(b2, c22);
            c23 = x.fma(b3, c23);
            x = FloatVector.broadcast(S, a[a3 + k]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            c32 = x.fma(b2, c32);
            c33 = x.fma(b3, c33);
            x = FloatVector.broadcast(S, a[a4 + k]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            c42 = x.fma(b2, c42);
            c43 = x.fma(b3, c43);
            x = FloatVector.broadcast(S, a[a5 + k]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
            c52 = x.fma(b2, c52);
            c53 = x.fma(b3, c53);
        }
        c00.intoArray(c, cOff);
        c01.intoArray(c, cOff + L);
        c02.intoArray(c, cOff + 2 * L);
        c03.intoArray(c, cOff + 3 * L);
        r = cOff + ldc;
        c10.intoArray(c, r);
        c11.intoArray(c, r + L);
        c12.intoArray(c, r + 2 * L);
        c13.intoArray(c, r + 3 * L);
        r += ldc;
        c20.intoArray(c, r);
        c21.intoArray(c, r + L);
        c22.intoArray(c, r + 2 * L);
        c23.intoArray(c, r + 3 * L);
        r += ldc;
        c30.intoArray(c, r);
        c31.intoArray(c, r + L);
        c32.intoArray(c, r + 2 * L);
        c33.intoArray(c, r + 3 * L);
        r += ldc;
        c40.intoArray(c, r);
        c41.intoArray(c, r + L);
        c42.intoArray(c, r + 2 * L);
        c43.intoArray(c, r + 3 * L);
        r += ldc;
        c50.intoArray(c, r);
        c51.intoArray(c, r + L);
        c52.intoArray(c, r + 2 * L);
        c53.intoArray(c, r + 3 * L);
    }

    /** C[1, 4L] += A[1, kc]·B with B a weight panel. */
    private static void panel1(
            int kc, float[] a, int aOff, MemorySegment b, long bOff, WeightPanels.Format f, float[] c, int cOff) {
        FloatVector c0 = FloatVector.fromArray(S, c, cOff),
                c1 = FloatVector.fromArray(S, c, cOff + L),
                c2 = FloatVector.fromArray(S, c, cOff + 2 * L),
                c3 = FloatVector.fromArray(S, c, cOff + 3 * L);
        final long step = (long) f.bytes * NR, v = (long) f.bytes * L;
        int k = 0;
        for (; k + 2 <= kc; k += 2) {
            long bk = bOff + k * step;
            FloatVector b0 = load(b, bk, f),
                    b1 = load(b, bk + v, f),
                    b2 = load(b, bk + 2 * v, f),
                    b3 = load(b, bk + 3 * v, f);
            FloatVector e0 = load(b, bk + step, f),
                    e1 = load(b, bk + step + v, f),
                    e2 = load(b, bk + step + 2 * v, f),
                    e3 = load(b, bk + step + 3 * v, f);
            FloatVector x = FloatVector.broadcast(S, a[aOff + k]);
            c0 = x.fma(b0, c0);
            c1 = x.fma(b1, c1);
            c2 = x.fma(b2, c2);
            c3 = x.fma(b3, c3);
            x = FloatVector.broadcast(S, a[aOff + k + 1]);
            c0 = x.fma(e0, c0);
            c1 = x.fma(e1, c1);
            c2 = x.fma(e2, c2);
            c3 = x.fma(e3, c3);
        }
        for (; k < kc; k++) {
            long bk = bOff + k * step;
            FloatVector x = FloatVector.broadcast(S, a[aOff + k]);
            c0 = x.fma(load(b, bk, f), c0);
            c1 = x.fma(load(b, bk + v, f), c1);
            c2 = x.fma(load(b, bk + 2 * v, f), c2);
            c3 = x.fma(load(b, bk + 3 * v, f), c3);
        }
        c0.intoArray(c, cOff);
        c1.intoArray(c, cOff + L);
        c2.intoArray(c, cOff + 2 * L);
        c3.intoArray(c, cOff + 3 * L);
    }

    /** The 6×4-vector register tile: C[6, 4L] += A[6, kc]·B[kc, 4L]. */
    private static void kernel6x4(
            int kc, float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float[] c, int cOff, int ldc) {
        FloatVector c00 = FloatVector.fromArray(S, c, cOff),
                c01 = FloatVector.fromArray(S, c, cOff + L),
                c02 = FloatVector.fromArray(S, c, cOff + 2 * L),
                c03 = FloatVector.fromArray(S, c, cOff + 3 * L);
        int r = cOff + ldc;
        FloatVector c10 = FloatVector.fromArray(S, c, r),
                c11 = FloatVector.fromArray(S, c, r + L),
                c12 = FloatVector.fromArray(S, c, r + 2 * L),
                c13 = FloatVector.fromArray(S, c, r + 3 * L);
        r += ldc;
        FloatVector c20 = FloatVector.fromArray(S, c, r),
                c21 = FloatVector.fromArray(S, c, r + L),
                c22 = FloatVector.fromArray(S, c, r + 2 * L),
                c23 = FloatVector.fromArray(S, c, r + 3 * L);
        r += ldc;
        FloatVector c30 = FloatVector.fromArray(S, c, r),
                c31 = FloatVector.fromArray(S, c, r + L),
                c32 = FloatVector.fromArray(S, c, r + 2 * L),
                c33 = FloatVector.fromArray(S, c, r + 3 * L);
        r += ldc;
        FloatVector c40 = FloatVector.fromArray(S, c, r),
                c41 = FloatVector.fromArray(S, c, r + L),
                c42 = FloatVector.fromArray(S, c, r + 2 * L),
                c43 = FloatVector.fromArray(S, c, r + 3 * L);
        r += ldc;
        FloatVector c50 = FloatVector.fromArray(S, c, r),
                c51 = FloatVector.fromArray(S, c, r + L),
                c52 = FloatVector.fromArray(S, c, r + 2 * L),
                c53 = FloatVector.fromArray(S, c, r + 3 * L);
        final int a1 = aOff + lda, a2 = a1 + lda, a3 = a2 + lda, a4 = a3 + lda, a5 = a4 + lda;
        for (int k = 0; k < kc; k++) {
            int bk = bOff + k * ldb;
            FloatVector b0 = FloatVector.fromArray(S, b, bk),
                    b1 = FloatVector.fromArray(S, b, bk + L),
                    b2 = FloatVector.fromArray(S, b, bk + 2 * L),
                    b3 = FloatVector.fromArray(S, b, bk + 3 * L);
            FloatVector x = FloatVector.broadcast(S, a[aOff + k]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            c02 = x.fma(b2, c02);
            c03 = x.fma(b3, c03);
            x = FloatVector.broadcast(S, a[a1 + k]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            c12 = x.fma(b2, c12);
            c13 = x.fma(b3, c13);
            x = FloatVector.broadcast(S, a[a2 + k]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            c22 = x.fma(b2, c22);
            c23 = x.fma(b3, c23);
            x = FloatVector.broadcast(S, a[a3 + k]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            c32 = x.fma(b2, c32);
            c33 = x.fma(b3, c33);
            x = FloatVector.broadcast(S, a[a4 + k]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            c42 = x.fma(b2, c42);
            c43 = x.fma(b3, c43);
            x = FloatVector.broadcast(S, a[a5 + k]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
            c52 = x.fma(b2, c52);
            c53 = x.fma(b3, c53);
        }
        c00.intoArray(c, cOff);
        c01.intoArray(c, cOff + L);
        c02.intoArray(c, cOff + 2 * L);
        c03.intoArray(c, cOff + 3 * L);
        r = cOff + ldc;
        c10.intoArray(c, r);
        c11.intoArray(c, r + L);
        c12.intoArray(c, r + 2 * L);
        c13.intoArray(c, r + 3 * L);
        r += ldc;
        c20.intoArray(c, r);
        c21.intoArray(c, r + L);
        c22.intoArray(c, r + 2 * L);
        c23.intoArray(c, r + 3 * L);
        r += ldc;
        c30.intoArray(c, r);
        c31.intoArray(c, r + L);
        c32.intoArray(c, r + 2 * L);
        c33.intoArray(c, r + 3 * L);
        r += ldc;
        c40.intoArray(c, r);
        c41.intoArray(c, r + L);
        c42.intoArray(c, r + 2 * L);
        c43.intoArray(c, r + 3 * L);
        r += ldc;
        c50.intoArray(c, r);
        c51.intoArray(c, r + L);
        c52.intoArray(c, r + 2 * L);
        c53.intoArray(c, r + 3 * L);
    }

    /**
     * Six rows of C over one vector of columns: C[6, L] += A[6, kc]·B[kc, L]. (No masks: the masked version below
     * is too large for the profiling compiler, and a method it gives up on can stay slow for a long time.)
     */
    private static void kernel6x1(
            int kc, float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float[] c, int cOff, int ldc) {
        FloatVector c0 = FloatVector.fromArray(S, c, cOff),
                c1 = FloatVector.fromArray(S, c, cOff + ldc),
                c2 = FloatVector.fromArray(S, c, cOff + 2 * ldc),
                c3 = FloatVector.fromArray(S, c, cOff + 3 * ldc),
                c4 = FloatVector.fromArray(S, c, cOff + 4 * ldc),
                c5 = FloatVector.fromArray(S, c, cOff + 5 * ldc);
        final int a1 = aOff + lda, a2 = a1 + lda, a3 = a2 + lda, a4 = a3 + lda, a5 = a4 + lda;
        for (int k = 0; k < kc; k++) {
            FloatVector bv = FloatVector.fromArray(S, b, bOff + k * ldb);
            c0 = FloatVector.broadcast(S, a[aOff + k]).fma(bv, c0);
            c1 = FloatVector.broadcast(S, a[a1 + k]).fma(bv, c1);
            c2 = FloatVector.broadcast(S, a[a2 + k]).fma(bv, c2);
            c3 = FloatVector.broadcast(S, a[a3 + k]).fma(bv, c3);
            c4 = FloatVector.broadcast(S, a[a4 + k]).fma(bv, c4);
            c5 = FloatVector.broadcast(S, a[a5 + k]).fma(bv, c5);
        }
        c0.intoArray(c, cOff);
        c1.intoArray(c, cOff + ldc);
        c2.intoArray(c, cOff + 2 * ldc);
        c3.intoArray(c, cOff + 3 * ldc);
        c4.intoArray(c, cOff + 4 * ldc);
        c5.intoArray(c, cOff + 5 * ldc);
    }

    /** {@link #kernel6x1} over a partial vector of n < L columns (the lanes past n masked off). */
    private static void kernel6x1Masked(
            int kc, int n, float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float[] c, int cOff, int ldc) {
        VectorMask<Float> m = S.indexInRange(0, n);
        FloatVector c0 = FloatVector.fromArray(S, c, cOff, m),
                c1 = FloatVector.fromArray(S, c, cOff + ldc, m),
                c2 = FloatVector.fromArray(S, c, cOff + 2 * ldc, m),
                c3 = FloatVector.fromArray(S, c, cOff + 3 * ldc, m),
                c4 = FloatVector.fromArray(S, c, cOff + 4 * ldc, m),
                c5 = FloatVector.fromArray(S, c, cOff + 5 * ldc, m);
        final int a1 = aOff + lda, a2 = a1 + lda, a3 = a2 + lda, a4 = a3 + lda, a5 = a4 + lda;
        for (int k = 0; k < kc; k++) {
            FloatVector bv = FloatVector.fromArray(S, b, bOff + k * ldb, m);
            c0 = FloatVector.broadcast(S, a[aOff + k]).fma(bv, c0);
            c1 = FloatVector.broadcast(S, a[a1 + k]).fma(bv, c1);
            c2 = FloatVector.broadcast(S, a[a2 + k]).fma(bv, c2);
            c3 = FloatVector.broadcast(S, a[a3 + k]).fma(bv, c3);
            c4 = FloatVector.broadcast(S, a[a4 + k]).fma(bv, c4);
            c5 = FloatVector.broadcast(S, a[a5 + k]).fma(bv, c5);
        }
        c0.intoArray(c, cOff, m);
        c1.intoArray(c, cOff + ldc, m);
        c2.intoArray(c, cOff + 2 * ldc, m);
        c3.intoArray(c, cOff + 3 * ldc, m);
        c4.intoArray(c, cOff + 4 * ldc, m);
        c5.intoArray(c, cOff + 5 * ldc, m);
    }

    /**
     * One row of C over up to 4 vectors (the last possibly partial): C[1, n] += A[1, kc]·B[kc, n], n ≤ 4L. No
     * branch on n: the lanes past n are masked off (loads read zeros, stores write nothing), so a new width never
     * meets compiled code that assumed narrower ones (a deoptimisation in the middle of a run).
     */
    private static void kernel1xN(
            int kc, int n, float[] a, int aOff, float[] b, int bOff, int ldb, float[] c, int cOff) {
        VectorMask<Float> m0 = S.indexInRange(0, n),
                m1 = S.indexInRange(L, n),
                m2 = S.indexInRange(2 * L, n),
                m3 = S.indexInRange(3 * L, n);
        FloatVector c0 = FloatVector.fromArray(S, c, cOff, m0),
                c1 = FloatVector.fromArray(S, c, cOff + L, m1),
                c2 = FloatVector.fromArray(S, c, cOff + 2 * L, m2),
                c3 = FloatVector.fromArray(S, c, cOff + 3 * L, m3);
        for (int k = 0; k < kc; k++) {
            int bk = bOff + k * ldb;
            FloatVector x = FloatVector.broadcast(S, a[aOff + k]);
            c0 = x.fma(FloatVector.fromArray(S, b, bk, m0), c0);
            c1 = x.fma(FloatVector.fromArray(S, b, bk + L, m1), c1);
            c2 = x.fma(FloatVector.fromArray(S, b, bk + 2 * L, m2), c2);
            c3 = x.fma(FloatVector.fromArray(S, b, bk + 3 * L, m3), c3);
        }
        c0.intoArray(c, cOff, m0);
        c1.intoArray(c, cOff + L, m1);
        c2.intoArray(c, cOff + 2 * L, m2);
        c3.intoArray(c, cOff + 3 * L, m3);
    }
}
