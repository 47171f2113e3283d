package dev.tessera.examples.fid;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.io.Npy;
import dev.tessera.engine.io.NpyRows;
import dev.tessera.engine.io.NpzFile;
import dev.tessera.engine.tensor.DType;
import dev.tessera.examples.fid.inception.Rgb8Image;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The images of an ADM-style batch: {@code arr_0}, uint8 {@code [N, H, W, 3]} RGB, read in order without loading
 * the whole array (a 10,000-image reference batch is 2 GB).
 */
public final class NpzImages implements ImageSource {
    public static final String KEY = "arr_0";

    private final NpzFile npz;
    private final NpyRows rows;
    private final int height, width;

    private NpzImages(NpzFile npz, NpyRows rows, int height, int width) {
        this.npz = npz;
        this.rows = rows;
        this.height = height;
        this.width = width;
    }

    public static NpzImages open(Path file) {
        NpzFile npz = NpzFile.open(file);
        try {
            return open(npz);
        } catch (RuntimeException e) {
            npz.close();
            throw e;
        }
    }

    /** Reads {@code arr_0} of an open archive (closed with this source). */
    static NpzImages open(NpzFile npz) {
        long[] s = checkHeader(npz);
        return new NpzImages(npz, npz.stream(KEY), (int) s[1], (int) s[2]);
    }

    /** The shape of {@code arr_0}, which must be uint8 {@code [N, H, W, 3]}. */
    static long[] checkHeader(NpzFile npz) {
        Npy.Header h = npz.header(KEY);
        long[] s = h.shape();
        if (h.dtype() != DType.U8 || s.length != 4 || s[3] != 3 || s[1] <= 0 || s[2] <= 0 || s[0] > Integer.MAX_VALUE) {
            throw new TesseraException(npz.path() + ": '" + KEY + "' must be uint8 images [N, H, W, 3] (RGB), found "
                    + h.descr() + " " + Arrays.toString(s));
        }
        return s;
    }

    @Override
    public int count() {
        return (int) rows.rows();
    }

    @Override
    public List<Rgb8Image> next(int n) {
        int bytes = 3 * height * width;
        byte[] block = new byte[n * bytes];
        rows.read(n, block);
        List<Rgb8Image> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++)
            out.add(new Rgb8Image(height, width, Arrays.copyOfRange(block, i * bytes, (i + 1) * bytes)));
        return out;
    }

    @Override
    public void skip(int n) {
        for (int done = 0; done < n; done += 64) next(Math.min(64, n - done));
    }

    @Override
    public void close() {
        try {
            rows.close();
        } finally {
            npz.close();
        }
    }
}
