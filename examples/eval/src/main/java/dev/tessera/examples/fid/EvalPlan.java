package dev.tessera.examples.fid;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.examples.fid.inception.Preprocessing;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * What an evaluation run generates and measures. Sample i has class {@link #classOf}; samples are generated in
 * batches of {@code batch}, batch b = samples [b·batch, (b+1)·batch) from seed {@code seed + b}, so every sample is
 * fixed by the plan alone and an interrupted run can regenerate exactly what it lost.
 *
 * @param samples  N, a multiple of {@code perClass}
 * @param perClass K samples of each of N/K classes, spread evenly over the model's classes (all of them when
 *                 N/K equals the class count: 50 × 1000 for ImageNet)
 * @param weights  the linear weights' format the samples are generated with
 * @param sources  files that are local copies of a URI (tessera eval --spark), by copy: the settings and the report
 *                 name them by their URI
 */
public record EvalPlan(
        ModelFamily family,
        Path model,
        Path tokenizer,
        int samples,
        int perClass,
        long seed,
        int batch,
        SampleGenerator.Sampling sampling,
        WeightPanels.Format weights,
        Path inception,
        Preprocessing preprocessing,
        Map<Path, String> sources) {

    public EvalPlan(
            ModelFamily family,
            Path model,
            Path tokenizer,
            int samples,
            int perClass,
            long seed,
            int batch,
            SampleGenerator.Sampling sampling,
            WeightPanels.Format weights,
            Path inception,
            Preprocessing preprocessing) {
        this(
                family,
                model,
                tokenizer,
                samples,
                perClass,
                seed,
                batch,
                sampling,
                weights,
                inception,
                preprocessing,
                null);
    }

    public EvalPlan {
        if (samples <= 0) throw new IllegalArgumentException("samples must be positive");
        if (perClass <= 0 || samples % perClass != 0) {
            throw new IllegalArgumentException(
                    "--samples (" + samples + ") must be a multiple of --per-class (" + perClass + ")");
        }
        if (batch <= 0) throw new IllegalArgumentException("batch must be positive");
        Objects.requireNonNull(weights, "weights");
        model = model.toAbsolutePath().normalize();
        tokenizer = tokenizer.toAbsolutePath().normalize();
        inception = inception == null ? null : inception.toAbsolutePath().normalize(); // null: judged without Inception
        Map<Path, String> named = new LinkedHashMap<>();
        if (sources != null)
            sources.forEach((k, v) -> named.put(k.toAbsolutePath().normalize(), v));
        sources = Map.copyOf(named);
    }

    /** The same plan with these files named by the URIs they were copied from. */
    public EvalPlan withSources(Map<Path, String> sources) {
        return new EvalPlan(
                family,
                model,
                tokenizer,
                samples,
                perClass,
                seed,
                batch,
                sampling,
                weights,
                inception,
                preprocessing,
                sources);
    }

    /** A file as the user named it: the URI it was copied from, else its absolute path. */
    public String source(Path p) {
        Path a = p.toAbsolutePath().normalize();
        return sources.getOrDefault(a, a.toString());
    }

    public int classCount() {
        return samples / perClass;
    }

    /** The class of sample i for a model with {@code numClasses} classes. */
    public int classOf(int i, int numClasses) {
        int j = i / perClass, c = classCount();
        return (int) ((long) j * numClasses / c);
    }

    /** A model with fewer classes than N/K cannot give a class-balanced set. */
    public void checkClasses(int numClasses) {
        if (classCount() > numClasses) {
            throw new TesseraException("--samples " + samples + " with --per-class " + perClass + " needs "
                    + classCount() + " classes but the model has " + numClasses);
        }
    }

    public int batches() {
        return (samples + batch - 1) / batch;
    }

    public long seedOf(int batchIndex) {
        return seed + batchIndex;
    }

    /** The settings the samples depend on (a resumed run must match them). */
    public Map<String, Object> generationSettings() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("family", family.id());
        m.put("model", file(model, source(model)));
        m.put(family.tokenizerOption(), file(tokenizer, source(tokenizer)));
        m.put("samples", samples);
        m.put("per_class", perClass);
        m.put("seed", seed);
        m.put("batch", batch);
        m.put("seeding", "batch b (samples b*batch .. b*batch+batch-1) is generated with seed + b");
        m.put("sampler", sampling.toMap(family.usesTemperature()));
        if (weights != WeightPanels.Format.F32)
            m.put("weights", weights.name().toLowerCase(Locale.ROOT)); // f32: absent, as before
        return m;
    }

    /** The settings the features depend on. */
    public Map<String, Object> featureSettings() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("inception", file(inception, source(inception)));
        m.put("preprocess", preprocessing.id());
        return m;
    }

    /** A file as its absolute path and size (a replaced checkpoint is then noticed). */
    static Map<String, Object> file(Path p) {
        return file(p, p.toString());
    }

    /** A file as a name (its path or URI) and its size. */
    static Map<String, Object> file(Path p, String name) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("path", name);
        try {
            m.put("bytes", Files.size(p));
        } catch (IOException e) {
            throw new TesseraException(p + ": no such file");
        }
        return m;
    }
}
