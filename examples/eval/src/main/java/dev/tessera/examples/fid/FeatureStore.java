package dev.tessera.examples.fid;

import dev.tessera.engine.io.NpyAppender;
import dev.tessera.examples.fid.inception.InceptionFeatures;
import java.nio.file.Path;
import java.util.List;

/**
 * The Inception features of a growing image set, kept on disk as three append-only {@code .npy} files
 * ({@code pool3.npy} N×2048, {@code logits.npy} N×1008, {@code spatial.npy} N×2023) that survive interruption: the
 * rows counted are those present in all three.
 */
public final class FeatureStore implements AutoCloseable {
    private final NpyAppender pool3, logits, spatial;

    private FeatureStore(NpyAppender pool3, NpyAppender logits, NpyAppender spatial) {
        this.pool3 = pool3;
        this.logits = logits;
        this.spatial = spatial;
    }

    /** Opens (or starts) the store in {@code dir}, dropping rows that not all three files have. */
    public static FeatureStore open(Path dir) {
        NpyAppender p = NpyAppender.open(dir.resolve("pool3.npy"), InceptionFeatures.POOL3);
        NpyAppender l = null, s = null;
        try {
            l = NpyAppender.open(dir.resolve("logits.npy"), InceptionFeatures.LOGITS);
            s = NpyAppender.open(dir.resolve("spatial.npy"), InceptionFeatures.SPATIAL);
        } catch (RuntimeException e) {
            p.close();
            if (l != null) l.close();
            throw e;
        }
        FeatureStore store = new FeatureStore(p, l, s);
        store.truncate(store.count());
        return store;
    }

    /** Rows present in all three files. */
    public int count() {
        return (int) Math.min(pool3.rows(), Math.min(logits.rows(), spatial.rows()));
    }

    public void truncate(int rows) {
        pool3.truncate(rows);
        logits.truncate(rows);
        spatial.truncate(rows);
    }

    public void append(List<InceptionFeatures> batch) {
        int n = batch.size();
        float[] p = new float[n * InceptionFeatures.POOL3],
                l = new float[n * InceptionFeatures.LOGITS],
                s = new float[n * InceptionFeatures.SPATIAL];
        for (int i = 0; i < n; i++) {
            InceptionFeatures f = batch.get(i);
            System.arraycopy(f.pool3(), 0, p, i * InceptionFeatures.POOL3, InceptionFeatures.POOL3);
            System.arraycopy(f.logits(), 0, l, i * InceptionFeatures.LOGITS, InceptionFeatures.LOGITS);
            System.arraycopy(f.spatial(), 0, s, i * InceptionFeatures.SPATIAL, InceptionFeatures.SPATIAL);
        }
        pool3.append(p, 0, n);
        logits.append(l, 0, n);
        spatial.append(s, 0, n);
    }

    /** Appends every row of {@code other} (another folder's store: a shard's features) as it is. */
    public void append(FeatureStore other) {
        int n = other.count();
        pool3.append(other.pool3(), 0, n);
        logits.append(other.logits(), 0, n);
        spatial.append(other.spatial(), 0, n);
    }

    public float[] pool3() {
        return pool3.read(0, count());
    }

    public float[] logits() {
        return logits.read(0, count());
    }

    public float[] spatial() {
        return spatial.read(0, count());
    }

    @Override
    public void close() {
        try {
            pool3.close();
        } finally {
            try {
                logits.close();
            } finally {
                spatial.close();
            }
        }
    }
}
