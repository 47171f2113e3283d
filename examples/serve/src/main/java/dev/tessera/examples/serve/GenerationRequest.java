package dev.tessera.examples.serve;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tessera.samplers.SamplingSettings;
import dev.tessera.samplers.ar.JacobiSampler;
import dev.tessera.samplers.ar.TokenSettings;
import dev.tessera.samplers.flowar.FlowArSettings;
import dev.tessera.samplers.flowar.FlowSampler;
import dev.tessera.samplers.llamagen.LlamaGenPipeline;
import dev.tessera.samplers.llamagen.LlamaGenSettings;
import dev.tessera.samplers.llamagen.Sampler;
import dev.tessera.samplers.mar.CspdSettings;
import dev.tessera.samplers.mar.MarPipeline;
import dev.tessera.samplers.mar.MarSettings;
import dev.tessera.samplers.var.VarEditMask;
import dev.tessera.samplers.var.VarSettings;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A generation request, checked field by field: the model by its configured name, the classes (indices or names),
 * the seed and the family's sampling settings as {@code tessera generate} has them, each defaulting to the model's
 * defaults. Any wrong value is an {@link ApiException} naming the field; so is a field the family does not have.
 *
 * @param model    the model
 * @param classes  class indices, in order
 * @param seed     the seed
 * @param settings the sampling settings, the model's defaults overridden by the request's fields
 * @param command  the {@code tessera generate} command line that gives the same images, as arguments
 */
record GenerationRequest(
        ServedModel model, int[] classes, long seed, SamplingSettings settings, List<String> command, Edit edit) {

    /**
     * A zero-shot VAR edit instead of a generation ({@code classes} then holds its one class, or the model's class
     * count for the null class).
     *
     * @param picture the picture, {@code [3, side, side]} in [0, 1]
     * @param mask    what to keep
     */
    record Edit(float[] picture, VarEditMask mask) {}

    GenerationRequest(ServedModel model, int[] classes, long seed, SamplingSettings settings, List<String> command) {
        this(model, classes, seed, settings, command, null);
    }

    /** The name of class {@code c} of the model; "none" for the null class of an edit. */
    String className(int c) {
        return c < model.classes().size() ? model.classes().get(c) : "none";
    }

    /** What every request may carry, and what each family adds. */
    static final Set<String> COMMON = Set.of("model", "classes", "seed");

    static final Map<String, List<String>> FAMILY_FIELDS = Map.of(
            "var", List.of("cfg", "top_k", "top_p", "more_smooth"),
            "llamagen",
                    List.of(
                            "cfg",
                            "top_k",
                            "top_p",
                            "temperature",
                            "cfg_interval",
                            "sampler",
                            "gamma",
                            "lantern_k",
                            "lantern_delta",
                            "sjd_window",
                            "sjd_init"),
            "nar", List.of("cfg", "top_k", "top_p", "temperature", "cfg_interval"),
            "flowar", List.of("cfg", "guidance", "steps", "sampler"),
            "mar",
                    List.of(
                            "cfg",
                            "num_iter",
                            "cfg_schedule",
                            "temperature",
                            "diffusion_steps",
                            "sampler",
                            "gamma",
                            "prefill",
                            "inner_temperature",
                            "cspd_rule"));

    /** Caps of the continuous families: FlowAR's solver steps, MAR's steps and DDPM steps. */
    static final int MAX_FLOW_STEPS = 250, MAX_MAR_ITER = 256, MAX_DIFFUSION_STEPS = 1000;

    /** Caps on what one request may ask for. */
    record Limits(int maxImages) {}

    /** Parses and checks a request body against the served models and the caps. */
    static GenerationRequest parse(JsonNode body, Models models, Limits limits) {
        if (body == null || !body.isObject()) throw new ApiException(400, null, "the body must be a JSON object");
        ServedModel model = models.byName(body.has("model") ? text(body, "model") : null);
        List<String> family = FAMILY_FIELDS.getOrDefault(model.family(), List.of());
        for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (COMMON.contains(f) || family.contains(f)) continue;
            boolean other = FAMILY_FIELDS.values().stream().anyMatch(s -> s.contains(f));
            throw ApiException.field(
                    f,
                    other
                            ? "not a setting of the " + model.family() + " model '" + model.name() + "'"
                            : "unknown field (known: " + String.join(", ", known(family)) + ")");
        }
        int[] classes = classes(body.get("classes"), model, limits);
        long seed = body.has("seed") ? integer(body, "seed", Long.MIN_VALUE, Long.MAX_VALUE) : 0;
        List<String> args = new ArrayList<>(List.of("tessera", "generate", model.family()));
        args.addAll(model.loadArgs());
        for (int c : classes) args.addAll(List.of("--class", Integer.toString(c)));
        args.addAll(List.of("--seed", Long.toString(seed)));
        SamplingSettings settings = switch (model.family()) {
            case "var" -> var(body, (VarSettings) model.defaults(), args);
            case "llamagen" -> llamaGen(body, model, args);
            case "nar" -> nar(body, (TokenSettings) model.defaults(), args);
            case "flowar" -> flowAr(body, (FlowArSettings) model.defaults(), args);
            case "mar" -> mar(body, model, seed, args);
            default -> throw new IllegalStateException("no request form for " + model.family());
        };
        args.addAll(List.of("--out", classes.length == 1 ? "image.png" : "images/"));
        return new GenerationRequest(model, classes, seed, settings, List.copyOf(args));
    }

    private static List<String> known(List<String> family) {
        List<String> all = new ArrayList<>(List.of("model", "classes", "seed"));
        all.addAll(family);
        return all;
    }

    private static int[] classes(JsonNode node, ServedModel model, Limits limits) {
        if (node == null || node.isNull())
            throw ApiException.field("classes", "missing (a list of class indices or names)");
        if (!node.isArray()) throw ApiException.field("classes", "must be a list of class indices or names");
        if (node.isEmpty()) throw ApiException.field("classes", "at least one class is needed");
        if (node.size() > limits.maxImages()) {
            throw ApiException.field(
                    "classes", node.size() + " images requested; at most " + limits.maxImages() + " per request");
        }
        int[] out = new int[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode c = node.get(i);
            int v;
            if (c.isIntegralNumber() && c.canConvertToInt())
                v = c.asInt() < model.classes().size() ? c.asInt() : -1;
            else if (c.isTextual()) v = model.resolve(c.asText());
            else v = -1;
            if (v < 0) {
                throw ApiException.field(
                        "classes",
                        "unknown class " + c + " for '" + model.name() + "' (0-"
                                + (model.classes().size() - 1) + " or a name from GET /api/models)");
            }
            out[i] = v;
        }
        return out;
    }

    static VarSettings var(JsonNode b, VarSettings d, List<String> args) {
        double cfg = b.has("cfg") ? number(b, "cfg", -100, 100) : d.cfg();
        int topK = b.has("top_k") ? (int) integer(b, "top_k", 0, 1 << 24) : d.topK();
        double topP = b.has("top_p") ? number(b, "top_p", 0, 1) : d.topP();
        boolean smooth = b.has("more_smooth") ? bool(b, "more_smooth") : d.moreSmooth();
        args.addAll(List.of(
                "--cfg", Double.toString(cfg), "--top-k", Integer.toString(topK), "--top-p", Double.toString(topP)));
        if (smooth) args.add("--more-smooth");
        return new VarSettings(cfg, topK, topP, smooth);
    }

    private static LlamaGenSettings llamaGen(JsonNode b, ServedModel model, List<String> args) {
        LlamaGenSettings d = (LlamaGenSettings) model.defaults();
        double cfg = b.has("cfg") ? number(b, "cfg", -100, 100) : d.cfg();
        int topK = b.has("top_k")
                ? (int) integer(b, "top_k", 0, 1 << 24)
                : d.tokens().distribution().topK();
        double topP = b.has("top_p")
                ? number(b, "top_p", 0, 1)
                : d.tokens().distribution().topP();
        if (!(topP > 0)) throw ApiException.field("top_p", "must be in (0, 1] for LlamaGen, got " + topP);
        double temperature = b.has("temperature")
                ? number(b, "temperature", 0, 100)
                : d.tokens().distribution().temperature();
        int interval = b.has("cfg_interval")
                ? (int) integer(b, "cfg_interval", -1, Integer.MAX_VALUE)
                : d.tokens().cfgInterval();
        Sampler sampler = d.sampler();
        if (b.has("sampler")) {
            try {
                sampler = Sampler.parse(text(b, "sampler"));
            } catch (IllegalArgumentException e) {
                throw ApiException.field("sampler", e.getMessage());
            }
        }
        boolean hasDraft = ((LlamaGenPipeline) model.pipeline()).hasDraft();
        if ((sampler == Sampler.SPECULATIVE || sampler == Sampler.LANTERN) && !hasDraft)
            throw ApiException.field(
                    "sampler", sampler.id() + " needs a draft model, and '" + model.name() + "' has none");
        int gamma = b.has("gamma") ? (int) integer(b, "gamma", 1, 32) : d.gamma();
        int lanternK = b.has("lantern_k") ? (int) integer(b, "lantern_k", 0, 1 << 20) : d.lanternK();
        double delta = b.has("lantern_delta") ? number(b, "lantern_delta", 0, 1000) : d.lanternDelta();
        int window = b.has("sjd_window") ? (int) integer(b, "sjd_window", 1, 256) : d.sjdWindow();
        JacobiSampler.Init init = d.sjdInit();
        if (b.has("sjd_init")) {
            init = switch (text(b, "sjd_init").toLowerCase(Locale.ROOT)) {
                case "repeat_horizon", "repeat-horizon" -> JacobiSampler.Init.REPEAT_HORIZON;
                case "random" -> JacobiSampler.Init.RANDOM;
                default -> throw ApiException.field("sjd_init", "must be repeat_horizon or random");
            };
        }
        args.addAll(List.of(
                "--cfg", Double.toString(cfg),
                "--cfg-interval", Integer.toString(interval),
                "--temperature", Double.toString(temperature),
                "--top-k", Integer.toString(topK),
                "--top-p", Double.toString(topP),
                "--sampler", sampler.id()));
        switch (sampler) {
            case SPECULATIVE -> args.addAll(List.of("--gamma", Integer.toString(gamma)));
            case LANTERN ->
                args.addAll(List.of(
                        "--gamma", Integer.toString(gamma),
                        "--lantern-k", Integer.toString(lanternK),
                        "--lantern-delta", Double.toString(delta)));
            case SJD ->
                args.addAll(List.of(
                        "--sjd-window", Integer.toString(window),
                        "--sjd-init", init.name().toLowerCase(Locale.ROOT)));
            case AR -> {}
        }
        return LlamaGenSettings.builder()
                .cfg(cfg)
                .cfgInterval(interval)
                .temperature(temperature)
                .topK(topK)
                .topP(topP)
                .sampler(sampler)
                .gamma(gamma)
                .lanternK(lanternK)
                .lanternDelta(delta)
                .sjdWindow(window)
                .sjdInit(init)
                .build();
    }

    /** NAR: LlamaGen's token sampling (no speculative samplers). */
    private static TokenSettings nar(JsonNode b, TokenSettings d, List<String> args) {
        double cfg = b.has("cfg") ? number(b, "cfg", -100, 100) : d.cfg();
        int topK = b.has("top_k")
                ? (int) integer(b, "top_k", 0, 1 << 24)
                : d.distribution().topK();
        double topP =
                b.has("top_p") ? number(b, "top_p", 0, 1) : d.distribution().topP();
        if (!(topP > 0)) throw ApiException.field("top_p", "must be in (0, 1] for NAR, got " + topP);
        double temperature = b.has("temperature")
                ? number(b, "temperature", 0, 100)
                : d.distribution().temperature();
        int interval =
                b.has("cfg_interval") ? (int) integer(b, "cfg_interval", -1, Integer.MAX_VALUE) : d.cfgInterval();
        args.addAll(List.of(
                "--cfg", Double.toString(cfg),
                "--cfg-interval", Integer.toString(interval),
                "--temperature", Double.toString(temperature),
                "--top-k", Integer.toString(topK),
                "--top-p", Double.toString(topP)));
        return TokenSettings.builder()
                .cfg(cfg)
                .cfgInterval(interval)
                .temperature(temperature)
                .topK(topK)
                .topP(topP)
                .build();
    }

    /** FlowAR: guidance, its window, the solver and its steps. */
    private static FlowArSettings flowAr(JsonNode b, FlowArSettings d, List<String> args) {
        double cfg = b.has("cfg") ? number(b, "cfg", 1, 100) : d.cfg();
        double guidance = b.has("guidance") ? number(b, "guidance", 0, 1) : d.guidance();
        int steps = b.has("steps") ? (int) integer(b, "steps", 2, MAX_FLOW_STEPS) : d.steps();
        FlowSampler solver = d.solver();
        if (b.has("sampler")) {
            try {
                solver = FlowSampler.parse(text(b, "sampler"));
            } catch (IllegalArgumentException e) {
                throw ApiException.field("sampler", e.getMessage());
            }
        }
        args.addAll(List.of(
                "--cfg", Double.toString(cfg),
                "--guidance", Double.toString(guidance),
                "--steps", Integer.toString(steps),
                "--sampler", solver.name().toLowerCase(Locale.ROOT).replace('_', '-')));
        return d.withCfg(cfg).withGuidance(guidance).withSteps(steps).withSolver(solver);
    }

    /** MAR: steps, guidance and its schedule, the diffusion head's temperature and steps; CSpD with a draft. */
    private static MarSettings mar(JsonNode b, ServedModel model, long seed, List<String> args) {
        MarPipeline pipe = (MarPipeline) model.pipeline();
        MarSettings d = (MarSettings) model.defaults();
        if (seed < 0 || seed > 0xffffffffL)
            throw ApiException.field("seed", "must be 0 to 4294967295 for MAR (NumPy's seed range), got " + seed);
        int numIter = b.has("num_iter") ? (int) integer(b, "num_iter", 1, MAX_MAR_ITER) : d.numIter();
        double cfg = b.has("cfg") ? number(b, "cfg", 1, 100) : d.cfg();
        MarSettings.CfgSchedule schedule = d.schedule();
        if (b.has("cfg_schedule")) {
            schedule = switch (text(b, "cfg_schedule").toLowerCase(Locale.ROOT)) {
                case "linear" -> MarSettings.CfgSchedule.LINEAR;
                case "constant" -> MarSettings.CfgSchedule.CONSTANT;
                default -> throw ApiException.field("cfg_schedule", "must be linear or constant");
            };
        }
        double temperature = b.has("temperature") ? number(b, "temperature", 0, 100) : d.temperature();
        if (!(temperature > 0)) throw ApiException.field("temperature", "must be positive for MAR");
        int diffusion = b.has("diffusion_steps")
                ? (int) integer(b, "diffusion_steps", 1, MAX_DIFFUSION_STEPS)
                : d.diffusionSteps();
        boolean cspd = false;
        if (b.has("sampler")) {
            cspd = switch (text(b, "sampler").toLowerCase(Locale.ROOT)) {
                case "mar" -> false;
                case "cspd" -> true;
                default -> throw ApiException.field("sampler", "must be mar or cspd");
            };
        }
        if (cspd && pipe.draft() == null)
            throw ApiException.field("sampler", "cspd needs a draft model, and '" + model.name() + "' has none");
        for (String f : List.of("gamma", "prefill", "inner_temperature", "cspd_rule")) {
            if (!cspd && b.has(f)) throw ApiException.field(f, "goes with \"sampler\": \"cspd\"");
        }
        CspdSettings c = CspdSettings.RELEASED_DEFAULTS;
        if (cspd) {
            CspdSettings.Rule rule = c.rule();
            if (b.has("cspd_rule")) {
                rule = switch (text(b, "cspd_rule").toLowerCase(Locale.ROOT)) {
                    case "released" -> CspdSettings.Rule.RELEASED;
                    case "exact" -> CspdSettings.Rule.EXACT;
                    default -> throw ApiException.field("cspd_rule", "must be released or exact");
                };
            }
            double inner = b.has("inner_temperature") ? number(b, "inner_temperature", 0, 1000) : c.innerTemperature();
            if (!(inner > 0)) throw ApiException.field("inner_temperature", "must be positive");
            c = new CspdSettings(
                    b.has("gamma") ? (int) integer(b, "gamma", 1, MAX_MAR_ITER) : c.gamma(),
                    b.has("prefill") ? number(b, "prefill", 0, 1) : c.prefill(),
                    inner,
                    rule);
        }
        args.addAll(List.of(
                "--num-iter", Integer.toString(numIter),
                "--cfg", Double.toString(cfg),
                "--cfg-schedule", schedule.name().toLowerCase(Locale.ROOT),
                "--temperature", Double.toString(temperature),
                "--diffusion-steps", Integer.toString(diffusion)));
        if (cspd) {
            args.addAll(model.draftArgs());
            args.addAll(List.of(
                    "--sampler", "cspd",
                    "--gamma", Integer.toString(c.gamma()),
                    "--prefill", Double.toString(c.prefill()),
                    "--inner-temperature", Double.toString(c.innerTemperature()),
                    "--cspd-rule", c.rule().name().toLowerCase(Locale.ROOT)));
        }
        return d.withNumIter(numIter)
                .withCfg(cfg)
                .withSchedule(schedule)
                .withTemperature(temperature)
                .withDiffusionSteps(diffusion)
                .withCspd(cspd ? c : null);
    }

    static String text(JsonNode b, String field) {
        JsonNode n = b.get(field);
        if (n == null || !n.isTextual()) throw ApiException.field(field, "must be a string");
        return n.asText();
    }

    static double number(JsonNode b, String field, double min, double max) {
        JsonNode n = b.get(field);
        if (n == null || !n.isNumber()) throw ApiException.field(field, "must be a number");
        double v = n.asDouble();
        if (!Double.isFinite(v) || v < min || v > max)
            throw ApiException.field(field, "must be between " + min + " and " + max + ", got " + n);
        return v;
    }

    static long integer(JsonNode b, String field, long min, long max) {
        JsonNode n = b.get(field);
        if (n == null || !n.isIntegralNumber() || !n.canConvertToLong())
            throw ApiException.field(field, "must be an integer");
        long v = n.asLong();
        if (v < min || v > max)
            throw ApiException.field(field, "must be between " + min + " and " + max + ", got " + v);
        return v;
    }

    static boolean bool(JsonNode b, String field) {
        JsonNode n = b.get(field);
        if (n == null || !n.isBoolean()) throw ApiException.field(field, "must be true or false");
        return n.asBoolean();
    }
}
