package dev.tessera.samplers.var;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.models.var.VarConfig;
import dev.tessera.engine.models.var.VarTransformer;
import dev.tessera.samplers.BundledModels;
import dev.tessera.samplers.Generation;
import dev.tessera.samplers.LoadedPipeline;
import dev.tessera.samplers.OpenCheckpoints;
import dev.tessera.samplers.Pipeline;
import dev.tessera.samplers.PipelineBuilder;
import dev.tessera.samplers.Progress;
import dev.tessera.tokenizers.var.MultiScaleVqVae;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

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
 * Beside {@code generate}: zero-shot editing of a picture ({@link #encode}, {@link #edit}) and, with a drafter loaded
 * ({@link Builder#drafter}), collaborative decoding ({@link VarCoDe}).
 */
public final class VarPipeline extends LoadedPipeline<VarSettings, VarDetails> {
    private final VarGenerator generator;

    private final VarSettings defaults;

    private final VarCoDe code; // null without a drafter

    private VarPipeline(OpenCheckpoints files, VarGenerator generator, VarCoDe code, VarSettings defaults) {
        super(
                "var",
                files,
                code != null ? code::generate : generator::generate,
                generator.model().config().numClasses(),
                code != null
                        ? generator.model().config() + ", drafted by "
                                + code.drafter().model().config() + " for " + code.draftScales() + " scales"
                        : generator.model().config());
        this.generator = generator;
        this.code = code;
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

    /**
     * A zero-shot edit of one image (in-painting, out-painting, class-conditional editing; see {@link VarEdit} and
     * {@link VarGenerator#edit}), with this pipeline's model (a drafter, if loaded, takes no part):
     * <pre>{@code
     * List<int[]> tokens = var.encode(Images.toTensor(Images.read(Path.of("sneaker.png"))), 32, 32);
     * VarEditMask lowerHalf = VarEditMask.box(var.vqvae().side(), 0.5, 0, 1, 1, true);   // regenerate it
     * Generation<VarDetails> r = var.edit(new VarEdit(tokens, lowerHalf, 9), 0, var.defaults(), Progress.NONE);
     * }</pre>
     */
    public Generation<VarDetails> edit(VarEdit edit, long seed, VarSettings settings, Progress progress) {
        return generator.edit(edit, seed, settings, progress);
    }

    /** The class number of the null class (no class: pure in-painting), the model's class count. */
    public int nullClass() {
        return config().numClasses();
    }

    /**
     * The multi-scale tokens of one image {@code [3, H, W]} with values in [0, 1] (the VQ-VAE's {@code img_to_idxBl}
     * of {@code 2·x − 1}); the image must have the model's resolution.
     */
    public List<int[]> encode(float[] image, int height, int width) {
        MultiScaleVqVae q = generator.vae();
        if (height != q.imageSide() || width != q.imageSide()) {
            throw new TesseraException("the image is " + width + "x" + height + " but this model works at "
                    + q.imageSide() + "x" + q.imageSide());
        }
        if (image.length != 3 * height * width) {
            throw new TesseraException("an RGB image of " + width + "x" + height + " needs " + 3 * height * width
                    + " values, got " + image.length);
        }
        float[] x = new float[image.length];
        for (int i = 0; i < x.length; i++) x[i] = 2f * image[i] - 1f;
        return q.encode(x, 1, height, width);
    }

    /** The collaborative decoder when a drafter was loaded (then {@link #generate} uses it). */
    public Optional<VarCoDe> collaborative() {
        return Optional.ofNullable(code);
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
        private Path drafter;
        private int draftScales, drafterHeads;

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

        /**
         * Collaborative decoding (CoDe, see {@link VarCoDe}): a larger VAR checkpoint that drafts the first
         * {@code draftScales} scales for the {@link #model} (the refiner); both use the one VQ-VAE. Its heads are
         * inferred from its width (width/64) unless its file records them or {@link #drafterHeads} says.
         */
        public Builder drafter(Path drafter, int draftScales) {
            this.drafter = drafter;
            this.draftScales = draftScales;
            return this;
        }

        /** The drafter's attention heads, for a drafter checkpoint that does not record them (0: width/64). */
        public Builder drafterHeads(int heads) {
            this.drafterHeads = heads;
            return this;
        }

        public VarPipeline load() {
            require(model, vae, "both the VAR model and the VQ-VAE checkpoint are required");
            return OpenCheckpoints.load(packedWeights, files -> {
                Checkpoint m = files.open(model), v = files.open(vae);
                VarTransformer t = VarTransformer.load(m, heads, patchNums, ops, weights);
                MultiScaleVqVae q = MultiScaleVqVae.load(v, t.config().patchNums(), quantResi, ops);
                VarGenerator g = new VarGenerator(t, q);
                VarCoDe code = null;
                if (drafter != null) {
                    VarTransformer d = VarTransformer.load(files.open(drafter), drafterHeads, patchNums, ops, weights);
                    code = new VarCoDe(new VarGenerator(d, q), g, draftScales);
                }
                return new VarPipeline(files, g, code, defaults);
            });
        }
    }
}
