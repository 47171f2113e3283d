package dev.tessera.engine.io;

import dev.tessera.engine.tensor.Tensor;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A checkpoint held in memory (benchmarks with random weights of real shapes, tests). Keys keep insertion order;
 * a missing key fails exactly like a file checkpoint, naming {@code name} as the file.
 */
public final class InMemoryCheckpoint extends TensorMapCheckpoint {

    public InMemoryCheckpoint(String name, Map<String, Tensor> tensors) {
        super(Path.of(name), Collections.unmodifiableMap(new LinkedHashMap<>(tensors)));
    }

    @Override
    public void close() {}
}
