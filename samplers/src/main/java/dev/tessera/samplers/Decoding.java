package dev.tessera.samplers;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/** The last step every family shares: decoder output in [−1, 1] to {@link GeneratedImage}s in [0, 1]. */
public final class Decoding {
    private Decoding() {}

    /** How decoder output {@code x} in [−1, 1] becomes a pixel value in [0, 1]. */
    public enum Pixels {
        /** {@code (x + 1) / 2}, unclipped (VAR, LlamaGen, NAR: what their decoders' callers compare). */
        UNIT,
        /**
         * {@code round(clip((x + 1)/2·255, 0, 255)) / 255} with halves to even, as FlowAR's evaluation saves images:
         * the pixels then hold exactly the 8-bit values a PNG gets.
         */
        RGB8;

        /** Maps {@code x} in place and returns it. */
        public float[] apply(float[] x) {
            for (int i = 0; i < x.length; i++) {
                x[i] = this == UNIT
                        ? (x[i] + 1f) * 0.5f
                        : (float) Math.rint(Math.max(0f, Math.min(255f, (x[i] + 1f) / 2f * 255f))) / 255f;
            }
            return x;
        }
    }

    /**
     * Decodes image after image ({@code decoder} gets the index b and returns {@code [3, side, side]} in [−1, 1]),
     * reporting "decode" progress after each.
     */
    public static List<GeneratedImage> images(
            int[] classes, int side, IntFunction<float[]> decoder, Pixels pixels, Progress progress) {
        List<GeneratedImage> images = new ArrayList<>();
        for (int b = 0; b < classes.length; b++) {
            images.add(new GeneratedImage(classes[b], pixels.apply(decoder.apply(b)), side, side));
            progress.update("decode", b + 1, classes.length);
        }
        return List.copyOf(images);
    }
}
