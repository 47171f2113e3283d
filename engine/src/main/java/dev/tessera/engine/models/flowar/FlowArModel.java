package dev.tessera.engine.models.flowar;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.ops.Ops;

/**
 * A FlowAR checkpoint ({@code FlowAR-S/L/H.pth}, a flat state dict): the scale-wise AR transformer and its flow
 * head, with the configuration read from the tensors.
 */
public record FlowArModel(FlowArConfig config, FlowArTransformer transformer, FlowHead flowHead) {

    /** @param headsOverride AR heads (0 = infer; see {@link FlowArConfig#infer}) */
    public static FlowArModel load(Checkpoint ckpt, int headsOverride, Ops ops) {
        FlowArConfig cfg = FlowArConfig.infer(ckpt, headsOverride);
        return new FlowArModel(cfg, FlowArTransformer.load(ckpt, cfg, ops), FlowHead.load(ckpt, cfg, ops));
    }
}
