package dev.tessera.examples.serve;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tessera.samplers.SamplingSettings;
import dev.tessera.samplers.ar.JacobiSampler;
import dev.tessera.samplers.llamagen.LlamaGenPipeline;
import dev.tessera.samplers.llamagen.LlamaGenSettings;
import dev.tessera.samplers.llamagen.Sampler;
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
record GenerationRequest(ServedModel model, int[] classes, long seed, SamplingSettings settings, List<String> command) {

    /** What every request may carry, and what each family adds. */
    static final Set<String> COMMON = Set.of("model", "classes", "seed", "cfg", "top_k", "top_p");

    static final Map<String, Set<String>> FAMILY_FIELDS = Map.of(
            "var", Set.of("more_smooth"),
            "llamagen",
                    Set.of(
                            "temperature",
                            "cfg_interval",
                            "sampler",
                            "gamma",
                            "lantern_k",
                            "lantern_delta",
                            "sjd_window",
                            "sjd_init"));

    /** Caps on what one request may ask for. */
    record Limits(int maxImages) {}

    /** Parses and checks a request body against the served models and the caps. */
    static GenerationRequest parse(JsonNode body, Models models, Limits limits) {
        if (body == null || !body.isObject()) throw new ApiException(400, null, "the body must be a JSON object");
        ServedModel model = models.byName(body.has("model") ? text(body, "model") : null);
        Set<String> family = FAMILY_FIELDS.getOrDefault(model.family(), Set.of());
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
            case "var" -> var(body, (VarSettings) model.pipeline().defaults(), args);
            case "llamagen" -> llamaGen(body, model, args);
            default -> throw new IllegalStateException("no request form for " + model.family());
        };
        args.addAll(List.of("--out", classes.length == 1 ? "image.png" : "images/"));
        return new GenerationRequest(model, classes, seed, settings, List.copyOf(args));
    }

    private static List<String> known(Set<String> family) {
        List<String> all = new ArrayList<>(List.of("model", "classes", "seed", "cfg", "top_k", "top_p"));
        all.addAll(family.stream().sorted().toList());
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

    private static VarSettings var(JsonNode b, VarSettings d, List<String> args) {
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
        LlamaGenSettings d = (LlamaGenSettings) model.pipeline().defaults();
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
