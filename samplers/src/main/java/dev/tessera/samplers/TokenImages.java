package dev.tessera.samplers;

import dev.tessera.samplers.ar.SamplerStats;

import java.util.List;

/**
 * The outcome of a token-model generation (LlamaGen, NAR).
 *
 * @param images        one per requested class, in request order
 * @param tokens        each image's tokens, row-major
 * @param stats         the sampler's statistics per image (one shared entry for a batched plain-AR run)
 * @param decodeSeconds time spent turning tokens into pixels
 */
public record TokenImages(List<GeneratedImage> images, List<int[]> tokens, List<SamplerStats> stats, double decodeSeconds) {
}
