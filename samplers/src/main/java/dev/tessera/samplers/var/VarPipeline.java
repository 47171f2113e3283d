package dev.tessera.samplers.var;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.models.var.VarConfig;
import dev.tessera.engine.models.var.VarTransformer;
import dev.tessera.samplers.BundledModels;
import dev.tessera.samplers.LoadedPipeline;
import dev.tessera.samplers.OpenCheckpoints;
import dev.tessera.samplers.Pipeline;
import dev.tessera.samplers.PipelineBuilder;
import dev.tessera.tokenizers.var.MultiScaleVqVae;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Class-conditional image generation with VAR, from the official checkpoint files:
 * <pre>{@code
 * try (VarPipeline var = VarPipeline.load(Path.of("var_d16.pth"), Path.of("vae_ch160v4096z32.pth"))) {
 *     Generation<VarDetails> r = var.generate(new int[] {207, 88}, 0);     // VarSettings.OFFICIAL
 *     r.images().get(0).writePng(Path.of("dog.png"));
 *     BufferedImage img = r.images().get(1).toBufferedImage();
 * }
 * }</pre>
 * Load once, generate many times; see {@link Pipeline}. The sampling itself is {@link VarGenerator}'s.
 */
public final class VarPipeline extends LoadedPipeline<VarSettings, VarDetails> {
    private final VarGenerator generator;

    private final VarSettings defaults;

    private VarPipeline(OpenCheckpoints files, VarGenerator generator, VarSettings defaults) {
        super(
                "var",
                files,
                generator::generate,
                generator.model().config().numClasses(),
                generator.model().config());
        this.generator = generator;
        this.defaults = defaults;
    }

    /**
     * The bundled default: the Fashion-MNIST VAR (depth 3) and its VQ-VAE from {@code examples/models/fmnist/}
     * (see {@link BundledModels}), with its card's sampling settings as {@link #defaults()}.
     */
    public static VarPipeline loadDefault() {
        Path dir = BundledModels.directory();
        return builder()
                .model(dir.resolve(BundledModels.VAR_MODEL))
                .vae(dir.resolve(BundledModels.VAR_VAE))
                .defaults(BundledModels.VAR_SAMPLING)
                .load();
    }

    /** Loads with the configuration recorded in the checkpoints. */
    public static VarPipeline load(Path model, Path vae) {
        return builder().model(model).vae(vae).load();
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public VarSettings defaults() {
        return defaults;
    }

    public VarConfig config() {
        return generator.model().config();
    }

    /** The parts, for callers that drive the transformer or the tokenizer themselves. */
    public VarTransformer transformer() {
        return generator.model();
    }

    public MultiScaleVqVae vqvae() {
        return generator.vae();
    }

    /** The VQ-VAE's residual mix ratio φ of the released checkpoints (the builder's default). */
    public static final float QUANT_RESI = 0.5f;

    /**
     * Loading options; {@link #model} and {@link #vae} are required, the rest optional: {@code heads} (when the
     * checkpoint does not record them), {@code patchNums} (e.g. the 512 px schedule), {@code quantResi} (φ's ratio,
     * 0.5 as released), the weight format and the compute backend.
     */
    public static final class Builder extends PipelineBuilder<Builder> {
        private Path vae;
        private int[] patchNums;
        private float quantResi = QUANT_RESI;
        private VarSettings defaults = VarSettings.OFFICIAL;

        public Builder vae(Path vae) {
            this.vae = vae;
            return this;
        }

        public Builder patchNums(int... patchNums) {
            this.patchNums = patchNums == null ? null : patchNums.clone();
            return this;
        }

        public Builder quantResi(float quantResi) {
            this.quantResi = quantResi;
            return this;
        }

        /** The settings {@link VarPipeline#defaults()} returns (the official FID recipe unless set). */
        public Builder defaults(VarSettings defaults) {
            this.defaults = Objects.requireNonNull(defaults, "defaults");
            return this;
        }

        public VarPipeline load() {
            require(model, vae, "both the VAR model and the VQ-VAE checkpoint are required");
            return OpenCheckpoints.load(packedWeights, files -> {
                Checkpoint m = files.open(model), v = files.open(vae);
                VarTransformer t = VarTransformer.load(m, heads, patchNums, ops, weights);
                MultiScaleVqVae q = MultiScaleVqVae.load(v, t.config().patchNums(), quantResi, ops);
                return new VarPipeline(files, new VarGenerator(t, q), defaults);
            });
        }
    }
}
