package dev.tessera.examples.fid;

import dev.tessera.engine.TesseraException;
import dev.tessera.examples.fid.inception.Rgb8Image;
import dev.tessera.tokenizers.Images;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * The image files of a folder (PNG, JPEG, BMP; not its subfolders) in sorted file-name order, as pytorch-fid
 * orders them. Each is read as 8-bit RGB: alpha is dropped and grey images are copied to the three channels
 * (what PIL's {@code convert('RGB')} does).
 */
public final class ImageFolder implements ImageSource {
    static final List<String> EXTENSIONS = List.of("png", "jpg", "jpeg", "bmp");

    private final List<Path> files;
    private int next;

    private ImageFolder(List<Path> files) {
        this.files = files;
    }

    public static ImageFolder open(Path dir) {
        if (!Files.isDirectory(dir)) throw new TesseraException(dir + ": no such folder");
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(Files::isRegularFile)
                    .filter(ImageFolder::isImage)
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new TesseraException(dir + ": cannot list (" + e.getMessage() + ")", e);
        }
        if (files.isEmpty())
            throw new TesseraException(
                    dir + ": no images (" + String.join(", ", EXTENSIONS) + " files) in this folder");
        return new ImageFolder(files);
    }

    static boolean isImage(Path p) {
        String name = p.getFileName().toString().toLowerCase(Locale.ROOT);
        int dot = name.lastIndexOf('.');
        return dot > 0 && EXTENSIONS.contains(name.substring(dot + 1));
    }

    public List<Path> files() {
        return files;
    }

    @Override
    public int count() {
        return files.size();
    }

    @Override
    public List<Rgb8Image> next(int n) {
        List<Rgb8Image> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) out.add(read(files.get(next++)));
        return out;
    }

    @Override
    public void skip(int n) {
        next = Math.min(files.size(), next + n);
    }

    /** One image file as 8-bit RGB; an unreadable file is a {@link TesseraException} naming it. */
    public static Rgb8Image read(Path file) {
        return rgb(Images.read(file));
    }

    public static Rgb8Image rgb(BufferedImage img) {
        int H = img.getHeight(), W = img.getWidth();
        byte[] hwc = new byte[3 * H * W];
        if (img.getType() == BufferedImage.TYPE_BYTE_GRAY) {
            // getRGB would pass grey levels through a linear-to-sRGB conversion; PIL copies them as they are
            byte[] grey = new byte[H * W];
            img.getRaster().getDataElements(0, 0, W, H, grey);
            for (int i = 0; i < grey.length; i++) hwc[3 * i] = hwc[3 * i + 1] = hwc[3 * i + 2] = grey[i];
        } else {
            int[] argb = img.getRGB(0, 0, W, H, null, 0, W);
            for (int i = 0; i < argb.length; i++) {
                hwc[3 * i] = (byte) (argb[i] >> 16);
                hwc[3 * i + 1] = (byte) (argb[i] >> 8);
                hwc[3 * i + 2] = (byte) argb[i];
            }
        }
        return new Rgb8Image(H, W, hwc);
    }

    @Override
    public void close() {}
}
