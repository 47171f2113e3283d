package dev.tessera.examples.spark;

import dev.tessera.engine.TesseraException;
import java.io.File;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FileUtil;
import org.apache.hadoop.fs.Path;

/**
 * An evaluation folder named by URI, written through Hadoop's FileSystem API on stores whose rename may be neither
 * atomic nor cheap (object stores). Nothing relies on rename:
 * <ul>
 *   <li>a task writes batch b's samples and features under a folder of its own attempt,
 *       {@code shards/<b>/attempt-<n>-<id>/}, and when every file is closed creates the empty marker
 *       {@code shards/<b>/attempt-<n>-<id>.committed}; a reader trusts an attempt only with its marker, so a shard is
 *       complete or absent whatever a task died doing, and a retried or speculative copy either finds a marker and
 *       stops or commits a second attempt with the same bytes, of which the reader takes one;</li>
 *   <li>the driver, once every shard is committed, copies their samples to {@code samples/} and, after the report,
 *       writes {@code features/} (then the marker {@code features/_COMMITTED}), the reference cache likewise, the
 *       report ({@code report.json} last) and removes {@code shards/}. Until the features' marker exists a restart
 *       works from the committed shards.</li>
 * </ul>
 */
final class StoreFolder {
    static final String MARKER = ".committed", FOLDER_MARKER = "_COMMITTED";

    private final String uri;
    private final Path root;
    private final Configuration conf;
    private final FileSystem fs;

    StoreFolder(String uri) {
        this.uri = uri;
        this.conf = Storage.conf();
        Path p = Storage.path(uri);
        this.fs = Storage.fs(p, conf);
        this.root = fs.makeQualified(p);
    }

    String uri() {
        return uri;
    }

    Path root() {
        return root;
    }

    Path resolve(String relative) {
        return new Path(root, relative);
    }

    Path child(Path parent, String name) {
        return new Path(parent, name);
    }

    Path shard(int b) {
        return new Path(new Path(root, "shards"), String.format("%06d", b));
    }

    /** The committed attempt of batch b (the first by name when several are), or null. */
    String committed(int b) {
        Path shard = shard(b);
        try {
            List<String> names = new ArrayList<>();
            for (FileStatus s : fs.listStatus(shard)) {
                String n = s.getPath().getName();
                if (s.isFile() && n.endsWith(MARKER)) names.add(n.substring(0, n.length() - MARKER.length()));
            }
            names.sort(null);
            return names.isEmpty() ? null : names.getFirst();
        } catch (FileNotFoundException e) {
            return null;
        } catch (IOException e) {
            throw failure(shard, "cannot list", e);
        }
    }

    /** Marks an attempt of batch b whose files are all written as the shard. */
    void commit(int b, String attempt) {
        Path marker = new Path(shard(b), attempt + MARKER);
        try {
            fs.create(marker, false).close();
        } catch (IOException e) {
            throw failure(marker, "cannot write", e);
        }
    }

    /** Copies a local file or folder's files (recursively) to {@code to}; every file is new there. */
    void upload(File local, Path to) {
        if (local.isDirectory()) {
            File[] files = local.listFiles();
            if (files == null) throw new TesseraException(local + ": cannot list");
            Arrays.sort(files);
            for (File f : files) upload(f, new Path(to, f.getName()));
            return;
        }
        try (InputStream in = Files.newInputStream(local.toPath());
                OutputStream out = fs.create(to, true)) {
            in.transferTo(out);
        } catch (IOException e) {
            throw failure(to, "cannot write", e);
        }
    }

    /** Copies a file of the store to a local file (its folder made). */
    void download(Path from, File local) {
        try {
            Files.createDirectories(local.toPath().getParent());
            try (InputStream in = fs.open(from)) {
                Files.copy(in, local.toPath(), StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw failure(from, "cannot read", e);
        }
    }

    /** Copies the files of a folder of the store (not recursively; markers left out) to a local folder. */
    void downloadFolder(Path from, File local) {
        try {
            for (FileStatus s : fs.listStatus(from)) {
                if (s.isFile() && !s.getPath().getName().equals(FOLDER_MARKER))
                    download(s.getPath(), new File(local, s.getPath().getName()));
            }
        } catch (IOException e) {
            throw failure(from, "cannot list", e);
        }
    }

    /** Writes a local folder's files into a folder of the store, then its marker (the old marker removed first). */
    void uploadFolder(File local, Path to) {
        delete(new Path(to, FOLDER_MARKER));
        upload(local, to);
        try {
            fs.create(new Path(to, FOLDER_MARKER), true).close();
        } catch (IOException e) {
            throw failure(to, "cannot write", e);
        }
    }

    /** Copies the files of one store folder into another (same names, replacing what is there). */
    void copyFiles(Path from, Path to) {
        try {
            for (FileStatus s : fs.listStatus(from)) {
                if (s.isFile())
                    FileUtil.copy(fs, s.getPath(), fs, new Path(to, s.getPath().getName()), false, true, conf);
            }
        } catch (IOException e) {
            throw failure(from, "cannot copy", e);
        }
    }

    boolean exists(Path p) {
        try {
            return fs.exists(p);
        } catch (IOException e) {
            throw failure(p, "cannot read", e);
        }
    }

    /** The names in the folder (none when it does not exist). */
    List<String> list(Path p) {
        try {
            List<String> names = new ArrayList<>();
            for (FileStatus s : fs.listStatus(p)) names.add(s.getPath().getName());
            return names;
        } catch (FileNotFoundException e) {
            return List.of();
        } catch (IOException e) {
            throw failure(p, "cannot list", e);
        }
    }

    void delete(Path p) {
        try {
            fs.delete(p, true);
        } catch (IOException e) {
            throw failure(p, "cannot remove", e);
        }
    }

    private static TesseraException failure(Path p, String what, IOException e) {
        return new TesseraException(p + ": " + what + " (" + e.getMessage() + ")", e);
    }
}
