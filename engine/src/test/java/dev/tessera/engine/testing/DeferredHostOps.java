package dev.tessera.engine.testing;

import dev.tessera.engine.nn.Conv2d;
import dev.tessera.engine.nn.GroupNorm;
import dev.tessera.engine.nn.Linear;
import dev.tessera.engine.nn.Rope2d;
import dev.tessera.engine.ops.Activation;
import dev.tessera.engine.ops.KvStorage;
import dev.tessera.engine.ops.Ops;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * A CPU backend that behaves as a device does with the arrays of {@link #allocate}, so that a model missing a
 * {@link Ops#toHost}/{@link Ops#hostWrote} call fails its golden test on the CPU.
 *
 * <p>Every array from {@code allocate} has a shadow copy, the "device" copy, and a state per element: in sync, newer
 * on the host, or newer on the device. An op reads and writes the shadows of such arrays (through the wrapped
 * backend, so the arithmetic is the CPU's): before it runs, the host's newer elements of every span it reads or
 * writes are copied into the shadow; after it runs, every span it writes is newer on the device, and those elements
 * of the visible array become NaN. {@code toHost} copies the device's newer elements back; {@code hostWrote} marks
 * elements newer on the host. So host code that reads a result without {@code toHost} sees NaN, and a value it writes
 * without {@code hostWrote} never reaches the next op. Arrays not from {@code allocate} pass through untouched.
 *
 * <p>It also counts what a device would move: floats uploaded (the host's newer elements of resident arrays when an
 * op reads them, every input span of other arrays) and downloaded ({@code toHost} of the device's newer elements,
 * every output span of other arrays). Calls are serialised.
 */
public final class DeferredHostOps implements Ops {
    private static final byte SYNC = 0, HOST_NEWER = 1, DEVICE_NEWER = 2;

    private static final class Resident {
        final float[] shadow;
        final byte[] state;

        Resident(int n) {
            shadow = new float[n];
            state = new byte[n];
        }
    }

    private final Ops inner;
    private final Map<float[], Resident> resident = new WeakHashMap<>(); // arrays compare by identity
    private long floatsToDevice, floatsFromDevice;

    public DeferredHostOps(Ops inner) {
        this.inner = inner;
    }

    /** Over {@link Ops#cpu()}. */
    public DeferredHostOps() {
        this(Ops.cpu());
    }

    /** Floats a device would have uploaded so far. */
    public synchronized long floatsToDevice() {
        return floatsToDevice;
    }

    /** Floats a device would have downloaded so far. */
    public synchronized long floatsFromDevice() {
        return floatsFromDevice;
    }

    @Override
    public String name() {
        return inner.name() + " (deferred host copies)";
    }

    // ------------------------------------------------------------------------------------------------ residency

    @Override
    public synchronized float[] allocate(int n) {
        float[] a = new float[n];
        resident.put(a, new Resident(n));
        return a;
    }

    @Override
    public synchronized void toHost(float[] x, int off, int n) {
        Resident r = resident.get(x);
        if (r == null) return;
        check(x, off, n);
        for (int i = off; i < off + n; i++) {
            if (r.state[i] == DEVICE_NEWER) {
                x[i] = r.shadow[i];
                r.state[i] = SYNC;
                floatsFromDevice++;
            }
        }
    }

    @Override
    public synchronized void hostWrote(float[] x, int off, int n) {
        Resident r = resident.get(x);
        if (r == null) return;
        check(x, off, n);
        Arrays.fill(r.state, off, off + n, HOST_NEWER);
    }

    private static void check(float[] x, long off, long n) {
        if (off < 0 || n < 0 || off + n > x.length) {
            throw new IndexOutOfBoundsException("[" + off + ", " + (off + n) + ") of an array of " + x.length);
        }
    }

    /** The array an op reads (or writes over) in {@code [off, off+n)}: the shadow of a resident array, made current. */
    private float[] in(float[] a, long off, long n) {
        if (a == null || n <= 0) return a;
        Resident r = resident.get(a);
        if (r == null) {
            floatsToDevice += n;
            return a;
        }
        check(a, off, n);
        for (int i = (int) off; i < off + n; i++) {
            if (r.state[i] == HOST_NEWER) {
                r.shadow[i] = a[i];
                r.state[i] = SYNC;
                floatsToDevice++;
            }
        }
        return r.shadow;
    }

    private float[] whole(float[] a) {
        return a == null ? null : in(a, 0, a.length);
    }

    /** An op wrote {@code [off, off+n)} of {@code a}: newer on the device, NaN on the host. */
    private void wrote(float[] a, long off, long n) {
        if (n <= 0) return;
        Resident r = resident.get(a);
        if (r == null) {
            floatsFromDevice += n;
            return;
        }
        for (int i = (int) off; i < off + n; i++) {
            r.state[i] = DEVICE_NEWER;
            a[i] = Float.NaN;
        }
    }

    private static long span(int rows, int ld, long width) {
        return rows == 0 || width == 0 ? 0 : (long) (rows - 1) * ld + width;
    }

    // ---------------------------------------------------------------------------------------------------- kernels

    @Override
    public synchronized void gemm(
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
        long cs = span(M, ldc, N);
        float[] sb = in(b, bOff, span(K, ldb, N)), sc = in(c, cOff, cs);
        inner.gemm(M, N, K, a, aOff, lda, sb, bOff, ldb, sc, cOff, ldc, accumulate);
        wrote(c, cOff, cs);
    }

    @Override
    public synchronized void linear(float[] x, int xOff, int M, Linear w, float[] y, int yOff, Activation act) {
        long ys = (long) M * w.out();
        float[] sx = in(x, xOff, (long) M * w.in()), sy = in(y, yOff, ys);
        inner.linear(sx, xOff, M, w, sy, yOff, act);
        wrote(y, yOff, ys);
    }

    @Override
    public synchronized void layerNorm(
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
        long n = (long) rows * C;
        float[] sx = in(x, xOff, n), sm = whole(mod), so = in(out, outOff, n);
        inner.layerNorm(sx, xOff, so, outOff, rows, C, eps, sm, modStride, scaleOff, shiftOff, rowsPerGroup);
        wrote(out, outOff, n);
    }

    @Override
    public synchronized void rmsNorm(
            float[] x, int xOff, float[] out, int outOff, int rows, int C, float eps, float[] weight) {
        long n = (long) rows * C;
        float[] sx = in(x, xOff, n), sw = whole(weight), so = in(out, outOff, n);
        inner.rmsNorm(sx, xOff, so, outOff, rows, C, eps, sw);
        wrote(out, outOff, n);
    }

    @Override
    public synchronized void modulate(
            float[] x,
            int xOff,
            int rows,
            int C,
            float[] mod,
            int modStride,
            int scaleOff,
            int shiftOff,
            int rowsPerGroup) {
        long n = (long) rows * C;
        float[] sm = whole(mod), sx = in(x, xOff, n);
        inner.modulate(sx, xOff, rows, C, sm, modStride, scaleOff, shiftOff, rowsPerGroup);
        wrote(x, xOff, n);
    }

    @Override
    public synchronized void addGated(
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
        long n = (long) rows * C;
        float[] sy = in(y, yOff, n), sm = whole(mod), sx = in(x, xOff, n);
        inner.addGated(sx, xOff, sy, yOff, rows, C, sm, modStride, gammaOff, rowsPerGroup);
        wrote(x, xOff, n);
    }

    @Override
    public synchronized void activate(float[] x, int off, int n, Activation act) {
        float[] sx = in(x, off, n);
        inner.activate(sx, off, n, act);
        wrote(x, off, n);
    }

    @Override
    public synchronized void softmax(float[] x, int off, int n) {
        float[] sx = in(x, off, n);
        inner.softmax(sx, off, n);
        wrote(x, off, n);
    }

    @Override
    public synchronized void attention(
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
        long os = span(B * l, ldo, (long) H * d);
        float[] sq = in(q, qOff, span(B * l, ldq, (long) H * d)), sk = whole(kT), sv = whole(v), ss = whole(scale);
        float[] so = in(out, outOff, os);
        inner.attention(B, H, l, d, sq, qOff, ldq, sk, sv, tMax, T, causal, ss, so, outOff, ldo);
        wrote(out, outOff, os);
    }

    @Override
    public synchronized void rotary(
            float[] x, int off, int ld, int rows, int heads, Rope2d rope, int[] positions, int period) {
        long s = span(rows, ld, (long) heads * rope.headDim());
        float[] sx = in(x, off, s);
        inner.rotary(sx, off, ld, rows, heads, rope, positions, period);
        wrote(x, off, s);
    }

    @Override
    public synchronized void l2NormalizeHeads(float[] x, int off, int ld, int rows, int heads, int d, float[] mul) {
        long s = span(rows, ld, (long) heads * d);
        float[] sm = whole(mul), sx = in(x, off, s);
        inner.l2NormalizeHeads(sx, off, ld, rows, heads, d, sm);
        wrote(x, off, s);
    }

    @Override
    public synchronized void gatedProduct(
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
        long os = span(rows, ldo, n);
        float[] sg = in(g, gOff, span(rows, ldg, n)), su = in(u, uOff, span(rows, ldu, n)), so = in(out, outOff, os);
        inner.gatedProduct(sg, gOff, ldg, su, uOff, ldu, rows, n, act, so, outOff, ldo);
        wrote(out, outOff, os);
    }

    @Override
    public synchronized void addBroadcast(float[] x, int xOff, int count, int n, int C, float[] table, int tableOff) {
        long s = (long) count * n * C;
        float[] st = in(table, tableOff, (long) n * C), sx = in(x, xOff, s);
        inner.addBroadcast(sx, xOff, count, n, C, st, tableOff);
        wrote(x, xOff, s);
    }

    @Override
    public synchronized void affine(float[] x, int off, int rows, int C, float[] w, float[] b) {
        long s = (long) rows * C;
        float[] sw = whole(w), sb = whole(b), sx = in(x, off, s);
        inner.affine(sx, off, rows, C, sw, sb);
        wrote(x, off, s);
    }

    @Override
    public synchronized void copy(float[] src, int srcOff, float[] dst, int dstOff, int n) {
        Ops.checkCopy(src, srcOff, dst, dstOff, n);
        float[] ss = in(src, srcOff, n), sd = shadow(dst);
        inner.copy(ss, srcOff, sd, dstOff, n);
        wrote(dst, dstOff, n);
    }

    @Override
    public synchronized void copyRows(
            float[] src, int srcOff, int[] srcRows, float[] dst, int dstOff, int[] dstRows, int n, int C) {
        Ops.checkDistinct(src, dst);
        float[] ss = shadow(src), sd = shadow(dst);
        for (int i = 0; i < n; i++) in(src, srcOff + (long) srcRows[i] * C, C);
        inner.copyRows(ss, srcOff, srcRows, sd, dstOff, dstRows, n, C);
        for (int i = 0; i < n; i++) wrote(dst, dstOff + (long) dstRows[i] * C, C);
    }

    @Override
    public synchronized void transpose(float[] a, int aOff, int rows, int cols, float[] t, int tOff) {
        Ops.checkDistinct(a, t);
        long n = (long) rows * cols;
        float[] sa = in(a, aOff, n), st = shadow(t);
        inner.transpose(sa, aOff, rows, cols, st, tOff);
        wrote(t, tOff, n);
    }

    /** The array an op writes every element of (its old values unread): the shadow of a resident array. */
    private float[] shadow(float[] a) {
        Resident r = resident.get(a);
        return r == null ? a : r.shadow;
    }

    @Override
    public synchronized void blend(float[] x, int xOff, float a, float[] y, int yOff, float b, int n) {
        float[] sx = in(x, xOff, n), sy = in(y, yOff, n);
        inner.blend(sx, xOff, a, sy, yOff, b, n);
        wrote(y, yOff, n);
    }

    @Override
    public synchronized void average(float[] x, int xOff, float[] y, int yOff, float[] out, int outOff, int n) {
        Ops.checkAverage(x, xOff, y, yOff, out, outOff, n);
        float[] sx = in(x, xOff, n), sy = in(y, yOff, n), so = shadow(out);
        inner.average(sx, xOff, sy, yOff, so, outOff, n);
        wrote(out, outOff, n);
    }

    @Override
    public synchronized void clamp(float[] x, int off, int n, float lo, float hi) {
        float[] sx = in(x, off, n);
        inner.clamp(sx, off, n, lo, hi);
        wrote(x, off, n);
    }

    @Override
    public synchronized void lookupCodes(
            float[] codebook, int C, int[] tokens, int tokOff, int n, float[] out, int outOff) {
        long s = (long) C * n;
        float[] sc = whole(codebook), so = in(out, outOff, s);
        inner.lookupCodes(sc, C, tokens, tokOff, n, so, outOff);
        wrote(out, outOff, s);
    }

    @Override
    public synchronized void nearestCodes(
            float[] z, int zOff, int C, int n, float[] codebook, float[] norms, int K, int[] out, int outOff) {
        // the indices are host ints, not an activation: only the input goes through the device copy
        inner.nearestCodes(in(z, zOff, (long) C * n), zOff, C, n, whole(codebook), whole(norms), K, out, outOff);
    }

    @Override
    public synchronized KvStorage allocateKv(int layers, int rows, int heads, int headDim, int capacity) {
        return inner.allocateKv(layers, rows, heads, headDim, capacity);
    }

    @Override
    public synchronized void releaseKv(KvStorage kv) {
        inner.releaseKv(kv);
    }

    @Override
    public synchronized void storeKv(
            KvStorage kv, int layer, int rows, int at, float[] src, int srcOff, int ld, int kOff, int vOff, int n) {
        long width = Math.max(kOff, vOff) + (long) kv.heads() * kv.headDim();
        float[] ss = in(src, srcOff, span(rows * n, ld, width));
        inner.storeKv(kv, layer, rows, at, ss, srcOff, ld, kOff, vOff, n);
    }

    @Override
    public synchronized void attendKv(
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
        long hd = (long) kv.heads() * kv.headDim(), os = span(rows * l, ldo, hd);
        float[] sq = in(q, qOff, span(rows * l, ldq, hd)), ss = whole(scale), so = in(out, outOff, os);
        inner.attendKv(kv, layer, rows, l, sq, qOff, ldq, T, causal, ss, so, outOff, ldo);
        wrote(out, outOff, os);
    }

    @Override
    public synchronized void conv2d(float[] in, int inOff, int H, int W, Conv2d conv, float[] out, int outOff) {
        long os = (long) conv.cout() * conv.outHeight(H) * conv.outWidth(W);
        float[] si = in(in, inOff, (long) conv.cin() * H * W), so = in(out, outOff, os);
        inner.conv2d(si, inOff, H, W, conv, so, outOff);
        wrote(out, outOff, os);
    }

    @Override
    public synchronized void groupNorm(
            float[] x, int xOff, int C, int HW, GroupNorm gn, boolean silu, float[] out, int outOff) {
        long n = (long) C * HW;
        float[] sx = in(x, xOff, n), so = in(out, outOff, n);
        inner.groupNorm(sx, xOff, C, HW, gn, silu, so, outOff);
        wrote(out, outOff, n);
    }

    @Override
    public synchronized void upsampleNearest2x(float[] in, int inOff, int C, int H, int W, float[] out, int outOff) {
        long os = 4L * C * H * W;
        float[] si = in(in, inOff, (long) C * H * W), so = in(out, outOff, os);
        inner.upsampleNearest2x(si, inOff, C, H, W, so, outOff);
        wrote(out, outOff, os);
    }

    @Override
    public synchronized void resizeBicubic(
            float[] in, int inOff, int C, int H, int W, float[] out, int outOff, int oh, int ow) {
        long os = (long) C * oh * ow;
        float[] si = in(in, inOff, (long) C * H * W), so = in(out, outOff, os);
        inner.resizeBicubic(si, inOff, C, H, W, so, outOff, oh, ow);
        wrote(out, outOff, os);
    }

    @Override
    public synchronized void resizeArea(
            float[] in, int inOff, int C, int H, int W, float[] out, int outOff, int oh, int ow) {
        long os = (long) C * oh * ow;
        float[] si = in(in, inOff, (long) C * H * W), so = in(out, outOff, os);
        inner.resizeArea(si, inOff, C, H, W, so, outOff, oh, ow);
        wrote(out, outOff, os);
    }
}
