package dev.tessera.examples.spark;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.io.Json;
import dev.tessera.examples.fid.EvalRun;
import dev.tessera.examples.fid.FeatureStore;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Serial;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.Function;

/**
 * {@link ShardTask} for an evaluation folder named by URI ({@link StoreFolder}): batch b is made in a local temporary
 * folder of the executor, then its files are written to the store under the attempt's own folder and the attempt's
 * marker is created last.
 */
final class StoreShardTask implements Function<Integer, Integer> {
    @Serial
    private static final long serialVersionUID = 1L;

    static final String SAMPLES = "samples", FEATURES = "features";

    private final PlanSpec spec;
    private final String out;
    private final Set<Integer> failFirstAttempt, failEveryAttempt;

    StoreShardTask(PlanSpec spec, String out, Set<Integer> failFirstAttempt, Set<Integer> failEveryAttempt) {
        this.spec = spec;
        this.out = out;
        this.failFirstAttempt = Set.copyOf(failFirstAttempt);
        this.failEveryAttempt = Set.copyOf(failEveryAttempt);
    }

    @Override
    public Integer call(Integer b) {
        StoreFolder store = new StoreFolder(out);
        if (store.committed(b) != null) return b;
        TaskContext task = TaskContext.get();
        int attemptNumber = task == null ? 0 : task.attemptNumber();
        String attempt =
                "attempt-" + attemptNumber + "-" + UUID.randomUUID().toString().substring(0, 8);
        Path local;
        try {
            local = Files.createTempDirectory("tessera-shard-");
        } catch (IOException e) {
            throw new TesseraException("cannot make a temporary folder (" + e.getMessage() + ")", e);
        }
        try {
            EvalRun run = new EvalRun(spec.plan(), local, new PrintStream(PrintStream.nullOutputStream()));
            EvalRun.Batch batch =
                    run.batch(b, () -> ExecutorModels.generator(spec, null), ExecutorModels.extractor(spec));
            try (FeatureStore fs = FeatureStore.open(local.resolve(FEATURES))) {
                fs.append(batch.features());
            }
            Map<String, Object> times = new LinkedHashMap<>();
            times.put("from", batch.from());
            times.put("count", batch.count());
            times.put("generated", batch.generated());
            times.put("generation_s", batch.generationSeconds());
            times.put("features_s", batch.featureSeconds());
            Json.write(local.resolve(SparkEval.TIMES), times);
            var dest = store.child(store.shard(b), attempt);
            store.upload(local.resolve(SAMPLES).toFile(), store.child(dest, SAMPLES));
            if (failEveryAttempt.contains(b) || failFirstAttempt.contains(b) && task != null && attemptNumber == 0) {
                // as a task killed here would: the samples written, the features and the marker not
                throw new ShardTask.InjectedFailure(b);
            }
            store.upload(local.resolve(FEATURES).toFile(), store.child(dest, FEATURES));
            store.upload(local.resolve(SparkEval.TIMES).toFile(), store.child(dest, SparkEval.TIMES));
            store.commit(b, attempt);
        } finally {
            try {
                ShardTask.deleteTree(local);
            } catch (IOException e) {
                // a leftover temporary folder of the executor's
            }
        }
        return b;
    }
}
