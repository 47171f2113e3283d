package dev.tessera.examples.spark;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.util.Progressable;

/**
 * The test scheme {@code testfs:}: the local disk (testfs:///a/b is /a/b) through Hadoop's FileSystem API, counting
 * the files it opens and creates, with a rename that is not atomic (a copy, then a delete, as an object store's),
 * counted too. Registered for Spark as {@code spark.hadoop.fs.testfs.impl}.
 */
public class CountingFileSystem extends RawLocalFileSystem {
    static final String SCHEME = "testfs";
    static final String TEST_PROPERTY = "spark.hadoop.fs." + SCHEME + ".impl";
    static final Map<String, AtomicInteger> OPENED = new ConcurrentHashMap<>(), CREATED = new ConcurrentHashMap<>();
    static final AtomicInteger RENAMES = new AtomicInteger();

    static void reset() {
        OPENED.clear();
        CREATED.clear();
        RENAMES.set(0);
    }

    static int opened(File f) {
        AtomicInteger n = OPENED.get(f.getAbsolutePath());
        return n == null ? 0 : n.get();
    }

    static String uri(File f) {
        return SCHEME + "://" + f.getAbsolutePath();
    }

    @Override
    public URI getUri() {
        return URI.create(SCHEME + ":///");
    }

    @Override
    public String getScheme() {
        return SCHEME;
    }

    private static void count(Map<String, AtomicInteger> m, Path p) {
        m.computeIfAbsent(p.toUri().getPath(), k -> new AtomicInteger()).incrementAndGet();
    }

    @Override
    public FSDataInputStream open(Path f, int bufferSize) throws IOException {
        count(OPENED, f);
        return super.open(f, bufferSize);
    }

    @Override
    public FSDataOutputStream create(
            Path f, boolean overwrite, int bufferSize, short replication, long blockSize, Progressable progress)
            throws IOException {
        count(CREATED, f);
        return super.create(f, overwrite, bufferSize, replication, blockSize, progress);
    }

    @Override
    public FSDataOutputStream create(
            Path f,
            FsPermission permission,
            boolean overwrite,
            int bufferSize,
            short replication,
            long blockSize,
            Progressable progress)
            throws IOException {
        count(CREATED, f);
        return super.create(f, permission, overwrite, bufferSize, replication, blockSize, progress);
    }

    /** Not atomic: the files are copied one by one, then the source removed (a reader may see half of it). */
    @Override
    public boolean rename(Path src, Path dst) throws IOException {
        RENAMES.incrementAndGet();
        if (!exists(src) || exists(dst)) return false;
        copy(src, dst);
        return delete(src, true);
    }

    private void copy(Path src, Path dst) throws IOException {
        FileStatus s = getFileStatus(src);
        if (s.isDirectory()) {
            mkdirs(dst);
            for (FileStatus c : listStatus(src))
                copy(c.getPath(), new Path(dst, c.getPath().getName()));
            return;
        }
        try (InputStream in = super.open(src, 4096);
                OutputStream out = super.create(dst, false, 4096, (short) 1, 1 << 26, null)) {
            in.transferTo(out);
        }
    }
}
