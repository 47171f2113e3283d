package dev.tessera.examples.spark;

import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.examples.fid.EvalPlan;
import dev.tessera.examples.fid.ModelFamily;
import dev.tessera.examples.fid.SampleGenerator;
import dev.tessera.examples.fid.inception.Preprocessing;
import java.io.Serializable;
import java.nio.file.Path;

/**
 * An {@link EvalPlan} as the Spark tasks receive it: the same fields in serializable form (paths as strings, enums
 * by name). {@link #plan()} rebuilds the plan on an executor; it equals the driver's.
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
        String weights,
        String inception,
        String preprocessing)
        implements Serializable {

    static PlanSpec of(EvalPlan p) {
        SampleGenerator.Sampling s = p.sampling();
        return new PlanSpec(
                p.family().name(),
                p.model().toString(),
                p.tokenizer().toString(),
                p.samples(),
                p.perClass(),
                p.seed(),
                p.batch(),
                s.cfg(),
                s.topK(),
                s.topP(),
                s.temperature(),
                p.weights().name(),
                p.inception().toString(),
                p.preprocessing().name());
    }

    EvalPlan plan() {
        return new EvalPlan(
                ModelFamily.valueOf(family),
                Path.of(model),
                Path.of(tokenizer),
                samples,
                perClass,
                seed,
                batch,
                new SampleGenerator.Sampling(cfg, topK, topP, temperature),
                WeightPanels.Format.valueOf(weights),
                Path.of(inception),
                Preprocessing.valueOf(preprocessing));
    }
}
