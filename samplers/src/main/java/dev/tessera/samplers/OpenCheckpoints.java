package dev.tessera.samplers;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.io.PackedWeightCache;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The checkpoint files a pipeline keeps mapped: opened one by one while it loads, closed together when it is
 * closed, or at once when loading fails half way (a bad second file must not leave the first one mapped).
 */
public final class OpenCheckpoints implements AutoCloseable {
    private final List<Checkpoint> files = new ArrayList<>();
    private final PackedWeightCache packedWeights;

    private OpenCheckpoints(PackedWeightCache packedWeights) {
        this.packedWeights = packedWeights;
    }

    /** Runs {@code loader} with a fresh set; if it throws, everything it opened is closed before the error goes on. */
    public static <T> T load(Function<OpenCheckpoints, T> loader) {
        return load(PackedWeightCache.NONE, loader);
    }

    /** As {@link #load(Function)}, the files' layers keeping their packed weights in {@code packedWeights}. */
    public static <T> T load(PackedWeightCache packedWeights, Function<OpenCheckpoints, T> loader) {
        OpenCheckpoints set = new OpenCheckpoints(packedWeights);
        try {
            return loader.apply(set);
        } catch (RuntimeException e) {
            set.close();
            throw e;
        }
    }

    /** Maps one more file. */
    public Checkpoint open(Path file) {
        Checkpoint c = Checkpoints.open(file);
        files.add(c);
        return packedWeights == PackedWeightCache.NONE ? c : Checkpoint.withPackedWeights(c, packedWeights);
    }

    /** Maps one more file; a {@code .pth} wrapping several state dicts gives the one under {@code preferred}. */
    public Checkpoint open(Path file, String preferred) {
        Checkpoint c = Checkpoints.open(file, preferred);
        files.add(c);
        return packedWeights == PackedWeightCache.NONE ? c : Checkpoint.withPackedWeights(c, packedWeights);
    }

    /** Unmaps every file; results already computed from them stay valid. */
    @Override
    public void close() {
        RuntimeException first = null;
        for (Checkpoint c : files) {
            try {
                c.close();
            } catch (RuntimeException e) {
                if (first == null) first = e;
            }
        }
        files.clear();
        if (first != null) throw first;
    }
}
