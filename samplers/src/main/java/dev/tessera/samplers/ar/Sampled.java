package dev.tessera.samplers.ar;

/** The tokens of one image and how they were obtained. */
public record Sampled(int[] tokens, SamplerStats stats) {}
