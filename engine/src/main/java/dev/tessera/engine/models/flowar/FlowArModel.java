package dev.tessera.engine.models.flowar;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.engine.ops.Ops;

/**
 * A FlowAR checkpoint ({@code FlowAR-S/L/H.pth}, a flat state dict): the scale-wise AR transformer and its flow
 * head, with the configuration read from the tensors.
 */
public record FlowArModel(FlowArConfig config, FlowArTransformer transformer, FlowHead flowHead) {

    /** @param headsOverride AR heads (0 = infer; see {@link FlowArConfig#infer}) */
    public static FlowArModel load(Checkpoint ckpt, int headsOverride, Ops ops) {
        return load(ckpt, headsOverride, ops, WeightPanels.Format.F32);
    }

    /** As {@link #load(Checkpoint, int, Ops)}, with the linear layers' weights packed in {@code weights}. */
    public static FlowArModel load(Checkpoint ckpt, int headsOverride, Ops ops, WeightPanels.Format weights) {
        FlowArConfig cfg = FlowArConfig.infer(ckpt, headsOverride);
        return new FlowArModel(
                cfg, FlowArTransformer.load(ckpt, cfg, ops, weights), FlowHead.load(ckpt, cfg, ops, weights));
    }
}
