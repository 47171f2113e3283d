package dev.tessera.samplers;

import java.util.List;
import java.util.Objects;

/**
 * The outcome of one generation, the same type for every family.
 *
 * @param images  one image per requested class, in request order
 * @param details what the family adds: tokens, latents, sampler statistics, timings ({@code VarDetails},
 *                {@code TokenDetails}, {@code FlowArDetails})
 * @param <D>     the family's details type
 */
public record Generation<D>(List<GeneratedImage> images, D details) {
    public Generation {
        images = List.copyOf(images);
        Objects.requireNonNull(details);
    }
}
