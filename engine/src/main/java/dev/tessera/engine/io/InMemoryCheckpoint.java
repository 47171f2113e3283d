package dev.tessera.engine.io;

import dev.tessera.engine.tensor.Tensor;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A checkpoint held in memory (benchmarks with random weights of real shapes, tests). Keys keep insertion order;
 * a missing key fails exactly like a file checkpoint, naming {@code name} as the file.
 */
public final class InMemoryCheckpoint implements Checkpoint {
    private final Path name;
    private final Map<String, Tensor> tensors;

    public InMemoryCheckpoint(String name, Map<String, Tensor> tensors) {
        this.name = Path.of(name);
        this.tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    }

    @Override
    public Path path() {
        return name;
    }

    @Override
    public Set<String> keys() {
        return tensors.keySet();
    }

    @Override
    public Tensor tensor(String key) {
        Tensor t = tensors.get(key);
        if (t == null) throw new CheckpointException(name, "missing tensor '" + key + "'");
        return t;
    }

    @Override
    public void close() {
    }
}
