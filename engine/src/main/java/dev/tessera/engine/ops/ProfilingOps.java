package dev.tessera.engine.ops;

import dev.tessera.engine.nn.Conv2d;
import dev.tessera.engine.nn.GroupNorm;
import dev.tessera.engine.nn.Linear;
import dev.tessera.engine.nn.Rope2d;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Wraps a backend and counts, per kernel, the floating-point operations (multiply-adds count 2) and the wall time
 * spent in it, for benchmarks and profiles. Thread-safe; the timing is meaningful when one generation runs at a time.
 */
public final class ProfilingOps implements Ops {
    private final Ops inner;
    private final Map<String, AtomicLong[]> stats = new TreeMap<>();

    public ProfilingOps(Ops inner) {
        this.inner = inner;
    }

    private synchronized AtomicLong[] slot(String kernel) {
        return stats.computeIfAbsent(
                kernel, k -> new AtomicLong[] {new AtomicLong(), new AtomicLong(), new AtomicLong()});
    }

    private void record(String kernel, long flops, long startNanos) {
        AtomicLong[] s = slot(kernel);
        s[0].addAndGet(flops);
        s[1].addAndGet(System.nanoTime() - startNanos);
        s[2].incrementAndGet();
    }

    /** Total floating-point operations counted so far. */
    public synchronized long flops() {
        return stats.values().stream().mapToLong(s -> s[0].get()).sum();
    }

    /** Per kernel: {flops, nanoseconds, calls}. */
    public synchronized Map<String, long[]> snapshot() {
        Map<String, long[]> m = new TreeMap<>();
        stats.forEach((k, v) -> m.put(k, new long[] {v[0].get(), v[1].get(), v[2].get()}));
        return m;
    }

    public synchronized void reset() {
        stats.clear();
    }

    @Override
    public String name() {
        return inner.name() + " (profiled)";
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
        long t = System.nanoTime();
        inner.gemm(M, N, K, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate);
        record("gemm", 2L * M * N * K, t);
    }

    @Override
    public void linear(float[] x, int xOff, int M, Linear w, float[] y, int yOff, Activation act) {
        long t = System.nanoTime();
        inner.linear(x, xOff, M, w, y, yOff, act);
        // by row count: few rows stream the weights (memory-bound), many rows are compute-bound
        String rows = M <= 8 ? "M<=8" : M <= 64 ? "M<=64" : M <= 256 ? "M<=256" : "M>256";
        record("linear " + rows, 2L * M * w.in() * w.out(), t);
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
        long t = System.nanoTime();
        inner.layerNorm(x, xOff, out, outOff, rows, C, eps, mod, modStride, scaleOff, shiftOff, rowsPerGroup);
        record("layerNorm", 8L * rows * C, t);
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
        long t = System.nanoTime();
        inner.modulate(x, xOff, rows, C, mod, modStride, scaleOff, shiftOff, rowsPerGroup);
        record("modulate", 2L * rows * C, t);
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
        long t = System.nanoTime();
        inner.addGated(x, xOff, y, yOff, rows, C, mod, modStride, gammaOff, rowsPerGroup);
        record("addGated", 2L * rows * C, t);
    }

    @Override
    public void rmsNorm(float[] x, int xOff, float[] out, int outOff, int rows, int C, float eps, float[] weight) {
        long t = System.nanoTime();
        inner.rmsNorm(x, xOff, out, outOff, rows, C, eps, weight);
        record("rmsNorm", 4L * rows * C, t);
    }

    @Override
    public void activate(float[] x, int off, int n, Activation act) {
        long t = System.nanoTime();
        inner.activate(x, off, n, act);
        record("activate", 10L * n, t);
    }

    @Override
    public void softmax(float[] x, int off, int n) {
        long t = System.nanoTime();
        inner.softmax(x, off, n);
        record("softmax", 5L * n, t);
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
        long t = System.nanoTime();
        inner.attention(B, H, l, d, q, qOff, ldq, kT, v, tMax, T, causal, scale, out, outOff, ldo);
        record("attention", 4L * B * H * l * T * d, t);
    }

    @Override
    public void rotary(float[] x, int off, int ld, int rows, int heads, Rope2d rope, int[] positions, int period) {
        long t = System.nanoTime();
        inner.rotary(x, off, ld, rows, heads, rope, positions, period);
        record("rotary", 3L * rows * heads * rope.headDim(), t);
    }

    @Override
    public void l2NormalizeHeads(float[] x, int off, int ld, int rows, int heads, int d, float[] mul) {
        long t = System.nanoTime();
        inner.l2NormalizeHeads(x, off, ld, rows, heads, d, mul);
        record("l2NormalizeHeads", 4L * rows * heads * d, t);
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
        long t = System.nanoTime();
        inner.gatedProduct(g, gOff, ldg, u, uOff, ldu, rows, n, act, out, outOff, ldo);
        record("gatedProduct", 2L * rows * n, t);
    }

    @Override
    public void addBroadcast(float[] x, int xOff, int count, int n, int C, float[] table, int tableOff) {
        long t = System.nanoTime();
        inner.addBroadcast(x, xOff, count, n, C, table, tableOff);
        record("addBroadcast", (long) count * n * C, t);
    }

    @Override
    public void affine(float[] x, int off, int rows, int C, float[] w, float[] b) {
        long t = System.nanoTime();
        inner.affine(x, off, rows, C, w, b);
        record("affine", 2L * rows * C, t);
    }

    @Override
    public void blend(float[] x, int xOff, float a, float[] y, int yOff, float b, int n) {
        long t = System.nanoTime();
        inner.blend(x, xOff, a, y, yOff, b, n);
        record("blend", 3L * n, t);
    }

    @Override
    public void clamp(float[] x, int off, int n, float lo, float hi) {
        long t = System.nanoTime();
        inner.clamp(x, off, n, lo, hi);
        record("clamp", 2L * n, t);
    }

    @Override
    public void average(float[] x, int xOff, float[] y, int yOff, float[] out, int outOff, int n) {
        long t = System.nanoTime();
        inner.average(x, xOff, y, yOff, out, outOff, n);
        record("average", 2L * n, t);
    }

    @Override
    public void copy(float[] src, int srcOff, float[] dst, int dstOff, int n) {
        long t = System.nanoTime();
        inner.copy(src, srcOff, dst, dstOff, n);
        record("copy", 0, t); // no arithmetic
    }

    @Override
    public void copyRows(float[] src, int srcOff, int[] srcRows, float[] dst, int dstOff, int[] dstRows, int n, int C) {
        long t = System.nanoTime();
        inner.copyRows(src, srcOff, srcRows, dst, dstOff, dstRows, n, C);
        record("copyRows", 0, t);
    }

    @Override
    public void transpose(float[] a, int aOff, int rows, int cols, float[] t, int tOff) {
        long t0 = System.nanoTime();
        inner.transpose(a, aOff, rows, cols, t, tOff);
        record("transpose", 0, t0);
    }

    @Override
    public long deviceWeightBytes() {
        return inner.deviceWeightBytes();
    }

    @Override
    public float[] allocate(int n) {
        return inner.allocate(n);
    }

    @Override
    public void toHost(float[] x, int off, int n) {
        inner.toHost(x, off, n);
    }

    @Override
    public void hostWrote(float[] x, int off, int n) {
        inner.hostWrote(x, off, n);
    }

    @Override
    public KvStorage allocateKv(int layers, int rows, int heads, int headDim, int capacity) {
        return inner.allocateKv(layers, rows, heads, headDim, capacity);
    }

    @Override
    public void releaseKv(KvStorage kv) {
        inner.releaseKv(kv);
    }

    @Override
    public void storeKv(
            KvStorage kv, int layer, int rows, int at, float[] src, int srcOff, int ld, int kOff, int vOff, int n) {
        long t = System.nanoTime();
        inner.storeKv(kv, layer, rows, at, src, srcOff, ld, kOff, vOff, n);
        record("storeKv", 0, t);
    }

    @Override
    public void attendKv(
            KvStorage kv,
            int layer,
            int rows,
            int l,
            float[] q,
            int qOff,
            int ldq,
            int T,
            boolean causal,
            float[] scale,
            float[] out,
            int outOff,
            int ldo) {
        long t = System.nanoTime();
        inner.attendKv(kv, layer, rows, l, q, qOff, ldq, T, causal, scale, out, outOff, ldo);
        record("attention", 4L * rows * kv.heads() * l * T * kv.headDim(), t);
    }

    @Override
    public void nearestCodes(
            float[] z, int zOff, int C, int n, float[] codebook, float[] norms, int K, int[] out, int outOff) {
        long t = System.nanoTime();
        inner.nearestCodes(z, zOff, C, n, codebook, norms, K, out, outOff);
        record("nearestCodes", 2L * n * K * C, t);
    }

    @Override
    public void lookupCodes(float[] codebook, int C, int[] tokens, int tokOff, int n, float[] out, int outOff) {
        long t = System.nanoTime();
        inner.lookupCodes(codebook, C, tokens, tokOff, n, out, outOff);
        record("lookupCodes", 0, t);
    }

    @Override
    public void conv2d(float[] in, int inOff, int H, int W, Conv2d conv, float[] out, int outOff) {
        long t = System.nanoTime();
        inner.conv2d(in, inOff, H, W, conv, out, outOff);
        record(
                "conv2d " + conv.kh() + "x" + conv.kw(),
                2L * conv.cout() * conv.outHeight(H) * conv.outWidth(W) * conv.cin() * conv.kh() * conv.kw(),
                t);
    }

    @Override
    public void groupNorm(float[] x, int xOff, int C, int HW, GroupNorm gn, boolean silu, float[] out, int outOff) {
        long t = System.nanoTime();
        inner.groupNorm(x, xOff, C, HW, gn, silu, out, outOff);
        record("groupNorm", 8L * C * HW, t);
    }

    @Override
    public void upsampleNearest2x(float[] in, int inOff, int C, int H, int W, float[] out, int outOff) {
        long t = System.nanoTime();
        inner.upsampleNearest2x(in, inOff, C, H, W, out, outOff);
        record("upsample", 0, t);
    }

    @Override
    public void resizeBicubic(float[] in, int inOff, int C, int H, int W, float[] out, int outOff, int oh, int ow) {
        long t = System.nanoTime();
        inner.resizeBicubic(in, inOff, C, H, W, out, outOff, oh, ow);
        record("resize", 32L * C * oh * ow, t);
    }

    @Override
    public void resizeArea(float[] in, int inOff, int C, int H, int W, float[] out, int outOff, int oh, int ow) {
        long t = System.nanoTime();
        inner.resizeArea(in, inOff, C, H, W, out, outOff, oh, ow);
        record("resize", (long) C * H * W, t);
    }
}
