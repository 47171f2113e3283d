package dev.tessera.engine.io;

import dev.tessera.engine.tensor.Tensor;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;

/**
 * The tensors of one checkpoint file, by state-dict key. Tensors are views into a single read-only memory mapping
 * of the file, valid until {@link #close()}.
 *
 * <p>Open with {@link Checkpoints#open(Path)}, which recognises PyTorch {@code .pth} zip archives and
 * {@code .safetensors} files by their content.
 */
public interface Checkpoint extends AutoCloseable {

    /** The file this checkpoint was read from. */
    Path path();

    /** The state-dict keys, in file order. */
    Set<String> keys();

    default boolean contains(String key) {
        return keys().contains(key);
    }

    /** The tensor stored under {@code key}; a {@link CheckpointException} naming file and key when absent. */
    Tensor tensor(String key);

    /**
     * The tensor under {@code key}, checked against {@code expectedShape} (a {@code -1} entry matches any size).
     * A missing key or a different shape is a {@link CheckpointException} naming the file, the key, the expected
     * and the found shape.
     */
    default Tensor tensor(String key, long... expectedShape) {
        Tensor t = tensor(key);
        long[] shape = t.shape();
        boolean ok = shape.length == expectedShape.length;
        for (int i = 0; ok && i < shape.length; i++) {
            ok = expectedShape[i] < 0 || expectedShape[i] == shape[i];
        }
        if (!ok) {
            throw new CheckpointException(
                    path(),
                    "tensor '" + key + "' has shape " + Arrays.toString(shape) + ", expected "
                            + Arrays.toString(expectedShape).replace("-1", "*"));
        }
        return t;
    }

    /**
     * Where layers built from this checkpoint keep the packed (compute-layout) forms of its weights between
     * processes; {@link PackedWeightCache#NONE} (the default) packs them in memory every time.
     */
    default PackedWeightCache packedWeights() {
        return PackedWeightCache.NONE;
    }

    /** {@code c} with {@code cache} as its {@link #packedWeights()}; closing the result closes {@code c}. */
    static Checkpoint withPackedWeights(Checkpoint c, PackedWeightCache cache) {
        return new Checkpoint() {
            @Override
            public Path path() {
                return c.path();
            }

            @Override
            public Set<String> keys() {
                return c.keys();
            }

            @Override
            public Tensor tensor(String key) {
                return c.tensor(key);
            }

            @Override
            public PackedWeightCache packedWeights() {
                return cache;
            }

            @Override
            public void close() {
                c.close();
            }

            @Override
            public String toString() {
                return c.toString();
            }
        };
    }

    /** Releases the mapping; tensors obtained from this checkpoint must not be used afterwards. */
    @Override
    void close();
}
