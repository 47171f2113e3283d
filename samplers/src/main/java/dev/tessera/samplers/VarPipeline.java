package dev.tessera.samplers;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.models.var.VarConfig;
import dev.tessera.engine.models.var.VarTransformer;
import dev.tessera.engine.ops.Ops;
import dev.tessera.samplers.var.VarGenerator;
import dev.tessera.samplers.var.VarRequest;
import dev.tessera.samplers.var.VarResult;
import dev.tessera.tokenizers.var.MultiScaleVqVae;

import java.nio.file.Path;

/**
 * Class-conditional image generation with VAR, from the official checkpoint files:
 * <pre>{@code
 * try (VarPipeline var = VarPipeline.load(Path.of("var_d16.pth"), Path.of("vae_ch160v4096z32.pth"))) {
 *     VarResult r = var.generate(VarRequest.builder().classes(207, 88).seed(0).build());
 *     r.images().get(0).writePng(Path.of("dog.png"));
 *     BufferedImage img = r.images().get(1).toBufferedImage();
 * }
 * }</pre>
 * Load once, generate many times. A pipeline is thread-safe: weights are shared and read-only, every
 * {@code generate} call has its own state, and each call uses all cores. Closing it unmaps the checkpoint files;
 * results already returned stay valid.
 */
public final class VarPipeline implements AutoCloseable {
    private final OpenCheckpoints files;
    private final VarGenerator generator;

    private VarPipeline(OpenCheckpoints files, VarGenerator generator) {
        this.files = files;
        this.generator = generator;
    }

    /** Loads with the configuration recorded in the checkpoints. */
    public static VarPipeline load(Path model, Path vae) {
        return builder().model(model).vae(vae).load();
    }

    public static Builder builder() {
        return new Builder();
    }

    public VarResult generate(VarRequest request) {
        return generate(request, Progress.NONE);
    }

    /** Generates one image per class of the request, reporting each scale and each decoded image. */
    public VarResult generate(VarRequest request, Progress progress) {
        return generator.generate(request, progress);
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

    @Override
    public void close() {
        files.close();
    }

    /**
     * Loading options; {@link #model} and {@link #vae} are required, the rest optional: {@code heads} (when the
     * checkpoint does not record them), {@code patchNums} (e.g. the 512 px schedule), {@code quantResi} (φ's ratio,
     * 0.5 as released) and the compute backend.
     */
    public static final class Builder {
        private Path model, vae;
        private int heads;
        private int[] patchNums;
        private float quantResi = 0.5f;
        private Ops ops = Ops.cpu();

        public Builder model(Path model) {
            this.model = model;
            return this;
        }

        public Builder vae(Path vae) {
            this.vae = vae;
            return this;
        }

        public Builder heads(int heads) {
            this.heads = heads;
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

        public Builder ops(Ops ops) {
            this.ops = ops;
            return this;
        }

        public VarPipeline load() {
            if (model == null || vae == null) throw new TesseraException("both the VAR model and the VQ-VAE checkpoint are required");
            return OpenCheckpoints.load(files -> {
                Checkpoint m = files.open(model), v = files.open(vae);
                VarTransformer t = VarTransformer.load(m, heads, patchNums, ops);
                MultiScaleVqVae q = MultiScaleVqVae.load(v, t.config().patchNums(), quantResi, ops);
                return new VarPipeline(files, new VarGenerator(t, q));
            });
        }
    }
}
