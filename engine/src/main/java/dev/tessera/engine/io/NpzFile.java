package dev.tessera.engine.io;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.tensor.Tensor;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * A NumPy {@code .npz} archive ({@code np.savez} / {@code np.savez_compressed}): a zip whose members
 * {@code <key>.npy} are arrays, stored or deflated. Arrays are read on request: {@link #tensor} loads one whole,
 * {@link #stream} reads a large one (an ADM image batch's {@code arr_0}) row block by row block.
 *
 * <p>As a {@link Checkpoint}, a missing key or an unexpected shape is an error naming the file, the key and what
 * the file holds instead.
 */
public final class NpzFile implements Checkpoint {
    private final Path path;
    private final ZipFile zip;
    private final Map<String, ZipEntry> members;

    private NpzFile(Path path, ZipFile zip, Map<String, ZipEntry> members) {
        this.path = path;
        this.zip = zip;
        this.members = members;
    }

    /** Opens an archive; a missing file or one that is not a zip is a {@link CheckpointException}. */
    public static NpzFile open(Path path) {
        if (!Files.exists(path)) throw new CheckpointException(path, "no such file");
        if (Files.isDirectory(path)) throw new CheckpointException(path, "is a directory, not an .npz file");
        ZipFile zip;
        try {
            zip = new ZipFile(path.toFile());
        } catch (ZipException e) {
            throw new CheckpointException(path, "not an .npz file (a zip archive of .npy arrays)");
        } catch (IOException e) {
            throw new CheckpointException(path, "cannot read (" + e.getMessage() + ")", e);
        }
        Map<String, ZipEntry> members = new LinkedHashMap<>();
        Enumeration<? extends ZipEntry> all = zip.entries();
        while (all.hasMoreElements()) {
            ZipEntry e = all.nextElement();
            if (!e.isDirectory() && e.getName().endsWith(".npy")) {
                members.put(e.getName().substring(0, e.getName().length() - 4), e);
            }
        }
        return new NpzFile(path, zip, Collections.unmodifiableMap(members));
    }

    @Override
    public Path path() {
        return path;
    }

    @Override
    public Set<String> keys() {
        return members.keySet();
    }

    private ZipEntry member(String key) {
        ZipEntry e = members.get(key);
        if (e == null) {
            throw new CheckpointException(
                    path,
                    "no array '" + key + "' (the file holds: "
                            + (members.isEmpty() ? "nothing" : String.join(", ", members.keySet())) + ")");
        }
        return e;
    }

    private String where(String key) {
        return path + " ['" + key + "']";
    }

    @Override
    public Tensor tensor(String key) {
        ZipEntry e = member(key);
        try (InputStream in = new BufferedInputStream(zip.getInputStream(e), 1 << 16)) {
            Npy.Header h = Npy.readHeader(in, where(key));
            checkSize(key, e, h);
            return Npy.readData(in, h, key, where(key));
        } catch (IOException ex) {
            throw new CheckpointException(path, "cannot read array '" + key + "': " + ex.getMessage(), ex);
        }
    }

    /** A member holding one string (e.g. written by {@link NpzWriter#putString}). */
    public String string(String key) {
        ZipEntry e = member(key);
        try (InputStream in = zip.getInputStream(e)) {
            return Npy.readString(in, Npy.readHeader(in, where(key)), where(key));
        } catch (IOException ex) {
            throw new CheckpointException(path, "cannot read array '" + key + "': " + ex.getMessage(), ex);
        }
    }

    /** The header of a member without reading its data. */
    public Npy.Header header(String key) {
        ZipEntry e = member(key);
        try (InputStream in = zip.getInputStream(e)) {
            Npy.Header h = Npy.readHeader(in, where(key));
            checkSize(key, e, h);
            return h;
        } catch (IOException ex) {
            throw new CheckpointException(path, "cannot read array '" + key + "': " + ex.getMessage(), ex);
        }
    }

    /** Opens a member for reading row blocks in order. */
    public NpyRows stream(String key) {
        ZipEntry e = member(key);
        try {
            InputStream in = new BufferedInputStream(zip.getInputStream(e), 1 << 20);
            Npy.Header h = Npy.readHeader(in, where(key));
            checkSize(key, e, h);
            return new NpyRows(in, h, where(key));
        } catch (IOException ex) {
            throw new CheckpointException(path, "cannot read array '" + key + "': " + ex.getMessage(), ex);
        }
    }

    /** The uncompressed member size, when the zip records it, must hold the header's data. */
    private void checkSize(String key, ZipEntry e, Npy.Header h) {
        if (e.getSize() >= 0 && e.getSize() < h.dataBytes()) {
            throw new CheckpointException(
                    path,
                    "array '" + key + "' " + h + " needs " + h.dataBytes() + " bytes but the member has " + e.getSize()
                            + " (truncated or corrupt)");
        }
    }

    @Override
    public void close() {
        try {
            zip.close();
        } catch (IOException e) {
            throw new TesseraException(path + ": cannot close (" + e.getMessage() + ")", e);
        }
    }
}
