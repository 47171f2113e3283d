package dev.tessera.engine.nn;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.ops.Parallel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Locale;

/**
 * The layout the CPU GEMM reads weights in: a row-major matrix {@code [rows, cols]} (a linear weight
 * {@code [out, in]}) cut into panels of {@link #WIDTH} rows, each stored column by column:
 * {@code panel p, column k, lane i} holds {@code W[p·WIDTH + i, k]} at float index {@code (p·cols + k)·WIDTH + i}.
 * A GEMM step then reads one contiguous row of a panel per k (one register tile wide). The last panel is zero-padded.
 *
 * <p>Panels hold float32 by default. With {@link Format#BF16} they hold bfloat16 (the float32 value rounded to
 * nearest-even, as PyTorch's {@code .to(torch.bfloat16)}): half the memory and half the bytes to stream per
 * token, at the price of results that are no longer those of the float32 checkpoint (8 significant bits, 2 to 3
 * decimal digits, per weight). With {@link Format#FP16} they hold IEEE half precision (rounded to nearest-even, as
 * {@code .to(torch.float16)}): the same memory as bfloat16 with 11 significant bits (3 decimal digits) but a range
 * that ends at 65504 (a weight beyond it is refused when packed, since it would become infinite). The format is an
 * argument of loading (the model loaders and {@link Linear} take it), never process state: two models packed in
 * different formats live side by side, each {@link Linear} keeps its own.
 */
public final class WeightPanels {
    /**
     * Rows per panel: four vectors of the machine's preferred shape, the width of the GEMM's register tile (64
     * with AVX-512, 32 with AVX2). Packed panels are not portable between machines; they are made at load time.
     */
    public static final int WIDTH = 4 * jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length();

    /** How panel elements are stored. */
    public enum Format {
        F32(4),
        BF16(2),
        /** IEEE 754 half precision (binary16). */
        FP16(2);

        /** Bytes per element. */
        public final int bytes;

        Format(int bytes) {
            this.bytes = bytes;
        }

        /** "f32", "bf16" or "fp16" (any case); null for anything else. */
        public static Format parse(String s) {
            return switch (s == null ? "" : s.toLowerCase(Locale.ROOT)) {
                case "f32", "fp32", "float32" -> F32;
                case "bf16", "bfloat16" -> BF16;
                case "fp16", "f16", "float16", "half" -> FP16;
                default -> null;
            };
        }
    }

    /** {@code f} rounded to bfloat16 (nearest, ties to even; NaN stays NaN), as its 16 stored bits. */
    public static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x40);
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    /** The float32 value of bfloat16 bits. */
    public static float fromBf16(short h) {
        return Float.intBitsToFloat(h << 16);
    }

    /** {@code f} as a bfloat16 weight holds it. */
    public static float roundToBf16(float f) {
        return fromBf16(toBf16(f));
    }

    /** {@code f} rounded to IEEE half precision (nearest, ties to even; beyond ±65504 infinite), as its bits. */
    public static short toFp16(float f) {
        return Float.floatToFloat16(f);
    }

    /** The float32 value of half-precision bits (exact). */
    public static float fromFp16(short h) {
        return Float.float16ToFloat(h);
    }

    /** {@code f} as a float16 weight holds it. */
    public static float roundToFp16(float f) {
        return fromFp16(toFp16(f));
    }

    /** {@code f} as format {@code fmt} holds it. */
    public static float round(float f, Format fmt) {
        return switch (fmt) {
            case F32 -> f;
            case BF16 -> roundToBf16(f);
            case FP16 -> roundToFp16(f);
        };
    }

    /**
     * The 16 bits format {@code fmt} (bf16 or fp16) stores for {@code f}. float16 holds finite values up to ±65504
     * only: a weight it would store as infinite or NaN is refused with one line naming the way out ({@code at} says
     * which weight), so the kernels never meet one.
     */
    public static short to16(float f, Format fmt, String at) {
        if (fmt == Format.BF16) return toBf16(f);
        if (fmt != Format.FP16) throw new IllegalArgumentException(fmt + " is not a 16-bit format");
        short h = toFp16(f);
        if ((h & 0x7C00) == 0x7C00) {
            throw new TesseraException("fp16 weights: " + at + " holds " + f + ", which float16 cannot (finite values"
                    + " up to ±65504 only); use --weights bf16 or f32");
        }
        return h;
    }

    private WeightPanels() {}

    public static int panels(int rows) {
        return (rows + WIDTH - 1) / WIDTH;
    }

    /** Packs {@code w} (float32, little-endian, row-major {@code [rows, cols]}) into a new float32 off-heap segment. */
    public static MemorySegment pack(MemorySegment w, int rows, int cols) {
        return pack(w, rows, cols, Format.F32);
    }

    /** Packs {@code w} (float32, little-endian, row-major {@code [rows, cols]}) into a new off-heap segment. */
    public static MemorySegment pack(MemorySegment w, int rows, int cols, Format f) {
        MemorySegment out = Arena.ofAuto().allocate(bytes(rows, cols, f), 64);
        packInto(w, rows, cols, f, out);
        return out;
    }

    /** Bytes of the packed form of a {@code [rows, cols]} matrix in format {@code f}. */
    public static long bytes(int rows, int cols, Format f) {
        return (long) panels(rows) * cols * WIDTH * f.bytes;
    }

    /**
     * A name for the packed layout of a {@code [rows, cols]} matrix in format {@code f} on this machine: it changes
     * whenever the packed bytes would (format, {@link #WIDTH}, shape), so stored packings are only reused where they
     * are valid.
     */
    public static String layout(int rows, int cols, Format f) {
        return f.name().toLowerCase(Locale.ROOT) + "-w" + WIDTH + "-" + rows + "x" + cols;
    }

    /** Packs {@code w} into {@code out} ({@link #bytes} long), writing every byte of it (padding included). */
    public static void packInto(MemorySegment w, int rows, int cols, Format f, MemorySegment out) {
        if (out.byteSize() != bytes(rows, cols, f)) throw new IllegalArgumentException("wrong output size");
        int P = panels(rows);
        final int T = 64; // transpose 64×64 tiles through a small array
        Parallel.forEach(P, p -> {
            float[] tile = new float[WIDTH * T];
            int r0 = p * WIDTH, nRows = Math.min(WIDTH, rows - r0);
            for (int k0 = 0; k0 < cols; k0 += T) {
                int nk = Math.min(T, cols - k0);
                Arrays.fill(tile, 0f);
                for (int i = 0; i < nRows; i++) {
                    MemorySegment.copy(w, Weights.F32, 4L * ((long) (r0 + i) * cols + k0), tile, i * T, nk);
                }
                float[] col = new float[WIDTH];
                short[] half = new short[WIDTH];
                String where = f == Format.FP16 ? "a [" + rows + ", " + cols + "] weight" : null;
                for (int k = 0; k < nk; k++) {
                    long at = ((long) p * cols + k0 + k) * WIDTH;
                    for (int i = 0; i < WIDTH; i++) col[i] = tile[i * T + k];
                    if (f == Format.F32) {
                        MemorySegment.copy(col, 0, out, ValueLayout.JAVA_FLOAT, 4L * at, WIDTH);
                    } else {
                        for (int i = 0; i < WIDTH; i++) half[i] = to16(col[i], f, where);
                        MemorySegment.copy(half, 0, out, ValueLayout.JAVA_SHORT, 2L * at, WIDTH);
                    }
                }
            }
        });
    }
}
