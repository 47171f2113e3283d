package dev.tessera.engine.nn;

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
 * decimal digits, per weight). The format is an argument of loading (the model loaders and {@link Linear} take it),
 * never
 * process state: two models packed in different formats live side by side, each {@link Linear} keeps its own.
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
        BF16(2);

        /** Bytes per element. */
        public final int bytes;

        Format(int bytes) {
            this.bytes = bytes;
        }

        /** "f32" or "bf16" (any case); null for anything else. */
        public static Format parse(String s) {
            return switch (s == null ? "" : s.toLowerCase(Locale.ROOT)) {
                case "f32", "fp32", "float32" -> F32;
                case "bf16", "bfloat16" -> BF16;
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
                for (int k = 0; k < nk; k++) {
                    long at = ((long) p * cols + k0 + k) * WIDTH;
                    for (int i = 0; i < WIDTH; i++) col[i] = tile[i * T + k];
                    if (f == Format.F32) {
                        MemorySegment.copy(col, 0, out, ValueLayout.JAVA_FLOAT, 4L * at, WIDTH);
                    } else {
                        for (int i = 0; i < WIDTH; i++) half[i] = toBf16(col[i]);
                        MemorySegment.copy(half, 0, out, ValueLayout.JAVA_SHORT, 2L * at, WIDTH);
                    }
                }
            }
        });
    }
}
