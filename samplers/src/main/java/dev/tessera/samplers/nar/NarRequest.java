package dev.tessera.samplers.nar;

import dev.tessera.samplers.ar.TokenDistribution;
import dev.tessera.samplers.ar.TokenRequestBuilder;

/**
 * What to generate with NAR. Defaults follow the official class-conditional evaluation: cfg 2.0, temperature 1,
 * no top-k/top-p filtering.
 *
 * @param cfgInterval guidance stops once more than this many tokens have been generated (−1: never stops)
 */
public record NarRequest(int[] classes, long seed, double cfg, int cfgInterval, TokenDistribution distribution) {

    public NarRequest {
        if (classes == null || classes.length == 0) throw new IllegalArgumentException("at least one class is needed");
        classes = classes.clone();
    }

    @Override
    public int[] classes() {
        return classes.clone();
    }

    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder extends TokenRequestBuilder<Builder> {
        public NarRequest build() {
            return new NarRequest(classes, seed, cfg, cfgInterval, distribution());
        }
    }
}
