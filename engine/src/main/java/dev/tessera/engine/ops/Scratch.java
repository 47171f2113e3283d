package dev.tessera.engine.ops;

/**
 * Per-thread reusable work buffers, so hot kernels do not allocate. Each kernel uses its own slot; a kernel never
 * holds a slot while calling another kernel that uses the same slot.
 */
final class Scratch {
    static final int ATTN_SCORES = 0,
            IM2COL = 1,
            GEMM_PANEL = 2,
            WINO_V = 3,
            WINO_M = 4,
            WINO_U = 5,
            GEMM_ROWS = 6,
            SLOTS = 7;

    private static final ThreadLocal<float[][]> BUFFERS = ThreadLocal.withInitial(() -> new float[SLOTS][]);

    private Scratch() {}

    /** A buffer of at least {@code size} floats for {@code slot} (contents undefined). */
    static float[] get(int slot, int size) {
        float[][] b = BUFFERS.get();
        if (b[slot] == null || b[slot].length < size) b[slot] = new float[Math.max(size, 1024)];
        return b[slot];
    }
}
