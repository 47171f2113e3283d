// Tessera's kernels in OpenCL C 1.2. Built at run time with the tile sizes chosen for the device (-D options).
// Layouts and semantics are those of dev.tessera.engine.ops.Ops; ReferenceOps is the oracle they are tested against.

#ifndef TSM
#define TSM 32      // rows of C per work-group tile
#endif
#ifndef TSN
#define TSN 32      // columns of C per work-group tile
#endif
#ifndef TSK
#define TSK 16      // depth of one local-memory step
#endif
#ifndef WPTM
#define WPTM 4      // rows of C per work-item (register tile)
#endif
#ifndef WPTN
#define WPTN 4      // columns of C per work-item
#endif
#ifndef RED_WG
#define RED_WG 64   // work-group size of the row reductions (a power of two)
#endif
#define RTSM (TSM / WPTM)
#define RTSN (TSN / WPTN)

// Activation codes: 0 none, 1 GELU (tanh), 2 GELU (erf), 3 SiLU, 4 ReLU.
inline float act_apply(float x, int act) {
    switch (act) {
        case 1: return 0.5f * x * (1.0f + tanh(0.7978845608028654f * (x + 0.044715f * x * x * x)));
        case 2: return 0.5f * x * (1.0f + erf(x * 0.7071067811865476f));
        case 3: return x / (1.0f + exp(-x));
        case 4: return x > 0.0f ? x : (isnan(x) ? x : 0.0f);
        default: return x;
    }
}

// Sum (or max) of one value per work-item over a work-group of RED_WG items; every item gets the result.
inline float group_sum(float v, __local float* red) {
    int lid = get_local_id(0);
    red[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = RED_WG / 2; s > 0; s >>= 1) {
        if (lid < s) red[lid] += red[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float r = red[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

inline float group_max(float v, __local float* red) {
    int lid = get_local_id(0);
    red[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = RED_WG / 2; s > 0; s >>= 1) {
        if (lid < s) red[lid] = fmax(red[lid], red[lid + s]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float r = red[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

// ---- GEMMs. C[m, n] = act((accumulate ? C[m, n] : 0) + Σ_k A[m, k]·B[k, n] + bias), with A(m, k) =
// A[aOff + m·sam + k·sak], B(k, n) = B[bOff + k·sbk + n·sbn], C(m, n) = C[cOff + m·ldc + n]; bias per column
// (biasMode 1) or per row (2). Sums in float32. B is float32 (fmt 0) or a linear layer's [out, in] weight in 16 bits
// (--weights fp16 or bf16), widened to float32 as it is read, exactly (both formats are subsets of float32):
// fmt 1 is IEEE half, read with vload_half (core OpenCL C: no cl_khr_fp16 needed to load), fmt 2 is bfloat16, the
// high 16 bits of a float32. One body per product serves the three formats: each kernel passes its fmt as a
// constant, so the compiler builds it for that format alone.

inline float load_b(__global const void* B, long i, const int fmt) {
    if (fmt == 1) return vload_half(i, (__global const half*) B);
    if (fmt == 2) return as_float(((uint) ((__global const ushort*) B)[i]) << 16);
    return ((__global const float*) B)[i];
}

// act(acc + bias (+ C)) into C(m, n).
inline void gemm_store(__global float* C, long ci, float v, int m, int n,
                       __global const float* bias, int biasMode, int act, int accumulate) {
    if (biasMode == 1) v += bias[n];
    else if (biasMode == 2) v += bias[m];
    if (accumulate) v += C[ci];
    C[ci] = act_apply(v, act);
}

#define GEMM_ARGS(BT) int M, int N, int K, __global const float* A, long aOff, int sam, int sak, \
    __global const BT* B, long bOff, int sbk, int sbn, __global float* C, long cOff, int ldc, \
    __global const float* bias, int biasMode, int act, int accumulate
#define GEMM_PASS M, N, K, A, aOff, sam, sak, B, bOff, sbk, sbn, C, cOff, ldc, bias, biasMode, act, accumulate

// The tiled product, for GPUs: a work-group computes a TSM x TSN tile of C through TSK-deep tiles of A and B in
// local memory; each work-item keeps a WPTM x WPTN register tile, its rows and columns strided by RTSM and RTSN.
// Edges are zero-padded. The local rows are one float longer than the tile: when a tile is filled along k (a
// weight's unit stride), neighbouring work-items then write to different memory banks.
inline void gemm_tiled(GEMM_ARGS(void), __local float (*As)[TSM + 1], __local float (*Bs)[TSN + 1], const int fmt) {
    const int tm = get_local_id(0), tn = get_local_id(1);
    const int m0 = get_group_id(0) * TSM, n0 = get_group_id(1) * TSN;
    const int lid = tn * RTSM + tm, threads = RTSM * RTSN;
    float acc[WPTM][WPTN];
    for (int i = 0; i < WPTM; i++)
        for (int j = 0; j < WPTN; j++) acc[i][j] = 0.0f;

    for (int k0 = 0; k0 < K; k0 += TSK) {
        // neighbouring work-items read neighbouring addresses: along k when k is the unit stride, else along m/n
        for (int i = lid; i < TSK * TSM; i += threads) {
            int kk, mm;
            if (sak == 1) { mm = i / TSK; kk = i % TSK; } else { kk = i / TSM; mm = i % TSM; }
            int m = m0 + mm, k = k0 + kk;
            As[kk][mm] = (m < M && k < K) ? A[aOff + (long) m * sam + (long) k * sak] : 0.0f;
        }
        for (int i = lid; i < TSK * TSN; i += threads) {
            int kk, nn;
            if (sbn == 1) { kk = i / TSN; nn = i % TSN; } else { nn = i / TSK; kk = i % TSK; }
            int n = n0 + nn, k = k0 + kk;
            Bs[kk][nn] = (n < N && k < K) ? load_b(B, bOff + (long) k * sbk + (long) n * sbn, fmt) : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int kk = 0; kk < TSK; kk++) {
            float a[WPTM], b[WPTN];
            for (int i = 0; i < WPTM; i++) a[i] = As[kk][tm + i * RTSM];
            for (int j = 0; j < WPTN; j++) b[j] = Bs[kk][tn + j * RTSN];
            for (int i = 0; i < WPTM; i++)
                for (int j = 0; j < WPTN; j++) acc[i][j] = fma(a[i], b[j], acc[i][j]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    for (int i = 0; i < WPTM; i++) {
        int m = m0 + tm + i * RTSM;
        if (m >= M) continue;
        for (int j = 0; j < WPTN; j++) {
            int n = n0 + tn + j * RTSN;
            if (n < N) gemm_store(C, cOff + (long) m * ldc + n, acc[i][j], m, n, bias, biasMode, act, accumulate);
        }
    }
}

// The same product without local memory, for CPU devices (PoCL), whose caches do the blocking: a work-item computes
// WPTM rows of one column n, so neighbouring work-items (which PoCL runs as SIMD lanes) read neighbouring columns.
inline void gemm_direct_body(GEMM_ARGS(void), const int fmt) {
    const int n = get_global_id(0), m0 = get_global_id(1) * WPTM;
    if (n >= N) return;
    float acc[WPTM];
    for (int i = 0; i < WPTM; i++) acc[i] = 0.0f;
    const int rows = min(WPTM, M - m0);
    const long bn = bOff + (long) n * sbn;
    __global const float* ap = A + aOff + (long) m0 * sam;
    if (rows == WPTM && sak == 1) {
        // the common layouts (a weight [M, K] times an activation or im2col panel [K, N]): unit strides spelled out
        for (int k = 0; k < K; k++) {
            const float b = load_b(B, bn + (long) k * sbk, fmt);
            for (int i = 0; i < WPTM; i++) acc[i] = fma(ap[(long) i * sam + k], b, acc[i]);
        }
    } else if (rows == WPTM) {
        for (int k = 0; k < K; k++) {
            const float b = load_b(B, bn + (long) k * sbk, fmt);
            for (int i = 0; i < WPTM; i++) acc[i] = fma(ap[(long) i * sam + (long) k * sak], b, acc[i]);
        }
    } else {
        for (int k = 0; k < K; k++) {
            const float b = load_b(B, bn + (long) k * sbk, fmt);
            for (int i = 0; i < rows; i++) acc[i] = fma(ap[(long) i * sam + (long) k * sak], b, acc[i]);
        }
    }
    for (int i = 0; i < rows; i++)
        gemm_store(C, cOff + (long) (m0 + i) * ldc + n, acc[i], m0 + i, n, bias, biasMode, act, accumulate);
}

#define GEMM_KERNELS(SUFFIX, BT, FMT)                                                                                 \
    __kernel __attribute__((reqd_work_group_size(RTSM, RTSN, 1))) void gemm##SUFFIX(GEMM_ARGS(BT)) {                  \
        __local float As[TSK][TSM + 1];                                                                               \
        __local float Bs[TSK][TSN + 1];                                                                               \
        gemm_tiled(GEMM_PASS, As, Bs, FMT);                                                                           \
    }                                                                                                                 \
    __kernel void gemm_direct##SUFFIX(GEMM_ARGS(BT)) {                                                                \
        gemm_direct_body(GEMM_PASS, FMT);                                                                             \
    }

GEMM_KERNELS(, float, 0)
GEMM_KERNELS(_fp16, ushort, 1)
GEMM_KERNELS(_bf16, ushort, 2)

// One work-group per row: LayerNorm without affine, then optional AdaLN modulation (see Ops.layerNorm). In place
// (out and x the same range) is safe here, in rms_norm and in group_norm: an element is written only by the item that
// reads it, after the reductions.
// Element offsets (xOff, oOff here and in the kernels below) let a kernel use a range of a larger buffer in place.
__kernel __attribute__((reqd_work_group_size(RED_WG, 1, 1)))
void layer_norm(__global const float* x, long xOff, __global float* out, long oOff, int C, float eps,
                __global const float* mod, int hasMod, int modStride, int scaleOff, int shiftOff, int rowsPerGroup) {
    __local float red[RED_WG];
    const int r = get_group_id(0), lid = get_local_id(0);
    __global const float* xr = x + xOff + (long) r * C;
    float s = 0.0f;
    for (int c = lid; c < C; c += RED_WG) s += xr[c];
    const float mean = group_sum(s, red) / C;
    float v = 0.0f;
    for (int c = lid; c < C; c += RED_WG) { float d = xr[c] - mean; v += d * d; }
    const float inv = 1.0f / sqrt(group_sum(v, red) / C + eps);
    const long g = hasMod ? (long) (r / rowsPerGroup) * modStride : 0;
    for (int c = lid; c < C; c += RED_WG) {
        float y = (xr[c] - mean) * inv;
        if (hasMod) y = y * (1.0f + mod[g + scaleOff + c]) + mod[g + shiftOff + c];
        out[oOff + (long) r * C + c] = y;
    }
}

// One work-group per row: x · rsqrt(mean(x²) + eps) · weight.
__kernel __attribute__((reqd_work_group_size(RED_WG, 1, 1)))
void rms_norm(__global const float* x, long xOff, __global float* out, long oOff, int C, float eps,
              __global const float* weight, int hasWeight) {
    __local float red[RED_WG];
    const int r = get_group_id(0), lid = get_local_id(0);
    __global const float* xr = x + xOff + (long) r * C;
    float s = 0.0f;
    for (int c = lid; c < C; c += RED_WG) s += xr[c] * xr[c];
    const float inv = 1.0f / sqrt(group_sum(s, red) / C + eps);
    for (int c = lid; c < C; c += RED_WG) {
        float y = xr[c] * inv;
        out[oOff + (long) r * C + c] = hasWeight ? y * weight[c] : y;
    }
}

// x[r, c] = x·(1 + scale) + shift, over a [C, rows] range.
__kernel void modulate(__global float* x, long xOff, int C, __global const float* mod, int modStride, int scaleOff,
                       int shiftOff, int rowsPerGroup) {
    const int c = get_global_id(0), r = get_global_id(1);
    if (c >= C) return;
    const long g = (long) (r / rowsPerGroup) * modStride;
    const long i = xOff + (long) r * C + c;
    x[i] = x[i] * (1.0f + mod[g + scaleOff + c]) + mod[g + shiftOff + c];
}

// x[r, c] += y[r, c] · gamma (or plain x += y without mod).
__kernel void add_gated(__global float* x, long xOff, __global const float* y, long yOff, int C,
                        __global const float* mod, int hasMod, int modStride, int gammaOff, int rowsPerGroup) {
    const int c = get_global_id(0), r = get_global_id(1);
    if (c >= C) return;
    const long i = (long) r * C + c;
    const float yi = y[yOff + i];
    x[xOff + i] += hasMod ? yi * mod[(long) (r / rowsPerGroup) * modStride + gammaOff + c] : yi;
}

__kernel void activate(__global float* x, long xOff, int n, int act) {
    const int i = get_global_id(0);
    if (i < n) x[xOff + i] = act_apply(x[xOff + i], act);
}

// Softmax of one row of n values, one work-group.
__kernel __attribute__((reqd_work_group_size(RED_WG, 1, 1)))
void softmax(__global float* row, long xOff, int n) {
    __local float red[RED_WG];
    const int lid = get_local_id(0);
    __global float* x = row + xOff;
    float mx = -INFINITY;
    for (int i = lid; i < n; i += RED_WG) mx = fmax(mx, x[i]);
    mx = group_max(mx, red);
    float s = 0.0f;
    for (int i = lid; i < n; i += RED_WG) s += exp(x[i] - mx);
    s = group_sum(s, red);
    for (int i = lid; i < n; i += RED_WG) x[i] = exp(x[i] - mx) / s;
}

// One work-group per (query i, head h, sequence b); see Ops.attention. Keys are cached transposed
// (kT[((b·H + h)·d + e)·tMax + t]), values row-wise (v[((b·H + h)·tMax + t)·d + e]). The scores of the query go to
// its row of `scratch`; the result to out[oOff + (b·l + i)·ldo + h·d + e].
__kernel __attribute__((reqd_work_group_size(RED_WG, 1, 1)))
void attention(int H, int l, int d, __global const float* q, long qOff, int ldq, __global const float* kT,
               __global const float* v, int tMax, int T, int causal, __global const float* scale,
               __global float* out, long oOff, int ldo, __global float* scratch) {
    __local float red[RED_WG];
    const int i = get_group_id(0), h = get_group_id(1), b = get_group_id(2), lid = get_local_id(0);
    // the same for every item: read through the cache
    __global const float* qs = q + qOff + (long) (b * l + i) * ldq + h * d;
    const long kBase = (long) (b * H + h) * d * tMax, vBase = (long) (b * H + h) * tMax * d;
    const int keys = causal ? T - l + i + 1 : T;
    __global float* p = scratch + ((long) (b * H + h) * l + i) * T;
    const float sc = scale[h];
    float mx = -INFINITY;
    for (int t = lid; t < keys; t += RED_WG) {
        float s = 0.0f;
        for (int e = 0; e < d; e++) s = fma(qs[e], kT[kBase + (long) e * tMax + t], s);
        s *= sc;
        p[t] = s;
        mx = fmax(mx, s);
    }
    mx = group_max(mx, red);
    float sum = 0.0f;
    for (int t = lid; t < keys; t += RED_WG) {
        float w = exp(p[t] - mx);
        p[t] = w;
        sum += w;
    }
    sum = group_sum(sum, red);
    barrier(CLK_GLOBAL_MEM_FENCE);   // every item's p[t] is visible to the whole group from here
    for (int e = lid; e < d; e += RED_WG) {
        float acc = 0.0f;
        for (int t = 0; t < keys; t++) acc = fma(p[t], v[vBase + (long) t * d + e], acc);
        out[oOff + (long) (b * l + i) * ldo + h * d + e] = acc / sum;
    }
}

// The im2col panel of output pixels [p0, p0 + np) of a convolution: col[k, p] with k = (c·kh + ky)·kw + kx.
__kernel void im2col(__global const float* in, long inOff, int H, int W, int kh, int kw, int stride, int padT, int padL,
                     int ow, int p0, int np, int K, __global float* col) {
    const int p = get_global_id(0), k = get_global_id(1);
    if (p >= np || k >= K) return;
    const int pp = p0 + p, y = pp / ow, x = pp % ow;
    const int kx = k % kw, ky = (k / kw) % kh, c = k / (kw * kh);
    const int iy = y * stride + ky - padT, ix = x * stride + kx - padL;
    col[(long) k * np + p] = (iy >= 0 && iy < H && ix >= 0 && ix < W) ? in[inOff + ((long) c * H + iy) * W + ix] : 0.0f;
}

// One work-group per group of channels: GroupNorm (affine), optionally followed by SiLU.
__kernel __attribute__((reqd_work_group_size(RED_WG, 1, 1)))
void group_norm(__global const float* xs, long xOff, int cpg, int HW, __global const float* w,
                __global const float* bias, float eps, int silu, __global float* outs, long oOff) {
    __local float red[RED_WG];
    const int g = get_group_id(0), lid = get_local_id(0);
    const int n = cpg * HW;
    const long base = (long) g * n;
    __global const float* x = xs + xOff;
    __global float* out = outs + oOff;
    float s = 0.0f;
    for (int i = lid; i < n; i += RED_WG) s += x[base + i];
    const float mean = group_sum(s, red) / n;
    float v = 0.0f;
    for (int i = lid; i < n; i += RED_WG) { float dd = x[base + i] - mean; v += dd * dd; }
    const float inv = 1.0f / sqrt(group_sum(v, red) / n + eps);
    for (int i = lid; i < n; i += RED_WG) {
        int c = g * cpg + i / HW;
        float y = (x[base + i] - mean) * inv * w[c] + bias[c];
        out[base + i] = silu ? y / (1.0f + exp(-y)) : y;
    }
}

// Nearest-neighbour x2 of [C, H, W] into [C, 2H, 2W].
__kernel void upsample_nearest2x(__global const float* in, long inOff, int C, int H, int W, __global float* out,
                                 long oOff) {
    const long o = get_global_id(0);
    const long total = (long) C * 4 * H * W;
    if (o >= total) return;
    const int x = (int) (o % (2 * W));
    const long rest = o / (2 * W);
    const int y = (int) (rest % (2 * H));
    const int c = (int) (rest / (2 * H));
    out[oOff + o] = in[inOff + ((long) c * H + y / 2) * W + x / 2];
}

// ---------------------------------------------------------------------------- per-element steps between products

// Rotary embedding: item (h·pairs + p, r) turns pair p of head h of row r by position pos[r % period].
__kernel void rotary(__global float* x, long xOff, int ld, int heads, int pairs, __global const float* cs,
                     __global const float* sn, __global const int* pos, int period) {
    const int hp = get_global_id(0), r = get_global_id(1);
    if (hp >= heads * pairs) return;
    const int h = hp / pairs, p = hp % pairs;
    const long t = (long) pos[r % period] * pairs + p;
    const long o = xOff + (long) r * ld + (long) h * 2 * pairs + 2 * p;
    const float x0 = x[o], x1 = x[o + 1], c = cs[t], s = sn[t];
    x[o] = x0 * c - x1 * s;
    x[o + 1] = x1 * c + x0 * s;
}

// F.normalize of one head (h, r) of size d, then times mul[h] when hasMul.
__kernel void l2_normalize_heads(__global float* x, long xOff, int ld, int heads, int d, __global const float* mul,
                                 int hasMul) {
    const int h = get_global_id(0), r = get_global_id(1);
    if (h >= heads) return;
    __global float* v = x + xOff + (long) r * ld + (long) h * d;
    float ss = 0.0f;
    for (int j = 0; j < d; j++) ss += v[j] * v[j];
    const float norm = fmax(sqrt(ss), 1e-12f), m = hasMul ? mul[h] : 1.0f;
    for (int j = 0; j < d; j++) v[j] = v[j] / norm * m;
}

// out[r, j] = act(g[r, j]) · u[r, j].
__kernel void gated_product(__global const float* g, long gOff, int ldg, __global const float* u, long uOff, int ldu,
                            int n, int act, __global float* out, long oOff, int ldo) {
    const int j = get_global_id(0), r = get_global_id(1);
    if (j >= n) return;
    out[oOff + (long) r * ldo + j] = act_apply(g[gOff + (long) r * ldg + j], act) * u[uOff + (long) r * ldu + j];
}

// x[b·width + i] += table[i], item (i, b).
__kernel void add_broadcast(__global float* x, long xOff, int width, __global const float* table, long tOff) {
    const int i = get_global_id(0), b = get_global_id(1);
    if (i < width) x[xOff + (long) b * width + i] += table[tOff + i];
}

// x[r, c] = x[r, c]·w[c] + b[c].
__kernel void affine(__global float* x, long xOff, int C, __global const float* w, __global const float* b) {
    const int c = get_global_id(0), r = get_global_id(1);
    if (c >= C) return;
    const long i = xOff + (long) r * C + c;
    x[i] = x[i] * w[c] + b[c];
}

// y[i] = x[i]·a + y[i]·b.
__kernel void blend(__global const float* x, long xOff, float a, __global float* y, long yOff, float b, int n) {
    const int i = get_global_id(0);
    if (i < n) y[yOff + i] = x[xOff + i] * a + y[yOff + i] * b;
}

// x = max(lo, min(hi, x)), NaN left as it is.
__kernel void clamp_range(__global float* x, long xOff, int n, float lo, float hi) {
    const int i = get_global_id(0);
    if (i >= n) return;
    const float v = x[xOff + i];
    x[xOff + i] = v > hi ? hi : (v < lo ? lo : v);
}

// ------------------------------------------------------------------------------------------------- moving values

// dst[dstOff + dstRows[i]·C + c] = src[srcOff + srcRows[i]·C + c], item (c, i).
__kernel void copy_rows(__global const float* src, long srcOff, __global const int* srcRows, __global float* dst,
                        long dstOff, __global const int* dstRows, int C) {
    const int c = get_global_id(0), i = get_global_id(1);
    if (c < C) dst[dstOff + (long) dstRows[i] * C + c] = src[srcOff + (long) srcRows[i] * C + c];
}

// t[tOff + c·rows + r] = a[aOff + r·cols + c], item (c, r): [rows, cols] to [cols, rows].
__kernel void transpose(__global const float* a, long aOff, int rows, int cols, __global float* t, long tOff) {
    const int c = get_global_id(0), r = get_global_id(1);
    if (c < cols) t[tOff + (long) c * rows + r] = a[aOff + (long) r * cols + c];
}

// ------------------------------------------------------------------------------------------------ key/value caches

// Writes the keys and values of n new positions (item (h·d + e, t, b)) into a layer's device cache at position at:
// keys transposed kT[((b·H + h)·d + e)·tMax + t], values v[((b·H + h)·tMax + t)·d + e].
__kernel void kv_store(__global const float* src, long sOff, int ld, int kOff, int vOff, int n, int H, int d, int tMax,
                       int at, __global float* kT, __global float* v) {
    const int hd = get_global_id(0), t = get_global_id(1), b = get_global_id(2);
    if (hd >= H * d) return;
    const int h = hd / d, e = hd % d;
    const long s = sOff + (long) (b * n + t) * ld;
    kT[((long) (b * H + h) * d + e) * tMax + at + t] = src[s + kOff + hd];
    v[((long) (b * H + h) * tMax + at + t) * d + e] = src[s + vOff + hd];
}

// VQ nearest-code search over the columns of z [C, n]: item t; (|z|^2 + |e|^2) - 2 z.e, the first index on ties.
__kernel void nearest_codes(__global const float* zs, long zOff, int C, int n, __global const float* codebook,
                            __global const float* norms, int K, __global int* out) {
    const int t = get_global_id(0);
    if (t >= n) return;
    __global const float* z = zs + zOff;
    float zz = 0.0f;
    for (int c = 0; c < C; c++) zz += z[(long) c * n + t] * z[(long) c * n + t];
    float best = INFINITY;
    int arg = 0;
    for (int k = 0; k < K; k++) {
        __global const float* e = codebook + (long) k * C;
        float dot = 0.0f;
        for (int c = 0; c < C; c++) dot += z[(long) c * n + t] * e[c];
        const float d = (zz + norms[k]) - 2.0f * dot;
        if (d < best) {
            best = d;
            arg = k;
        }
    }
    out[t] = arg;
}

// VQ codebook lookup into a map [C, n]: item (t, c).
__kernel void lookup_codes(__global const float* codebook, int C, __global const int* tokens, int n,
                           __global float* out, long oOff) {
    const int t = get_global_id(0), c = get_global_id(1);
    if (t < n) out[oOff + (long) c * n + t] = codebook[(long) tokens[t] * C + c];
}

// The mean of two arrays at their offsets, out = (x + y) * 0.5f: the same float as (x + y) / 2 (both round the same
// value once), written with the product because OpenCL's division need not be correctly rounded. An add then a
// product: nothing for FP_CONTRACT to fuse.
__kernel void average(__global const float* x, long xOff, __global const float* y, long yOff, __global float* out,
                      long outOff, int n) {
    const int i = get_global_id(0);
    if (i < n) out[outOff + i] = (x[xOff + i] + y[yOff + i]) * 0.5f;
}
