package dev.tessera.samplers;

import dev.tessera.tokenizers.Images;
import java.awt.image.BufferedImage;
import java.nio.file.Path;

/**
 * One generated image as a tensor {@code [3, height, width]} with values in [0, 1] (RGB planes, row-major).
 *
 * @param label the class it was generated for
 */
public record GeneratedImage(int label, float[] pixels, int height, int width) {

    /** The 8-bit image ({@code round(v·255)} per channel). */
    public BufferedImage toBufferedImage() {
        return Images.toBufferedImage(pixels, 0, height, width);
    }

    public void writePng(Path file) {
        Images.writePng(toBufferedImage(), file);
    }
}
