package dev.tessera.samplers.nar;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.models.llamagen.LlamaGenConfig;
import dev.tessera.engine.models.nar.NarModel;
import dev.tessera.samplers.LoadedPipeline;
import dev.tessera.samplers.OpenCheckpoints;
import dev.tessera.samplers.Pipeline;
import dev.tessera.samplers.TokenDetails;
import dev.tessera.samplers.TokenPipelineBuilder;
import dev.tessera.samplers.ar.TokenSettings;
import dev.tessera.tokenizers.llamagen.VqModel;

/**
 * Class-conditional generation with NAR from the official checkpoints and LlamaGen's VQ-16 tokenizer; settings are
 * the token models' ({@link TokenSettings#OFFICIAL}). Load once, generate many times; see {@link Pipeline}. The
 * sampling itself is {@link NarGenerator}'s.
 */
public final class NarPipeline extends LoadedPipeline<TokenSettings, TokenDetails> {
    private final NarGenerator generator;

    private NarPipeline(OpenCheckpoints files, NarGenerator generator) {
        super(
                "nar",
                files,
                generator::generate,
                generator.model().config().numClasses(),
                generator.model().config());
        this.generator = generator;
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public TokenSettings defaults() {
        return TokenSettings.OFFICIAL;
    }

    public LlamaGenConfig config() {
        return generator.model().config();
    }

    public NarModel model() {
        return generator.model();
    }

    /** {@link #model} and {@link #vq} are required. */
    public static final class Builder extends TokenPipelineBuilder<Builder> {
        private int extraLayers = 1;

        /** Blocks of the "below" head ({@code medusa_attention_num}, 1 in every release). */
        public Builder extraLayers(int n) {
            this.extraLayers = n;
            return this;
        }

        public NarPipeline load() {
            requireFiles("NAR");
            return OpenCheckpoints.load(packedWeights, files -> {
                Checkpoint v = files.open(vq);
                VqModel tokenizer = VqModel.load(v, true, ops);
                int grid = tokenizer.tokenGrid(imageSize);
                Checkpoint m = files.open(model);
                NarModel nar = NarModel.load(m, heads, grid, extraLayers, ops, weights);
                return new NarPipeline(files, new NarGenerator(nar, tokenizer));
            });
        }
    }
}
