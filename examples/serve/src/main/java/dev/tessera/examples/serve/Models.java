package dev.tessera.examples.serve;

import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.engine.ops.Ops;
import dev.tessera.examples.cli.UsageException;
import dev.tessera.samplers.BundledModels;
import dev.tessera.samplers.ar.TokenSettings;
import dev.tessera.samplers.flowar.FlowArPipeline;
import dev.tessera.samplers.llamagen.LlamaGenPipeline;
import dev.tessera.samplers.mar.MarPipeline;
import dev.tessera.samplers.nar.NarPipeline;
import dev.tessera.samplers.var.VarPipeline;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The models a server offers, by name, loaded at start-up: the bundled Fashion-MNIST VAR ({@value #BUNDLED_VAR}),
 * LlamaGen ({@value #BUNDLED_LLAMAGEN}) and NAR ({@value #BUNDLED_NAR}), then those configured with {@code --model
 * NAME=FAMILY:PART,...} (see {@link #configured}).
 * Requests name a model; they never give a path.
 */
final class Models implements AutoCloseable {
    static final String BUNDLED_VAR = "fmnist-var", BUNDLED_LLAMAGEN = "fmnist-llamagen", BUNDLED_NAR = "fmnist-nar";

    private final Map<String, ServedModel> byName = new LinkedHashMap<>();

    /** Loads the bundle and each configured model; a missing file or a bad specification is a usage error. */
    static Models load(List<String> specs, boolean bundled, WeightPanels.Format format, Ops ops) {
        Models m = new Models();
        try {
            if (bundled) {
                Path dir = BundledModels.directory();
                VarPipeline var = VarPipeline.builder()
                        .model(dir.resolve(BundledModels.VAR_MODEL))
                        .vae(dir.resolve(BundledModels.VAR_VAE))
                        .defaults(BundledModels.VAR_SAMPLING)
                        .weights(format)
                        .ops(ops)
                        .load();
                m.add(new ServedModel(BUNDLED_VAR, var, ServedModel.classNames(10, true), List.of(), 32));
                LlamaGenPipeline lg = LlamaGenPipeline.builder()
                        .model(dir.resolve(BundledModels.LLAMAGEN_MODEL))
                        .vq(dir.resolve(BundledModels.LLAMAGEN_VQ))
                        .draft(dir.resolve(BundledModels.LLAMAGEN_DRAFT))
                        .imageSize(BundledModels.LLAMAGEN_IMAGE_SIZE)
                        .defaults(BundledModels.LLAMAGEN_SAMPLING)
                        .weights(format)
                        .ops(ops)
                        .load();
                m.add(new ServedModel(
                        BUNDLED_LLAMAGEN,
                        lg,
                        ServedModel.classNames(10, true),
                        List.of(),
                        BundledModels.LLAMAGEN_IMAGE_SIZE));
                NarPipeline nar = NarPipeline.builder()
                        .model(BundledModels.narDirectory().resolve(BundledModels.NAR_MODEL))
                        .vq(dir.resolve(BundledModels.LLAMAGEN_VQ))
                        .imageSize(BundledModels.LLAMAGEN_IMAGE_SIZE)
                        .weights(format)
                        .ops(ops)
                        .load();
                TokenSettings narDefaults =
                        TokenSettings.builder().cfg(BundledModels.LLAMAGEN_CFG).build();
                m.add(new ServedModel(
                        BUNDLED_NAR,
                        nar,
                        ServedModel.classNames(10, true),
                        List.of(),
                        BundledModels.LLAMAGEN_IMAGE_SIZE,
                        narDefaults,
                        List.of()));
            }
            for (String spec : specs) m.add(configured(spec, format, ops));
            return m;
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    /** What {@code --model} takes, for its help and its errors. */
    static final String SPEC_FORMS = "NAME=var:MODEL,VAE | NAME=llamagen:GPT,VQ[,DRAFT] | NAME=nar:MODEL,VQ"
            + " | NAME=flowar:MODEL,VAE | NAME=mar:MODEL,VAE[,DRAFT]";

    /** The files of each family in the order they may be given without a key, and the keys it takes. */
    private static final Map<String, List<String>> POSITIONAL = Map.of(
            "var", List.of("model", "vae"),
            "llamagen", List.of("model", "vq", "draft"),
            "nar", List.of("model", "vq"),
            "flowar", List.of("model", "vae"),
            "mar", List.of("model", "vae", "draft"));

    private static final Map<String, List<String>> OPTIONS = Map.of(
            "var", List.of(),
            "llamagen", List.of(),
            "nar", List.of("heads", "image-size"),
            "flowar", List.of("heads"),
            "mar", List.of("heads", "draft-heads"));

    /**
     * {@code NAME=FAMILY:PART,PART,...}: each part a file in the family's order ({@link #POSITIONAL}) or
     * {@code KEY=VALUE}, e.g. {@code vae=kl16.ckpt}, {@code heads=16} (MAR: {@code heads=E/D} for unequal encoder
     * and decoder heads), {@code image-size=256} (NAR).
     */
    private static ServedModel configured(String spec, WeightPanels.Format format, Ops ops) {
        int eq = spec.indexOf('='), colon = spec.indexOf(':', eq + 1);
        String usage = "--model " + spec + ": expected " + SPEC_FORMS + " (files by position or as KEY=FILE)";
        if (eq <= 0 || colon < 0) throw new UsageException(usage);
        String name = spec.substring(0, eq).strip(),
                family = spec.substring(eq + 1, colon).strip();
        if (!name.matches("[A-Za-z0-9._-]{1,64}"))
            throw new UsageException("--model " + spec + ": a name is 1-64 letters, digits, '.', '_' or '-'");
        List<String> order = POSITIONAL.get(family);
        if (order == null) throw new UsageException(usage + " (family '" + family + "' is not served)");
        Map<String, String> parts = new LinkedHashMap<>();
        int position = 0;
        for (String part : spec.substring(colon + 1).split(",")) {
            String p = part.strip();
            int keyEnd = p.indexOf('=');
            String key = keyEnd > 0 ? p.substring(0, keyEnd) : null;
            if (key == null || !(order.contains(key) || OPTIONS.get(family).contains(key))) {
                if (key != null && key.matches("[a-z-]+") && !Files.exists(Path.of(p))) {
                    List<String> known = new ArrayList<>(order);
                    known.addAll(OPTIONS.get(family));
                    throw new UsageException("--model " + name + ": " + family + " takes no '" + key + "=' (it takes "
                            + String.join("=, ", known) + "=)");
                }
                if (position >= order.size()) throw new UsageException(usage);
                key = order.get(position++);
            } else {
                p = p.substring(keyEnd + 1).strip();
            }
            if (parts.put(key, p) != null) throw new UsageException("--model " + name + ": " + key + " is given twice");
        }
        Map<String, Path> files = new LinkedHashMap<>();
        for (String key : order) {
            String f = parts.get(key);
            if (f == null) continue;
            Path path = Path.of(f);
            if (!Files.isRegularFile(path))
                throw new UsageException("--model " + name + ": no such file: " + path + " (" + key + ")");
            files.put(key, path);
        }
        List<String> required = family.equals("llamagen") || family.equals("mar") ? order.subList(0, 2) : order;
        for (String key : required) {
            if (!files.containsKey(key))
                throw new UsageException("--model " + name + ": the " + family + " model needs its " + key + " file");
        }
        List<String> args = new ArrayList<>();
        for (String key : order) {
            if (files.containsKey(key) && !(family.equals("mar") && key.equals("draft")))
                args.addAll(List.of("--" + key, files.get(key).toString()));
        }
        return switch (family) {
            case "var" -> {
                VarPipeline p = VarPipeline.builder()
                        .model(files.get("model"))
                        .vae(files.get("vae"))
                        .weights(format)
                        .ops(ops)
                        .load();
                yield new ServedModel(
                        name,
                        p,
                        ServedModel.classNames(p.numClasses(), false),
                        args,
                        p.vqvae().imageSide());
            }
            case "llamagen" -> {
                LlamaGenPipeline p = LlamaGenPipeline.builder()
                        .model(files.get("model"))
                        .vq(files.get("vq"))
                        .draft(files.get("draft"))
                        .weights(format)
                        .ops(ops)
                        .load();
                yield new ServedModel(name, p, ServedModel.classNames(p.numClasses(), false), args, 256);
            }
            case "nar" -> {
                int heads = count(name, "heads", parts.get("heads"));
                int side = count(name, "image-size", parts.get("image-size"));
                if (heads > 0) args.addAll(List.of("--heads", Integer.toString(heads)));
                if (side > 0) args.addAll(List.of("--image-size", Integer.toString(side)));
                NarPipeline p = NarPipeline.builder()
                        .model(files.get("model"))
                        .vq(files.get("vq"))
                        .heads(heads)
                        .imageSize(side > 0 ? side : 256)
                        .weights(format)
                        .ops(ops)
                        .load();
                yield new ServedModel(
                        name, p, ServedModel.classNames(p.numClasses(), false), args, side > 0 ? side : 256);
            }
            case "flowar" -> {
                int heads = count(name, "heads", parts.get("heads"));
                if (heads > 0) args.addAll(List.of("--heads", Integer.toString(heads)));
                FlowArPipeline p = FlowArPipeline.builder()
                        .model(files.get("model"))
                        .vae(files.get("vae"))
                        .heads(heads)
                        .weights(format)
                        .ops(ops)
                        .load();
                yield new ServedModel(
                        name,
                        p,
                        ServedModel.classNames(p.numClasses(), false),
                        args,
                        p.config().latentSide() * KL_DOWNSAMPLE);
            }
            case "mar" -> {
                int[] heads = marHeads(name, "heads", parts.get("heads"));
                int[] draftHeads = marHeads(name, "draft-heads", parts.get("draft-heads"));
                if (heads[0] > 0) args.addAll(List.of("--heads", heads[0] + "," + heads[1]));
                List<String> draftArgs = new ArrayList<>();
                MarPipeline.Builder b = MarPipeline.builder()
                        .model(files.get("model"))
                        .vae(files.get("vae"))
                        .heads(heads[0], heads[1])
                        .weights(format)
                        .ops(ops);
                if (files.containsKey("draft")) {
                    b.draft(files.get("draft"), draftHeads[0], draftHeads[1]);
                    draftArgs.addAll(List.of("--draft", files.get("draft").toString()));
                    if (draftHeads[0] > 0)
                        draftArgs.addAll(List.of("--draft-heads", draftHeads[0] + "," + draftHeads[1]));
                } else if (draftHeads[0] > 0) {
                    throw new UsageException("--model " + name + ": draft-heads= goes with a draft file");
                }
                MarPipeline p = b.load();
                yield new ServedModel(
                        name,
                        p,
                        ServedModel.classNames(p.numClasses(), false),
                        args,
                        p.config().side() * KL_DOWNSAMPLE,
                        p.defaults(),
                        draftArgs);
            }
            default -> throw new UsageException(usage);
        };
    }

    /** Pixels per latent token side of MAR's KL-16 VAE (FlowAR and MAR). */
    private static final int KL_DOWNSAMPLE = 16;

    /** A positive whole number of a model's specification; 0 when absent. */
    private static int count(String name, String key, String value) {
        if (value == null) return 0;
        try {
            int v = Integer.parseInt(value.strip());
            if (v >= 1 && v <= 4096) return v;
        } catch (NumberFormatException e) {
            // below
        }
        throw new UsageException("--model " + name + ": " + key + "= takes a whole number 1-4096, got '" + value + "'");
    }

    /** MAR's {@code heads=N} (encoder and decoder) or {@code heads=E/D}; {0, 0} when absent. */
    private static int[] marHeads(String name, String key, String value) {
        if (value == null) return new int[] {0, 0};
        String[] ed = value.split("/", -1);
        if (ed.length > 2) throw new UsageException("--model " + name + ": " + key + "= takes N or E/D, got " + value);
        int e = count(name, key, ed[0]);
        return new int[] {e, ed.length == 2 ? count(name, key, ed[1]) : e};
    }

    private void add(ServedModel m) {
        if (byName.containsKey(m.name())) {
            m.pipeline().close();
            throw new UsageException("--model " + m.name() + ": that name is taken");
        }
        byName.put(m.name(), m);
    }

    Collection<ServedModel> all() {
        return byName.values();
    }

    /** A model by name; null means the first one. */
    ServedModel byName(String name) {
        if (byName.isEmpty()) throw new ApiException(503, "model", "this server has no models");
        if (name == null) return byName.values().iterator().next();
        ServedModel m = byName.get(name);
        if (m == null) {
            throw ApiException.field(
                    "model", "unknown model '" + name + "' (served: " + String.join(", ", byName.keySet()) + ")");
        }
        return m;
    }

    @Override
    public void close() {
        for (ServedModel m : byName.values()) m.pipeline().close();
    }
}
