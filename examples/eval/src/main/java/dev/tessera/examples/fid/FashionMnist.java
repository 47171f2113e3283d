package dev.tessera.examples.fid;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.tensor.DType;
import dev.tessera.engine.tensor.Tensor;
import dev.tessera.samplers.BundledModels;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Fashion-MNIST as the zoo uses it: 28x28 grey pictures centred on a 32x32 black canvas (a 2-pixel border), one
 * byte a pixel. Reads the dataset's gzipped IDX files (Debian's {@code dataset-fashion-mnist}) and the bundle's
 * {@code fmnist-test-500.safetensors}.
 *
 * @param images {@code count} images of {@code side x side} bytes, row-major, one after the other
 */
public record FashionMnist(byte[] images, int[] labels, int side) {
    /** Where Debian's package puts the IDX files. */
    public static final Path DEBIAN_DIR = Path.of("/usr/share/datasets/fashion-mnist");

    static final int SIDE = 32, RAW = 28, BORDER = 2;

    public int count() {
        return labels.length;
    }

    /** The images at {@code index}, in that order. */
    public FashionMnist subset(int[] index) {
        int P = side * side;
        byte[] px = new byte[index.length * P];
        int[] lb = new int[index.length];
        for (int i = 0; i < index.length; i++) {
            System.arraycopy(images, index[i] * P, px, i * P, P);
            lb[i] = labels[index[i]];
        }
        return new FashionMnist(px, lb, side);
    }

    /** Image i as the judge's input. */
    public float[] judgeInput(int i) {
        byte[] one = new byte[side * side];
        System.arraycopy(images, i * side * side, one, 0, one.length);
        return JudgeCnn.fromGrey(one, side);
    }

    /** The bundle's real test images ({@code images} uint8 [N, 32, 32], {@code labels} int64 [N]). */
    public static FashionMnist bundledTestImages(Path file) {
        try (Checkpoint c = Checkpoints.open(file)) {
            Tensor im = c.tensor("images", -1, SIDE, SIDE), lb = c.tensor("labels", im.dim(0));
            if (im.dtype() != DType.U8)
                throw new TesseraException(file + ": 'images' must be uint8, found " + im.dtype());
            byte[] px = im.data().toArray(ValueLayout.JAVA_BYTE);
            return new FashionMnist(px, lb.toIntArray(), SIDE);
        }
    }

    /** A split ("train" or "t10k") of the IDX files in {@code dir}, placed on the 32x32 canvas. */
    public static FashionMnist readIdx(Path dir, String split) {
        Path imagesFile = dir.resolve(split + "-images-idx3-ubyte.gz"),
                labelsFile = dir.resolve(split + "-labels-idx1-ubyte.gz");
        byte[] raw = readIdxFile(imagesFile, 3, RAW);
        byte[] lab = readIdxFile(labelsFile, 1, 0);
        int n = lab.length;
        if (raw.length != n * RAW * RAW)
            throw new TesseraException(
                    imagesFile + ": " + raw.length / (RAW * RAW) + " images but " + n + " labels in " + labelsFile);
        byte[] canvas = new byte[n * SIDE * SIDE];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = lab[i] & 0xFF;
            if (labels[i] >= BundledModels.FASHION_MNIST_CLASSES.size())
                throw new TesseraException(
                        labelsFile + ": label " + labels[i] + " at " + i + " is not a Fashion-MNIST class");
            for (int y = 0; y < RAW; y++) {
                System.arraycopy(raw, (i * RAW + y) * RAW, canvas, i * SIDE * SIDE + (y + BORDER) * SIDE + BORDER, RAW);
            }
        }
        return new FashionMnist(canvas, labels, SIDE);
    }

    /**
     * The payload of a gzipped IDX file of unsigned bytes with {@code rank} dimensions ({@code side x side} items
     * when rank is 3). Sizes come from an untrusted header and are checked before anything is allocated.
     */
    private static byte[] readIdxFile(Path file, int rank, int side) {
        if (!Files.isRegularFile(file))
            throw new TesseraException(file + ": no such file (Debian package dataset-fashion-mnist)");
        try (InputStream in = new GZIPInputStream(Files.newInputStream(file), 1 << 16);
                DataInputStream d = new DataInputStream(in)) {
            int magic = d.readInt();
            if (magic != (0x0800 | rank))
                throw new TesseraException(file + ": not an IDX file of " + rank + "-D unsigned bytes (magic "
                        + Integer.toHexString(magic) + ")");
            int n = d.readInt();
            long size = n;
            for (int k = 1; k < rank; k++) {
                int dim = d.readInt();
                if (dim != side) throw new TesseraException(file + ": images of " + dim + " pixels, expected " + side);
                size *= dim;
            }
            if (n < 0 || size > 200_000_000L) throw new TesseraException(file + ": implausible size " + size);
            byte[] out = new byte[(int) size];
            d.readFully(out);
            return out;
        } catch (EOFException e) {
            throw new TesseraException(file + ": truncated");
        } catch (IOException e) {
            throw new TesseraException(file + ": " + e.getMessage());
        }
    }
}
