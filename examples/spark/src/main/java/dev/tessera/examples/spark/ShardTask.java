package dev.tessera.examples.spark;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.io.Json;
import dev.tessera.examples.fid.EvalPlan;
import dev.tessera.examples.fid.EvalRun;
import dev.tessera.examples.fid.FeatureStore;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Serial;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.Function;

/**
 * One Spark task: batch b of the plan ({@link EvalRun#batch}: its samples read back or generated from seed S+b, then
 * their Inception features), committed as the shard folder {@code shards/<b>}. The folder is written under a
 * temporary name and renamed when whole, so a shard is complete or absent: a task that dies leaves no shard, a
 * retried or speculative copy of a finished one finds it and returns, and two copies finishing at once leave one.
 */
final class ShardTask implements Function<Integer, Integer> {
    @Serial
    private static final long serialVersionUID = 1L;

    private final PlanSpec spec;
    private final String dir;
    private final Set<Integer> failFirstAttempt, failEveryAttempt;

    /**
     * @param failFirstAttempt batches whose first attempt fails on purpose once its samples are written (the
     *                         fault-injection tests: the retry must give the same shard)
     * @param failEveryAttempt batches whose every attempt fails so (an evaluation that stops midway)
     */
    ShardTask(PlanSpec spec, Path dir, Set<Integer> failFirstAttempt, Set<Integer> failEveryAttempt) {
        this.spec = spec;
        this.dir = dir.toString();
        this.failFirstAttempt = Set.copyOf(failFirstAttempt);
        this.failEveryAttempt = Set.copyOf(failEveryAttempt);
    }

    /** Where batch b's shard lives once complete. */
    static Path shard(Path dir, int b) {
        return dir.resolve("shards").resolve(String.format("%06d", b));
    }

    @Override
    public Integer call(Integer b) {
        Path root = Path.of(dir), done = shard(root, b);
        if (Files.isDirectory(done)) return b;
        EvalPlan plan = spec.plan();
        EvalRun run = new EvalRun(plan, root, new PrintStream(PrintStream.nullOutputStream()));
        EvalRun.Batch batch = run.batch(b, () -> ExecutorModels.generator(spec, root), ExecutorModels.extractor(spec));
        Path tmp;
        try {
            Files.createDirectories(done.getParent());
            tmp = Files.createTempDirectory(done.getParent(), "." + done.getFileName() + "-");
        } catch (IOException e) {
            throw new TesseraException(done + ": cannot write the shard (" + e.getMessage() + ")", e);
        }
        try {
            try (FeatureStore store = FeatureStore.open(tmp)) {
                store.append(batch.features());
            }
            Map<String, Object> times = new LinkedHashMap<>();
            times.put("from", batch.from());
            times.put("count", batch.count());
            times.put("generated", batch.generated());
            times.put("generation_s", batch.generationSeconds());
            times.put("features_s", batch.featureSeconds());
            Json.write(tmp.resolve(SparkEval.TIMES), times);
            TaskContext task = TaskContext.get();
            boolean first = task != null && task.attemptNumber() == 0;
            if (failEveryAttempt.contains(b) || failFirstAttempt.contains(b) && first) {
                // as a task killed here would: the samples written, the shard left under its temporary name
                throw new InjectedFailure(b);
            }
            try {
                Files.move(tmp, done, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
                // another copy of this task committed first: the same bytes are there
                deleteTree(tmp);
            }
        } catch (IOException | RuntimeException e) {
            if (!(e instanceof InjectedFailure)) quietlyDelete(tmp);
            if (e instanceof RuntimeException r) throw r;
            throw new TesseraException(done + ": cannot write the shard (" + e.getMessage() + ")", e);
        }
        return b;
    }

    /** The fault-injection test's failure. */
    static final class InjectedFailure extends RuntimeException {
        @Serial
        private static final long serialVersionUID = 1L;

        InjectedFailure(int b) {
            super("injected failure of batch " + b);
        }
    }

    private static void quietlyDelete(Path p) {
        try {
            deleteTree(p);
        } catch (IOException e) {
            // a leftover temporary folder is ignored by every reader
        }
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
        }
    }
}
