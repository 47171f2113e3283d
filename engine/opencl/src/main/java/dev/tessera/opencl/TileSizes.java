package dev.tessera.opencl;

import dev.tessera.engine.TesseraException;

/**
 * Work sizes the kernels are built with, chosen per device and overridable by system properties:
 * {@code tessera.opencl.gemm} ({@code local}: the GEMM tiled through local memory; {@code direct}: without it, for
 * CPU devices), {@code .tsm}, {@code .tsn}, {@code .tsk} (the local GEMM's work-group tile of C and its depth; the
 * direct GEMM's work-group is {@code tsn} columns), {@code .wptm}, {@code .wptn} (each work-item's register tile)
 * and {@code .reduction} (the work-group size of the row reductions: norms, softmax, attention; a power of two).
 */
public record TileSizes(int tsm, int tsn, int tsk, int wptm, int wptn, int reduction, boolean localMemory) {
    public TileSizes {
        if (tsm <= 0
                || tsn <= 0
                || tsk <= 0
                || wptm <= 0
                || wptn <= 0
                || localMemory && (tsm % wptm != 0 || tsn % wptn != 0)) {
            throw new TesseraException("OpenCL tile sizes tsm=" + tsm + " tsn=" + tsn + " tsk=" + tsk + " wptm=" + wptm
                    + " wptn=" + wptn + " are invalid: all positive, and for the local GEMM tsm a multiple of wptm and"
                    + " tsn of wptn");
        }
        if (reduction <= 0 || Integer.bitCount(reduction) != 1) {
            throw new TesseraException("tessera.opencl.reduction=" + reduction + " is not a power of two");
        }
    }

    /**
     * GPUs: the local-memory GEMM with 64x64 tiles of C, 4x4 per work-item (256 work-items). Other devices (PoCL's
     * CPU device): the direct GEMM, 16 rows per work-item and 64 columns per work-group (measured on PoCL 3 with
     * VAR's VQ-VAE decoder: 2.7 GFLOP/s against 1.0 for the local-memory kernel).
     */
    static TileSizes forDevice(OpenClDevice d) {
        boolean big = d.gpu() && d.maxWorkGroupSize() >= 256;
        int tsm = prop("tsm", big ? 64 : 32), tsn = prop("tsn", 64), tsk = prop("tsk", 16);
        int wptm = prop("wptm", big ? 4 : 16), wptn = prop("wptn", 4);
        int red = prop("reduction", (int)
                Math.min(big ? 256 : 64, Integer.highestOneBit((int) Math.min(1 << 20, d.maxWorkGroupSize()))));
        String gemm = System.getProperty("tessera.opencl.gemm", big ? "local" : "direct");
        if (!gemm.equals("local") && !gemm.equals("direct")) {
            throw new TesseraException("-Dtessera.opencl.gemm=" + gemm + ": expected local or direct");
        }
        return check(new TileSizes(tsm, tsn, tsk, wptm, wptn, red, gemm.equals("local")), d);
    }

    /** The sizes, if the device can run them. */
    static TileSizes check(TileSizes t, OpenClDevice d) {
        int tsm = t.tsm, tsn = t.tsn, tsk = t.tsk, wptm = t.wptm, wptn = t.wptn, red = t.reduction;
        long items = t.localMemory ? (long) (tsm / wptm) * (tsn / wptn) : tsn;
        if (items > d.maxWorkGroupSize() || red > d.maxWorkGroupSize()) {
            throw new TesseraException("OpenCL work-group of " + Math.max(items, red) + " items exceeds " + d.name()
                    + "'s limit of " + d.maxWorkGroupSize() + " (set smaller -Dtessera.opencl.* sizes)");
        }
        long local = (long) tsk * (tsm + tsn + 2) * Float.BYTES; // each local row one float longer (kernels.cl)
        if (local > d.localMemBytes()) {
            throw new TesseraException("OpenCL GEMM tiles need " + local + " bytes of local memory, " + d.name()
                    + " has " + d.localMemBytes() + " (set smaller -Dtessera.opencl.tsm/tsn/tsk)");
        }
        return t;
    }

    /** The build options that pass these sizes to {@code kernels.cl}. */
    String buildOptions() {
        return "-DTSM=" + tsm + " -DTSN=" + tsn + " -DTSK=" + tsk + " -DWPTM=" + wptm + " -DWPTN=" + wptn + " -DRED_WG="
                + reduction;
    }

    /** Floats of one im2col panel (a block of output pixels of a convolution): 4M floats, 16 MiB. */
    long im2colFloats() {
        return Long.getLong("tessera.opencl.im2col", 1L << 22);
    }

    private static int prop(String name, int dflt) {
        String v = System.getProperty("tessera.opencl." + name);
        if (v == null) return dflt;
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new TesseraException("-Dtessera.opencl." + name + "=" + v + " is not an integer");
        }
    }
}
