package dev.tessera.samplers.llamagen;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.models.llamagen.LlamaGenConfig;
import dev.tessera.engine.models.llamagen.LlamaGenModel;
import dev.tessera.samplers.BundledModels;
import dev.tessera.samplers.LoadedPipeline;
import dev.tessera.samplers.OpenCheckpoints;
import dev.tessera.samplers.Pipeline;
import dev.tessera.samplers.TokenDetails;
import dev.tessera.samplers.TokenPipelineBuilder;
import dev.tessera.tokenizers.llamagen.VqModel;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Class-conditional image generation with LlamaGen (and the samplers built on it) from the official checkpoints:
 * <pre>{@code
 * try (LlamaGenPipeline p =
 * LlamaGenPipeline.builder().model(Path.of("c2i_L_256.pt")).vq(Path.of("vq_ds16_c2i.pt")).load()) {
 * Generation<TokenDetails> r = p.generate(new int[] {207}, 0, LlamaGenSettings.builder().sampler(Sampler.SJD).build());
 * }
 * }</pre>
 * Load once, generate many times; see {@link Pipeline}. The sampling itself is {@link LlamaGenGenerator}'s.
 */
public final class LlamaGenPipeline extends LoadedPipeline<LlamaGenSettings, TokenDetails> {
    private final LlamaGenGenerator generator;
    private final LlamaGenSettings defaults;

    private LlamaGenPipeline(OpenCheckpoints files, LlamaGenGenerator generator, LlamaGenSettings defaults) {
        super(
                "llamagen",
                files,
                generator::generate,
                generator.model().config().numClasses(),
                generator.model().config());
        this.generator = generator;
        this.defaults = defaults;
    }

    /**
     * The LlamaGen target, its draft and their VQ tokenizer bundled in {@code examples/models/fmnist/} (trained on
     * Fashion-MNIST by {@code examples/train/}; see {@link BundledModels}), 32 px, with the cards' sampling settings as
     * {@link #defaults()}.
     */
    public static LlamaGenPipeline loadDefault() {
        Path dir = BundledModels.llamaGenDirectory();
        return builder()
                .model(dir.resolve(BundledModels.LLAMAGEN_MODEL))
                .vq(dir.resolve(BundledModels.LLAMAGEN_VQ))
                .draft(dir.resolve(BundledModels.LLAMAGEN_DRAFT))
                .imageSize(BundledModels.LLAMAGEN_IMAGE_SIZE)
                .defaults(BundledModels.LLAMAGEN_SAMPLING)
                .load();
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public LlamaGenSettings defaults() {
        return defaults;
    }

    public LlamaGenConfig config() {
        return generator.model().config();
    }

    public LlamaGenModel model() {
        return generator.model();
    }

    public VqModel vq() {
        return generator.vq();
    }

    public boolean hasDraft() {
        return generator.hasDraft();
    }

    public LlamaGenGenerator generator() {
        return generator;
    }

    /** {@link #model} and {@link #vq} are required; the draft (for speculative and LANTERN) and heads optional. */
    public static final class Builder extends TokenPipelineBuilder<Builder> {
        private Path draft;
        private int draftHeads;
        private LlamaGenSettings defaults = LlamaGenSettings.OFFICIAL;

        public Builder draft(Path p) {
            this.draft = p;
            return this;
        }

        public Builder draftHeads(int h) {
            this.draftHeads = h;
            return this;
        }

        /** The settings {@link LlamaGenPipeline#defaults()} returns (the official ones unless set). */
        public Builder defaults(LlamaGenSettings defaults) {
            this.defaults = Objects.requireNonNull(defaults, "defaults");
            return this;
        }

        public LlamaGenPipeline load() {
            requireFiles("LlamaGen");
            return OpenCheckpoints.load(packedWeights, files -> {
                Checkpoint vqFile = files.open(vq);
                VqModel tokenizer = VqModel.load(vqFile, true, ops);
                int grid = tokenizer.tokenGrid(imageSize);
                Checkpoint m = files.open(model);
                LlamaGenModel gpt = LlamaGenModel.load(m, heads, grid, ops, weights);
                tokenizer.requireVocabulary(gpt.config().vocab());
                LlamaGenModel d =
                        draft == null ? null : LlamaGenModel.load(files.open(draft), draftHeads, grid, ops, weights);
                return new LlamaGenPipeline(files, new LlamaGenGenerator(gpt, d, tokenizer), defaults);
            });
        }
    }
}
