package dev.tessera.tokenizers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImagesTest {

    @Test
    void bytesAreRoundedNotTruncated() {
        assertEquals(0, Images.toByte(0f));
        assertEquals(255, Images.toByte(1f));
        assertEquals(128, Images.toByte(127.5f / 255f + 1e-6f));
        assertEquals(127, Images.toByte(127.4f / 255f));
        assertEquals(1, Images.toByte(0.6f / 255f)); // truncation would give 0
        assertEquals(0, Images.toByte(-0.3f)); // clamped
        assertEquals(255, Images.toByte(1.7f));
        assertEquals(0, Images.toByte(Float.NaN));
    }

    @Test
    void pngRoundTripKeepsEveryChannel(@TempDir Path tmp) {
        int H = 3, W = 5;
        float[] chw = new float[3 * H * W];
        for (int i = 0; i < chw.length; i++) chw[i] = (i * 17 % 256) / 255f;
        BufferedImage img = Images.toBufferedImage(chw, 0, H, W);
        Path f = tmp.resolve("x.png");
        Images.writePng(img, f);
        float[] back = Images.toTensor(Images.read(f));
        assertArrayEquals(chw, back, 1e-7f);
        assertEquals(
                0xff0000, Images.toBufferedImage(new float[] {1, 0, 0}, 0, 1, 1).getRGB(0, 0) & 0xffffff);
    }
}
