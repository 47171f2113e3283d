package dev.tessera.engine.models.mar;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.engine.ops.Ops;

/**
 * A MAR checkpoint (a flat state dict, or a released {@code checkpoint-last.pth} whose {@code model_ema} is read):
 * the encoder/decoder and the diffusion MLP, with the configuration read from the tensors (heads are not stored:
 * see {@link MarConfig#infer}).
 */
public record MarModel(MarConfig config, MarTransformer transformer, DiffusionMlp head) {

    /** @param encoderHeads encoder heads (0: from the width); @param decoderHeads decoder heads (0: likewise) */
    public static MarModel load(
            Checkpoint ckpt, int encoderHeads, int decoderHeads, Ops ops, WeightPanels.Format weights) {
        MarConfig cfg = MarConfig.infer(ckpt, encoderHeads, decoderHeads);
        return new MarModel(
                cfg, MarTransformer.load(ckpt, cfg, ops, weights), DiffusionMlp.load(ckpt, cfg, ops, weights));
    }

    public static MarModel load(Checkpoint ckpt, int encoderHeads, int decoderHeads, Ops ops) {
        return load(ckpt, encoderHeads, decoderHeads, ops, WeightPanels.Format.F32);
    }
}
