package dev.tessera.samplers;

import java.nio.file.Path;

/**
 * What the LlamaGen-family pipelines (LlamaGen, NAR) load besides the shared options: a VQ tokenizer (required with
 * the model) and the image size.
 *
 * @param <B> the concrete builder, returned by every setter
 */
public abstract class TokenPipelineBuilder<B extends TokenPipelineBuilder<B>> extends PipelineBuilder<B> {
    protected Path vq;
    protected int imageSize = 256;

    public B vq(Path p) {
        this.vq = p;
        return self();
    }

    /** Image side in pixels; the token grid is this over the tokenizer's downsampling (16). */
    public B imageSize(int px) {
        this.imageSize = px;
        return self();
    }

    /** Fails unless both checkpoints are given; {@code family} names the model in the message. */
    protected void requireFiles(String family) {
        require(model, vq, "the " + family + " model and the VQ tokenizer checkpoints are required");
    }
}
