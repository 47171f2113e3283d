package dev.tessera.samplers;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.io.PackedWeightCache;
import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.engine.ops.Ops;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Loading options every family shares: the model checkpoint (required), a head count for checkpoints that do not
 * record one, the compute backend and the format the linear layers' weights are packed in. These are arguments of
 * loading, never process state: pipelines loaded with different options live side by side in one JVM.
 *
 * @param <B> the concrete builder, returned by every setter
 */
public abstract class PipelineBuilder<B extends PipelineBuilder<B>> {
    protected Path model;
    protected int heads;
    protected Ops ops = Ops.cpu();
    protected WeightPanels.Format weights = WeightPanels.Format.F32;
    protected PackedWeightCache packedWeights = PackedWeightCache.NONE;

    @SuppressWarnings("unchecked")
    protected final B self() {
        return (B) this;
    }

    public B model(Path p) {
        this.model = p;
        return self();
    }

    /** Attention heads, for checkpoints that do not record them (0: the family's rule). */
    public B heads(int h) {
        this.heads = h;
        return self();
    }

    public B ops(Ops o) {
        this.ops = Objects.requireNonNull(o);
        return self();
    }

    /**
     * How the linear layers hold their weights: {@link WeightPanels.Format#F32} (default, the checkpoint's values)
     * or {@link WeightPanels.Format#BF16} / {@link WeightPanels.Format#FP16} (half the memory, on an OpenCL device
     * too; results differ slightly from the checkpoint's).
     */
    public B weights(WeightPanels.Format f) {
        this.weights = Objects.requireNonNull(f);
        return self();
    }

    /**
     * Where the packed (compute-layout) forms of the weights are kept between processes (default
     * {@link PackedWeightCache#NONE}: packed in memory at each load). A process that finds them there maps them
     * instead of packing, which saves most of a large model's first-image overhead; results are identical.
     */
    public B packedWeights(PackedWeightCache cache) {
        this.packedWeights = Objects.requireNonNull(cache);
        return self();
    }

    /** Fails unless the model and its image codec are given; {@code what} names both in the message. */
    protected static void require(Path model, Path codec, String what) {
        if (model == null || codec == null) throw new TesseraException(what);
    }
}
