package dev.tessera.examples.fid.inception;

/**
 * Where the network's convolution units come from. Building the network against a recorder lists the state-dict
 * keys it needs (to check a file before reading it); building it against a checkpoint loads the weights.
 */
interface Units {
    /**
     * The unit {@code name} ({@code name.conv.weight [cout, cin, kh, kw]} and {@code name.bn.*}), applied with the
     * given stride and symmetric zero padding {@code (padH, padW)}.
     */
    ConvBn unit(String name, int cout, int cin, int kh, int kw, int stride, int padH, int padW);

    /** A stride-1 unit with "same" padding, {@code ((kh−1)/2, (kw−1)/2)}. */
    default ConvBn same(String name, int cout, int cin, int kh, int kw) {
        return unit(name, cout, cin, kh, kw, 1, (kh - 1) / 2, (kw - 1) / 2);
    }

    /** A stride-2 unit without padding (TF "VALID"), as every strided layer of the network. */
    default ConvBn reduce(String name, int cout, int cin, int k) {
        return unit(name, cout, cin, k, k, 2, 0, 0);
    }
}
