package dev.tessera.examples.spark;

import dev.tessera.engine.TesseraException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;

/**
 * Checkpoints named by URI, copied to local disk (the engine memory-maps weights) once per JVM: into
 * {@code CACHE/<key>/<name>}, the key a digest of the URI, its length and its modification time, so a replaced file
 * is copied again. A copy is written under a temporary name and renamed into place, so a copy cut short is never
 * taken for a whole one; JVMs on one machine share the folder. CACHE is {@code -Dtessera.spark.cache}, else
 * {@code tessera-spark-cache} in the JVM's temporary folder.
 */
final class ModelCache {
    static final String PROPERTY = "tessera.spark.cache";

    /** Copies this JVM has made or found, by cache file. */
    private static final Map<Path, Path> DONE = new ConcurrentHashMap<>();

    private ModelCache() {}

    static Path root() {
        String p = System.getProperty(PROPERTY);
        return p != null ? Path.of(p) : Path.of(System.getProperty("java.io.tmpdir"), "tessera-spark-cache");
    }

    /** A local file with the bytes of {@code uri} (a plain path is that path). */
    static Path local(String uri) {
        if (!Storage.isUri(uri)) return Path.of(uri);
        Configuration conf = Storage.conf();
        var p = Storage.path(uri);
        FileSystem fs = Storage.fs(p, conf);
        FileStatus st;
        try {
            st = fs.getFileStatus(p);
        } catch (IOException e) {
            throw new TesseraException(uri + ": no such file", e);
        }
        if (!st.isFile()) throw new TesseraException(uri + ": not a file");
        String key = digest(st.getPath() + "\n" + st.getLen() + "\n" + st.getModificationTime());
        Path file = root().resolve(key).resolve(p.getName()).toAbsolutePath();
        return DONE.computeIfAbsent(file, f -> copy(fs, st, f));
    }

    private static Path copy(FileSystem fs, FileStatus st, Path file) {
        try {
            if (Files.isRegularFile(file) && Files.size(file) == st.getLen()) return file; // another JVM's copy
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling("." + file.getFileName() + "." + UUID.randomUUID() + ".part");
            try {
                try (InputStream in = fs.open(st.getPath())) {
                    Files.copy(in, tmp);
                }
                if (Files.size(tmp) != st.getLen())
                    throw new IOException("read " + Files.size(tmp) + " bytes of " + st.getLen());
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(tmp);
            }
            return file;
        } catch (IOException e) {
            throw new TesseraException(st.getPath() + ": cannot copy it to " + file + " (" + e.getMessage() + ")", e);
        }
    }

    private static String digest(String s) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
