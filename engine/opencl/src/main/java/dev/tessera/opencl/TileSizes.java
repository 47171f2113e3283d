package dev.tessera.opencl;

import dev.tessera.engine.TesseraException;

/**
 * Work sizes the kernels are built with, chosen per device and overridable by system properties:
 * {@code tessera.opencl.tsm}, {@code .tsn}, {@code .tsk} (the GEMM's work-group tile of C and its depth),
 * {@code .wptm}, {@code .wptn} (each work-item's register tile) and {@code .reduction} (the work-group size of the
 * row reductions: norms, softmax, attention; a power of two).
 */
public record TileSizes(int tsm, int tsn, int tsk, int wptm, int wptn, int reduction) {
    /** The attention kernel keeps one query in local memory: heads up to this many channels. */
    static final int MAX_HEAD_DIM = 256;

    public TileSizes {
        if (tsm <= 0 || tsn <= 0 || tsk <= 0 || wptm <= 0 || wptn <= 0 || tsm % wptm != 0 || tsn % wptn != 0) {
            throw new TesseraException("OpenCL tile sizes tsm=" + tsm + " tsn=" + tsn + " tsk=" + tsk + " wptm=" + wptm
                    + " wptn=" + wptn + " are invalid: all positive, tsm a multiple of wptm and tsn of wptn");
        }
        if (reduction <= 0 || Integer.bitCount(reduction) != 1) {
            throw new TesseraException("tessera.opencl.reduction=" + reduction + " is not a power of two");
        }
    }

    /** GPUs: 64x64 tiles of C, 4x4 per work-item (256 work-items); other devices (PoCL's CPU): 32x32, 64 items. */
    static TileSizes forDevice(OpenClDevice d) {
        boolean big = d.gpu() && d.maxWorkGroupSize() >= 256;
        int tsm = prop("tsm", big ? 64 : 32), tsn = prop("tsn", big ? 64 : 32), tsk = prop("tsk", 16);
        int wptm = prop("wptm", 4), wptn = prop("wptn", 4);
        int red = prop("reduction", (int) Math.min(big ? 256 : 64, Integer.highestOneBit((int) Math.min(1 << 20, d.maxWorkGroupSize()))));
        TileSizes t = new TileSizes(tsm, tsn, tsk, wptm, wptn, red);
        long items = (long) (tsm / wptm) * (tsn / wptn);
        if (items > d.maxWorkGroupSize() || red > d.maxWorkGroupSize()) {
            throw new TesseraException("OpenCL work-group of " + Math.max(items, red) + " items exceeds " + d.name()
                    + "'s limit of " + d.maxWorkGroupSize() + " (set smaller -Dtessera.opencl.* sizes)");
        }
        long local = (long) tsk * (tsm + tsn) * Float.BYTES;
        if (local > d.localMemBytes()) {
            throw new TesseraException("OpenCL GEMM tiles need " + local + " bytes of local memory, " + d.name()
                    + " has " + d.localMemBytes() + " (set smaller -Dtessera.opencl.tsm/tsn/tsk)");
        }
        return t;
    }

    /** The build options that pass these sizes to {@code kernels.cl}. */
    String buildOptions() {
        return "-DTSM=" + tsm + " -DTSN=" + tsn + " -DTSK=" + tsk + " -DWPTM=" + wptm + " -DWPTN=" + wptn
                + " -DRED_WG=" + reduction + " -DMAX_HEAD_DIM=" + MAX_HEAD_DIM;
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
