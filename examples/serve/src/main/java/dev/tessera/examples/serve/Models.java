package dev.tessera.examples.serve;

import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.engine.ops.Ops;
import dev.tessera.examples.cli.UsageException;
import dev.tessera.samplers.BundledModels;
import dev.tessera.samplers.llamagen.LlamaGenPipeline;
import dev.tessera.samplers.var.VarPipeline;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The models a server offers, by name, loaded at start-up: the bundled Fashion-MNIST VAR ({@value #BUNDLED_VAR}) and
 * LlamaGen ({@value #BUNDLED_LLAMAGEN}), then those configured with {@code --model NAME=FAMILY:FILE,FILE[,FILE]}.
 * Requests name a model; they never give a path.
 */
final class Models implements AutoCloseable {
    static final String BUNDLED_VAR = "fmnist-var", BUNDLED_LLAMAGEN = "fmnist-llamagen";

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
            }
            for (String spec : specs) m.add(configured(spec, format, ops));
            return m;
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    /** {@code NAME=var:MODEL,VAE} or {@code NAME=llamagen:GPT,VQ[,DRAFT]} (256 px). */
    private static ServedModel configured(String spec, WeightPanels.Format format, Ops ops) {
        int eq = spec.indexOf('='), colon = spec.indexOf(':', eq + 1);
        String usage = "--model " + spec + ": expected NAME=var:MODEL,VAE or NAME=llamagen:GPT,VQ[,DRAFT]";
        if (eq <= 0 || colon < 0) throw new UsageException(usage);
        String name = spec.substring(0, eq).strip(),
                family = spec.substring(eq + 1, colon).strip();
        if (!name.matches("[A-Za-z0-9._-]{1,64}"))
            throw new UsageException("--model " + spec + ": a name is 1-64 letters, digits, '.', '_' or '-'");
        List<Path> files = new ArrayList<>();
        for (String f : spec.substring(colon + 1).split(",")) {
            Path p = Path.of(f.strip());
            if (!Files.isRegularFile(p)) throw new UsageException("--model " + name + ": no such file: " + p);
            files.add(p);
        }
        switch (family) {
            case "var" -> {
                if (files.size() != 2) throw new UsageException(usage);
                VarPipeline p = VarPipeline.builder()
                        .model(files.get(0))
                        .vae(files.get(1))
                        .weights(format)
                        .ops(ops)
                        .load();
                List<String> args = List.of(
                        "--model",
                        files.get(0).toString(),
                        "--vae",
                        files.get(1).toString());
                return new ServedModel(
                        name,
                        p,
                        ServedModel.classNames(p.numClasses(), false),
                        args,
                        p.vqvae().imageSide());
            }
            case "llamagen" -> {
                if (files.size() != 2 && files.size() != 3) throw new UsageException(usage);
                LlamaGenPipeline p = LlamaGenPipeline.builder()
                        .model(files.get(0))
                        .vq(files.get(1))
                        .draft(files.size() == 3 ? files.get(2) : null)
                        .weights(format)
                        .ops(ops)
                        .load();
                List<String> args = new ArrayList<>(List.of(
                        "--model", files.get(0).toString(), "--vq", files.get(1).toString()));
                if (files.size() == 3)
                    args.addAll(List.of("--draft", files.get(2).toString()));
                return new ServedModel(name, p, ServedModel.classNames(p.numClasses(), false), args, 256);
            }
            default -> throw new UsageException(usage + " (family '" + family + "' is not served)");
        }
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
