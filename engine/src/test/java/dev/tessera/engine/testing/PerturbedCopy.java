package dev.tessera.engine.testing;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.io.SafetensorsWriter;
import dev.tessera.engine.tensor.DType;
import dev.tessera.engine.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A checkpoint like another with every float32 value multiplied by {@code 1 + noise·N(0, 1)}, written as
 * safetensors: a draft model close to its target (as a distilled or smaller sibling would be), so that speculative
 * samplers have something to accept, unlike a draft that is the target itself (which accepts everything).
 */
public final class PerturbedCopy {
    private PerturbedCopy() {}

    public static Path write(Path source, Path out, double noise, long seed) {
        Random r = new Random(seed);
        List<Tensor> tensors = new ArrayList<>();
        try (Checkpoint c = Checkpoints.open(source)) {
            for (String key : c.keys()) {
                Tensor t = c.tensor(key);
                if (t.dtype() == DType.F32) {
                    float[] v = t.toFloatArray();
                    for (int i = 0; i < v.length; i++) v[i] *= (float) (1 + noise * r.nextGaussian());
                    tensors.add(Tensor.ofFloats(key, v, t.shape()));
                } else if (t.dtype() == DType.I64) {
                    tensors.add(Tensor.ofLongs(key, t.toLongArray(), t.shape()));
                } else {
                    throw new IllegalArgumentException(source + ": " + key + " is " + t.dtype() + ", not F32 or I64");
                }
            }
        }
        SafetensorsWriter.write(out, tensors, Map.of());
        return out;
    }
}
