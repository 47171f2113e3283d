package dev.tessera.examples.fid;

import dev.tessera.engine.TesseraException;
import dev.tessera.examples.fid.inception.Rgb8Image;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Images read in a fixed order, a block at a time: a folder of image files, or an ADM batch's {@code arr_0}. */
public interface ImageSource extends AutoCloseable {
    /** How many images there are. */
    int count();

    /** The next {@code n} images, in order. */
    List<Rgb8Image> next(int n);

    /** Passes over the next {@code n} images (to resume after them). */
    void skip(int n);

    @Override
    void close();

    /** A folder ({@link ImageFolder}) or an {@code .npz} image batch ({@link NpzImages}). */
    static ImageSource open(Path path) {
        if (Files.isDirectory(path)) return ImageFolder.open(path);
        if (path.getFileName().toString().endsWith(".npz")) return NpzImages.open(path);
        if (!Files.exists(path)) throw new TesseraException(path + ": no such folder");
        throw new TesseraException(path + ": expected a folder of images or an .npz image batch (arr_0)");
    }
}
