package dev.tessera.engine.io;

import dev.tessera.engine.TesseraException;
import java.io.IOException;
import java.io.InputStream;

/**
 * Sequential reading of a large {@code .npy} array by rows (the first dimension), e.g. 64 images at a time out of
 * a 10,000-image {@code arr_0}, without holding the whole array. Not thread-safe.
 */
public final class NpyRows implements AutoCloseable {
    private final InputStream in;
    private final Npy.Header header;
    private final String where;
    private long rowsRead;

    NpyRows(InputStream in, Npy.Header header, String where) {
        if (header.shape().length == 0) throw new TesseraException(where + ": a 0-d array has no rows");
        this.in = in;
        this.header = header;
        this.where = where;
    }

    public Npy.Header header() {
        return header;
    }

    public long rows() {
        return header.shape()[0];
    }

    public long rowsRead() {
        return rowsRead;
    }

    /** Reads the next {@code n} rows (raw little-endian bytes) into {@code dst}. */
    public void read(int n, byte[] dst) {
        if (rowsRead + n > rows()) throw new IllegalArgumentException("only " + (rows() - rowsRead) + " rows left");
        long bytes = n * header.rowBytes();
        if (bytes > dst.length) throw new IllegalArgumentException("buffer too small");
        try {
            int got = in.readNBytes(dst, 0, (int) bytes);
            if (got != bytes)
                throw new TesseraException(where + ": truncated array data (row " + (rowsRead + got / header.rowBytes())
                        + " of " + rows() + ")");
        } catch (IOException e) {
            throw new TesseraException(where + ": cannot read array data (" + e.getMessage() + ")", e);
        }
        rowsRead += n;
    }

    @Override
    public void close() {
        try {
            in.close();
        } catch (IOException e) {
            throw new TesseraException(where + ": cannot close (" + e.getMessage() + ")", e);
        }
    }
}
