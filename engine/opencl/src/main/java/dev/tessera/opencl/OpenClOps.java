package dev.tessera.opencl;

import static org.lwjgl.opencl.CL10.*;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.nn.Conv2d;
import dev.tessera.engine.nn.GroupNorm;
import dev.tessera.engine.nn.Linear;
import dev.tessera.engine.nn.Rope2d;
import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.engine.ops.Activation;
import dev.tessera.engine.ops.KvStorage;
import dev.tessera.engine.ops.Ops;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import org.lwjgl.PointerBuffer;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.system.MemoryUtil;

/**
 * {@link Ops} on one OpenCL device: the kernels of {@code kernels.cl}, built for the device when it is opened.
 *
 * <p>Activations from {@link #allocate} live on the device: each such array has a device buffer of its size, and
 * the backend tracks, per range, whether the host copy or the device copy is newer. An op reading such an array
 * uploads only the ranges the host wrote since ({@link #hostWrote}); an op writing one leaves its result on the device
 * until {@link #toHost} asks for it. Other arrays are uploaded for every call that reads them and downloaded after
 * every call that writes them. Device buffers of such arrays are released once the array is unreachable (a
 * {@link Cleaner}) or with the backend. Every kernel takes element offsets, so it uses a resident array in place at
 * any offset; only an op whose output is also one of its inputs (other than exactly in place, where the kernel
 * allows it) writes a scratch range, copied back on the device. Weights of {@link Linear} and {@link Conv2d} layers
 * are uploaded on first use and kept on the device, keyed by the layer object's identity, until {@link #close()}; a
 * linear layer in a 16-bit format ({@code --weights fp16} or {@code bf16}) keeps 16 bits per weight there, widened to
 * float32 by the GEMM as it reads them ({@link #deviceWeightBytes()} counts the bytes). Interpolation
 * ({@code resizeBicubic}, {@code resizeArea}) runs on the host ({@link Ops#cpu()}), whose results are the reference's.
 * Calls are serialised (one command queue); results do not depend on the thread that calls.
 */
public final class OpenClOps implements Ops, AutoCloseable {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    /** B in float32: every GEMM but a 16-bit linear layer's. */
    private static final WeightPanels.Format F32_B = WeightPanels.Format.F32;

    private static final Cleaner CLEANER = Cleaner.create();

    private final OpenClDevice device;
    private final TileSizes tiles;
    private final long context, queue, program;
    private final long kGemm,
            kGemmDirect,
            kGemmFp16,
            kGemmBf16,
            kGemmDirectFp16,
            kGemmDirectBf16,
            kLayerNorm,
            kRmsNorm,
            kModulate,
            kAddGated,
            kActivate,
            kSoftmax,
            kAttention,
            kIm2col,
            kGroupNorm,
            kUpsample,
            kRotary,
            kL2Normalize,
            kGatedProduct,
            kAddBroadcast,
            kAffine,
            kBlend,
            kClamp,
            kKvStore,
            kLookupCodes,
            kNearestCodes,
            kCopyRows,
            kTranspose,
            kAverage;
    /** Every kernel object created, released with the backend. */
    private final List<Long> kernels = new ArrayList<>();

    private final Map<Object, long[]> weights = new IdentityHashMap<>(); // layer -> {weight buffer, bias buffer or 0}
    private final Map<String, long[]> scratch = new HashMap<>(); // slot -> {buffer, bytes}
    private final Map<float[], Long> constants = new IdentityHashMap<>(); // rotary tables, codebooks -> buffer
    private final Arena arena = Arena.ofShared();
    private MemorySegment staging = MemorySegment.NULL;
    private final long dummy;
    private boolean closed;
    private long bytesToDevice, bytesFromDevice, deviceCopies;
    private long weightBytes;
    /** Arrays from {@link #allocate} (keys compare by identity: arrays do not override equals). */
    private final Map<float[], Resident> resident = new WeakHashMap<>();
    /** The device buffers of resident arrays not yet released: {buffer} boxes, zeroed when released. */
    private final List<long[]> residentBuffers = new ArrayList<>();

    OpenClOps(OpenClDevice device) {
        this(device, TileSizes.forDevice(device));
    }

    /** With explicit work sizes (tests run both GEMM kernels on one device). */
    OpenClOps(OpenClDevice device, TileSizes tiles) {
        this(device, tiles, "");
    }

    /** With source appended to the kernels (tests: a program that does not build). */
    OpenClOps(OpenClDevice device, TileSizes tiles, String extraSource) {
        this.device = device;
        this.tiles = TileSizes.check(tiles, device);
        try (MemoryStack stack = MemoryStack.stackPush()) {
            var err = stack.mallocInt(1);
            PointerBuffer props = stack.mallocPointer(3)
                    .put(CL_CONTEXT_PLATFORM)
                    .put(device.platform())
                    .put(0)
                    .flip();
            context = clCreateContext(props, device.id(), null, 0, err);
            check(err.get(0), "clCreateContext");
            queue = clCreateCommandQueue(context, device.id(), 0, err);
            check(err.get(0), "clCreateCommandQueue");
            program = clCreateProgramWithSource(context, source() + extraSource, err);
            check(err.get(0), "clCreateProgramWithSource");
            int built = clBuildProgram(program, device.id(), tiles.buildOptions(), null, 0);
            if (built != CL_SUCCESS) throw buildFailure(built);
            kGemm = kernel("gemm");
            kGemmDirect = kernel("gemm_direct");
            kGemmFp16 = kernel("gemm_fp16");
            kGemmBf16 = kernel("gemm_bf16");
            kGemmDirectFp16 = kernel("gemm_direct_fp16");
            kGemmDirectBf16 = kernel("gemm_direct_bf16");
            kLayerNorm = kernel("layer_norm");
            kRmsNorm = kernel("rms_norm");
            kModulate = kernel("modulate");
            kAddGated = kernel("add_gated");
            kActivate = kernel("activate");
            kSoftmax = kernel("softmax");
            kAttention = kernel("attention");
            kIm2col = kernel("im2col");
            kGroupNorm = kernel("group_norm");
            kUpsample = kernel("upsample_nearest2x");
            kRotary = kernel("rotary");
            kL2Normalize = kernel("l2_normalize_heads");
            kGatedProduct = kernel("gated_product");
            kAddBroadcast = kernel("add_broadcast");
            kAffine = kernel("affine");
            kBlend = kernel("blend");
            kClamp = kernel("clamp_range");
            kKvStore = kernel("kv_store");
            kLookupCodes = kernel("lookup_codes");
            kNearestCodes = kernel("nearest_codes");
            kCopyRows = kernel("copy_rows");
            kTranspose = kernel("transpose");
            kAverage = kernel("average");
            dummy = clCreateBuffer(context, CL_MEM_READ_WRITE, 4, err);
            check(err.get(0), "clCreateBuffer");
        }
    }

    /** The device this backend runs on. */
    public OpenClDevice device() {
        return device;
    }

    /** Bytes copied from the host to the device so far (inputs, weights, caches' new positions). */
    public synchronized long bytesToDevice() {
        return bytesToDevice;
    }

    /** Bytes copied from the device to the host so far (results). */
    public synchronized long bytesFromDevice() {
        return bytesFromDevice;
    }

    /** Device-side copies ({@code clEnqueueCopyBuffer}) enqueued so far, for tests and measurements. */
    synchronized long deviceCopies() {
        return deviceCopies;
    }

    /**
     * Bytes of device memory the layers' weights and biases take (uploaded once, on first use; the buffers' sizes as
     * the device reports them): 16-bit weights of {@link WeightPanels.Format#FP16} and
     * {@link WeightPanels.Format#BF16} layers take half of float32's.
     */
    @Override
    public synchronized long deviceWeightBytes() {
        return weightBytes;
    }

    /** The tile sizes the kernels were built with. */
    public TileSizes tiles() {
        return tiles;
    }

    @Override
    public String name() {
        return device.spec() + " (" + device.name() + ", " + (tiles.localMemory() ? "local-memory" : "direct")
                + " GEMM)";
    }

    @Override
    public String toString() {
        return name();
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
        if (M == 0 || N == 0) return;
        long aLen = K == 0 ? 0 : (long) (M - 1) * lda + K;
        long bufA = upload("a", a, aOff * Float.BYTES, aLen);
        long bSpan = K == 0 ? 0 : (long) (K - 1) * ldb + N;
        Resident rb = resident.get(b), rc = resident.get(c);
        long bufB;
        if (rb != null) { // the kernel takes B's offset: the resident buffer itself
            if (bSpan > 0) syncUp(rb, b, bOff, bOff + bSpan);
            bufB = rb.buf();
        } else {
            bufB = upload("b", b, bOff, bSpan);
        }
        long bo = rb != null ? bOff : 0;
        if (rc != null && rc != rb) { // C in place, at its offset and stride
            long cSpan = (long) (M - 1) * ldc + N;
            if (accumulate || ldc != N) syncUp(rc, c, cOff, cOff + cSpan);
            else rc.hostNewer.subtract(cOff, cOff + cSpan);
            runGemm(
                    F32_B,
                    M,
                    N,
                    K,
                    bufA,
                    0,
                    lda,
                    1,
                    bufB,
                    bo,
                    ldb,
                    1,
                    rc.buf(),
                    cOff,
                    ldc,
                    dummy,
                    0,
                    Activation.NONE,
                    accumulate);
            rc.hostNewer.subtract(cOff, cOff + cSpan);
            rc.deviceNewer.add(cOff, cOff + cSpan);
            return;
        }
        if (rc != null) toHost(c, cOff, (M - 1) * ldc + N); // C is B's array: through the host as before
        long bufC = slot("c", (long) M * N);
        if (accumulate) {
            MemorySegment s = staging((long) M * N);
            for (int m = 0; m < M; m++) MemorySegment.copy(c, cOff + m * ldc, s, F32, (long) m * N * Float.BYTES, N);
            write(bufC, s, (long) M * N);
        }
        runGemm(F32_B, M, N, K, bufA, 0, lda, 1, bufB, bo, ldb, 1, bufC, 0, N, dummy, 0, Activation.NONE, accumulate);
        MemorySegment s = read(bufC, (long) M * N);
        for (int m = 0; m < M; m++) MemorySegment.copy(s, F32, (long) m * N * Float.BYTES, c, cOff + m * ldc, N);
        if (rc != null) hostWrote(c, cOff, (M - 1) * ldc + N);
    }

    @Override
    public synchronized void linear(float[] x, int xOff, int M, Linear w, float[] y, int yOff, Activation act) {
        if (M == 0) return;
        long[] dw = weights(w);
        long nx = (long) M * w.in(), ny = (long) M * w.out();
        Resident rx = resident.get(x), ry = y == x ? null : resident.get(y);
        long bufX, xo = 0; // the GEMM takes offsets: resident arrays are used in place
        if (rx != null) {
            syncUp(rx, x, xOff, xOff + nx);
            bufX = rx.buf();
            xo = xOff;
        } else {
            bufX = upload("x", x, xOff, nx);
        }
        long bufY = ry != null ? ry.buf() : slot("y", ny), yo = ry != null ? yOff : 0;
        runGemm(
                w.format(),
                M,
                w.out(),
                w.in(),
                bufX,
                xo,
                w.in(),
                1,
                dw[0],
                0,
                1,
                w.in(),
                bufY,
                yo,
                w.out(),
                dw[1] == 0 ? dummy : dw[1],
                dw[1] == 0 ? 0 : 1,
                act,
                false);
        if (ry != null) {
            ry.hostNewer.subtract(yOff, yOff + ny);
            ry.deviceNewer.add(yOff, yOff + ny);
        } else {
            if (y == x && rx != null) toHost(x, 0, x.length); // y aliases a resident x: keep the host copy whole
            download(bufY, y, yOff, ny);
            if (y == x && rx != null) hostWrote(y, yOff, (int) ny);
        }
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
        if (rows == 0) return;
        Arg bx = in("x", x, xOff, (long) rows * C);
        long bm = mod == null ? dummy : in("mod", mod, 0, mod.length).buf();
        // exactly in place is safe: each element is read, then written, by one work-item after the row's sums
        Out o = out("y", out, outOff, (long) rows * C, true, (out != x || outOff == xOff) && out != mod);
        args(
                kLayerNorm,
                bx.buf(),
                bx.off(),
                o.buf(),
                o.bufOff(),
                C,
                eps,
                bm,
                mod == null ? 0 : 1,
                modStride,
                scaleOff,
                shiftOff,
                Math.max(1, rowsPerGroup));
        run(kLayerNorm, (long) rows * tiles.reduction(), tiles.reduction());
        done(o);
    }

    @Override
    public synchronized void rmsNorm(
            float[] x, int xOff, float[] out, int outOff, int rows, int C, float eps, float[] weight) {
        if (rows == 0) return;
        Arg bx = in("x", x, xOff, (long) rows * C);
        long bw = weight == null ? dummy : in("w", weight, 0, C).buf();
        Out o = out("y", out, outOff, (long) rows * C, true, (out != x || outOff == xOff) && out != weight);
        args(kRmsNorm, bx.buf(), bx.off(), o.buf(), o.bufOff(), C, eps, bw, weight == null ? 0 : 1);
        run(kRmsNorm, (long) rows * tiles.reduction(), tiles.reduction());
        done(o);
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
        if (rows == 0 || C == 0) return;
        long bm = in("mod", mod, 0, mod.length).buf();
        Out o = out("x", x, xOff, (long) rows * C, false, x != mod);
        args(kModulate, o.buf(), o.bufOff(), C, bm, modStride, scaleOff, shiftOff, rowsPerGroup);
        run2(kModulate, C, rows);
        done(o);
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
        if (rows == 0 || C == 0) return;
        Arg by = in("y", y, yOff, (long) rows * C);
        long bm = mod == null ? dummy : in("mod", mod, 0, mod.length).buf();
        Out o = out("x", x, xOff, (long) rows * C, false, x != y && x != mod);
        args(
                kAddGated,
                o.buf(),
                o.bufOff(),
                by.buf(),
                by.off(),
                C,
                bm,
                mod == null ? 0 : 1,
                modStride,
                gammaOff,
                Math.max(1, rowsPerGroup));
        run2(kAddGated, C, rows);
        done(o);
    }

    @Override
    public synchronized void activate(float[] x, int off, int n, Activation act) {
        if (n == 0 || act == Activation.NONE) return;
        Out o = out("x", x, off, n, false, true);
        args(kActivate, o.buf(), o.bufOff(), n, code(act));
        run(kActivate, roundUp(n, 64), 64);
        done(o);
    }

    @Override
    public synchronized void softmax(float[] x, int off, int n) {
        if (n == 0) return;
        Out o = out("x", x, off, n, false, true);
        args(kSoftmax, o.buf(), o.bufOff(), n);
        run(kSoftmax, tiles.reduction(), tiles.reduction());
        done(o);
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
        if (B == 0 || H == 0 || l == 0) return;
        long cache = (long) B * H * d * tMax;
        Arg bq = in("q", q, qOff, (long) (B * l - 1) * ldq + (long) H * d);
        long bk = in("k", kT, 0, cache).buf();
        long bv = in("v", v, 0, cache).buf();
        long bs = in("scale", scale, 0, H).buf();
        long bp = slot("scores", (long) B * H * l * T);
        attentionOut(B * l, H * d, out, outOff, ldo, q == out || kT == out || v == out, (bo, oo, ld) -> {
            args(kAttention, H, l, d, bq.buf(), bq.off(), ldq, bk, bv, tMax, T, causal ? 1 : 0, bs, bo, oo, ld, bp);
            int r = tiles.reduction();
            runNd(kAttention, new long[] {(long) l * r, H, B}, new long[] {r, 1, 1});
        });
    }

    /** Enqueues an attention kernel writing its rows into {@code buf} from element {@code off} at stride {@code ld}. */
    private interface AttentionKernel {
        void run(long buf, long off, int ld);
    }

    /**
     * Runs an attention kernel that writes {@code rows} rows of {@code width} at stride {@code ldo}: into a resident
     * array in place (unless an input is the same array); into another array through a packed buffer and the host.
     */
    private void attentionOut(
            int rows, int width, float[] out, int outOff, int ldo, boolean aliased, AttentionKernel k) {
        Resident r = resident.get(out);
        long n = (long) rows * width;
        if (r != null && !aliased) {
            long span = (long) (rows - 1) * ldo + width;
            if (ldo != width) syncUp(r, out, outOff, outOff + span); // the gaps between the rows keep their values
            k.run(r.buf(), outOff, ldo);
            r.hostNewer.subtract(outOff, outOff + span);
            r.deviceNewer.add(outOff, outOff + span);
            return;
        }
        if (r != null) toHost(out, outOff, (rows - 1) * ldo + width);
        long bo = slot("y", n);
        k.run(bo, 0, width);
        MemorySegment s = read(bo, n);
        for (int row = 0; row < rows; row++) {
            MemorySegment.copy(s, F32, (long) row * width * Float.BYTES, out, outOff + row * ldo, width);
        }
        if (r != null) hostWrote(out, outOff, (rows - 1) * ldo + width);
    }

    // ---------------------------------------------------------------------------------- device-resident activations

    /**
     * An array from {@link #allocate}: its device buffer (in a box the {@link Cleaner} and {@link #close} share),
     * and which ranges are newer on the host and on the device (disjoint; elsewhere both copies agree).
     */
    private static final class Resident {
        final long[] buffer;
        final Ranges hostNewer = new Ranges(), deviceNewer = new Ranges();

        Resident(long[] buffer) {
            this.buffer = buffer;
        }

        long buf() {
            if (buffer[0] == 0) throw new IllegalStateException("this OpenCL backend is closed");
            return buffer[0];
        }
    }

    @Override
    public synchronized float[] allocate(int n) {
        float[] a = new float[n];
        long[] box = {create(n)};
        residentBuffers.add(box);
        Resident r = new Resident(box);
        r.hostNewer.add(0, n); // the device buffer is not initialised: the host's zeros are the values
        resident.put(a, r);
        CLEANER.register(a, () -> releaseResident(box));
        return a;
    }

    private synchronized void releaseResident(long[] box) {
        if (box[0] == 0) return;
        clReleaseMemObject(box[0]);
        box[0] = 0;
        residentBuffers.remove(box);
    }

    @Override
    public synchronized void toHost(float[] x, int off, int n) {
        Resident r = resident.get(x);
        if (r == null || n <= 0) return;
        checkRange(x, off, n);
        for (long[] piece : r.deviceNewer.within(off, off + n)) {
            int lo = (int) piece[0], len = (int) (piece[1] - piece[0]);
            MemorySegment s = staging(len);
            bytesFromDevice += (long) len * Float.BYTES;
            check(
                    nclEnqueueReadBuffer(
                            queue,
                            r.buf(),
                            CL_TRUE,
                            (long) lo * Float.BYTES,
                            (long) len * Float.BYTES,
                            s.address(),
                            0,
                            0,
                            0),
                    "clEnqueueReadBuffer");
            MemorySegment.copy(s, F32, 0, x, lo, len);
        }
        r.deviceNewer.subtract(off, off + n);
    }

    @Override
    public synchronized void hostWrote(float[] x, int off, int n) {
        Resident r = resident.get(x);
        if (r == null || n <= 0) return;
        checkRange(x, off, n);
        r.deviceNewer.subtract(off, off + n);
        r.hostNewer.add(off, off + n);
    }

    private static void checkRange(float[] x, long off, long n) {
        if (off < 0 || n < 0 || off + n > x.length)
            throw new IndexOutOfBoundsException("[" + off + ", " + (off + n) + ") of an array of " + x.length);
    }

    /** Uploads the ranges of {@code [lo, hi)} the host wrote since the device last saw them. */
    private void syncUp(Resident r, float[] a, long lo, long hi) {
        for (long[] piece : r.hostNewer.within(lo, hi)) {
            int from = (int) piece[0], len = (int) (piece[1] - piece[0]);
            MemorySegment s = staging(len);
            MemorySegment.copy(a, from, s, F32, 0, len);
            bytesToDevice += (long) len * Float.BYTES;
            check(
                    nclEnqueueWriteBuffer(
                            queue,
                            r.buf(),
                            CL_TRUE,
                            (long) from * Float.BYTES,
                            (long) len * Float.BYTES,
                            s.address(),
                            0,
                            0,
                            0),
                    "clEnqueueWriteBuffer");
        }
        r.hostNewer.subtract(lo, hi);
    }

    /** A device-side copy of {@code n} floats (no host transfer). */
    private void copyOnDevice(long src, long srcOff, long dst, long dstOff, long n) {
        if (n <= 0) return;
        deviceCopies++;
        check(
                clEnqueueCopyBuffer(
                        queue, src, dst, srcOff * Float.BYTES, dstOff * Float.BYTES, n * Float.BYTES, null, null),
                "clEnqueueCopyBuffer");
    }

    /** A kernel's view of an input: its buffer and the element offset where the values start. */
    private record Arg(long buf, long off) {}

    /**
     * Where a kernel reads {@code a[off .. off+n)}: a resident array's own buffer at {@code off} (after uploading what
     * the host wrote), or today's upload of another array (at offset 0).
     */
    private Arg in(String slot, float[] a, int off, long n) {
        Resident r = resident.get(a);
        if (r == null) return new Arg(upload(slot, a, off, n), 0);
        if (n > 0) syncUp(r, a, off, off + n);
        return new Arg(r.buf(), off);
    }

    /**
     * Where a kernel writes {@code a[off .. off+n)}: the range starts at element {@code bufOff} of {@code buf};
     * {@link #done} brings the result where it belongs.
     */
    private record Out(float[] a, int off, long n, long buf, long bufOff, Resident r) {}

    /**
     * The buffer a kernel writes {@code a[off .. off+n)} into. With {@code whole} the kernel overwrites every element
     * of the range; otherwise it reads it, or leaves some of it (in place, strided rows), so the buffer starts with
     * the range's current values. {@code direct}: the kernel may use a resident array's own buffer in place, at any
     * offset (no input of the call is the same array); otherwise it writes a scratch copy of the range, copied back on
     * the device by {@link #done}.
     */
    private Out out(String slot, float[] a, int off, long n, boolean whole, boolean direct) {
        Resident r = resident.get(a);
        if (r == null) return new Out(a, off, n, whole ? slot(slot, n) : upload(slot, a, off, n), 0, null);
        if (!whole && n > 0) syncUp(r, a, off, off + n);
        if (direct) return new Out(a, off, n, r.buf(), off, r);
        long buf = slot(slot, n);
        if (!whole) copyOnDevice(r.buf(), off, buf, 0, n);
        return new Out(a, off, n, buf, 0, r);
    }

    /** After the kernel: downloads another array's result, or leaves a resident one's on the device. */
    private void done(Out o) {
        if (o.n <= 0) return;
        if (o.r == null) {
            download(o.buf, o.a, o.off, o.n);
            return;
        }
        if (o.buf != o.r.buf()) copyOnDevice(o.buf, 0, o.r.buf(), o.off, o.n);
        o.r.hostNewer.subtract(o.off, o.off + o.n);
        o.r.deviceNewer.add(o.off, o.off + o.n);
    }

    /** A resident array's state, for tests: {hostNewer floats, deviceNewer floats}, or null for other arrays. */
    synchronized long[] residency(float[] a) {
        Resident r = resident.get(a);
        return r == null ? null : new long[] {r.hostNewer.total(), r.deviceNewer.total()};
    }

    /**
     * Device-resident keys and values: one pair of buffers per layer, in {@link #attention}'s layout, released when
     * the storage is no longer reachable (or with this backend).
     */
    private static final class DeviceKv implements KvStorage {
        final int rows, heads, headDim, capacity;
        final long[] k, v;
        Cleaner.Cleanable release;

        DeviceKv(int rows, int heads, int headDim, int capacity, long[] k, long[] v) {
            this.rows = rows;
            this.heads = heads;
            this.headDim = headDim;
            this.capacity = capacity;
            this.k = k;
            this.v = v;
        }

        @Override
        public int layers() {
            return k.length;
        }

        @Override
        public int rows() {
            return rows;
        }

        @Override
        public int heads() {
            return heads;
        }

        @Override
        public int headDim() {
            return headDim;
        }

        @Override
        public int capacity() {
            return capacity;
        }
    }

    @Override
    public synchronized KvStorage allocateKv(int layers, int rows, int heads, int headDim, int capacity) {
        long size = (long) rows * heads * headDim * capacity;
        long[] k = new long[layers], v = new long[layers];
        try {
            for (int i = 0; i < layers; i++) {
                k[i] = create(size);
                v[i] = create(size);
            }
        } catch (RuntimeException e) {
            release(k, v);
            throw e;
        }
        DeviceKv kv = new DeviceKv(rows, heads, headDim, capacity, k, v);
        kv.release = CLEANER.register(kv, () -> release(k, v)); // runs once: on releaseKv or when unreachable
        return kv;
    }

    @Override
    public synchronized void releaseKv(KvStorage kv) {
        device(kv).release.clean();
    }

    private static void release(long[] k, long[] v) {
        for (long[] bufs : new long[][] {k, v}) {
            for (int i = 0; i < bufs.length; i++) {
                if (bufs[i] != 0) clReleaseMemObject(bufs[i]);
                bufs[i] = 0;
            }
        }
    }

    private static DeviceKv device(KvStorage kv) {
        if (kv instanceof DeviceKv d) {
            if (d.k.length > 0 && d.k[0] == 0) throw new IllegalStateException("this key/value storage was released");
            return d;
        }
        throw new IllegalArgumentException(
                "key/value storage of another backend: " + kv.getClass().getSimpleName());
    }

    @Override
    public synchronized void storeKv(
            KvStorage kv, int layer, int rows, int at, float[] src, int srcOff, int ld, int kOff, int vOff, int n) {
        DeviceKv dk = device(kv);
        if (rows == 0 || n == 0) return;
        int hd = dk.heads * dk.headDim;
        Arg bs = in("kvSrc", src, srcOff, (long) (rows * n - 1) * ld + Math.max(kOff, vOff) + hd);
        args(
                kKvStore,
                bs.buf(),
                bs.off(),
                ld,
                kOff,
                vOff,
                n,
                dk.heads,
                dk.headDim,
                dk.capacity,
                at,
                dk.k[layer],
                dk.v[layer]);
        runNd(kKvStore, new long[] {roundUp(hd, 64), n, rows}, new long[] {64, 1, 1});
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
        DeviceKv dk = device(kv);
        int H = dk.heads, d = dk.headDim;
        if (rows == 0 || H == 0 || l == 0) return;
        Arg bq = in("q", q, qOff, (long) (rows * l - 1) * ldq + (long) H * d);
        long bs = in("scale", scale, 0, H).buf();
        long bp = slot("scores", (long) rows * H * l * T);
        attentionOut(rows * l, H * d, out, outOff, ldo, q == out, (bo, oo, ld) -> {
            args(
                    kAttention,
                    H,
                    l,
                    d,
                    bq.buf(),
                    bq.off(),
                    ldq,
                    dk.k[layer],
                    dk.v[layer],
                    dk.capacity,
                    T,
                    causal ? 1 : 0,
                    bs,
                    bo,
                    oo,
                    ld,
                    bp);
            int r = tiles.reduction();
            runNd(kAttention, new long[] {(long) l * r, H, rows}, new long[] {r, 1, 1});
        });
    }

    @Override
    public synchronized void lookupCodes(
            float[] codebook, int C, int[] tokens, int tokOff, int n, float[] out, int outOff) {
        if (n == 0 || C == 0) return;
        long bc = constant(codebook);
        long bt = uploadInts("tokens", tokens, tokOff, n);
        Out o = out("codes", out, outOff, (long) C * n, true, out != codebook);
        args(kLookupCodes, bc, C, bt, n, o.buf(), o.bufOff());
        run2(kLookupCodes, n, C);
        done(o);
    }

    @Override
    public synchronized void nearestCodes(
            float[] z, int zOff, int C, int n, float[] codebook, float[] norms, int K, int[] out, int outOff) {
        if (n == 0) return;
        if (K == 0 || C == 0) {
            Arrays.fill(out, outOff, outOff + n, 0);
            return;
        }
        Arg bz = in("x", z, zOff, (long) C * n);
        long bc = constant(codebook), bn = constant(norms);
        long bo = slot("codes", n);
        args(kNearestCodes, bz.buf(), bz.off(), C, n, bc, bn, K, bo);
        run(kNearestCodes, roundUp(n, 64), 64);
        MemorySegment s = read(bo, n);
        MemorySegment.copy(s, ValueLayout.JAVA_INT_UNALIGNED, 0, out, outOff, n);
    }

    @Override
    public synchronized void rotary(
            float[] x, int off, int ld, int rows, int heads, Rope2d rope, int[] positions, int period) {
        if (rows == 0 || heads == 0) return;
        int pairs = rope.headDim() / 2;
        long span = (long) (rows - 1) * ld + (long) heads * rope.headDim();
        Out o = out("x", x, off, span, false, true);
        long bc = constant(rope.cosines()), bs = constant(rope.sines());
        long bp = uploadInts("positions", positions, period);
        args(kRotary, o.buf(), o.bufOff(), ld, heads, pairs, bc, bs, bp, period);
        run2(kRotary, heads * pairs, rows);
        done(o);
    }

    @Override
    public synchronized void l2NormalizeHeads(float[] x, int off, int ld, int rows, int heads, int d, float[] mul) {
        if (rows == 0 || heads == 0 || d == 0) return;
        long span = (long) (rows - 1) * ld + (long) heads * d;
        long bm = mul == null ? dummy : in("mul", mul, 0, heads).buf();
        Out o = out("x", x, off, span, false, x != mul);
        args(kL2Normalize, o.buf(), o.bufOff(), ld, heads, d, bm, mul == null ? 0 : 1);
        run2(kL2Normalize, heads, rows);
        done(o);
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
        if (rows == 0 || n == 0) return;
        boolean inPlace = out == g;
        if (inPlace && (outOff != gOff || ldo != ldg)) {
            throw new IllegalArgumentException(
                    "gatedProduct writes over its gate only in place (same offset and stride)");
        }
        long gSpan = (long) (rows - 1) * ldg + n, oSpan = (long) (rows - 1) * ldo + n;
        Arg bu = in("u", u, uOff, (long) (rows - 1) * ldu + n);
        if (inPlace) {
            Out o = out("g", g, gOff, gSpan, false, g != u);
            args(
                    kGatedProduct,
                    o.buf(),
                    o.bufOff(),
                    ldg,
                    bu.buf(),
                    bu.off(),
                    ldu,
                    n,
                    code(act),
                    o.buf(),
                    o.bufOff(),
                    ldo);
            run2(kGatedProduct, n, rows);
            done(o);
            return;
        }
        Arg bg = in("g", g, gOff, gSpan);
        Out o = out("out", out, outOff, oSpan, ldo == n, out != u);
        args(kGatedProduct, bg.buf(), bg.off(), ldg, bu.buf(), bu.off(), ldu, n, code(act), o.buf(), o.bufOff(), ldo);
        run2(kGatedProduct, n, rows);
        done(o);
    }

    @Override
    public synchronized void addBroadcast(float[] x, int xOff, int count, int n, int C, float[] table, int tableOff) {
        int width = n * C;
        if (count == 0 || width == 0) return;
        Arg bt = in("table", table, tableOff, width);
        Out o = out("x", x, xOff, (long) count * width, false, x != table);
        args(kAddBroadcast, o.buf(), o.bufOff(), width, bt.buf(), bt.off());
        run2(kAddBroadcast, width, count);
        done(o);
    }

    @Override
    public synchronized void affine(float[] x, int off, int rows, int C, float[] w, float[] b) {
        if (rows == 0 || C == 0) return;
        long bw = in("affineW", w, 0, C).buf();
        long bb = in("affineB", b, 0, C).buf();
        Out o = out("x", x, off, (long) rows * C, false, x != w && x != b);
        args(kAffine, o.buf(), o.bufOff(), C, bw, bb);
        run2(kAffine, C, rows);
        done(o);
    }

    @Override
    public synchronized void blend(float[] x, int xOff, float a, float[] y, int yOff, float b, int n) {
        if (n == 0) return;
        Arg bx = in("x", x, xOff, n);
        Out o = out("y", y, yOff, n, false, x != y);
        args(kBlend, bx.buf(), bx.off(), a, o.buf(), o.bufOff(), b, n);
        run(kBlend, roundUp(n, 64), 64);
        done(o);
    }

    @Override
    public synchronized void clamp(float[] x, int off, int n, float lo, float hi) {
        if (n == 0) return;
        Out o = out("x", x, off, n, false, true);
        args(kClamp, o.buf(), o.bufOff(), n, lo, hi);
        run(kClamp, roundUp(n, 64), 64);
        done(o);
    }

    @Override
    public synchronized void average(float[] x, int xOff, float[] y, int yOff, float[] out, int outOff, int n) {
        Ops.checkAverage(x, xOff, y, yOff, out, outOff, n);
        if (n == 0) return;
        // per element, so out may be x or y at the same offset (checkAverage refuses other overlaps): in place
        Arg bx = in("averageX", x, xOff, n), by = in("averageY", y, yOff, n);
        Out o = out("averageOut", out, outOff, n, true, true);
        args(kAverage, bx.buf(), bx.off(), by.buf(), by.off(), o.buf(), o.bufOff(), n);
        run(kAverage, roundUp(n, 64), 64);
        done(o);
    }

    // ----------------------------------------------------------------------------------------------- moving values

    @Override
    public synchronized void copy(float[] src, int srcOff, float[] dst, int dstOff, int n) {
        Ops.checkCopy(src, srcOff, dst, dstOff, n);
        if (n == 0 || (src == dst && srcOff == dstOff)) return;
        Resident rs = resident.get(src), rd = resident.get(dst);
        if (rd == null) { // the destination is the host's: bring the source's newer values there, copy on the host
            toHost(src, srcOff, n);
            System.arraycopy(src, srcOff, dst, dstOff, n);
            return;
        }
        if (rs == null) { // the values are the host's: the destination's host copy takes them, uploaded when read
            System.arraycopy(src, srcOff, dst, dstOff, n);
            hostWrote(dst, dstOff, n);
            return;
        }
        syncUp(rs, src, srcOff, srcOff + n);
        copyOnDevice(rs.buf(), srcOff, rd.buf(), dstOff, n);
        rd.hostNewer.subtract(dstOff, dstOff + n);
        rd.deviceNewer.add(dstOff, dstOff + n);
    }

    @Override
    public synchronized void copyRows(
            float[] src, int srcOff, int[] srcRows, float[] dst, int dstOff, int[] dstRows, int n, int C) {
        Ops.checkDistinct(src, dst);
        if (n == 0 || C == 0) return;
        Resident rs = resident.get(src), rd = resident.get(dst);
        int maxRow = 0;
        for (int i = 0; i < n; i++) maxRow = Math.max(maxRow, srcRows[i]);
        long span = (long) (maxRow + 1) * C;
        if (rd == null) { // a host destination: the rows move on the host
            toHost(src, srcOff, (int) span);
            for (int i = 0; i < n; i++) System.arraycopy(src, srcOff + srcRows[i] * C, dst, dstOff + dstRows[i] * C, C);
            return;
        }
        long bs, so;
        if (rs != null) {
            for (int i = 0; i < n; i++)
                syncUp(rs, src, srcOff + (long) srcRows[i] * C, srcOff + (long) (srcRows[i] + 1) * C);
            bs = rs.buf();
            so = srcOff;
        } else {
            bs = upload("src", src, srcOff, span);
            so = 0;
        }
        long bsr = uploadInts("srcRows", srcRows, n), bdr = uploadInts("dstRows", dstRows, n);
        args(kCopyRows, bs, so, bsr, rd.buf(), (long) dstOff, bdr, C);
        runNd(kCopyRows, new long[] {roundUp(C, 64), n}, new long[] {64, 1});
        for (int i = 0; i < n; i++) {
            long lo = dstOff + (long) dstRows[i] * C;
            rd.hostNewer.subtract(lo, lo + C);
            rd.deviceNewer.add(lo, lo + C);
        }
    }

    @Override
    public synchronized void transpose(float[] a, int aOff, int rows, int cols, float[] t, int tOff) {
        Ops.checkDistinct(a, t);
        long n = (long) rows * cols;
        if (n == 0) return;
        Resident ra = resident.get(a);
        long ba, ao;
        if (ra != null) {
            syncUp(ra, a, aOff, aOff + n);
            ba = ra.buf();
            ao = aOff;
        } else {
            ba = upload("x", a, aOff, n);
            ao = 0;
        }
        Resident rt = resident.get(t);
        long bt = rt != null ? rt.buf() : slot("y", n), to = rt != null ? tOff : 0;
        args(kTranspose, ba, ao, rows, cols, bt, to);
        run2(kTranspose, cols, rows);
        if (rt != null) {
            rt.hostNewer.subtract(tOff, tOff + n);
            rt.deviceNewer.add(tOff, tOff + n);
        } else {
            download(bt, t, tOff, n);
        }
    }

    @Override
    public synchronized void conv2d(float[] in, int inOff, int H, int W, Conv2d conv, float[] out, int outOff) {
        int oh = conv.outHeight(H), ow = conv.outWidth(W), P = oh * ow;
        int cout = conv.cout(), K = conv.cin() * conv.kh() * conv.kw();
        long[] dw = weights(conv);
        Arg bi = in("x", in, inOff, (long) conv.cin() * H * W);
        Out o = out("y", out, outOff, (long) cout * P, true, out != in);
        long bo = o.buf(), oo = o.bufOff();
        long bias = dw[1] == 0 ? dummy : dw[1];
        int biasMode = dw[1] == 0 ? 0 : 2;
        boolean pointwise = conv.kh() == 1
                && conv.kw() == 1
                && conv.stride() == 1
                && conv.padTop() == 0
                && conv.padLeft() == 0
                && conv.padBottom() == 0
                && conv.padRight() == 0;
        if (pointwise) {
            runGemm(
                    F32_B,
                    cout,
                    P,
                    K,
                    dw[0],
                    0,
                    K,
                    1,
                    bi.buf(),
                    bi.off(),
                    P,
                    1,
                    bo,
                    oo,
                    P,
                    bias,
                    biasMode,
                    Activation.NONE,
                    false);
        } else {
            // output pixels in column blocks, each block's im2col panel [K, np] one GEMM
            int np = (int) Math.max(1, Math.min(P, tiles.im2colFloats() / Math.max(1, K)));
            long col = slot("col", (long) K * np);
            for (int p0 = 0; p0 < P; p0 += np) {
                int n = Math.min(np, P - p0);
                args(
                        kIm2col,
                        bi.buf(),
                        bi.off(),
                        H,
                        W,
                        conv.kh(),
                        conv.kw(),
                        conv.stride(),
                        conv.padTop(),
                        conv.padLeft(),
                        ow,
                        p0,
                        n,
                        K,
                        col);
                runNd(kIm2col, new long[] {roundUp(n, 16), roundUp(K, 4)}, new long[] {16, 4});
                runGemm(
                        F32_B,
                        cout,
                        n,
                        K,
                        dw[0],
                        0,
                        K,
                        1,
                        col,
                        0,
                        n,
                        1,
                        bo,
                        oo + p0,
                        P,
                        bias,
                        biasMode,
                        Activation.NONE,
                        false);
            }
        }
        done(o);
    }

    @Override
    public synchronized void groupNorm(
            float[] x, int xOff, int C, int HW, GroupNorm gn, boolean silu, float[] out, int outOff) {
        long n = (long) C * HW;
        if (n == 0) return;
        Arg bx = in("x", x, xOff, n);
        long bw = upload("w", gn.weight(), 0, C);
        long bb = upload("bias", gn.bias(), 0, C);
        Out o = out("y", out, outOff, n, true, out != x || outOff == xOff); // in place: as in layerNorm
        args(kGroupNorm, bx.buf(), bx.off(), C / gn.groups(), HW, bw, bb, gn.eps(), silu ? 1 : 0, o.buf(), o.bufOff());
        run(kGroupNorm, (long) gn.groups() * tiles.reduction(), tiles.reduction());
        done(o);
    }

    @Override
    public synchronized void upsampleNearest2x(float[] in, int inOff, int C, int H, int W, float[] out, int outOff) {
        long n = 4L * C * H * W;
        if (n == 0) return;
        Arg bi = in("x", in, inOff, (long) C * H * W);
        Out o = out("y", out, outOff, n, true, out != in);
        args(kUpsample, bi.buf(), bi.off(), C, H, W, o.buf(), o.bufOff());
        run(kUpsample, roundUp(n, 64), 64);
        done(o);
    }

    @Override
    public synchronized void resizeBicubic(
            float[] in, int inOff, int C, int H, int W, float[] out, int outOff, int oh, int ow) {
        toHost(in, inOff, C * H * W); // on the host: a few small planes per scale
        Ops.cpu().resizeBicubic(in, inOff, C, H, W, out, outOff, oh, ow);
        hostWrote(out, outOff, C * oh * ow);
    }

    @Override
    public synchronized void resizeArea(
            float[] in, int inOff, int C, int H, int W, float[] out, int outOff, int oh, int ow) {
        toHost(in, inOff, C * H * W);
        Ops.cpu().resizeArea(in, inOff, C, H, W, out, outOff, oh, ow);
        hostWrote(out, outOff, C * oh * ow);
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        for (long[] w : weights.values()) {
            clReleaseMemObject(w[0]);
            if (w[1] != 0) clReleaseMemObject(w[1]);
        }
        weights.clear();
        for (long c : constants.values()) clReleaseMemObject(c);
        constants.clear();
        for (long[] s : scratch.values()) clReleaseMemObject(s[0]);
        scratch.clear();
        for (long[] box : residentBuffers) {
            clReleaseMemObject(box[0]);
            box[0] = 0;
        }
        residentBuffers.clear();
        resident.clear();
        clReleaseMemObject(dummy);
        for (long k : kernels) clReleaseKernel(k);
        kernels.clear();
        clReleaseProgram(program);
        clReleaseCommandQueue(queue);
        clReleaseContext(context);
        arena.close();
    }

    // ----------------------------------------------------------------------------------------------------- helpers

    /** The GEMM with B's elements in format {@code bFormat} (16-bit: a linear layer's weight uploaded as such). */
    private void runGemm(
            WeightPanels.Format bFormat,
            int M,
            int N,
            int K,
            long a,
            long aOff,
            int sam,
            int sak,
            long b,
            long bOff,
            int sbk,
            int sbn,
            long c,
            long cOff,
            int ldc,
            long bias,
            int biasMode,
            Activation act,
            boolean accumulate) {
        long kernel = switch (bFormat) {
            case F32 -> tiles.localMemory() ? kGemm : kGemmDirect;
            case FP16 -> tiles.localMemory() ? kGemmFp16 : kGemmDirectFp16;
            case BF16 -> tiles.localMemory() ? kGemmBf16 : kGemmDirectBf16;
        };
        args(
                kernel,
                M,
                N,
                K,
                a,
                aOff,
                sam,
                sak,
                b,
                bOff,
                sbk,
                sbn,
                c,
                cOff,
                ldc,
                bias,
                biasMode,
                code(act),
                accumulate ? 1 : 0);
        if (!tiles.localMemory()) {
            runNd(kernel, new long[] {roundUp(N, tiles.tsn()), (M + tiles.wptm() - 1) / tiles.wptm()}, new long[] {
                tiles.tsn(), 1
            });
            return;
        }
        int rm = tiles.tsm() / tiles.wptm(), rn = tiles.tsn() / tiles.wptn();
        long gm = (long) ((M + tiles.tsm() - 1) / tiles.tsm()) * rm,
                gn = (long) ((N + tiles.tsn() - 1) / tiles.tsn()) * rn;
        runNd(kernel, new long[] {gm, gn}, new long[] {rm, rn});
    }

    private static int code(Activation act) {
        return switch (act) {
            case NONE -> 0;
            case GELU_TANH -> 1;
            case GELU_ERF -> 2;
            case SILU -> 3;
            case RELU -> 4;
        };
    }

    /**
     * The device copy of a layer's weight and bias, uploaded on first use: float32, or for a linear layer in a 16-bit
     * format its weight as 16-bit elements (what the {@code gemm_fp16}/{@code gemm_bf16} kernels read), rounded as
     * {@link Linear#w} gives it.
     */
    private long[] weights(Object layer) {
        long[] w = weights.get(layer);
        if (w != null) return w;
        MemorySegment weight;
        float[] bias;
        long n;
        WeightPanels.Format format = WeightPanels.Format.F32;
        String at = "";
        if (layer instanceof Linear lin) {
            weight = lin.weight();
            bias = lin.bias();
            n = (long) lin.out() * lin.in();
            format = lin.format();
            at = "a [" + lin.out() + ", " + lin.in() + "] weight";
        } else {
            Conv2d conv = (Conv2d) layer;
            weight = conv.weight();
            bias = conv.bias();
            n = (long) conv.cout() * conv.cin() * conv.kh() * conv.kw();
        }
        long bw;
        if (format == WeightPanels.Format.F32) {
            MemorySegment s = staging(n);
            MemorySegment.copy(weight, 0, s, 0, n * Float.BYTES);
            bw = create(n);
            write(bw, s, n);
        } else {
            MemorySegment s = staging((n + 1) / 2);
            for (long i = 0; i < n; i++) {
                s.setAtIndex(
                        ValueLayout.JAVA_SHORT_UNALIGNED, i, WeightPanels.to16(weight.getAtIndex(F32, i), format, at));
            }
            bw = createBytes(n * 2);
            writeBytes(bw, s, n * 2);
        }
        long bb = 0;
        if (bias != null) {
            bb = create(bias.length);
            MemorySegment sb = staging(bias.length);
            MemorySegment.copy(bias, 0, sb, F32, 0, bias.length);
            write(bb, sb, bias.length);
        }
        weightBytes += deviceBytes(bw) + (bb == 0 ? 0 : deviceBytes(bb));
        w = new long[] {bw, bb};
        weights.put(layer, w);
        return w;
    }

    /** The size of a device buffer as the device reports it. */
    private static long deviceBytes(long buf) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer size = stack.mallocPointer(1);
            check(clGetMemObjectInfo(buf, CL_MEM_SIZE, size, null), "clGetMemObjectInfo");
            return size.get(0);
        }
    }

    private long create(long floats) {
        return createBytes(floats * Float.BYTES);
    }

    private long createBytes(long bytes) {
        if (closed) throw new IllegalStateException("this OpenCL backend is closed");
        try (MemoryStack stack = MemoryStack.stackPush()) {
            var err = stack.mallocInt(1);
            long buf = clCreateBuffer(context, CL_MEM_READ_WRITE, Math.max(4, bytes), err);
            check(err.get(0), "clCreateBuffer of " + bytes + " bytes");
            return buf;
        }
    }

    /** A scratch buffer of at least {@code floats} elements, reused between calls. */
    private long slot(String name, long floats) {
        long bytes = Math.max(4, floats * Float.BYTES);
        long[] s = scratch.get(name);
        if (s != null && s[1] >= bytes) return s[0];
        if (s != null) clReleaseMemObject(s[0]);
        long grown = Math.max(bytes, s == null ? 0 : s[1] + s[1] / 2);
        long buf = create(grown / Float.BYTES);
        scratch.put(name, new long[] {buf, grown});
        return buf;
    }

    private MemorySegment staging(long floats) {
        long bytes = Math.max(4, floats * Float.BYTES);
        if (staging.byteSize() < bytes) staging = arena.allocate(Math.max(bytes, staging.byteSize() * 3 / 2), 64);
        return staging;
    }

    private long upload(String name, float[] a, int off, long n) {
        long buf = slot(name, n);
        if (n > 0) {
            MemorySegment s = staging(n);
            MemorySegment.copy(a, off, s, F32, 0, (int) n);
            write(buf, s, n);
        }
        return buf;
    }

    /**
     * The device copy of a table that never changes once made (a rotary table, a codebook: both immutable by
     * contract), uploaded on first use and kept, by array identity, until {@link #close}.
     */
    private long constant(float[] table) {
        Long buf = constants.get(table);
        if (buf != null) return buf;
        long b = create(table.length);
        MemorySegment s = staging(table.length);
        MemorySegment.copy(table, 0, s, F32, 0, table.length);
        write(b, s, table.length);
        constants.put(table, b);
        return b;
    }

    private long uploadInts(String name, int[] a, int n) {
        return uploadInts(name, a, 0, n);
    }

    private long uploadInts(String name, int[] a, int off, int n) {
        long buf = slot(name, n);
        if (n > 0) {
            MemorySegment s = staging(n);
            MemorySegment.copy(a, off, s, ValueLayout.JAVA_INT_UNALIGNED, 0, n);
            write(buf, s, n);
        }
        return buf;
    }

    private long upload(String name, MemorySegment a, long byteOff, long n) {
        long buf = slot(name, n);
        if (n > 0) {
            MemorySegment s = staging(n);
            MemorySegment.copy(a, byteOff, s, 0, n * Float.BYTES);
            write(buf, s, n);
        }
        return buf;
    }

    private void download(long buf, float[] a, int off, long n) {
        if (n == 0) return;
        MemorySegment s = read(buf, n);
        MemorySegment.copy(s, F32, 0, a, off, (int) n);
    }

    private void write(long buf, MemorySegment from, long floats) {
        writeBytes(buf, from, floats * Float.BYTES);
    }

    private void writeBytes(long buf, MemorySegment from, long bytes) {
        if (closed) throw new IllegalStateException("this OpenCL backend is closed");
        bytesToDevice += bytes;
        check(nclEnqueueWriteBuffer(queue, buf, CL_TRUE, 0, bytes, from.address(), 0, 0, 0), "clEnqueueWriteBuffer");
    }

    private MemorySegment read(long buf, long floats) {
        MemorySegment s = staging(floats);
        bytesFromDevice += floats * Float.BYTES;
        check(
                nclEnqueueReadBuffer(queue, buf, CL_TRUE, 0, floats * Float.BYTES, s.address(), 0, 0, 0),
                "clEnqueueReadBuffer");
        return s;
    }

    /**
     * Sets a kernel's arguments: Long (buffers and long offsets: use {@link #args} with boxed long), Integer, Float.
     */
    private static void args(long kernel, Object... values) {
        for (int i = 0; i < values.length; i++) {
            Object v = values[i];
            int err = switch (v) {
                case Integer x -> clSetKernelArg1i(kernel, i, x);
                case Float x -> clSetKernelArg1f(kernel, i, x);
                case Long x -> clSetKernelArg1p(kernel, i, x); // cl_mem handles and cl_long offsets are both 8 bytes
                default -> throw new IllegalArgumentException(String.valueOf(v));
            };
            check(err, "clSetKernelArg " + i);
        }
    }

    private void run(long kernel, long global, long local) {
        runNd(kernel, new long[] {global}, new long[] {local});
    }

    private void run2(long kernel, int cols, int rows) {
        runNd(kernel, new long[] {roundUp(cols, 64), rows}, new long[] {64, 1});
    }

    private void runNd(long kernel, long[] global, long[] local) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer g = stack.mallocPointer(global.length), l = stack.mallocPointer(local.length);
            for (int i = 0; i < global.length; i++) {
                g.put(i, global[i]);
                l.put(i, local[i]);
            }
            check(
                    clEnqueueNDRangeKernel(queue, kernel, global.length, null, g, l, null, null),
                    "clEnqueueNDRangeKernel");
        }
    }

    private static long roundUp(long n, long m) {
        return (n + m - 1) / m * m;
    }

    private long kernel(String name) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            var err = stack.mallocInt(1);
            long k = clCreateKernel(program, name, err);
            check(err.get(0), "clCreateKernel " + name);
            kernels.add(k);
            return k;
        }
    }

    private static String source() {
        try (InputStream in = OpenClOps.class.getResourceAsStream("kernels.cl")) {
            if (in == null) throw new TesseraException("kernels.cl is missing from the tessera-opencl jar");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new TesseraException("cannot read kernels.cl from the tessera-opencl jar: " + e.getMessage(), e);
        }
    }

    /** One line for the user; the whole build log in a file they can read. */
    private TesseraException buildFailure(int err) {
        String log;
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer size = stack.mallocPointer(1);
            clGetProgramBuildInfo(program, device.id(), CL_PROGRAM_BUILD_LOG, (ByteBuffer) null, size);
            ByteBuffer buf = MemoryUtil.memAlloc((int) size.get(0));
            try {
                clGetProgramBuildInfo(program, device.id(), CL_PROGRAM_BUILD_LOG, buf, null);
                log = MemoryUtil.memUTF8(buf, Math.max(0, (int) size.get(0) - 1));
            } finally {
                MemoryUtil.memFree(buf);
            }
        }
        String where;
        try {
            Path file = Files.createTempFile("tessera-opencl-build-", ".log");
            Files.writeString(file, "device: " + device.name() + "\noptions: " + tiles.buildOptions() + "\n\n" + log);
            where = "build log in " + file;
        } catch (IOException e) {
            where = "the build log could not be written: " + e.getMessage();
        }
        clReleaseProgram(program);
        clReleaseCommandQueue(queue);
        clReleaseContext(context);
        return new TesseraException(
                "the OpenCL kernels failed to build for " + device.name() + " (error " + err + "); " + where);
    }

    static void check(int err, String what) {
        if (err == CL_SUCCESS) return;
        String meaning = switch (err) {
            case CL_MEM_OBJECT_ALLOCATION_FAILURE, CL_OUT_OF_RESOURCES -> "out of device memory";
            case CL_OUT_OF_HOST_MEMORY -> "out of host memory";
            case CL_INVALID_WORK_GROUP_SIZE ->
                "work-group size not supported by the device (override with -Dtessera.opencl.*)";
            case CL_DEVICE_NOT_FOUND -> "no such device";
            default -> "OpenCL error " + err;
        };
        throw new TesseraException(what + " failed: " + meaning);
    }
}
