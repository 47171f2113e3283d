package dev.tessera.samplers;

import dev.tessera.samplers.ar.SamplerStats;
import java.util.List;

/**
 * What a token-model generation (LlamaGen, NAR) adds to its images.
 *
 * @param tokens        each image's tokens, row-major
 * @param stats         the sampler's statistics per image (one shared entry for a batched run: plain AR, NAR)
 * @param decodeSeconds time spent turning tokens into pixels
 */
public record TokenDetails(List<int[]> tokens, List<SamplerStats> stats, double decodeSeconds) {
    public TokenDetails {
        tokens = List.copyOf(tokens);
        stats = List.copyOf(stats);
    }
}
