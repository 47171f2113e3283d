package dev.tessera.examples.spark;

import dev.tessera.engine.ops.Ops;
import dev.tessera.examples.fid.EvalPlan;
import dev.tessera.examples.fid.EvalRun;
import dev.tessera.examples.fid.FeatureExtractor;
import dev.tessera.examples.fid.SampleGenerator;
import dev.tessera.examples.fid.inception.FidInception;
import java.nio.file.Path;

/**
 * The models of one executor JVM: the generator and the FID Inception of the current plan, loaded by the first task
 * that needs them and shared by every task after it (both are thread-safe, so the tasks running at once in one
 * executor share them too). A task of another plan replaces them.
 */
final class ExecutorModels {
    private static PlanSpec spec;
    private static SampleGenerator generator;
    private static FidInception inception;
    private static FeatureExtractor extractor;

    private ExecutorModels() {}

    /**
     * The generator of {@code s}, loaded once (its class count checked and, when {@code dir} is not null,
     * model.json written then).
     */
    static synchronized SampleGenerator generator(PlanSpec s, Path dir) {
        use(s);
        if (generator == null) {
            EvalPlan plan = s.plan();
            SampleGenerator g =
                    plan.family().open(plan.model(), plan.tokenizer(), plan.sampling(), plan.weights(), Ops.cpu());
            try {
                plan.checkClasses(g.numClasses());
                if (dir != null) EvalRun.recordModel(dir, g);
            } catch (RuntimeException e) {
                g.close();
                throw e;
            }
            generator = g;
        }
        return generator;
    }

    static synchronized FeatureExtractor extractor(PlanSpec s) {
        use(s);
        if (extractor == null) {
            EvalPlan plan = s.plan();
            inception = FidInception.load(plan.inception(), Ops.cpu());
            extractor = new FeatureExtractor(inception, plan.preprocessing());
        }
        return extractor;
    }

    /** Closes what is loaded (the driver calls it after its job: in local mode the executor is its own JVM). */
    static synchronized void clear() {
        try {
            if (generator != null) generator.close();
        } finally {
            if (inception != null) inception.close();
            generator = null;
            inception = null;
            extractor = null;
            spec = null;
        }
    }

    private static void use(PlanSpec s) {
        if (!s.equals(spec)) {
            clear();
            spec = s;
        }
    }
}
