package dev.tessera.samplers.var;

import java.util.List;
import java.util.Objects;

/**
 * A zero-shot edit of one image (VAR's {@code autoregressive_infer_cfg_with_mask}): the image's multi-scale tokens,
 * which parts to keep, and the class to steer the regenerated parts towards.
 *
 * @param input the image's token maps, one per scale, {@code [pn²]} row-major ({@link VarPipeline#encode})
 * @param mask  where the input's tokens are kept
 * @param label the class, or the model's class count for the null class (pure in-painting, as the notebook's
 *              {@code class_label = 1000} for ImageNet)
 */
public record VarEdit(List<int[]> input, VarEditMask mask, int label) {
    public VarEdit {
        input = input.stream().map(int[]::clone).toList();
        Objects.requireNonNull(mask, "mask");
    }

    /** The token map of scale {@code si} (a copy). */
    public int[] input(int si) {
        return input.get(si).clone();
    }
}
