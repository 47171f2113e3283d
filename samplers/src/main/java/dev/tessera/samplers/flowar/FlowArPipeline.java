package dev.tessera.samplers.flowar;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.models.flowar.FlowArConfig;
import dev.tessera.engine.models.flowar.FlowArModel;
import dev.tessera.engine.ops.Ops;
import dev.tessera.samplers.OpenCheckpoints;
import dev.tessera.samplers.Progress;
import dev.tessera.tokenizers.kl.KlVae;

import java.nio.file.Path;

/**
 * Class-conditional image generation with FlowAR and MAR's KL-16 VAE, from the released files:
 * <pre>{@code
 * try (FlowArPipeline flowar = FlowArPipeline.load(Path.of("FlowAR-S.pth"), Path.of("kl16.ckpt"))) {
 *     FlowArRequest req = FlowArRequest.builder(flowar.config()).classes(207).seed(1).build();
 *     flowar.generate(req).images().get(0).writePng(Path.of("dog.png"));
 * }
 * }</pre>
 * Load once, generate many times; thread-safe (each call has its own state and uses all cores). Closing unmaps
 * the files.
 */
public final class FlowArPipeline implements AutoCloseable {
    private final OpenCheckpoints files;
    private final FlowArGenerator generator;

    private FlowArPipeline(OpenCheckpoints files, FlowArGenerator generator) {
        this.files = files;
        this.generator = generator;
    }

    public static FlowArPipeline load(Path model, Path vae) {
        return builder().model(model).vae(vae).load();
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

    public FlowArResult generate(FlowArRequest request) {
        return generate(request, Progress.NONE);
    }

    /** Generates one image per class, reporting every flow-head evaluation ("flow") and decoded image ("decode"). */
    public FlowArResult generate(FlowArRequest request, Progress progress) {
        return generator.generate(request, progress);
    }

    @Override
    public void close() {
        files.close();
    }

    /** Loading options: {@link #model} and {@link #vae} are required; {@code heads} overrides the inferred count. */
    public static final class Builder {
        private Path model, vae;
        private int heads;
        private Ops ops = Ops.cpu();

        public Builder model(Path p) {
            this.model = p;
            return this;
        }

        public Builder vae(Path p) {
            this.vae = p;
            return this;
        }

        public Builder heads(int h) {
            this.heads = h;
            return this;
        }

        public Builder ops(Ops o) {
            this.ops = o;
            return this;
        }

        public FlowArPipeline load() {
            if (model == null || vae == null) throw new TesseraException("both the FlowAR model and the KL VAE checkpoint are required");
            return OpenCheckpoints.load(files -> {
                Checkpoint m = files.open(model), v = files.open(vae);
                FlowArModel fm = FlowArModel.load(m, heads, ops);
                return new FlowArPipeline(files, new FlowArGenerator(fm, KlVae.load(v, ops)));
            });
        }
    }
}
