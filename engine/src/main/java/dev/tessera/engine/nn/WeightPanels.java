package dev.tessera.engine.nn;

import dev.tessera.engine.ops.Parallel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The layout the CPU GEMM reads weights in: a row-major matrix {@code [rows, cols]} (a linear weight
 * {@code [out, in]}) cut into panels of {@value #WIDTH} rows, each stored column by column:
 * {@code panel p, column k, lane i} holds {@code W[p·WIDTH + i, k]} at float index {@code (p·cols + k)·WIDTH + i}.
 * A GEMM step then reads one contiguous 256-byte row of a panel per k. The last panel is zero-padded.
 */
public final class WeightPanels {
    public static final int WIDTH = 64;

    private WeightPanels() {
    }

    public static int panels(int rows) {
        return (rows + WIDTH - 1) / WIDTH;
    }

    /** Packs {@code w} (float32, little-endian, row-major {@code [rows, cols]}) into a new off-heap segment. */
    public static MemorySegment pack(MemorySegment w, int rows, int cols) {
        int P = panels(rows);
        MemorySegment out = Arena.ofAuto().allocate((long) P * cols * WIDTH * Float.BYTES, 64);
        final int T = 64;   // transpose 64×64 tiles through a small array
        Parallel.forEach(P, p -> {
            float[] tile = new float[WIDTH * T];
            int r0 = p * WIDTH, nRows = Math.min(WIDTH, rows - r0);
            for (int k0 = 0; k0 < cols; k0 += T) {
                int nk = Math.min(T, cols - k0);
                java.util.Arrays.fill(tile, 0f);
                for (int i = 0; i < nRows; i++) {
                    MemorySegment.copy(w, Weights.F32, 4L * ((long) (r0 + i) * cols + k0), tile, i * T, nk);
                }
                float[] col = new float[WIDTH];
                for (int k = 0; k < nk; k++) {
                    for (int i = 0; i < WIDTH; i++) col[i] = tile[i * T + k];
                    MemorySegment.copy(col, 0, out, ValueLayout.JAVA_FLOAT, 4L * (((long) p * cols + k0 + k) * WIDTH), WIDTH);
                }
            }
        });
        return out;
    }
}
