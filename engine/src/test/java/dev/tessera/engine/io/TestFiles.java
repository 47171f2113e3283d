package dev.tessera.engine.io;

import dev.tessera.engine.testing.Golden;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Assumptions;

/** Helpers shared by the checkpoint tests: golden-file lookup and synthetic {@code .pth} archives. */
final class TestFiles {
    private TestFiles() {}

    /**
     * A golden file: the copy vendored in {@code testdata/} when there is one (a fresh clone has it, so the test
     * runs), else the shared golden sets' copy.
     */
    static Path golden(String relative) {
        Path vendored = Golden.testdata().resolve(relative);
        return Files.isRegularFile(vendored) ? vendored : shared(relative);
    }

    /**
     * A file of the shared golden sets ({@code -Dtessera.golden}); skips the test with a printed message naming
     * the path when it is absent (CI, which has the shared folder, fails on any skip).
     */
    static Path shared(String relative) {
        Path file = Golden.sharedRoot().resolve(relative);
        if (!Files.isRegularFile(file)) {
            String msg = "SKIPPED: shared golden file " + file
                    + " is missing (set -Dtessera.golden to the shared golden directory)";
            System.err.println(msg);
            Assumptions.abort(msg);
        }
        return file;
    }

    /**
     * Writes a torch.save-style zip: {@code <top>/data.pkl}, one {@code <top>/data/<key>} entry per storage,
     * {@code <top>/version}. Entries are STORED unless listed in {@code deflated}.
     */
    static Path writePth(Path file, String top, byte[] pickle, Map<String, byte[]> storages, Set<String> deflated)
            throws IOException {
        try (OutputStream os = Files.newOutputStream(file);
                ZipOutputStream zip = new ZipOutputStream(os)) {
            put(zip, top + "/data.pkl", pickle, deflated.contains("data.pkl"));
            for (Map.Entry<String, byte[]> e : storages.entrySet()) {
                put(zip, top + "/data/" + e.getKey(), e.getValue(), deflated.contains(e.getKey()));
            }
            put(zip, top + "/version", "3\n".getBytes(), false);
        }
        return file;
    }

    static Path writePth(Path file, byte[] pickle, Map<String, byte[]> storages) throws IOException {
        return writePth(file, "archive", pickle, storages, Set.of());
    }

    private static void put(ZipOutputStream zip, String name, byte[] data, boolean deflate) throws IOException {
        ZipEntry entry = new ZipEntry(name);
        if (deflate) {
            entry.setMethod(ZipEntry.DEFLATED);
        } else {
            CRC32 crc = new CRC32();
            crc.update(data);
            entry.setMethod(ZipEntry.STORED);
            entry.setSize(data.length);
            entry.setCompressedSize(data.length);
            entry.setCrc(crc.getValue());
        }
        zip.putNextEntry(entry);
        zip.write(data);
        zip.closeEntry();
    }

    static byte[] floats(float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) b.putFloat(v);
        return b.array();
    }

    static byte[] longs(long... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) b.putLong(v);
        return b.array();
    }

    static byte[] shorts(short... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (short v : values) b.putShort(v);
        return b.array();
    }

    /** 0, 1, 2, ... as float32 storage bytes. */
    static byte[] ramp(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = i;
        return floats(v);
    }
}
