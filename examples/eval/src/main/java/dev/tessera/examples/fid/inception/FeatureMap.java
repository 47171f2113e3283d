package dev.tessera.examples.fid.inception;

import dev.tessera.engine.ops.Ops;

/**
 * One image's activations {@code [channels, height, width]}, row-major, in an array of their own. The network's
 * maps come from {@link Ops#allocate}, so a device backend keeps them where it computes between convolutions; host
 * code that reads or writes one (the pools, the taps) says so with {@link Ops#toHost} and {@link Ops#hostWrote}.
 */
record FeatureMap(float[] data, int channels, int height, int width) {

    /** A zeroed map held by {@code ops}. */
    static FeatureMap allocate(Ops ops, int channels, int height, int width) {
        return new FeatureMap(ops.allocate(channels * height * width), channels, height, width);
    }

    int plane() {
        return height * width;
    }
}
