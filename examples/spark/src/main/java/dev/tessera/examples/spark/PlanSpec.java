package dev.tessera.examples.spark;

import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.examples.fid.EvalPlan;
import dev.tessera.examples.fid.ModelFamily;
import dev.tessera.examples.fid.SampleGenerator;
import dev.tessera.examples.fid.inception.Preprocessing;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * An {@link EvalPlan} as the Spark tasks receive it: the same fields in serializable form (paths as strings, enums
 * by name; files given as URIs by their URI; the family's options, such as MAR's, as they are). {@link #plan()}
 * rebuilds the plan on an executor (the URIs' files copied to the executor's disk, once per JVM: {@link ModelCache}).
 */
record PlanSpec(
        String family,
        String model,
        String tokenizer,
        int samples,
        int perClass,
        long seed,
        int batch,
        double cfg,
        int topK,
        double topP,
        double temperature,
        TreeMap<String, String> options,
        String weights,
        String inception,
        String preprocessing)
        implements Serializable {

    /** The plan, with the files the driver copied from a URI named by that URI (every executor reads it there). */
    static PlanSpec of(EvalPlan p) {
        Map<Path, String> uris = p.sources();
        SampleGenerator.Sampling s = p.sampling();
        return new PlanSpec(
                p.family().name(),
                uris.getOrDefault(p.model(), p.model().toString()),
                uris.getOrDefault(p.tokenizer(), p.tokenizer().toString()),
                p.samples(),
                p.perClass(),
                p.seed(),
                p.batch(),
                s.cfg(),
                s.topK(),
                s.topP(),
                s.temperature(),
                new TreeMap<>(s.options()),
                p.weights().name(),
                uris.getOrDefault(p.inception(), p.inception().toString()),
                p.preprocessing().name());
    }

    EvalPlan plan() {
        Map<Path, String> sources = new HashMap<>();
        for (String f : new String[] {model, tokenizer, inception})
            if (Storage.isUri(f)) sources.put(ModelCache.local(f), f);
        return new EvalPlan(
                ModelFamily.valueOf(family),
                ModelCache.local(model),
                ModelCache.local(tokenizer),
                samples,
                perClass,
                seed,
                batch,
                new SampleGenerator.Sampling(cfg, topK, topP, temperature, options),
                WeightPanels.Format.valueOf(weights),
                ModelCache.local(inception),
                Preprocessing.valueOf(preprocessing),
                sources);
    }
}
