package dev.tessera.samplers.llamagen;

import java.util.Locale;

/** The token-level decoding algorithms Tessera runs on raster models. */
public enum Sampler {
    /** Plain autoregressive decoding, one forward per token (images of a request in one batch). */
    AR,
    /** Speculative sampling with a draft model (exact). */
    SPECULATIVE,
    /** Speculative sampling with LANTERN's relaxed acceptance (lossy when δ > 0). */
    LANTERN,
    /** Speculative Jacobi Decoding: no draft model (exact). */
    SJD;

    public static Sampler parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown sampler '" + s + "' (ar, speculative, lantern, sjd)");
        }
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
