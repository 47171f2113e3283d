package dev.tessera.tokenizers;

import dev.tessera.engine.TesseraException;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import javax.imageio.ImageIO;

/** Conversions between image tensors {@code [3, H, W]} (values in [0, 1]) and 8-bit RGB images / PNG files. */
public final class Images {
    private Images() {}

    /** {@code round(clamp(v, 0, 1)·255)}, halves rounded up. */
    public static int toByte(float v) {
        float c = v < 0f ? 0f : (v > 1f ? 1f : v); // NaN becomes 0 below
        int b = (int) Math.floor(c * 255f + 0.5f);
        return b < 0 ? 0 : Math.min(b, 255);
    }

    /** An RGB image from {@code chw[off ..]} laid out {@code [3, H, W]} in [0, 1]. */
    public static BufferedImage toBufferedImage(float[] chw, int off, int H, int W) {
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        int plane = H * W;
        int[] rgb = new int[plane];
        for (int i = 0; i < plane; i++) {
            rgb[i] = toByte(chw[off + i]) << 16 | toByte(chw[off + plane + i]) << 8 | toByte(chw[off + 2 * plane + i]);
        }
        img.setRGB(0, 0, W, H, rgb, 0, W);
        return img;
    }

    /** {@code [3, H, W]} in [0, 1] from an image (k/255 per channel, alpha ignored). */
    public static float[] toTensor(BufferedImage img) {
        int H = img.getHeight(), W = img.getWidth(), plane = H * W;
        int[] rgb = img.getRGB(0, 0, W, H, null, 0, W);
        float[] t = new float[3 * plane];
        for (int i = 0; i < plane; i++) {
            t[i] = ((rgb[i] >> 16) & 0xff) / 255f;
            t[plane + i] = ((rgb[i] >> 8) & 0xff) / 255f;
            t[2 * plane + i] = (rgb[i] & 0xff) / 255f;
        }
        return t;
    }

    /** Writes a PNG; the file appears complete or not at all (written next to it, then moved). */
    public static void writePng(BufferedImage img, Path out) {
        Path dir = out.toAbsolutePath().getParent();
        try {
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, ".tessera-", ".png.part");
            try {
                if (!ImageIO.write(img, "png", tmp.toFile())) throw new IOException("no PNG writer available");
                Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new TesseraException("cannot write " + out + ": " + e.getMessage(), e);
        }
    }

    /** Reads an image file (PNG, JPEG, BMP, GIF) with a readable error when it cannot. */
    public static BufferedImage read(Path file) {
        if (!Files.isRegularFile(file)) throw new TesseraException(file + ": no such file");
        try {
            BufferedImage img = ImageIO.read(file.toFile());
            if (img == null) throw new TesseraException(file + ": not a readable image (PNG, JPEG, BMP or GIF)");
            return img;
        } catch (IOException e) {
            throw new TesseraException(file + ": cannot read image: " + e.getMessage(), e);
        }
    }
}
