package dev.tessera.samplers;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.ops.Ops;

import java.nio.file.Path;

/**
 * What the LlamaGen-family pipelines (LlamaGen, NAR) load: a model checkpoint and a VQ tokenizer (both required),
 * an optional head count for checkpoints that do not record one, the image size and the backend.
 *
 * @param <B> the concrete builder, returned by every setter
 */
public abstract class TokenPipelineBuilder<B extends TokenPipelineBuilder<B>> {
    protected Path model, vq;
    protected int heads, imageSize = 256;
    protected Ops ops = Ops.cpu();

    @SuppressWarnings("unchecked")
    private B self() {
        return (B) this;
    }

    public B model(Path p) {
        this.model = p;
        return self();
    }

    public B vq(Path p) {
        this.vq = p;
        return self();
    }

    /** Attention heads (0: width/64, as every release). */
    public B heads(int h) {
        this.heads = h;
        return self();
    }

    /** Image side in pixels; the token grid is this over the tokenizer's downsampling (16). */
    public B imageSize(int px) {
        this.imageSize = px;
        return self();
    }

    public B ops(Ops o) {
        this.ops = o;
        return self();
    }

    /** Fails unless both checkpoints are given; {@code family} names the model in the message. */
    protected void requireFiles(String family) {
        if (model == null || vq == null) throw new TesseraException("the " + family + " model and the VQ tokenizer checkpoints are required");
    }
}
