package dev.tessera.samplers.flowar;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.models.flowar.FlowArConfig;
import dev.tessera.engine.models.flowar.FlowArModel;
import dev.tessera.samplers.BundledModels;
import dev.tessera.samplers.LoadedPipeline;
import dev.tessera.samplers.OpenCheckpoints;
import dev.tessera.samplers.Pipeline;
import dev.tessera.samplers.PipelineBuilder;
import dev.tessera.tokenizers.kl.KlVae;
import java.nio.file.Path;

/**
 * Class-conditional image generation with FlowAR and MAR's KL-16 VAE, from the released files:
 * <pre>{@code
 * try (FlowArPipeline flowar = FlowArPipeline.load(Path.of("FlowAR-S.pth"), Path.of("kl16.ckpt"))) {
 *     flowar.generate(new int[] {207}, 1).images().get(0).writePng(Path.of("dog.png"));   // official settings
 * }
 * }</pre>
 * Load once, generate many times; see {@link Pipeline}. The sampling itself is {@link FlowArGenerator}'s.
 */
public final class FlowArPipeline extends LoadedPipeline<FlowArSettings, FlowArDetails> {
    private final FlowArGenerator generator;
    private final FlowArSettings defaults;

    private FlowArPipeline(OpenCheckpoints files, FlowArGenerator generator, FlowArSettings defaults) {
        super(
                "flowar",
                files,
                generator::generate,
                generator.model().config().numClasses(),
                generator.model().config());
        this.generator = generator;
        this.defaults = defaults != null
                ? defaults
                : FlowArSettings.officialFor(generator.model().config());
    }

    public static FlowArPipeline load(Path model, Path vae) {
        return builder().model(model).vae(vae).load();
    }

    /**
     * The bundled FlowAR target and its KL autoencoder (Fashion-MNIST, 32 px, trained by {@code examples/train/}; see
     * {@link BundledModels}), with the cards' sampling settings as {@link #defaults()}.
     */
    public static FlowArPipeline loadDefault() {
        Path dir = BundledModels.flowArDirectory();
        return builder()
                .model(dir.resolve(BundledModels.FLOWAR_MODEL))
                .vae(dir.resolve(BundledModels.FLOWAR_VAE))
                .defaults(BundledModels.FLOWAR_SAMPLING)
                .load();
    }

    public static Builder builder() {
        return new Builder();
    }

    public FlowArConfig config() {
        return generator.model().config();
    }

    public FlowArModel model() {
        return generator.model();
    }

    public KlVae vae() {
        return generator.vae();
    }

    /** The draft of the CSpD-style verifier ({@link FlowArSettings#withCspd}), or null. */
    public FlowArModel draft() {
        return generator.draft();
    }

    /** The official settings of the model's size ({@link FlowArSettings#officialFor}) unless the builder set others. */
    @Override
    public FlowArSettings defaults() {
        return defaults;
    }

    /**
     * Loading options: {@link #model} and {@link #vae} are required; {@code heads} overrides the inferred count;
     * {@link #draft} adds the CSpD-style verifier's draft.
     */
    public static final class Builder extends PipelineBuilder<Builder> {
        private Path vae, draft;
        private int draftHeads;
        private FlowArSettings defaults;

        public Builder vae(Path p) {
            this.vae = p;
            return this;
        }

        /**
         * A draft FlowAR for the CSpD-style verifier: the target's latent channels, scales and classes, any width
         * and depth; {@code heads} overrides its inferred AR heads (0 = infer).
         */
        public Builder draft(Path p, int heads) {
            this.draft = p;
            this.draftHeads = heads;
            return this;
        }

        /** The settings {@link FlowArPipeline#defaults()} returns (default: the official ones of the model's size). */
        public Builder defaults(FlowArSettings s) {
            this.defaults = s;
            return this;
        }

        public FlowArPipeline load() {
            require(model, vae, "both the FlowAR model and the KL VAE checkpoint are required");
            return OpenCheckpoints.load(packedWeights, files -> {
                Checkpoint m = files.open(model), v = files.open(vae);
                FlowArModel fm = FlowArModel.load(m, heads, ops, weights);
                FlowArModel dm = draft == null ? null : FlowArModel.load(files.open(draft), draftHeads, ops, weights);
                return new FlowArPipeline(files, new FlowArGenerator(fm, dm, KlVae.load(v, ops)), defaults);
            });
        }
    }
}
