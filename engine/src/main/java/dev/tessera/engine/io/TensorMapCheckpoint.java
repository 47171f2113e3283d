package dev.tessera.engine.io;

import dev.tessera.engine.tensor.Tensor;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * A checkpoint whose tensors are all known up front, by key in file order: what the file readers and the in-memory
 * checkpoint share (lookup with a "did you mean" for a missing key, the key set, the description).
 */
public abstract class TensorMapCheckpoint implements Checkpoint {
    private final Path path;
    private final Map<String, Tensor> tensors;

    protected TensorMapCheckpoint(Path path, Map<String, Tensor> tensors) {
        this.path = path;
        this.tensors = tensors;
    }

    @Override
    public Path path() {
        return path;
    }

    @Override
    public Set<String> keys() {
        return tensors.keySet();
    }

    @Override
    public Tensor tensor(String key) {
        Tensor t = tensors.get(key);
        if (t == null) {
            throw new CheckpointException(
                    path,
                    "missing tensor '" + Untrusted.text(key) + "'" + KeySuggestions.didYouMean(key, tensors.keySet()));
        }
        return t;
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + path + ", " + tensors.size() + " tensors]";
    }
}
