package dev.tessera.engine.ops;

import dev.tessera.engine.nn.Conv2d;
import dev.tessera.engine.nn.GroupNorm;
import dev.tessera.engine.nn.Linear;
import dev.tessera.engine.nn.Rope2d;
import dev.tessera.engine.nn.Weights;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The default backend: Vector API kernels (the machine's widest float vectors) spread over all cores by
 * {@link Parallel}. Each method computes what the same method of {@link ReferenceOps} defines.
 */
public final class CpuOps implements Ops {
    public static final CpuOps INSTANCE = new CpuOps();

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private CpuOps() {}

    @Override
    public String name() {
        return "cpu (" + S.vectorBitSize() + "-bit vectors, " + Parallel.threads() + " threads)";
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
        Gemm.gemm(M, N, K, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
    }

    // ---------------------------------------------------------------- linear

    @Override
    public void linear(float[] x, int xOff, int M, Linear w, float[] y, int yOff, Activation act) {
        // every output is bias + one fused multiply-add chain over k in order, whatever M is, so a row's result
        // does not depend on which other rows share the call
        Gemm.linear(M, w.out(), w.in(), x, xOff, w.panels(), w.format(), w.bias(), y, yOff, w.out());
        if (act != Activation.NONE) {
            int N = w.out();
            Parallel.forRange(M, 16, (m0, m1) -> {
                for (int m = m0; m < m1; m++) activateRange(y, yOff + m * N, N, act);
            });
        }
    }

    // ---------------------------------------------------------------- normalisation and activations

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
        Parallel.forRange(rows, Math.max(1, 16384 / Math.max(C, 1)), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int o = xOff + r * C, sc = (r / rowsPerGroup) * modStride + scaleOff, sh = sc - scaleOff + shiftOff;
                int i = 0, bound = S.loopBound(C);
                for (; i < bound; i += L) {
                    FloatVector s = FloatVector.fromArray(S, mod, sc + i).add(1f);
                    // mul then add, two roundings as PyTorch's x.mul(1 + scale).add_(shift)
                    FloatVector.fromArray(S, x, o + i)
                            .mul(s)
                            .add(FloatVector.fromArray(S, mod, sh + i))
                            .intoArray(x, o + i);
                }
                for (; i < C; i++) x[o + i] = x[o + i] * (1f + mod[sc + i]) + mod[sh + i];
            }
        });
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
        Parallel.forRange(rows, Math.max(1, 16384 / Math.max(C, 1)), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int o = xOff + r * C, yo = yOff + r * C, i = 0, bound = S.loopBound(C);
                if (mod == null) {
                    for (; i < bound; i += L) {
                        FloatVector.fromArray(S, x, o + i)
                                .add(FloatVector.fromArray(S, y, yo + i))
                                .intoArray(x, o + i);
                    }
                    for (; i < C; i++) x[o + i] += y[yo + i];
                } else {
                    int g = (r / rowsPerGroup) * modStride + gammaOff;
                    for (; i < bound; i += L) {
                        FloatVector.fromArray(S, y, yo + i)
                                .mul(FloatVector.fromArray(S, mod, g + i))
                                .add(FloatVector.fromArray(S, x, o + i))
                                .intoArray(x, o + i);
                    }
                    for (; i < C; i++) x[o + i] += y[yo + i] * mod[g + i];
                }
            }
        });
    }

    @Override
    public void rmsNorm(float[] x, int xOff, float[] out, int outOff, int rows, int C, float eps, float[] weight) {
        Parallel.forRange(rows, 8, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int base = xOff + r * C, o = outOff + r * C;
                FloatVector acc = FloatVector.zero(S);
                int i = 0, bound = S.loopBound(C);
                for (; i < bound; i += L) {
                    FloatVector v = FloatVector.fromArray(S, x, base + i);
                    acc = v.fma(v, acc);
                }
                float ss = VectorMath.sum(acc);
                for (; i < C; i++) ss += x[base + i] * x[base + i];
                float inv = (float) (1.0 / Math.sqrt(ss / C + eps));
                i = 0;
                if (weight == null) {
                    for (; i < bound; i += L)
                        FloatVector.fromArray(S, x, base + i).mul(inv).intoArray(out, o + i);
                    for (; i < C; i++) out[o + i] = x[base + i] * inv;
                } else {
                    for (; i < bound; i += L) {
                        FloatVector.fromArray(S, x, base + i)
                                .mul(inv)
                                .mul(FloatVector.fromArray(S, weight, i))
                                .intoArray(out, o + i);
                    }
                    for (; i < C; i++) out[o + i] = x[base + i] * inv * weight[i];
                }
            }
        });
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
        Parallel.forRange(rows, 8, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int base = xOff + r * C;
                float mean = sum(x, base, C) / C;
                float var = sumSquaredDeviation(x, base, C, mean) / C;
                float inv = (float) (1.0 / Math.sqrt(var + eps));
                int o = outOff + r * C;
                int i = 0;
                int bound = S.loopBound(C);
                FloatVector vm = FloatVector.broadcast(S, mean), vi = FloatVector.broadcast(S, inv);
                if (mod == null) {
                    for (; i < bound; i += L) {
                        FloatVector.fromArray(S, x, base + i).sub(vm).mul(vi).intoArray(out, o + i);
                    }
                    for (; i < C; i++) out[o + i] = (x[base + i] - mean) * inv;
                } else {
                    int g = r / rowsPerGroup;
                    int sc = g * modStride + scaleOff, sh = g * modStride + shiftOff;
                    for (; i < bound; i += L) {
                        FloatVector n =
                                FloatVector.fromArray(S, x, base + i).sub(vm).mul(vi);
                        FloatVector s = FloatVector.fromArray(S, mod, sc + i).add(1f);
                        n.fma(s, FloatVector.fromArray(S, mod, sh + i)).intoArray(out, o + i);
                    }
                    for (; i < C; i++) out[o + i] = (x[base + i] - mean) * inv * (1f + mod[sc + i]) + mod[sh + i];
                }
            }
        });
    }

    private static float sum(float[] x, int off, int n) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0, bound = S.loopBound(n);
        for (; i < bound; i += L) acc = acc.add(FloatVector.fromArray(S, x, off + i));
        float s = VectorMath.sum(acc);
        for (; i < n; i++) s += x[off + i];
        return s;
    }

    private static float sumSquaredDeviation(float[] x, int off, int n, float mean) {
        FloatVector acc = FloatVector.zero(S), vm = FloatVector.broadcast(S, mean);
        int i = 0, bound = S.loopBound(n);
        for (; i < bound; i += L) {
            FloatVector d = FloatVector.fromArray(S, x, off + i).sub(vm);
            acc = d.fma(d, acc);
        }
        float s = VectorMath.sum(acc);
        for (; i < n; i++) s += (x[off + i] - mean) * (x[off + i] - mean);
        return s;
    }

    @Override
    public void activate(float[] x, int off, int n, Activation act) {
        if (act == Activation.NONE) return;
        // fixed blocks (a multiple of the vector length): the scalar tail, whose rounding differs from the vector
        // path, is always the same elements whatever the number of threads
        final int block = 1 << 12;
        Parallel.forRange((n + block - 1) / block, 4, (b0, b1) -> {
            int s = b0 * block, e = Math.min(n, b1 * block);
            activateRange(x, off + s, e - s, act);
        });
    }

    /**
     * Vectorised activations with {@link VectorMath}'s reproducible exp/tanh (the scalar tail uses their twins, so
     * every element gets the same bits wherever it falls).
     */
    static void activateRange(float[] x, int off, int n, Activation act) {
        int i = 0, bound = S.loopBound(n);
        switch (act) {
            case NONE -> {
                return;
            }
            case GELU_TANH -> {
                for (; i < bound; i += L)
                    VectorMath.geluTanh(FloatVector.fromArray(S, x, off + i)).intoArray(x, off + i);
                for (; i < n; i++) x[off + i] = VectorMath.geluTanh(x[off + i]);
            }
            case SILU -> {
                for (; i < bound; i += L)
                    VectorMath.silu(FloatVector.fromArray(S, x, off + i)).intoArray(x, off + i);
                for (; i < n; i++) x[off + i] = VectorMath.silu(x[off + i]);
            }
            case GELU_ERF -> {
                for (; i < bound; i += L)
                    VectorMath.geluErf(FloatVector.fromArray(S, x, off + i)).intoArray(x, off + i);
                for (; i < n; i++) x[off + i] = VectorMath.geluErf(x[off + i]);
            }
            case RELU -> {
                // compare-and-blend rather than max: NaN lanes stay NaN, as in the scalar definition
                for (; i < bound; i += L) {
                    FloatVector v = FloatVector.fromArray(S, x, off + i);
                    v.blend(0f, v.compare(VectorOperators.LT, 0f)).intoArray(x, off + i);
                }
                for (; i < n; i++) x[off + i] = act.apply(x[off + i]);
            }
        }
    }

    @Override
    public void softmax(float[] x, int off, int n) {
        softmaxScaled(x, off, n, 1f);
    }

    /** {@code x = softmax(scale·x)} in place. */
    static void softmaxScaled(float[] x, int off, int n, float scale) {
        int i = 0, bound = S.loopBound(n);
        FloatVector mv = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        for (; i < bound; i += L) mv = mv.max(FloatVector.fromArray(S, x, off + i));
        float max = mv.reduceLanes(VectorOperators.MAX); // exact in any order
        for (; i < n; i++) max = Math.max(max, x[off + i]);
        float shift = -max * scale;
        FloatVector acc = FloatVector.zero(S);
        i = 0;
        for (; i < bound; i += L) {
            FloatVector e = VectorMath.exp(FloatVector.fromArray(S, x, off + i).fma(scale, shift));
            acc = acc.add(e);
            e.intoArray(x, off + i);
        }
        float sum = VectorMath.sum(acc);
        for (; i < n; i++) {
            float e = VectorMath.exp(Math.fma(x[off + i], scale, shift));
            sum += e;
            x[off + i] = e;
        }
        float inv = 1f / sum;
        i = 0;
        for (; i < bound; i += L) FloatVector.fromArray(S, x, off + i).mul(inv).intoArray(x, off + i);
        for (; i < n; i++) x[off + i] *= inv;
    }

    // ---------------------------------------------------------------- attention

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
        if ((l <= 4 || l <= FEW_QUERIES && !causal) && d % L == 0) {
            // token-by-token decoding, or a short run of tokens seeing the same keys (one diagonal of NAR): a few
            // queries per head, where GEMM set-up would dominate
            Parallel.forEach(
                    B * H,
                    bh -> attendFew(
                            bh / H,
                            bh % H,
                            H,
                            l,
                            d,
                            q,
                            qOff,
                            ldq,
                            kT,
                            v,
                            tMax,
                            T,
                            causal,
                            scale[bh % H],
                            out,
                            outOff,
                            ldo));
            return;
        }
        MemorySegment qs = MemorySegment.ofArray(q);
        // tasks: (sequence, head, block of queries); each computes its scores in a private buffer
        final int QB = 64;
        int qBlocks = (l + QB - 1) / QB;
        Parallel.forEach(B * H * qBlocks, task -> {
            int bh = task / qBlocks, i0 = (task % qBlocks) * QB, rows = Math.min(QB, l - i0);
            int b = bh / H, h = bh % H;
            float[] p = Scratch.get(Scratch.ATTN_SCORES, rows * T);
            // scores[i, t] = q_i · k_t  (kᵀ is stored [d, tMax], so this is a plain A·B product)
            Gemm.gemm(
                    rows,
                    T,
                    d,
                    qs,
                    qOff + (long) (b * l + i0) * ldq + h * d,
                    ldq,
                    kT,
                    bh * d * tMax,
                    tMax,
                    p,
                    0,
                    T,
                    false);
            if (causal) {
                // query i0 + i sees keys t < T − l + i0 + i + 1; the rest of its row gets probability 0
                for (int i = 0; i < rows; i++) {
                    int keys = T - l + i0 + i + 1;
                    softmaxScaled(p, i * T, keys, scale[h]);
                    Arrays.fill(p, i * T + keys, (i + 1) * T, 0f);
                }
            } else {
                for (int i = 0; i < rows; i++) softmaxScaled(p, i * T, T, scale[h]);
            }
            // out_i = Σ_t p[i, t]·v_t
            Gemm.gemm(
                    rows,
                    d,
                    T,
                    MemorySegment.ofArray(p),
                    0,
                    T,
                    v,
                    bh * tMax * d,
                    d,
                    out,
                    outOff + (b * l + i0) * ldo + h * d,
                    ldo,
                    false);
        });
    }

    /**
     * Attention of a few queries of one (sequence, head), with the same sums in the same order as the GEMM path
     * (scores: a fused multiply-add chain over the head dimension; outputs: over the keys), so both give the same
     * bits.
     */
    private static void attendFew(
            int b,
            int h,
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
            float scale,
            float[] out,
            int outOff,
            int ldo) {
        int bh = b * H + h, kBase = bh * d * tMax, vBase = bh * tMax * d;
        float[] p = Scratch.get(Scratch.ATTN_SCORES, 4 * (T + L));
        int i = 0;
        if (!causal) {
            for (; i + 4 <= l; i += 4)
                attendFour(
                        qOff + (b * l + i) * ldq + h * d,
                        ldq,
                        d,
                        q,
                        kT,
                        kBase,
                        v,
                        vBase,
                        tMax,
                        T,
                        scale,
                        p,
                        out,
                        outOff + (b * l + i) * ldo + h * d,
                        ldo);
        }
        for (; i < l; i++) {
            int qi = qOff + (b * l + i) * ldq + h * d, keys = causal ? T - l + i + 1 : T;
            int t = 0;
            for (; t + 4 * L <= keys; t += 4 * L) scoreRow(q, qi, d, kT, kBase + t, tMax, p, t);
            for (; t < keys; t += L) {
                VectorMask<Float> m = S.indexInRange(t, keys);
                FloatVector acc = FloatVector.zero(S);
                for (int e = 0; e < d; e++) {
                    acc = FloatVector.broadcast(S, q[qi + e])
                            .fma(FloatVector.fromArray(S, kT, kBase + e * tMax + t, m), acc);
                }
                acc.intoArray(p, t, m);
            }
            softmaxScaled(p, 0, keys, scale);
            int oi = outOff + (b * l + i) * ldo + h * d, e0 = 0;
            for (; e0 + 4 * L <= d; e0 += 4 * L) outputRow(p, keys, v, vBase + e0, d, out, oi + e0);
            for (; e0 < d; e0 += L) {
                FloatVector acc = FloatVector.zero(S);
                for (int t2 = 0; t2 < keys; t2++) {
                    acc = FloatVector.broadcast(S, p[t2]).fma(FloatVector.fromArray(S, v, vBase + t2 * d + e0), acc);
                }
                acc.intoArray(out, oi + e0);
            }
        }
    }

    /**
     * Scores of one query against 4L keys from {@code k} (kᵀ rows tMax apart) into p[t .. t + 4L): four independent
     * sums over the head dimension instead of one chain at a time (each the same chain, so the same bits).
     */
    private static void scoreRow(float[] q, int qi, int d, float[] kT, int k, int tMax, float[] p, int t) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        for (int e = 0; e < d; e++) {
            int ke = k + e * tMax;
            FloatVector x = FloatVector.broadcast(S, q[qi + e]);
            a0 = x.fma(FloatVector.fromArray(S, kT, ke), a0);
            a1 = x.fma(FloatVector.fromArray(S, kT, ke + L), a1);
            a2 = x.fma(FloatVector.fromArray(S, kT, ke + 2 * L), a2);
            a3 = x.fma(FloatVector.fromArray(S, kT, ke + 3 * L), a3);
        }
        a0.intoArray(p, t);
        a1.intoArray(p, t + L);
        a2.intoArray(p, t + 2 * L);
        a3.intoArray(p, t + 3 * L);
    }

    /** One query's output over 4L lanes of the head dimension, Σ_t p[t]·v_t: four independent sums over the keys. */
    private static void outputRow(float[] p, int T, float[] v, int v0, int d, float[] out, int o) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        for (int t = 0; t < T; t++) {
            int vt = v0 + t * d;
            FloatVector x = FloatVector.broadcast(S, p[t]);
            a0 = x.fma(FloatVector.fromArray(S, v, vt), a0);
            a1 = x.fma(FloatVector.fromArray(S, v, vt + L), a1);
            a2 = x.fma(FloatVector.fromArray(S, v, vt + 2 * L), a2);
            a3 = x.fma(FloatVector.fromArray(S, v, vt + 3 * L), a3);
        }
        a0.intoArray(out, o);
        a1.intoArray(out, o + L);
        a2.intoArray(out, o + 2 * L);
        a3.intoArray(out, o + 3 * L);
    }

    /** Up to this many queries per head that all see the same keys take {@link #attendFew} instead of two GEMMs. */
    static final int FEW_QUERIES = 16;

    /**
     * {@link #attendFew} for four queries that see all T keys: each key and value vector loaded once serves the four,
     * whole tiles of 4 x 4 vectors of scores or outputs held in registers (the same sums in the same order, so the
     * same bits as one query at a time). The tiles are methods of their own: the profiling compiler gives up on a
     * method this size, which then stays slow until the optimising one gets to it.
     */
    private static void attendFour(
            int qi,
            int ldq,
            int d,
            float[] q,
            float[] kT,
            int kBase,
            float[] v,
            int vBase,
            int tMax,
            int T,
            float scale,
            float[] p,
            float[] out,
            int oi,
            int ldo) {
        int ld = T + L, q1 = qi + ldq, q2 = q1 + ldq, q3 = q2 + ldq;
        int t = 0;
        for (; t + 4 * L <= T; t += 4 * L) scoreTile(q, qi, q1, q2, q3, d, kT, kBase + t, tMax, p, t, ld);
        for (; t < T; t += L) { // the last keys, a vector at a time
            VectorMask<Float> m = S.indexInRange(t, T);
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            for (int e = 0; e < d; e++) {
                FloatVector k = FloatVector.fromArray(S, kT, kBase + e * tMax + t, m);
                a0 = FloatVector.broadcast(S, q[qi + e]).fma(k, a0);
                a1 = FloatVector.broadcast(S, q[q1 + e]).fma(k, a1);
                a2 = FloatVector.broadcast(S, q[q2 + e]).fma(k, a2);
                a3 = FloatVector.broadcast(S, q[q3 + e]).fma(k, a3);
            }
            a0.intoArray(p, t, m);
            a1.intoArray(p, ld + t, m);
            a2.intoArray(p, 2 * ld + t, m);
            a3.intoArray(p, 3 * ld + t, m);
        }
        for (int j = 0; j < 4; j++) softmaxScaled(p, j * ld, T, scale);
        int e0 = 0;
        for (; e0 + 4 * L <= d; e0 += 4 * L) outputTile(p, ld, T, v, vBase + e0, d, out, oi + e0, ldo);
        for (; e0 < d; e0 += L) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            for (int t2 = 0; t2 < T; t2++) {
                FloatVector x = FloatVector.fromArray(S, v, vBase + t2 * d + e0);
                a0 = FloatVector.broadcast(S, p[t2]).fma(x, a0);
                a1 = FloatVector.broadcast(S, p[ld + t2]).fma(x, a1);
                a2 = FloatVector.broadcast(S, p[2 * ld + t2]).fma(x, a2);
                a3 = FloatVector.broadcast(S, p[3 * ld + t2]).fma(x, a3);
            }
            a0.intoArray(out, oi + e0);
            a1.intoArray(out, oi + ldo + e0);
            a2.intoArray(out, oi + 2 * ldo + e0);
            a3.intoArray(out, oi + 3 * ldo + e0);
        }
    }

    /**
     * Scores of 4 queries (rows q0..q3 of q) against 4L keys from {@code k} (kᵀ rows tMax apart), with 4 x 4 vectors
     * in registers: each key vector and each q_i[e] loaded once for 16 FMAs. Into p[i·ld + t .. + 4L).
     */
    private static void scoreTile(
            float[] q, int q0, int q1, int q2, int q3, int d, float[] kT, int k, int tMax, float[] p, int t, int ld) {
        FloatVector a00 = FloatVector.zero(S),
                a01 = a00,
                a02 = a00,
                a03 = a00,
                a10 = a00,
                a11 = a00,
                a12 = a00,
                a13 = a00,
                a20 = a00,
                a21 = a00,
                a22 = a00,
                a23 = a00,
                a30 = a00,
                a31 = a00,
                a32 = a00,
                a33 = a00;
        for (int e = 0; e < d; e++) {
            int ke = k + e * tMax;
            FloatVector k0 = FloatVector.fromArray(S, kT, ke),
                    k1 = FloatVector.fromArray(S, kT, ke + L),
                    k2 = FloatVector.fromArray(S, kT, ke + 2 * L),
                    k3 = FloatVector.fromArray(S, kT, ke + 3 * L);
            FloatVector x = FloatVector.broadcast(S, q[q0 + e]);
            a00 = x.fma(k0, a00);
            a01 = x.fma(k1, a01);
            a02 = x.fma(k2, a02);
            a03 = x.fma(k3, a03);
            x = FloatVector.broadcast(S, q[q1 + e]);
            a10 = x.fma(k0, a10);
            a11 = x.fma(k1, a11);
            a12 = x.fma(k2, a12);
            a13 = x.fma(k3, a13);
            x = FloatVector.broadcast(S, q[q2 + e]);
            a20 = x.fma(k0, a20);
            a21 = x.fma(k1, a21);
            a22 = x.fma(k2, a22);
            a23 = x.fma(k3, a23);
            x = FloatVector.broadcast(S, q[q3 + e]);
            a30 = x.fma(k0, a30);
            a31 = x.fma(k1, a31);
            a32 = x.fma(k2, a32);
            a33 = x.fma(k3, a33);
        }
        int r = t;
        a00.intoArray(p, r);
        a01.intoArray(p, r + L);
        a02.intoArray(p, r + 2 * L);
        a03.intoArray(p, r + 3 * L);
        r += ld;
        a10.intoArray(p, r);
        a11.intoArray(p, r + L);
        a12.intoArray(p, r + 2 * L);
        a13.intoArray(p, r + 3 * L);
        r += ld;
        a20.intoArray(p, r);
        a21.intoArray(p, r + L);
        a22.intoArray(p, r + 2 * L);
        a23.intoArray(p, r + 3 * L);
        r += ld;
        a30.intoArray(p, r);
        a31.intoArray(p, r + L);
        a32.intoArray(p, r + 2 * L);
        a33.intoArray(p, r + 3 * L);
    }

    /**
     * Outputs of 4 queries over 4L lanes of the head dimension: out_i = Σ_t p[i·ld + t]·v_t (value rows d apart from
     * {@code v0}), with 4 x 4 vectors in registers: each value vector and each p_i[t] loaded once for 16 FMAs.
     */
    private static void outputTile(float[] p, int ld, int T, float[] v, int v0, int d, float[] out, int o, int ldo) {
        FloatVector a00 = FloatVector.zero(S),
                a01 = a00,
                a02 = a00,
                a03 = a00,
                a10 = a00,
                a11 = a00,
                a12 = a00,
                a13 = a00,
                a20 = a00,
                a21 = a00,
                a22 = a00,
                a23 = a00,
                a30 = a00,
                a31 = a00,
                a32 = a00,
                a33 = a00;
        for (int t = 0; t < T; t++) {
            int vt = v0 + t * d;
            FloatVector w0 = FloatVector.fromArray(S, v, vt),
                    w1 = FloatVector.fromArray(S, v, vt + L),
                    w2 = FloatVector.fromArray(S, v, vt + 2 * L),
                    w3 = FloatVector.fromArray(S, v, vt + 3 * L);
            FloatVector x = FloatVector.broadcast(S, p[t]);
            a00 = x.fma(w0, a00);
            a01 = x.fma(w1, a01);
            a02 = x.fma(w2, a02);
            a03 = x.fma(w3, a03);
            x = FloatVector.broadcast(S, p[ld + t]);
            a10 = x.fma(w0, a10);
            a11 = x.fma(w1, a11);
            a12 = x.fma(w2, a12);
            a13 = x.fma(w3, a13);
            x = FloatVector.broadcast(S, p[2 * ld + t]);
            a20 = x.fma(w0, a20);
            a21 = x.fma(w1, a21);
            a22 = x.fma(w2, a22);
            a23 = x.fma(w3, a23);
            x = FloatVector.broadcast(S, p[3 * ld + t]);
            a30 = x.fma(w0, a30);
            a31 = x.fma(w1, a31);
            a32 = x.fma(w2, a32);
            a33 = x.fma(w3, a33);
        }
        a00.intoArray(out, o);
        a01.intoArray(out, o + L);
        a02.intoArray(out, o + 2 * L);
        a03.intoArray(out, o + 3 * L);
        o += ldo;
        a10.intoArray(out, o);
        a11.intoArray(out, o + L);
        a12.intoArray(out, o + 2 * L);
        a13.intoArray(out, o + 3 * L);
        o += ldo;
        a20.intoArray(out, o);
        a21.intoArray(out, o + L);
        a22.intoArray(out, o + 2 * L);
        a23.intoArray(out, o + 3 * L);
        o += ldo;
        a30.intoArray(out, o);
        a31.intoArray(out, o + L);
        a32.intoArray(out, o + 2 * L);
        a33.intoArray(out, o + 3 * L);
    }

    // ---------------------------------------------------------------- convolutions and image ops

    // ---------------------------------------------------------------- per-element steps

    @Override
    public void rotary(float[] x, int off, int ld, int rows, int heads, Rope2d rope, int[] positions, int period) {
        int hd = rope.headDim();
        Parallel.forRange(rows, Math.max(1, 8192 / Math.max(1, heads * hd)), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int pos = positions[r % period];
                for (int h = 0; h < heads; h++) rope.rotate(x, off + r * ld + h * hd, pos);
            }
        });
    }

    @Override
    public void l2NormalizeHeads(float[] x, int off, int ld, int rows, int heads, int d, float[] mul) {
        // the sum of squares stays one float32 chain in order, so the result is the reference's bit for bit
        Parallel.forRange(rows, Math.max(1, 8192 / Math.max(1, heads * d)), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                for (int h = 0; h < heads; h++) {
                    int o = off + r * ld + h * d;
                    float ss = 0f;
                    for (int j = 0; j < d; j++) ss += x[o + j] * x[o + j];
                    float norm = Math.max((float) Math.sqrt(ss), 1e-12f), m = mul == null ? 1f : mul[h];
                    for (int j = 0; j < d; j++) x[o + j] = x[o + j] / norm * m;
                }
            }
        });
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
        if (out == g && (outOff != gOff || ldo != ldg)) {
            throw new IllegalArgumentException(
                    "gatedProduct writes over its gate only in place (same offset and stride)");
        }
        Parallel.forRange(rows, Math.max(1, 16384 / Math.max(n, 1)), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int go = gOff + r * ldg, uo = uOff + r * ldu, o = outOff + r * ldo;
                if (out != g) System.arraycopy(g, go, out, o, n);
                activateRange(out, o, n, act);
                int j = 0, bound = S.loopBound(n);
                for (; j < bound; j += L) {
                    FloatVector.fromArray(S, out, o + j)
                            .mul(FloatVector.fromArray(S, u, uo + j))
                            .intoArray(out, o + j);
                }
                for (; j < n; j++) out[o + j] *= u[uo + j];
            }
        });
    }

    @Override
    public void addBroadcast(float[] x, int xOff, int count, int n, int C, float[] table, int tableOff) {
        int width = n * C;
        Parallel.forRange(count, Math.max(1, 16384 / Math.max(width, 1)), (b0, b1) -> {
            for (int b = b0; b < b1; b++) {
                int o = xOff + b * width, i = 0, bound = S.loopBound(width);
                for (; i < bound; i += L) {
                    FloatVector.fromArray(S, x, o + i)
                            .add(FloatVector.fromArray(S, table, tableOff + i))
                            .intoArray(x, o + i);
                }
                for (; i < width; i++) x[o + i] += table[tableOff + i];
            }
        });
    }

    @Override
    public void affine(float[] x, int off, int rows, int C, float[] w, float[] b) {
        Parallel.forRange(rows, Math.max(1, 16384 / Math.max(C, 1)), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int o = off + r * C, c = 0, bound = S.loopBound(C);
                for (; c < bound; c += L) {
                    // mul then add, two roundings, as the scalar definition
                    FloatVector.fromArray(S, x, o + c)
                            .mul(FloatVector.fromArray(S, w, c))
                            .add(FloatVector.fromArray(S, b, c))
                            .intoArray(x, o + c);
                }
                for (; c < C; c++) x[o + c] = x[o + c] * w[c] + b[c];
            }
        });
    }

    @Override
    public void blend(float[] x, int xOff, float a, float[] y, int yOff, float b, int n) {
        Parallel.forRange(n, 1 << 14, (i0, i1) -> {
            int i = i0, bound = i0 + S.loopBound(i1 - i0);
            for (; i < bound; i += L) {
                FloatVector.fromArray(S, x, xOff + i)
                        .mul(a)
                        .add(FloatVector.fromArray(S, y, yOff + i).mul(b))
                        .intoArray(y, yOff + i);
            }
            for (; i < i1; i++) y[yOff + i] = x[xOff + i] * a + y[yOff + i] * b;
        });
    }

    @Override
    public void clamp(float[] x, int off, int n, float lo, float hi) {
        Parallel.forRange(n, 1 << 14, (i0, i1) -> {
            int i = i0, bound = i0 + S.loopBound(i1 - i0);
            for (; i < bound; i += L) {
                // compare-and-blend rather than min/max, so that NaN lanes stay NaN as Math.max/min leave them
                FloatVector v = FloatVector.fromArray(S, x, off + i);
                v = v.blend(hi, v.compare(VectorOperators.GT, hi));
                v.blend(lo, v.compare(VectorOperators.LT, lo)).intoArray(x, off + i);
            }
            for (; i < i1; i++) x[off + i] = Math.max(lo, Math.min(hi, x[off + i]));
        });
    }

    @Override
    public void average(float[] x, int xOff, float[] y, int yOff, float[] out, int outOff, int n) {
        Ops.checkAverage(x, xOff, y, yOff, out, outOff, n);
        Parallel.forRange(n, 1 << 14, (i0, i1) -> {
            int i = i0, bound = i0 + S.loopBound(i1 - i0);
            for (; i < bound; i += L) {
                // add, then times 0.5: the same float as the reference's division by 2
                FloatVector.fromArray(S, x, xOff + i)
                        .add(FloatVector.fromArray(S, y, yOff + i))
                        .mul(0.5f)
                        .intoArray(out, outOff + i);
            }
            for (; i < i1; i++) out[outOff + i] = (x[xOff + i] + y[yOff + i]) * 0.5f;
        });
    }

    @Override
    public void copy(float[] src, int srcOff, float[] dst, int dstOff, int n) {
        Ops.checkCopy(src, srcOff, dst, dstOff, n);
        System.arraycopy(src, srcOff, dst, dstOff, n);
    }

    @Override
    public void copyRows(float[] src, int srcOff, int[] srcRows, float[] dst, int dstOff, int[] dstRows, int n, int C) {
        Ops.checkDistinct(src, dst);
        for (int i = 0; i < n; i++) System.arraycopy(src, srcOff + srcRows[i] * C, dst, dstOff + dstRows[i] * C, C);
    }

    @Override
    public void transpose(float[] a, int aOff, int rows, int cols, float[] t, int tOff) {
        Ops.checkDistinct(a, t);
        final int tile = 32; // square tiles keep both the reads and the strided writes in cache
        for (int r0 = 0; r0 < rows; r0 += tile) {
            int r1 = Math.min(rows, r0 + tile);
            for (int c0 = 0; c0 < cols; c0 += tile) {
                int c1 = Math.min(cols, c0 + tile);
                for (int r = r0; r < r1; r++) {
                    int from = aOff + r * cols;
                    for (int c = c0; c < c1; c++) t[tOff + c * rows + r] = a[from + c];
                }
            }
        }
    }

    @Override
    public void lookupCodes(float[] codebook, int C, int[] tokens, int tokOff, int n, float[] out, int outOff) {
        Parallel.forRange(C, Math.max(1, 16384 / Math.max(n, 1)), (c0, c1) -> {
            for (int c = c0; c < c1; c++) {
                int o = outOff + c * n;
                for (int t = 0; t < n; t++) out[o + t] = codebook[tokens[tokOff + t] * C + c];
            }
        });
    }

    /**
     * The reference's loop per column, the columns split over the threads: every column's sums keep their order, so
     * the indices are the reference's exactly.
     */
    @Override
    public void nearestCodes(
            float[] z, int zOff, int C, int n, float[] codebook, float[] norms, int K, int[] out, int outOff) {
        Parallel.forRange(n, Math.max(1, 65536 / Math.max(1, K * C)), (t0, t1) -> {
            float[] col = new float[C];
            for (int t = t0; t < t1; t++) {
                float zz = 0f;
                for (int c = 0; c < C; c++) {
                    col[c] = z[zOff + c * n + t];
                    zz += col[c] * col[c];
                }
                float best = Float.POSITIVE_INFINITY;
                int arg = 0;
                for (int k = 0, e = 0; k < K; k++, e += C) {
                    float dot = 0f;
                    for (int c = 0; c < C; c++) dot += col[c] * codebook[e + c];
                    float d = (zz + norms[k]) - 2f * dot;
                    if (d < best) {
                        best = d;
                        arg = k;
                    }
                }
                out[outOff + t] = arg;
            }
        });
    }

    @Override
    public void conv2d(float[] in, int inOff, int H, int W, Conv2d conv, float[] out, int outOff) {
        if (Winograd.applies(conv, H, W)) {
            Winograd.conv3x3(in, inOff, H, W, conv, out, outOff);
            return;
        }
        if (isSame3x3(conv) && conv.cout() <= FEW_OUTPUTS) {
            conv3x3FewOutputs(in, inOff, H, W, conv, out, outOff);
            return;
        }
        int oh = conv.outHeight(H), ow = conv.outWidth(W), P = oh * ow;
        int cout = conv.cout(), K = conv.cin() * conv.kh() * conv.kw();
        float[] bias = conv.bias();
        for (int o = 0; o < cout; o++) {
            Arrays.fill(out, outOff + o * P, outOff + (o + 1) * P, bias == null ? 0f : bias[o]);
        }
        boolean pointwise = conv.kh() == 1
                && conv.kw() == 1
                && conv.stride() == 1
                && conv.padTop() == 0
                && conv.padLeft() == 0
                && conv.padBottom() == 0
                && conv.padRight() == 0;
        if (pointwise) {
            Gemm.gemm(cout, P, K, conv.weight(), 0, K, in, inOff, P, out, outOff, P, true);
            return;
        }
        // output pixels in column blocks; each block's im2col panel [K, nb] feeds one GEMM
        int nb = Math.max(Gemm.NR, Math.min(P, (1 << 21) / K / Gemm.NR * Gemm.NR));
        int blocks = (P + nb - 1) / nb;
        if (blocks >= 2 * Parallel.threads()) {
            // many blocks: one task per block, each single-threaded (nested GEMM runs inline)
            Parallel.forEach(
                    blocks,
                    blk -> convBlock(
                            in, inOff, H, W, conv, ow, P, K, blk * nb, Math.min(nb, P - blk * nb), out, outOff));
        } else {
            for (int blk = 0; blk < blocks; blk++) {
                convBlock(in, inOff, H, W, conv, ow, P, K, blk * nb, Math.min(nb, P - blk * nb), out, outOff);
            }
        }
    }

    /** Up to this many output channels (an RGB {@code conv_out}), a 3×3 convolution runs directly, without im2col. */
    static final int FEW_OUTPUTS = 4;

    private static boolean isSame3x3(Conv2d c) {
        return c.kh() == 3
                && c.kw() == 3
                && c.stride() == 1
                && c.padTop() == 1
                && c.padLeft() == 1
                && c.padBottom() == 1
                && c.padRight() == 1;
    }

    /**
     * A 3×3 "same" convolution with a few output channels, row by row: an im2col panel would write nine copies of
     * the input to feed a matrix product only {@code cout} rows tall. For each output row, channel by channel, the
     * three input rows are copied with a zero border and every tap is one vector FMA per L outputs.
     */
    private static void conv3x3FewOutputs(float[] in, int inOff, int H, int W, Conv2d conv, float[] out, int outOff) {
        int cin = conv.cin(), cout = conv.cout();
        float[] w = new float[cout * cin * 9];
        MemorySegment.copy(conv.weight(), Weights.F32, 0, w, 0, w.length);
        float[] bias = conv.bias();
        int rowLen = W + 2 + L; // a zero column each side, and room for a full vector load past the end
        int accLen = (W + L - 1) / L * L;
        Parallel.forRange(H, 2, (y0, y1) -> {
            float[] rows = new float[3 * rowLen];
            float[] acc = new float[cout * accLen];
            for (int y = y0; y < y1; y++) {
                for (int o = 0; o < cout; o++) {
                    Arrays.fill(acc, o * accLen, (o + 1) * accLen, bias == null ? 0f : bias[o]);
                }
                for (int c = 0; c < cin; c++) {
                    for (int r = 0; r < 3; r++) {
                        int iy = y + r - 1;
                        if (iy < 0 || iy >= H) Arrays.fill(rows, r * rowLen, (r + 1) * rowLen, 0f);
                        else System.arraycopy(in, inOff + (c * H + iy) * W, rows, r * rowLen + 1, W);
                    }
                    for (int o = 0; o < cout; o++) {
                        int wo = (o * cin + c) * 9;
                        FloatVector w0 = FloatVector.broadcast(S, w[wo]),
                                w1 = FloatVector.broadcast(S, w[wo + 1]),
                                w2 = FloatVector.broadcast(S, w[wo + 2]),
                                w3 = FloatVector.broadcast(S, w[wo + 3]),
                                w4 = FloatVector.broadcast(S, w[wo + 4]),
                                w5 = FloatVector.broadcast(S, w[wo + 5]),
                                w6 = FloatVector.broadcast(S, w[wo + 6]),
                                w7 = FloatVector.broadcast(S, w[wo + 7]),
                                w8 = FloatVector.broadcast(S, w[wo + 8]);
                        for (int x = 0; x < W; x += L) {
                            int a = o * accLen + x, r1 = rowLen + x, r2 = 2 * rowLen + x;
                            FloatVector s = FloatVector.fromArray(S, acc, a);
                            s = FloatVector.fromArray(S, rows, x).fma(w0, s);
                            s = FloatVector.fromArray(S, rows, x + 1).fma(w1, s);
                            s = FloatVector.fromArray(S, rows, x + 2).fma(w2, s);
                            s = FloatVector.fromArray(S, rows, r1).fma(w3, s);
                            s = FloatVector.fromArray(S, rows, r1 + 1).fma(w4, s);
                            s = FloatVector.fromArray(S, rows, r1 + 2).fma(w5, s);
                            s = FloatVector.fromArray(S, rows, r2).fma(w6, s);
                            s = FloatVector.fromArray(S, rows, r2 + 1).fma(w7, s);
                            s = FloatVector.fromArray(S, rows, r2 + 2).fma(w8, s);
                            s.intoArray(acc, a);
                        }
                    }
                }
                for (int o = 0; o < cout; o++) System.arraycopy(acc, o * accLen, out, outOff + (o * H + y) * W, W);
            }
        });
    }

    private static void convBlock(
            float[] in,
            int inOff,
            int H,
            int W,
            Conv2d conv,
            int ow,
            int P,
            int K,
            int p0,
            int n,
            float[] out,
            int outOff) {
        float[] col = Scratch.get(Scratch.IM2COL, K * n);
        im2col(in, inOff, H, W, conv, ow, p0, n, col);
        Gemm.gemm(conv.cout(), n, K, conv.weight(), 0, K, col, 0, n, out, outOff + p0, P, true);
    }

    /** col[(c·kh + ky)·kw + kx, j] = input pixel under tap (ky, kx) of output pixel p0 + j (0 outside). */
    private static void im2col(float[] in, int inOff, int H, int W, Conv2d conv, int ow, int p0, int n, float[] col) {
        int kh = conv.kh(), kw = conv.kw(), s = conv.stride(), pt = conv.padTop(), pl = conv.padLeft();
        Parallel.forRange(conv.cin() * kh * kw, 16, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int c = r / (kh * kw), ky = (r / kw) % kh, kx = r % kw;
                int plane = inOff + c * H * W, dst = r * n;
                int j = 0;
                while (j < n) {
                    int p = p0 + j, y = p / ow, x0 = p % ow;
                    int run = Math.min(n - j, ow - x0); // the rest of this output row
                    int iy = y * s + ky - pt;
                    if (iy < 0 || iy >= H) {
                        Arrays.fill(col, dst + j, dst + j + run, 0f);
                    } else {
                        int src = plane + iy * W;
                        for (int t = 0; t < run; t++) {
                            int ix = (x0 + t) * s + kx - pl;
                            col[dst + j + t] = ix >= 0 && ix < W ? in[src + ix] : 0f;
                        }
                    }
                    j += run;
                }
            }
        });
    }

    @Override
    public void groupNorm(float[] x, int xOff, int C, int HW, GroupNorm gn, boolean silu, float[] out, int outOff) {
        int G = gn.groups(), cpg = C / G;
        Parallel.forEach(G, g -> {
            int base = xOff + g * cpg * HW, n = cpg * HW;
            // float64 across chunks keeps long sums accurate; float32 vector lanes within a chunk
            double s = 0;
            for (int i = 0; i < n; i += 4096) s += sum(x, base + i, Math.min(4096, n - i));
            float mean = (float) (s / n);
            double ss = 0;
            for (int i = 0; i < n; i += 4096) ss += sumSquaredDeviation(x, base + i, Math.min(4096, n - i), mean);
            float inv = (float) (1.0 / Math.sqrt(ss / n + gn.eps()));
            for (int c = g * cpg; c < (g + 1) * cpg; c++) {
                float a = inv * gn.weight()[c], bb = gn.bias()[c] - mean * a;
                int src = xOff + c * HW, dst = outOff + c * HW;
                int i = 0, bound = S.loopBound(HW);
                FloatVector va = FloatVector.broadcast(S, a), vb = FloatVector.broadcast(S, bb);
                for (; i < bound; i += L)
                    FloatVector.fromArray(S, x, src + i).fma(va, vb).intoArray(out, dst + i);
                for (; i < HW; i++) out[dst + i] = x[src + i] * a + bb;
                if (silu) activateRange(out, dst, HW, Activation.SILU);
            }
        });
    }

    @Override
    public void upsampleNearest2x(float[] in, int inOff, int C, int H, int W, float[] out, int outOff) {
        Parallel.forRange(C, 4, (c0, c1) -> {
            for (int c = c0; c < c1; c++) {
                for (int y = 0; y < H; y++) {
                    int src = inOff + (c * H + y) * W, dst = outOff + (c * 2 * H + 2 * y) * 2 * W;
                    for (int x = 0; x < W; x++) {
                        float v = in[src + x];
                        out[dst + 2 * x] = v;
                        out[dst + 2 * x + 1] = v;
                    }
                    System.arraycopy(out, dst, out, dst + 2 * W, 2 * W);
                }
            }
        });
    }

    @Override
    public void resizeBicubic(float[] in, int inOff, int C, int H, int W, float[] out, int outOff, int oh, int ow) {
        Parallel.forRange(C, 4, (c0, c1) -> {
            for (int c = c0; c < c1; c++) {
                Interpolation.bicubicPlane(in, inOff + c * H * W, H, W, out, outOff + c * oh * ow, oh, ow);
            }
        });
    }

    @Override
    public void resizeArea(float[] in, int inOff, int C, int H, int W, float[] out, int outOff, int oh, int ow) {
        Parallel.forRange(C, 4, (c0, c1) -> {
            for (int c = c0; c < c1; c++) {
                Interpolation.areaPlane(in, inOff + c * H * W, H, W, out, outOff + c * oh * ow, oh, ow);
            }
        });
    }
}
