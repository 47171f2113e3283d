package dev.tessera.engine.ops;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The vectorised matrix product {@code C (+)= A·B}: A row-major in a segment (typically weights, read as
 * broadcast scalars, never copied), B row-major in an array (activations or an im2col panel, read as vectors
 * along its rows), C row-major.
 *
 * <p>Register tiling: a 6×(4 vectors) block of C lives in 24 vector registers while k runs over a block of K;
 * each step loads 4 vectors of B and broadcasts 6 scalars of A for 24 fused multiply-adds. K is split into blocks
 * of {@value #KC} so the B rows of a block stay in cache while every row block of A passes over them. Work is
 * split between threads by row blocks of A, so each weight is read by one thread and the sum order of every output
 * is fixed (results do not depend on the thread count).
 */
final class Gemm {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static final int MR = 6;
    static final int NV = 4;
    static final int NR = NV * L;
    static final int KC = 256;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Gemm() {
    }

    static void gemm(int M, int N, int K, MemorySegment a, long aOff, int lda, float[] b, int bOff, int ldb,
                     float[] c, int cOff, int ldc, boolean accumulate) {
        if (M <= 0 || N <= 0) return;
        if (!accumulate) {
            for (int m = 0; m < M; m++) java.util.Arrays.fill(c, cOff + m * ldc, cOff + m * ldc + N, 0f);
        }
        if (K <= 0) return;
        int rowBlocks = (M + MR - 1) / MR;
        // grain: enough row blocks per task that a task does at least ~1 MFLOP
        long flopsPerBlock = 2L * MR * N * K;
        int grain = (int) Math.max(1, Math.min(rowBlocks, 1_000_000 / Math.max(1, flopsPerBlock)));
        Parallel.forRange(rowBlocks, grain, (rb0, rb1) -> {
            for (int k0 = 0; k0 < K; k0 += KC) {
                int kc = Math.min(KC, K - k0);
                for (int rb = rb0; rb < rb1; rb++) {
                    int m0 = rb * MR, rows = Math.min(MR, M - m0);
                    long aRow = aOff + (long) m0 * lda + k0;
                    int bRow = bOff + k0 * ldb;
                    int n0 = 0;
                    if (rows == MR) {
                        for (; n0 + NR <= N; n0 += NR) {
                            kernel6x4(kc, a, aRow, lda, b, bRow + n0, ldb, c, cOff + m0 * ldc + n0, ldc);
                        }
                    }
                    for (int m = m0; m < m0 + rows; m++) {
                        long aR = aOff + (long) m * lda + k0;
                        for (int n = n0; n < N; n += NR) {
                            kernel1xN(kc, Math.min(NR, N - n), a, aR, b, bRow + n, ldb, c, cOff + m * ldc + n);
                        }
                    }
                }
            }
        });
    }

    /** The 6×4-vector register tile: C[6, 4L] += A[6, kc]·B[kc, 4L]. */
    private static void kernel6x4(int kc, MemorySegment a, long aRow, int lda, float[] b, int bOff, int ldb,
                                  float[] c, int cOff, int ldc) {
        FloatVector c00 = FloatVector.fromArray(S, c, cOff), c01 = FloatVector.fromArray(S, c, cOff + L),
                c02 = FloatVector.fromArray(S, c, cOff + 2 * L), c03 = FloatVector.fromArray(S, c, cOff + 3 * L);
        int r = cOff + ldc;
        FloatVector c10 = FloatVector.fromArray(S, c, r), c11 = FloatVector.fromArray(S, c, r + L),
                c12 = FloatVector.fromArray(S, c, r + 2 * L), c13 = FloatVector.fromArray(S, c, r + 3 * L);
        r += ldc;
        FloatVector c20 = FloatVector.fromArray(S, c, r), c21 = FloatVector.fromArray(S, c, r + L),
                c22 = FloatVector.fromArray(S, c, r + 2 * L), c23 = FloatVector.fromArray(S, c, r + 3 * L);
        r += ldc;
        FloatVector c30 = FloatVector.fromArray(S, c, r), c31 = FloatVector.fromArray(S, c, r + L),
                c32 = FloatVector.fromArray(S, c, r + 2 * L), c33 = FloatVector.fromArray(S, c, r + 3 * L);
        r += ldc;
        FloatVector c40 = FloatVector.fromArray(S, c, r), c41 = FloatVector.fromArray(S, c, r + L),
                c42 = FloatVector.fromArray(S, c, r + 2 * L), c43 = FloatVector.fromArray(S, c, r + 3 * L);
        r += ldc;
        FloatVector c50 = FloatVector.fromArray(S, c, r), c51 = FloatVector.fromArray(S, c, r + L),
                c52 = FloatVector.fromArray(S, c, r + 2 * L), c53 = FloatVector.fromArray(S, c, r + 3 * L);
        long a0 = aRow * 4, a1 = a0 + 4L * lda, a2 = a1 + 4L * lda, a3 = a2 + 4L * lda, a4 = a3 + 4L * lda,
                a5 = a4 + 4L * lda;
        for (int k = 0; k < kc; k++) {
            int bk = bOff + k * ldb;
            FloatVector b0 = FloatVector.fromArray(S, b, bk), b1 = FloatVector.fromArray(S, b, bk + L),
                    b2 = FloatVector.fromArray(S, b, bk + 2 * L), b3 = FloatVector.fromArray(S, b, bk + 3 * L);
            long kb = 4L * k;
            FloatVector x = FloatVector.broadcast(S, a.get(F32, a0 + kb));
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01); c02 = x.fma(b2, c02); c03 = x.fma(b3, c03);
            x = FloatVector.broadcast(S, a.get(F32, a1 + kb));
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11); c12 = x.fma(b2, c12); c13 = x.fma(b3, c13);
            x = FloatVector.broadcast(S, a.get(F32, a2 + kb));
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21); c22 = x.fma(b2, c22); c23 = x.fma(b3, c23);
            x = FloatVector.broadcast(S, a.get(F32, a3 + kb));
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31); c32 = x.fma(b2, c32); c33 = x.fma(b3, c33);
            x = FloatVector.broadcast(S, a.get(F32, a4 + kb));
            c40 = x.fma(b0, c40); c41 = x.fma(b1, c41); c42 = x.fma(b2, c42); c43 = x.fma(b3, c43);
            x = FloatVector.broadcast(S, a.get(F32, a5 + kb));
            c50 = x.fma(b0, c50); c51 = x.fma(b1, c51); c52 = x.fma(b2, c52); c53 = x.fma(b3, c53);
        }
        c00.intoArray(c, cOff); c01.intoArray(c, cOff + L); c02.intoArray(c, cOff + 2 * L); c03.intoArray(c, cOff + 3 * L);
        r = cOff + ldc;
        c10.intoArray(c, r); c11.intoArray(c, r + L); c12.intoArray(c, r + 2 * L); c13.intoArray(c, r + 3 * L);
        r += ldc;
        c20.intoArray(c, r); c21.intoArray(c, r + L); c22.intoArray(c, r + 2 * L); c23.intoArray(c, r + 3 * L);
        r += ldc;
        c30.intoArray(c, r); c31.intoArray(c, r + L); c32.intoArray(c, r + 2 * L); c33.intoArray(c, r + 3 * L);
        r += ldc;
        c40.intoArray(c, r); c41.intoArray(c, r + L); c42.intoArray(c, r + 2 * L); c43.intoArray(c, r + 3 * L);
        r += ldc;
        c50.intoArray(c, r); c51.intoArray(c, r + L); c52.intoArray(c, r + 2 * L); c53.intoArray(c, r + 3 * L);
    }

    /** One row of C over up to 4 vectors (the last possibly partial): C[1, n] += A[1, kc]·B[kc, n], n ≤ 4L. */
    private static void kernel1xN(int kc, int n, MemorySegment a, long aRow, float[] b, int bOff, int ldb,
                                  float[] c, int cOff) {
        VectorMask<Float> m0 = S.indexInRange(0, n), m1 = S.indexInRange(L, n), m2 = S.indexInRange(2 * L, n),
                m3 = S.indexInRange(3 * L, n);
        FloatVector c0 = FloatVector.fromArray(S, c, cOff, m0);
        FloatVector c1 = n > L ? FloatVector.fromArray(S, c, cOff + L, m1) : FloatVector.zero(S);
        FloatVector c2 = n > 2 * L ? FloatVector.fromArray(S, c, cOff + 2 * L, m2) : FloatVector.zero(S);
        FloatVector c3 = n > 3 * L ? FloatVector.fromArray(S, c, cOff + 3 * L, m3) : FloatVector.zero(S);
        long a0 = aRow * 4;
        for (int k = 0; k < kc; k++) {
            int bk = bOff + k * ldb;
            FloatVector x = FloatVector.broadcast(S, a.get(F32, a0 + 4L * k));
            c0 = x.fma(FloatVector.fromArray(S, b, bk, m0), c0);
            if (n > L) c1 = x.fma(FloatVector.fromArray(S, b, bk + L, m1), c1);
            if (n > 2 * L) c2 = x.fma(FloatVector.fromArray(S, b, bk + 2 * L, m2), c2);
            if (n > 3 * L) c3 = x.fma(FloatVector.fromArray(S, b, bk + 3 * L, m3), c3);
        }
        c0.intoArray(c, cOff, m0);
        if (n > L) c1.intoArray(c, cOff + L, m1);
        if (n > 2 * L) c2.intoArray(c, cOff + 2 * L, m2);
        if (n > 3 * L) c3.intoArray(c, cOff + 3 * L, m3);
    }
}
