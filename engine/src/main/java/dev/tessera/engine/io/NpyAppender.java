package dev.tessera.engine.io;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.tensor.DType;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * A float32 {@code .npy} file of shape {@code (rows, cols)} that grows by whole rows and survives interruption:
 * each append writes the rows, syncs them, then rewrites the shape in the fixed-size header and syncs again. The
 * header therefore never counts rows that are not on disk; bytes past the counted rows (an append cut short) are
 * dropped when the file is reopened. At every moment the file is a valid array that {@code np.load} reads.
 */
public final class NpyAppender implements AutoCloseable {
    /** Room for any shape text, so the header never has to move. */
    private static final int HEADER_BYTES = 128;

    private final Path file;
    private final FileChannel channel;
    private final int cols;
    private long rows;

    private NpyAppender(Path file, FileChannel channel, int cols, long rows) {
        this.file = file;
        this.channel = channel;
        this.cols = cols;
        this.rows = rows;
    }

    /** Opens {@code file}, creating an empty {@code (0, cols)} array when it does not exist. */
    public static NpyAppender open(Path file, int cols) {
        try {
            boolean exists = Files.exists(file);
            if (exists && Files.size(file) == 0) {
                Files.delete(file); // created but never written: start over
                exists = false;
            }
            if (!exists) {
                Path parent = file.toAbsolutePath().getParent();
                if (parent != null) Files.createDirectories(parent);
            }
            FileChannel ch = FileChannel.open(
                    file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            try {
                NpyAppender a = new NpyAppender(file, ch, cols, 0);
                if (exists) a.recover();
                else a.writeHeader();
                return a;
            } catch (RuntimeException | IOException e) {
                ch.close();
                throw e;
            }
        } catch (IOException e) {
            throw new TesseraException(file + ": cannot open (" + e.getMessage() + ")", e);
        }
    }

    /** Reads the header of an existing file and drops any partial append after the counted rows. */
    private void recover() throws IOException {
        channel.position(0);
        InputStream in = Channels.newInputStream(channel);
        Npy.Header h = Npy.readHeader(in, file.toString());
        long dataStart = channel.position();
        if (dataStart != HEADER_BYTES || h.dtype() != DType.F32 || h.shape().length != 2 || h.shape()[1] != cols) {
            throw new TesseraException(file + ": expected a float32 (rows, " + cols
                    + ") array written by Tessera, found " + h + "; remove it to start over");
        }
        long rowBytes = 4L * cols;
        long onDisk = (channel.size() - HEADER_BYTES) / rowBytes;
        rows = Math.min(h.shape()[0], onDisk);
        channel.truncate(HEADER_BYTES + rows * rowBytes);
        if (rows != h.shape()[0]) writeHeader();
    }

    private void writeHeader() throws IOException {
        byte[] header = Npy.header("<f4", new long[] {rows, cols}, HEADER_BYTES);
        if (header.length != HEADER_BYTES) throw new IllegalStateException("header grew to " + header.length);
        channel.write(ByteBuffer.wrap(header), 0);
        channel.force(false);
    }

    public Path file() {
        return file;
    }

    public long rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    /** Appends {@code n} rows from {@code data[off ..]} (row-major). */
    public void append(float[] data, int off, int n) {
        ByteBuffer buf = ByteBuffer.allocate(n * cols * 4).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(data, off, n * cols);
        try {
            long at = HEADER_BYTES + rows * 4L * cols;
            while (buf.hasRemaining()) at += channel.write(buf, at);
            channel.force(false);
            rows += n;
            writeHeader();
        } catch (IOException e) {
            throw new TesseraException(file + ": cannot append (" + e.getMessage() + ")", e);
        }
    }

    /** Rows {@code [from, from + n)} as a row-major array. */
    public float[] read(long from, int n) {
        if (from < 0 || from + n > rows) throw new IndexOutOfBoundsException("rows " + from + "+" + n + " of " + rows);
        ByteBuffer buf = ByteBuffer.allocate(Math.multiplyExact(n, cols * 4)).order(ByteOrder.LITTLE_ENDIAN);
        try {
            long at = HEADER_BYTES + from * 4L * cols;
            while (buf.hasRemaining()) {
                int got = channel.read(buf, at);
                if (got < 0) throw new IOException("unexpected end of file");
                at += got;
            }
        } catch (IOException e) {
            throw new TesseraException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
        float[] out = new float[n * cols];
        buf.flip();
        buf.asFloatBuffer().get(out);
        return out;
    }

    /** Drops every row from {@code keep} on. */
    public void truncate(long keep) {
        if (keep >= rows) return;
        try {
            channel.truncate(HEADER_BYTES + keep * 4L * cols);
            rows = keep;
            writeHeader();
        } catch (IOException e) {
            throw new TesseraException(file + ": cannot truncate (" + e.getMessage() + ")", e);
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            throw new TesseraException(file + ": cannot close (" + e.getMessage() + ")", e);
        }
    }

    @Override
    public String toString() {
        return file + " " + Arrays.toString(new long[] {rows, cols});
    }
}
