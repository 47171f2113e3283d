package dev.tessera.samplers.mar;

import dev.tessera.engine.models.mar.MarConfig;
import dev.tessera.engine.models.mar.MarModel;
import dev.tessera.samplers.LoadedPipeline;
import dev.tessera.samplers.OpenCheckpoints;
import dev.tessera.samplers.Pipeline;
import dev.tessera.samplers.PipelineBuilder;
import dev.tessera.tokenizers.kl.KlVae;
import java.nio.file.Path;

/**
 * Class-conditional image generation with MAR (continuous tokens, a diffusion MLP per token) and its KL-16 VAE,
 * from the released files (their EMA weights):
 * <pre>{@code
 * try (MarPipeline mar = MarPipeline.load(Path.of("mar-base.pth"), Path.of("kl16.ckpt"))) {
 *     mar.generate(new int[] {207}, 1, mar.defaults().withNumIter(64)).images().get(0).writePng(Path.of("dog.png"));
 * }
 * }</pre>
 * With a {@link Builder#draft draft model} the pipeline can also sample with continuous speculative decoding
 * ({@link MarSettings#withCspd}). Load once, generate many times; see {@link Pipeline}.
 */
public final class MarPipeline extends LoadedPipeline<MarSettings, MarDetails> {
    /** The wrapper key of the EMA weights in MAR's released files. */
    public static final String EMA = "model_ema";

    private final MarGenerator generator;

    private MarPipeline(OpenCheckpoints files, MarGenerator generator) {
        super("mar", files, generator::generate, generator.model().config().numClasses(), describe(generator));
        this.generator = generator;
    }

    private static String describe(MarGenerator g) {
        return g.draft() == null
                ? g.model().config().toString()
                : g.model().config() + "; draft " + g.draft().config();
    }

    public static MarPipeline load(Path model, Path vae) {
        return builder().model(model).vae(vae).load();
    }

    public static Builder builder() {
        return new Builder();
    }

    public MarConfig config() {
        return generator.model().config();
    }

    public MarModel model() {
        return generator.model();
    }

    /** The CSpD draft model, or null. */
    public MarModel draft() {
        return generator.draft();
    }

    public KlVae vae() {
        return generator.vae();
    }

    /** The official evaluation settings of this model's size: {@link MarSettings#officialFor}. */
    @Override
    public MarSettings defaults() {
        return MarSettings.officialFor(config());
    }

    /**
     * Loading options: {@link #model} and {@link #vae} are required; {@code heads} sets both the encoder's and the
     * decoder's heads, {@link #heads(int, int)} each (0: the released count for the width).
     */
    public static final class Builder extends PipelineBuilder<Builder> {
        private Path vae, draft;
        private int decoderHeads, draftEncoderHeads, draftDecoderHeads;
        private boolean decoderHeadsSet;

        public Builder vae(Path p) {
            this.vae = p;
            return this;
        }

        /** Encoder and decoder heads. */
        public Builder heads(int encoder, int decoder) {
            heads(encoder);
            this.decoderHeads = decoder;
            this.decoderHeadsSet = true;
            return this;
        }

        /** The CSpD draft model (e.g. MAR-B for a MAR-L target) and its heads (0: from its width). */
        public Builder draft(Path p, int encoderHeads, int decoderHeads) {
            this.draft = p;
            this.draftEncoderHeads = encoderHeads;
            this.draftDecoderHeads = decoderHeads;
            return this;
        }

        public MarPipeline load() {
            require(model, vae, "both the MAR model and the KL VAE checkpoint are required");
            return OpenCheckpoints.load(packedWeights, files -> {
                MarModel m = MarModel.load(
                        files.open(model, EMA), heads, decoderHeadsSet ? decoderHeads : heads, ops, weights);
                MarModel d = draft == null
                        ? null
                        : MarModel.load(files.open(draft, EMA), draftEncoderHeads, draftDecoderHeads, ops, weights);
                KlVae v = KlVae.load(files.open(vae), ops);
                return new MarPipeline(files, new MarGenerator(m, d, v));
            });
        }
    }
}
