package dev.tessera.engine.nn;

import dev.tessera.engine.io.Checkpoint;

/** {@code nn.GroupNorm(groups, channels, eps, affine=True)}. */
public record GroupNorm(float[] weight, float[] bias, int groups, float eps) {

    public static GroupNorm load(Checkpoint ckpt, String prefix, int groups, float eps) {
        float[] w = ckpt.tensor(prefix + ".weight", -1).toFloatArray();
        float[] b = ckpt.tensor(prefix + ".bias", w.length).toFloatArray();
        return new GroupNorm(w, b, groups, eps);
    }

    public int channels() {
        return weight.length;
    }
}
