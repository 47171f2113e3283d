package dev.tessera.examples.fid;

import dev.tessera.samplers.GeneratedImage;
import dev.tessera.samplers.VarPipeline;
import dev.tessera.samplers.flowar.FlowArPipeline;
import dev.tessera.samplers.flowar.FlowArRequest;
import dev.tessera.samplers.llamagen.LlamaGenPipeline;
import dev.tessera.samplers.llamagen.LlamaGenRequest;
import dev.tessera.samplers.nar.NarPipeline;
import dev.tessera.samplers.nar.NarRequest;
import dev.tessera.samplers.var.VarRequest;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The model families the harness can evaluate, each with the file options it needs, its default (official FID)
 * sampling settings, and how it loads into a {@link SampleGenerator}.
 */
public enum ModelFamily {
    /** VAR: transformer + multi-scale VQ-VAE; cfg 1.5, top-k 900, top-p 0.96 (the released FID recipe). */
    VAR("var", "vae", new SampleGenerator.Sampling(1.5, 900, 0.96, 1.0)) {
        @Override
        public SampleGenerator open(Path model, Path tokenizer, SampleGenerator.Sampling s) {
            VarPipeline p = VarPipeline.load(model, tokenizer);
            return new Loaded(p, p.config().numClasses(), p.config().toString()) {
                @Override
                public List<GeneratedImage> generate(int[] classes, long seed) {
                    return p.generate(VarRequest.builder().classes(classes).seed(seed).cfg(s.cfg()).topK(s.topK()).topP(s.topP()).build()).images();
                }
            };
        }
    },
    /** LlamaGen c2i GPT + VQ-16, plain AR; cfg 2.0, no top-k/top-p, temperature 1. */
    LLAMAGEN("llamagen", "vq", new SampleGenerator.Sampling(2.0, 0, 1.0, 1.0)) {
        @Override
        public SampleGenerator open(Path model, Path tokenizer, SampleGenerator.Sampling s) {
            LlamaGenPipeline p = LlamaGenPipeline.builder().model(model).vq(tokenizer).load();
            return new Loaded(p, p.config().numClasses(), p.config().toString()) {
                @Override
                public List<GeneratedImage> generate(int[] classes, long seed) {
                    return p.generate(LlamaGenRequest.builder().classes(classes).seed(seed).cfg(s.cfg()).topK(s.topK())
                            .topP(s.topP()).temperature(s.temperature()).build()).images();
                }
            };
        }
    },
    /**
     * FlowAR + MAR's KL-16 VAE, Euler solver; the official settings of the model size (S: cfg 4.3, L/H: 2.4, with
     * their guidance and steps) unless a cfg is given (a cfg of 0 means the official one).
     */
    FLOWAR("flowar", "vae", new SampleGenerator.Sampling(0, 0, 1.0, 1.0)) {
        @Override
        public SampleGenerator open(Path model, Path tokenizer, SampleGenerator.Sampling s) {
            FlowArPipeline p = FlowArPipeline.load(model, tokenizer);
            FlowArRequest settings = FlowArRequest.builder(p.config()).classes(0).build();
            double cfg = s.cfg() > 0 ? s.cfg() : settings.cfg();
            return new Loaded(p, p.config().numClasses(), p.config() + String.format(" | cfg %s, guidance %s, %d steps",
                    cfg, settings.guidance(), settings.steps())) {
                @Override
                public List<GeneratedImage> generate(int[] classes, long seed) {
                    return p.generate(FlowArRequest.builder(p.config()).classes(classes).seed(seed).cfg(cfg).build()).images();
                }
            };
        }
    },
    /** NAR next-neighbour decoding on LlamaGen's VQ-16; cfg 2.0, no top-k/top-p, temperature 1. */
    NAR("nar", "vq", new SampleGenerator.Sampling(2.0, 0, 1.0, 1.0)) {
        @Override
        public SampleGenerator open(Path model, Path tokenizer, SampleGenerator.Sampling s) {
            NarPipeline p = NarPipeline.builder().model(model).vq(tokenizer).load();
            return new Loaded(p, p.config().numClasses(), p.config().toString()) {
                @Override
                public List<GeneratedImage> generate(int[] classes, long seed) {
                    return p.generate(NarRequest.builder().classes(classes).seed(seed).cfg(s.cfg()).topK(s.topK())
                            .topP(s.topP()).temperature(s.temperature()).build()).images();
                }
            };
        }
    };

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

    /** Opens the model and tokenizer checkpoints. */
    public abstract SampleGenerator open(Path model, Path tokenizer, SampleGenerator.Sampling sampling);

    /** A loaded pipeline and what the harness needs to know of it. */
    private abstract static class Loaded implements SampleGenerator {
        private final AutoCloseable pipeline;
        private final int classes;
        private final String config;

        Loaded(AutoCloseable pipeline, int classes, String config) {
            this.pipeline = pipeline;
            this.classes = classes;
            this.config = config;
        }

        @Override
        public int numClasses() {
            return classes;
        }

        @Override
        public String describe() {
            return config;
        }

        @Override
        public void close() {
            try {
                pipeline.close();
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
