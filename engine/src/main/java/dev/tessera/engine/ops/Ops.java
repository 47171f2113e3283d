package dev.tessera.engine.ops;

import dev.tessera.engine.nn.Conv2d;
import dev.tessera.engine.nn.GroupNorm;
import dev.tessera.engine.nn.Linear;
import dev.tessera.engine.nn.Rope2d;
import java.lang.foreign.MemorySegment;

/**
 * The compute backend: every numeric kernel the models use. Activations are float32 arrays addressed by offsets;
 * weights are float32 segments (usually views of a checkpoint mapping).
 *
 * <p>{@link ReferenceOps} is the readable oracle; {@link CpuOps} is the vectorised, multi-threaded
 * implementation held to it by tests. Layouts follow PyTorch: token activations are row-major {@code [rows, C]},
 * images are {@code [C, H, W]} per sample.
 *
 * <p><b>Activations held by the backend.</b> Models and tokenizers take their work arrays from {@link #allocate}. An
 * accelerator may keep such an array's current values on the device between calls: a result an op writes into it
 * may stay there, so the host copy (the {@code float[]} itself) is stale until {@link #toHost}, and a value the host
 * writes into it reaches the device only once {@link #hostWrote} says so. The contract, for arrays from
 * {@code allocate} (any other array is read and written in place by every call, as before):
 * <ul>
 *   <li>before host code reads elements that an op may have written, it calls {@code toHost} for them;
 *   <li>after host code writes elements (and before the next op reads them), it calls {@code hostWrote} for them;
 *   <li>ops read and write such arrays through the backend's copy, so a chain of ops needs neither call.
 * </ul>
 * On the CPU backends the array is the only copy: {@code allocate} is {@code new float[n]} and the other two do
 * nothing. A test backend that fills stale host copies with NaN holds the models to the contract on the CPU.
 */
public interface Ops {

    /** A short name for logs ("reference", "cpu"). */
    String name();

    /**
     * Bytes of device memory that the layers' weights uploaded so far take (each layer's once); 0 for the host
     * backends, whose weights stay in host memory.
     */
    default long deviceWeightBytes() {
        return 0;
    }

    /**
     * {@code C[m, n] (+)= Σ_k A[m, k]·B[k, n]} for m < M, n < N, k < K, with row-major operands: A at
     * {@code a[aOff + m·lda + k]} (float32 elements of the segment), B at {@code b[bOff + k·ldb + n]}, C at
     * {@code c[cOff + m·ldc + n]}. With {@code accumulate} false, C is overwritten.
     */
    void gemm(
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
            boolean accumulate);

    /** {@code y[m, :] = act(x[m, :]·Wᵀ + bias)} for M rows: x is {@code [M, w.in]}, y is {@code [M, w.out]}. */
    void linear(float[] x, int xOff, int M, Linear w, float[] y, int yOff, Activation act);

    /**
     * LayerNorm without affine parameters over rows of width C, optionally followed by AdaLN modulation:
     * {@code out[r, c] = LN(x[r, :])[c]·(1 + mod[g·modStride + scaleOff + c]) + mod[g·modStride + shiftOff + c]}
     * with {@code g = r / rowsPerGroup}. Pass {@code mod == null} for a plain LayerNorm.
     */
    void layerNorm(
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
            int rowsPerGroup);

    /**
     * RMSNorm over rows of width C: {@code out = x · rsqrt(mean(x²) + eps) · weight} (weight may be null for none),
     * computed in float32 as PyTorch's LlamaGen/FlowAR modules do.
     */
    void rmsNorm(float[] x, int xOff, float[] out, int outOff, int rows, int C, float eps, float[] weight);

    /**
     * AdaLN modulation in place over rows of width C:
     * {@code x[r, c] = x[r, c]·(1 + mod[g·modStride + scaleOff + c]) + mod[g·modStride + shiftOff + c]} with
     * {@code g = r / rowsPerGroup} (1 for per-token modulation, the tokens of a sample for per-sample modulation).
     */
    void modulate(
            float[] x,
            int xOff,
            int rows,
            int C,
            float[] mod,
            int modStride,
            int scaleOff,
            int shiftOff,
            int rowsPerGroup);

    /**
     * Gated residual: {@code x[r, c] += y[r, c]·mod[g·modStride + gammaOff + c]} with {@code g = r / rowsPerGroup};
     * with {@code mod == null}, a plain {@code x += y}.
     */
    void addGated(
            float[] x,
            int xOff,
            float[] y,
            int yOff,
            int rows,
            int C,
            float[] mod,
            int modStride,
            int gammaOff,
            int rowsPerGroup);

    /** {@code x[off .. off+n) = act(x)} in place. */
    void activate(float[] x, int off, int n, Activation act);

    /** Softmax of {@code x[off .. off+n)} in place (max-subtracted, float32). */
    void softmax(float[] x, int off, int n);

    /**
     * Multi-head attention of new queries against a key/value cache, for B sequences and H heads of size d:
     * <pre>
     *   out[b, i, h·d + e] = Σ_t softmax_t(scale[h] · q_{b,i,h} · k_{b,h,t}) · v[b, h, t, e]     t < T
     * </pre>
     * Queries are {@code q[qOff + (b·l + i)·ldq + h·d + e]}; keys are stored transposed,
     * {@code kT[((b·H + h)·d + e)·tMax + t]}; values {@code v[((b·H + h)·tMax + t)·d + e]}; the result goes to
     * {@code out[outOff + (b·l + i)·ldo + h·d + e]}. The l queries are the last l of the T cached positions.
     * Without {@code causal} every query sees all T keys (VAR's block-causal inference, NAR's diagonals); with it,
     * query i sees the keys before it and itself, {@code t < T − l + i + 1} (raster decoding, speculative
     * verification of a chain of drafts).
     */
    void attention(
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
            int ldo);

    // ------------------------------------------------------------ per-element steps between the matrix products

    /**
     * Rotary position embedding in place: row r (its heads at {@code off + r·ld + h·hd}, hd =
     * {@link Rope2d#headDim()}) turns by the angles of sequence position {@code positions[r mod period]}; see
     * {@link Rope2d#rotate}.
     */
    void rotary(float[] x, int off, int ld, int rows, int heads, Rope2d rope, int[] positions, int period);

    /**
     * {@code F.normalize(x, dim=-1)} of each head of size d in place, then times {@code mul[h]} (null for none):
     * {@code x[r, h·d + j] ← x[r, h·d + j] / max(‖x[r, h]‖₂, 1e-12) · mul[h]}, row r at {@code off + r·ld}, the
     * squares summed in order in float32.
     */
    void l2NormalizeHeads(float[] x, int off, int ld, int rows, int heads, int d, float[] mul);

    /**
     * The gated product of a GLU MLP: {@code out[r, j] = act(g[r, j]) · u[r, j]} for j < n, with row strides ldg,
     * ldu and ldo ({@code out} may be {@code g}).
     */
    void gatedProduct(
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
            int ldo);

    /**
     * Adds one table of n rows of width C to each of {@code count} blocks of n rows:
     * {@code x[xOff + (b·n + t)·C + c] += table[tableOff + t·C + c]} (position and level embeddings, a shared bias).
     */
    void addBroadcast(float[] x, int xOff, int count, int n, int C, float[] table, int tableOff);

    /** Per-channel scale and shift in place over rows of width C: {@code x[r, c] = x[r, c]·w[c] + b[c]}. */
    void affine(float[] x, int off, int rows, int C, float[] w, float[] b);

    /** {@code y[i] = x[i]·a + y[i]·b} for i < n (two products, then their sum). */
    void blend(float[] x, int xOff, float a, float[] y, int yOff, float b, int n);

    /** {@code x[i] = max(lo, min(hi, x[i]))} in place (NaN stays NaN). */
    void clamp(float[] x, int off, int n, float lo, float hi);

    /**
     * {@code out[outOff + i] = (x[xOff + i] + y[yOff + i]) / 2} for i < n: the sum rounded to float32, then halved
     * (NAR's mix of its two heads' logits, the below head's as x). Every backend gives the same bits: halving a float
     * is multiplying it by 0.5, both one correctly rounded operation on the same value. {@code out} may be {@code x}
     * or {@code y} at the same offset (in place); its range overlaps theirs in no other way.
     */
    void average(float[] x, int xOff, float[] y, int yOff, float[] out, int outOff, int n);

    /**
     * A VQ codebook lookup into a feature map: {@code out[outOff + c·n + t] = codebook[tokens[tokOff + t]·C + c]} for
     * the n tokens of one map {@code [C, n]}. The tokens must be valid indices (callers check them); the codebook
     * must not change once used (an accelerator keeps its copy).
     */
    void lookupCodes(float[] codebook, int C, int[] tokens, int tokOff, int n, float[] out, int outOff);

    /**
     * A VQ encoder's nearest-code search: for each of the n columns of {@code z [C, n]} (at {@code zOff}), the index
     * of the nearest of the K codebook rows ({@code codebook [K, C]}) into {@code out[outOff + t]}, by
     * {@code (‖z‖² + norms[k]) − 2·z·e_k} with both sums taken over c in order, the first index on ties (numpy's
     * argmin); a column whose distances are all NaN gets 0. {@code norms[k]} is ‖e_k‖² summed in the same order. The
     * codebook and norms must not change once used (an accelerator keeps its copy).
     */
    void nearestCodes(float[] z, int zOff, int C, int n, float[] codebook, float[] norms, int K, int[] out, int outOff);

    // ------------------------------------------------------------------------------------------- moving values

    /**
     * {@code dst[dstOff + i] = src[srcOff + i]} for i < n, bit for bit: where the backend holds the arrays, the copy
     * stays there (no round trip through the host). When {@code src} is {@code dst} the two ranges must not overlap.
     */
    void copy(float[] src, int srcOff, float[] dst, int dstOff, int n);

    /**
     * Rows of width C moved bit for bit, {@code dst[dstOff + dstRows[i]·C + c] = src[srcOff + srcRows[i]·C + c]} for
     * i < n: a gather, a scatter or a repeated row. {@code src} is not {@code dst}, and no destination row comes twice.
     */
    void copyRows(float[] src, int srcOff, int[] srcRows, float[] dst, int dstOff, int[] dstRows, int n, int C);

    /**
     * {@code t[tOff + c·rows + r] = a[aOff + r·cols + c]}: the matrix {@code [rows, cols]} at aOff written as
     * {@code [cols, rows]} at tOff, bit for bit. {@code a} is not {@code t}.
     */
    void transpose(float[] a, int aOff, int rows, int cols, float[] t, int tOff);

    /** The checks every backend makes before {@link #copy}. */
    static void checkCopy(float[] src, int srcOff, float[] dst, int dstOff, int n) {
        if (n < 0 || srcOff < 0 || dstOff < 0 || srcOff + n > src.length || dstOff + n > dst.length) {
            throw new IndexOutOfBoundsException(
                    "copy of " + n + " from " + srcOff + " of " + src.length + " to " + dstOff + " of " + dst.length);
        }
        if (src == dst && srcOff < dstOff + n && dstOff < srcOff + n && n > 0 && srcOff != dstOff) {
            throw new IllegalArgumentException("copy between overlapping ranges of one array");
        }
    }

    /** The checks every backend makes before {@link #average}. */
    static void checkAverage(float[] x, int xOff, float[] y, int yOff, float[] out, int outOff, int n) {
        if (n < 0
                || xOff < 0
                || yOff < 0
                || outOff < 0
                || xOff + n > x.length
                || yOff + n > y.length
                || outOff + n > out.length) {
            throw new IndexOutOfBoundsException("average of " + n + " at " + xOff + " of " + x.length + " and " + yOff
                    + " of " + y.length + " into " + outOff + " of " + out.length);
        }
        if (n > 0 && (overlapsElsewhere(x, xOff, out, outOff, n) || overlapsElsewhere(y, yOff, out, outOff, n))) {
            throw new IllegalArgumentException("average into a range that overlaps an input's at another offset");
        }
    }

    private static boolean overlapsElsewhere(float[] a, int aOff, float[] b, int bOff, int n) {
        return a == b && aOff != bOff && aOff < bOff + n && bOff < aOff + n;
    }

    /** The check of {@link #copyRows} and {@link #transpose}: two distinct arrays. */
    static void checkDistinct(float[] a, float[] b) {
        if (a == b) throw new IllegalArgumentException("source and destination are the same array");
    }

    // ----------------------------------------------------------------------------- activations held by the backend

    /**
     * A zeroed work array of n floats whose current values this backend may keep where it computes (see the class
     * comment). The default, and the CPU backends: {@code new float[n]}.
     */
    default float[] allocate(int n) {
        return new float[n];
    }

    /**
     * Host code is about to read {@code x[off .. off+n)}: brings the backend's newer values of an array from
     * {@link #allocate} into it. Does nothing for other arrays, and on the CPU backends.
     */
    default void toHost(float[] x, int off, int n) {}

    /** {@link #toHost} of the whole array. */
    default void toHost(float[] x) {
        toHost(x, 0, x.length);
    }

    /**
     * Host code has written {@code x[off .. off+n)}: the next op that reads an array from {@link #allocate} there
     * uses the host's values. Does nothing for other arrays, and on the CPU backends.
     */
    default void hostWrote(float[] x, int off, int n) {}

    /** {@link #hostWrote} of the whole array. */
    default void hostWrote(float[] x) {
        hostWrote(x, 0, x.length);
    }

    // ------------------------------------------------------------------------------------------ key/value caches

    /**
     * Storage for the keys and values of {@code layers} attention layers, {@code rows} sequences, {@code heads}
     * heads of size {@code headDim} and {@code capacity} positions, held where this backend computes (the default:
     * host arrays in {@link #attention}'s layout).
     */
    default KvStorage allocateKv(int layers, int rows, int heads, int headDim, int capacity) {
        return new HostKvStorage(layers, rows, heads, headDim, capacity);
    }

    /**
     * Gives back the memory of {@code kv} now (device memory on an accelerator; nothing to do for host arrays, the
     * default). Storage that is never released is reclaimed once it is unreachable.
     */
    default void releaseKv(KvStorage kv) {}

    /**
     * Writes the keys and values of n new positions of the first {@code rows} sequences into {@code layer} at
     * positions {@code [at, at + n)}: the key of sequence b's token t, head h, element e is
     * {@code src[srcOff + (b·n + t)·ld + kOff + h·d + e]}, its value the same at {@code vOff}.
     */
    default void storeKv(
            KvStorage kv, int layer, int rows, int at, float[] src, int srcOff, int ld, int kOff, int vOff, int n) {
        ((HostKvStorage) kv).store(layer, rows, at, src, srcOff, ld, kOff, vOff, n);
    }

    /**
     * {@link #attention} of the l new queries of the first {@code rows} sequences over the first T positions of
     * {@code layer} in {@code kv}.
     */
    default void attendKv(
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
        HostKvStorage h = (HostKvStorage) kv;
        attention(
                rows,
                kv.heads(),
                l,
                kv.headDim(),
                q,
                qOff,
                ldq,
                h.kT[layer],
                h.v[layer],
                kv.capacity(),
                T,
                causal,
                scale,
                out,
                outOff,
                ldo);
    }

    /** One image: {@code in [cin, H, W]} to {@code out [cout, Ho, Wo]}, bias added. */
    void conv2d(float[] in, int inOff, int H, int W, Conv2d conv, float[] out, int outOff);

    /** GroupNorm of one image {@code x [C, HW]} (affine), optionally followed by SiLU. */
    void groupNorm(float[] x, int xOff, int C, int HW, GroupNorm gn, boolean silu, float[] out, int outOff);

    /** Nearest-neighbour ×2 upsampling of {@code in [C, H, W]} into {@code out [C, 2H, 2W]}. */
    void upsampleNearest2x(float[] in, int inOff, int C, int H, int W, float[] out, int outOff);

    /** {@code F.interpolate(mode='bicubic', align_corners=False)} of {@code [C, H, W]} to {@code [C, oh, ow]}. */
    void resizeBicubic(float[] in, int inOff, int C, int H, int W, float[] out, int outOff, int oh, int ow);

    /** {@code F.interpolate(mode='area')} (adaptive average pooling) of {@code [C, H, W]} to {@code [C, oh, ow]}. */
    void resizeArea(float[] in, int inOff, int C, int H, int W, float[] out, int outOff, int oh, int ow);

    /** The default backend for this machine. */
    static Ops cpu() {
        return CpuOps.INSTANCE;
    }

    /** The scalar reference backend. */
    static Ops reference() {
        return ReferenceOps.INSTANCE;
    }
}
