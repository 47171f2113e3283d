package dev.tessera.engine.io;

import dev.tessera.engine.tensor.Tensor;
import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes an {@code .npz} archive as {@code np.savez_compressed} does (deflated {@code <key>.npy} members), readable
 * by {@code np.load} and by {@link NpzFile}. The file appears complete or not at all.
 */
public final class NpzWriter {
    private final Map<String, Object> members = new LinkedHashMap<>();

    /** Adds a numeric array; keys must be unique. */
    public NpzWriter put(String key, Tensor t) {
        return add(key, t);
    }

    /** Adds a 0-d unicode string array. */
    public NpzWriter putString(String key, String value) {
        return add(key, value);
    }

    private NpzWriter add(String key, Object value) {
        if (members.putIfAbsent(key, value) != null) throw new IllegalArgumentException("duplicate key " + key);
        return this;
    }

    public void write(Path out) {
        AtomicFiles.write(out, os -> {
            try (ZipOutputStream zip = new ZipOutputStream(new BufferedOutputStream(os, 1 << 16))) {
                for (Map.Entry<String, Object> e : members.entrySet()) {
                    zip.putNextEntry(new ZipEntry(e.getKey() + ".npy"));
                    OutputStream entry = new NonClosing(zip);
                    if (e.getValue() instanceof Tensor t) Npy.write(entry, t);
                    else Npy.writeString(entry, (String) e.getValue());
                    zip.closeEntry();
                }
            }
        });
    }

    /** Lets {@link Npy#write} use the zip stream without closing it. */
    private static final class NonClosing extends FilterOutputStream {
        NonClosing(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() {}
    }
}
