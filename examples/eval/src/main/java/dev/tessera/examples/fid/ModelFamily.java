package dev.tessera.examples.fid;

import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.engine.ops.Ops;
import dev.tessera.samplers.GeneratedImage;
import dev.tessera.samplers.Pipeline;
import dev.tessera.samplers.SamplingSettings;
import dev.tessera.samplers.ar.TokenDistribution;
import dev.tessera.samplers.ar.TokenSettings;
import dev.tessera.samplers.flowar.FlowArPipeline;
import dev.tessera.samplers.flowar.FlowArSettings;
import dev.tessera.samplers.llamagen.LlamaGenPipeline;
import dev.tessera.samplers.llamagen.LlamaGenSettings;
import dev.tessera.samplers.nar.NarPipeline;
import dev.tessera.samplers.var.VarPipeline;
import dev.tessera.samplers.var.VarSettings;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The model families the harness can evaluate, each with the file options it needs, its default (official FID)
 * sampling settings (taken from the family's settings type, where they are defined), and how it loads into a
 * {@link SampleGenerator} (through the one {@link Pipeline} API).
 */
public enum ModelFamily {
    /** VAR: transformer + multi-scale VQ-VAE; {@link VarSettings#OFFICIAL} (the released FID recipe). */
    VAR(
            "var",
            "vae",
            new SampleGenerator.Sampling(
                    VarSettings.OFFICIAL.cfg(), VarSettings.OFFICIAL.topK(), VarSettings.OFFICIAL.topP(), 1.0)) {
        @Override
        public SampleGenerator open(
                Path model, Path tokenizer, SampleGenerator.Sampling s, WeightPanels.Format weights, Ops ops) {
            VarPipeline p = VarPipeline.builder()
                    .model(model)
                    .vae(tokenizer)
                    .weights(weights)
                    .ops(ops)
                    .load();
            return new Loaded<>(p, new VarSettings(s.cfg(), s.topK(), s.topP(), false), p.describe());
        }
    },
    /** LlamaGen c2i GPT + VQ-16, plain AR; {@link TokenSettings#OFFICIAL}: cfg 2.0, no top-k/top-p, temperature 1. */
    LLAMAGEN("llamagen", "vq", tokenDefaults()) {
        @Override
        public SampleGenerator open(
                Path model, Path tokenizer, SampleGenerator.Sampling s, WeightPanels.Format weights, Ops ops) {
            LlamaGenPipeline p = LlamaGenPipeline.builder()
                    .model(model)
                    .vq(tokenizer)
                    .weights(weights)
                    .ops(ops)
                    .load();
            return new Loaded<>(
                    p,
                    LlamaGenSettings.builder()
                            .cfg(s.cfg())
                            .topK(s.topK())
                            .topP(s.topP())
                            .temperature(s.temperature())
                            .build(),
                    p.describe());
        }
    },
    /**
     * FlowAR + MAR's KL-16 VAE, Euler solver; the official settings of the model size
     * ({@link FlowArSettings#officialFor}) unless a cfg is given (a cfg of 0 means the official one).
     */
    FLOWAR("flowar", "vae", new SampleGenerator.Sampling(0, 0, 1.0, 1.0)) {
        @Override
        public SampleGenerator open(
                Path model, Path tokenizer, SampleGenerator.Sampling s, WeightPanels.Format weights, Ops ops) {
            FlowArPipeline p = FlowArPipeline.builder()
                    .model(model)
                    .vae(tokenizer)
                    .weights(weights)
                    .ops(ops)
                    .load();
            FlowArSettings official = p.defaults();
            FlowArSettings settings = s.cfg() > 0 ? official.withCfg(s.cfg()) : official;
            return new Loaded<>(
                    p,
                    settings,
                    p.describe()
                            + String.format(
                                    " | cfg %s, guidance %s, %d steps",
                                    settings.cfg(), settings.guidance(), settings.steps()));
        }
    },
    /** NAR next-neighbour decoding on LlamaGen's VQ-16; {@link TokenSettings#OFFICIAL}. */
    NAR("nar", "vq", tokenDefaults()) {
        @Override
        public SampleGenerator open(
                Path model, Path tokenizer, SampleGenerator.Sampling s, WeightPanels.Format weights, Ops ops) {
            NarPipeline p = NarPipeline.builder()
                    .model(model)
                    .vq(tokenizer)
                    .weights(weights)
                    .ops(ops)
                    .load();
            return new Loaded<>(
                    p,
                    new TokenSettings(
                            s.cfg(),
                            TokenSettings.OFFICIAL.cfgInterval(),
                            new TokenDistribution(s.temperature(), s.topK(), s.topP())),
                    p.describe());
        }
    };

    private static SampleGenerator.Sampling tokenDefaults() {
        TokenSettings o = TokenSettings.OFFICIAL;
        return new SampleGenerator.Sampling(
                o.cfg(),
                o.distribution().topK(),
                o.distribution().topP(),
                o.distribution().temperature());
    }

    private final String id, tokenizerOption;
    private final SampleGenerator.Sampling defaults;

    ModelFamily(String id, String tokenizerOption, SampleGenerator.Sampling defaults) {
        this.id = id;
        this.tokenizerOption = tokenizerOption;
        this.defaults = defaults;
    }

    public String id() {
        return id;
    }

    /** The option naming the image tokenizer's checkpoint ("vae" for VAR, "vq" for the token models). */
    public String tokenizerOption() {
        return tokenizerOption;
    }

    public SampleGenerator.Sampling defaults() {
        return defaults;
    }

    /** Whether the temperature is one of the family's settings. */
    public boolean usesTemperature() {
        return this == LLAMAGEN || this == NAR;
    }

    /** Whether top-k / top-p filtering is one of the family's settings (not for FlowAR's continuous tokens). */
    public boolean usesTokenFilters() {
        return this != FLOWAR;
    }

    public static ModelFamily byId(String id) {
        for (ModelFamily f : values()) {
            if (f.id.equals(id.toLowerCase(Locale.ROOT))) return f;
        }
        return null;
    }

    /** Opens the model and tokenizer checkpoints, the linear layers' weights packed in {@code weights}. */
    public abstract SampleGenerator open(
            Path model, Path tokenizer, SampleGenerator.Sampling sampling, WeightPanels.Format weights, Ops ops);

    /** {@link #open(Path, Path, SampleGenerator.Sampling, WeightPanels.Format, Ops)} on the CPU. */
    public SampleGenerator open(
            Path model, Path tokenizer, SampleGenerator.Sampling sampling, WeightPanels.Format weights) {
        return open(model, tokenizer, sampling, weights, Ops.cpu());
    }

    /** A loaded pipeline with the settings of the evaluation. */
    private static final class Loaded<S extends SamplingSettings> implements SampleGenerator {
        private final Pipeline<S, ?> pipeline;
        private final S settings;
        private final String config;

        Loaded(Pipeline<S, ?> pipeline, S settings, String config) {
            this.pipeline = pipeline;
            this.settings = settings;
            this.config = config;
        }

        @Override
        public int numClasses() {
            return pipeline.numClasses();
        }

        @Override
        public List<GeneratedImage> generate(int[] classes, long seed) {
            return pipeline.generate(classes, seed, settings).images();
        }

        @Override
        public String describe() {
            return config;
        }

        @Override
        public void close() {
            pipeline.close();
        }
    }
}
