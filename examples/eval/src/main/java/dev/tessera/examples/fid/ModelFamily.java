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
import dev.tessera.samplers.mar.CspdSettings;
import dev.tessera.samplers.mar.MarPipeline;
import dev.tessera.samplers.mar.MarSettings;
import dev.tessera.samplers.nar.NarPipeline;
import dev.tessera.samplers.var.VarPipeline;
import dev.tessera.samplers.var.VarSettings;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

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
    /**
     * MAR + its KL-16 VAE; the official settings of the model size ({@link MarSettings#officialFor}) with the
     * family options over them ({@link #MAR_OPTIONS}; a cfg of 0 means the official one), CSpD with a draft when
     * the option {@code sampler} is {@code cspd}.
     */
    MAR("mar", "vae", new SampleGenerator.Sampling(0, 0, 1.0, 1.0)) {
        @Override
        public SampleGenerator open(
                Path model, Path tokenizer, SampleGenerator.Sampling s, WeightPanels.Format weights, Ops ops) {
            Map<String, String> o = s.options();
            int[] heads = heads(o.get("heads"), "--heads");
            MarPipeline.Builder b = MarPipeline.builder()
                    .model(model)
                    .vae(tokenizer)
                    .heads(heads[0], heads[1])
                    .weights(weights)
                    .ops(ops);
            if (o.containsKey("draft")) {
                int[] dh = heads(o.get("draft_heads"), "--draft-heads");
                b.draft(Path.of(o.get("draft")), dh[0], dh[1]);
            }
            MarPipeline p = b.load();
            MarSettings settings = marSettings(p.defaults(), s);
            String cspd = settings.cspd() == null
                    ? ""
                    : String.format(
                            Locale.ROOT,
                            " | CSpD %s, gamma %d, prefill %s, inner temperature %s",
                            settings.cspd().rule().name().toLowerCase(Locale.ROOT),
                            settings.cspd().gamma(),
                            settings.cspd().prefill(),
                            settings.cspd().innerTemperature());
            return new Loaded<>(
                    p,
                    settings,
                    p.describe()
                            + String.format(
                                    Locale.ROOT,
                                    " | cfg %s %s, %d steps, %d diffusion steps, temperature %s",
                                    settings.cfg(),
                                    settings.schedule().name().toLowerCase(Locale.ROOT),
                                    settings.numIter(),
                                    settings.diffusionSteps(),
                                    settings.temperature())
                            + cspd);
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

    /** The options of the MAR family, as {@code tessera generate mar} names them (without the dashes). */
    public static final List<String> MAR_OPTIONS = List.of(
            "heads",
            "num_iter",
            "cfg_schedule",
            "diffusion_steps",
            "sampler",
            "draft",
            "draft_heads",
            "cspd_rule",
            "gamma",
            "prefill",
            "inner_temperature");

    /**
     * MAR's settings: {@code base} (the size's official ones) with the sampling's cfg (when positive),
     * temperature and MAR options over it.
     *
     * @throws IllegalArgumentException naming the option that is wrong
     */
    public static MarSettings marSettings(MarSettings base, SampleGenerator.Sampling s) {
        Map<String, String> o = s.options();
        for (String k : o.keySet()) {
            if (!MAR_OPTIONS.contains(k)) throw new IllegalArgumentException("unknown MAR option '" + k + "'");
        }
        MarSettings r = base.withTemperature(s.temperature());
        if (s.cfg() > 0) r = r.withCfg(s.cfg());
        if (o.containsKey("num_iter")) r = r.withNumIter(integer(o, "num_iter"));
        if (o.containsKey("diffusion_steps")) r = r.withDiffusionSteps(integer(o, "diffusion_steps"));
        if (o.containsKey("cfg_schedule")) {
            r = r.withSchedule(
                    switch (o.get("cfg_schedule").toLowerCase(Locale.ROOT)) {
                        case "linear" -> MarSettings.CfgSchedule.LINEAR;
                        case "constant" -> MarSettings.CfgSchedule.CONSTANT;
                        default ->
                            throw new IllegalArgumentException(
                                    "--cfg-schedule must be linear or constant, got '" + o.get("cfg_schedule") + "'");
                    });
        }
        boolean cspd = switch (o.getOrDefault("sampler", "mar").toLowerCase(Locale.ROOT)) {
            case "mar" -> false;
            case "cspd" -> true;
            default ->
                throw new IllegalArgumentException("--sampler must be mar or cspd, got '" + o.get("sampler") + "'");
        };
        boolean cspdOptions = Stream.of("draft", "draft_heads", "cspd_rule", "gamma", "prefill", "inner_temperature")
                .anyMatch(o::containsKey);
        if (!cspd && cspdOptions) {
            throw new IllegalArgumentException("--draft, --draft-heads, --cspd-rule, --gamma, --prefill and "
                    + "--inner-temperature need --sampler cspd");
        }
        if (cspd && !o.containsKey("draft")) throw new IllegalArgumentException("--sampler cspd needs a --draft model");
        heads(o.get("heads"), "--heads");
        heads(o.get("draft_heads"), "--draft-heads");
        if (cspd) {
            CspdSettings d = CspdSettings.RELEASED_DEFAULTS;
            CspdSettings.Rule rule =
                    switch (o.getOrDefault("cspd_rule", "released").toLowerCase(Locale.ROOT)) {
                        case "released" -> CspdSettings.Rule.RELEASED;
                        case "exact" -> CspdSettings.Rule.EXACT;
                        default ->
                            throw new IllegalArgumentException(
                                    "--cspd-rule must be released or exact, got '" + o.get("cspd_rule") + "'");
                    };
            r = r.withCspd(new CspdSettings(
                    o.containsKey("gamma") ? integer(o, "gamma") : d.gamma(),
                    o.containsKey("prefill") ? number(o, "prefill") : d.prefill(),
                    o.containsKey("inner_temperature") ? number(o, "inner_temperature") : d.innerTemperature(),
                    rule));
        }
        return r;
    }

    /** {@code E} or {@code E,D} (null: 0, 0, the released counts for the width). */
    static int[] heads(String v, String option) {
        if (v == null) return new int[] {0, 0};
        String[] parts = v.split(",", -1);
        try {
            if (parts.length > 2) throw new NumberFormatException();
            int e = Integer.parseInt(parts[0].trim()), d = parts.length == 2 ? Integer.parseInt(parts[1].trim()) : e;
            if (e < 1 || d < 1) throw new NumberFormatException();
            return new int[] {e, d};
        } catch (NumberFormatException x) {
            throw new IllegalArgumentException(option + " takes E or E,D (whole numbers from 1), got '" + v + "'");
        }
    }

    private static int integer(Map<String, String> o, String key) {
        try {
            return Integer.parseInt(o.get(key).trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "--" + key.replace('_', '-') + " takes a whole number, got '" + o.get(key) + "'");
        }
    }

    private static double number(Map<String, String> o, String key) {
        try {
            return Double.parseDouble(o.get(key).trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "--" + key.replace('_', '-') + " takes a number, got '" + o.get(key) + "'");
        }
    }

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
        return this == LLAMAGEN || this == NAR || this == MAR;
    }

    /** Whether top-k / top-p filtering is one of the family's settings (not for continuous tokens). */
    public boolean usesTokenFilters() {
        return this != FLOWAR && this != MAR;
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
