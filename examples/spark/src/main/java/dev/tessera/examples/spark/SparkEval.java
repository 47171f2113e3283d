package dev.tessera.examples.spark;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.io.Json;
import dev.tessera.examples.cli.DistributedEval;
import dev.tessera.examples.cli.ProgressBar;
import dev.tessera.examples.cli.UsageException;
import dev.tessera.examples.fid.EvalManifest;
import dev.tessera.examples.fid.EvalPlan;
import dev.tessera.examples.fid.EvalRun;
import dev.tessera.examples.fid.FeatureStore;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;

/**
 * {@code tessera eval --spark MASTER}, the driver. The shards are the batches of the single-machine plan (batch b:
 * samples [b·B, (b+1)·B) from seed S+b); each is one Spark task ({@link ShardTask}) that writes its samples into
 * {@code DIR/samples} and its features into {@code DIR/shards/<b>}. The driver skips the batches the folder already
 * has (in {@code DIR/features} or as a complete shard), runs the others, shows progress as tasks end, then appends
 * the shards' features to {@code DIR/features} in batch order: the folder is then the one {@code eval} without Spark
 * makes, and the metrics and report follow from it the same way. {@code DIR} is a folder every executor reaches
 * at the same path (in local mode any folder), or a URI of a store every executor reaches through Hadoop's
 * FileSystem API ({@code hdfs:}, {@code s3a:}, ...): then the tasks are {@link StoreShardTask}s, the driver works on
 * a local copy of the folder's small files and writes them back ({@link StoreFolder} has the protocol). Input files
 * may be URIs too: each JVM copies them to its local disk once ({@link ModelCache}).
 */
public final class SparkEval implements DistributedEval {
    /** A shard's timings, for the report's {@code timings.tsv}. */
    static final String TIMES = "times.json";

    /**
     * Batches whose first attempt fails on purpose (comma-separated; the fault-injection test sets it): a system
     * property of the driver.
     */
    static final String FAIL_FIRST_ATTEMPT = "tessera.spark.fail-first-attempt";

    /** Batches whose every attempt fails on purpose: the evaluation stops midway, as if killed (tests). */
    static final String FAIL_EVERY_ATTEMPT = "tessera.spark.fail-every-attempt";

    /** How often a task may fail in local mode before the evaluation stops (Spark's spark.task.maxFailures). */
    static final int LOCAL_MAX_FAILURES = 4;

    /** Shards whose samples the driver copies at once on a store. */
    static final int COPY_THREADS = 16;

    private static final Pattern LOCAL = Pattern.compile("local(?:\\[(\\d+|\\*)])?");

    /** Input files given as URIs, by their local copy. */
    private final Map<Path, String> uris = new HashMap<>();

    /** The evaluation folder when --out is a URI, and its local working copy. */
    private StoreFolder store;

    private Path work;

    @Override
    public void check(String master) {
        master(master);
    }

    @Override
    public Path input(String arg) {
        if (!Storage.isUri(arg)) return Path.of(arg);
        Path local = ModelCache.local(arg).toAbsolutePath().normalize();
        uris.put(local, arg);
        return local;
    }

    @Override
    public Map<Path, String> sources() {
        return Map.copyOf(uris);
    }

    /**
     * For a URI, a new local folder with what the store's folder holds besides its samples and shards: eval.json,
     * and the features, timings, model.json and reference cache once committed there ({@link StoreFolder}).
     */
    @Override
    public Path output(String arg) {
        if (!Storage.isUri(arg)) return Path.of(arg);
        store = new StoreFolder(arg);
        try {
            work = Files.createTempDirectory("tessera-eval-").resolve("out");
        } catch (IOException e) {
            throw new TesseraException("cannot make a temporary folder (" + e.getMessage() + ")", e);
        }
        List<String> names = store.list(store.root());
        if (names.isEmpty()) return work;
        if (!names.contains(EvalManifest.FILE)) {
            throw new TesseraException(arg + ": not empty and not an evaluation folder (no " + EvalManifest.FILE
                    + "); give --out a new or empty folder");
        }
        store.download(
                store.resolve(EvalManifest.FILE),
                work.resolve(EvalManifest.FILE).toFile());
        if (store.exists(store.resolve("features/" + StoreFolder.FOLDER_MARKER))) {
            store.downloadFolder(
                    store.resolve("features"), work.resolve("features").toFile());
            for (String f : new String[] {"timings.tsv", "model.json"})
                if (names.contains(f))
                    store.download(store.resolve(f), work.resolve(f).toFile());
        }
        if (store.exists(store.resolve("reference/" + StoreFolder.FOLDER_MARKER)))
            store.downloadFolder(
                    store.resolve("reference"), work.resolve("reference").toFile());
        return work;
    }

    @Override
    public String place(Path dir) {
        return store != null && dir.equals(work) ? store.uri().replaceAll("/+$", "") : dir.toString();
    }

    /** The features (with timings.tsv and model.json), then the reference cache, then the report, then no shards. */
    @Override
    public void publish(Path dir) {
        if (store == null || !dir.equals(work)) return;
        store.delete(store.resolve("features/" + StoreFolder.FOLDER_MARKER));
        for (String f : new String[] {"timings.tsv", "model.json"})
            if (Files.exists(work.resolve(f))) store.upload(work.resolve(f).toFile(), store.resolve(f));
        store.uploadFolder(work.resolve("features").toFile(), store.resolve("features"));
        if (Files.isDirectory(work.resolve("reference")))
            store.uploadFolder(work.resolve("reference").toFile(), store.resolve("reference"));
        store.upload(work.resolve("report.html").toFile(), store.resolve("report.html"));
        store.upload(work.resolve("report.json").toFile(), store.resolve("report.json"));
        store.delete(store.resolve("shards"));
    }

    @Override
    public void close() {
        if (work == null) return;
        try {
            ShardTask.deleteTree(work.getParent());
        } catch (IOException e) {
            // a leftover temporary folder
        }
    }

    @Override
    public int generate(String master, EvalPlan plan, Path dir, int maxNew, PrintStream out) {
        String sparkMaster = master(master);
        boolean remote = store != null && dir.equals(work);
        if (remote) store.upload(dir.resolve(EvalManifest.FILE).toFile(), store.resolve(EvalManifest.FILE));
        int stored = storedBatches(plan, dir);
        List<Integer> todo = new ArrayList<>();
        int complete = 0;
        for (int b = stored; b < plan.batches(); b++) {
            if (remote ? store.committed(b) != null : Files.isDirectory(ShardTask.shard(dir, b))) complete++;
            else todo.add(b);
        }
        if (maxNew > 0) todo = todo.subList(0, Math.min(todo.size(), (maxNew + plan.batch() - 1) / plan.batch()));
        if (stored > 0 || complete > 0) {
            out.printf(
                    "resuming %s: %d of %d batches done (%d in features/, %d shards)%n",
                    place(dir), stored + complete, plan.batches(), stored, complete);
        }
        Function<Integer, Integer> task = remote
                ? new StoreShardTask(
                        PlanSpec.of(plan),
                        store.uri(),
                        injectedFailures(FAIL_FIRST_ATTEMPT),
                        injectedFailures(FAIL_EVERY_ATTEMPT))
                : new ShardTask(
                        PlanSpec.of(plan),
                        dir.toAbsolutePath(),
                        injectedFailures(FAIL_FIRST_ATTEMPT),
                        injectedFailures(FAIL_EVERY_ATTEMPT));
        if (!todo.isEmpty()) run(sparkMaster, plan, place(dir), task, todo, out);
        return remote ? gatherFromStore(plan, dir) : gather(plan, dir);
    }

    /**
     * The master URL Spark gets: local mode retries a failed task as a cluster does ({@code local[N]} becomes
     * {@code local[N,4]}; Spark's own local mode gives up at the first failure); other URLs as they are.
     */
    static String master(String master) {
        if (master.isBlank()) throw new UsageException("--spark needs a master URL (local[N], spark://HOST:PORT, ...)");
        Matcher m = LOCAL.matcher(master.strip());
        if (!m.matches()) return master.strip();
        String threads = m.group(1) == null ? "1" : m.group(1);
        if (!threads.equals("*") && Integer.parseInt(threads) < 1)
            throw new UsageException("--spark " + master + ": local mode needs at least 1 thread");
        return "local[" + threads + "," + LOCAL_MAX_FAILURES + "]";
    }

    /** Batches whose features {@code DIR/features} already holds (whole batches only). */
    private static int storedBatches(EvalPlan plan, Path dir) {
        try (FeatureStore store = FeatureStore.open(dir.resolve("features"))) {
            return store.count() >= plan.samples() ? plan.batches() : store.count() / plan.batch();
        }
    }

    private static void run(
            String master,
            EvalPlan plan,
            String place,
            Function<Integer, Integer> task,
            List<Integer> todo,
            PrintStream out) {
        SparkConf conf = new SparkConf().setMaster(master).setAppName("tessera eval " + place);
        int images = 0;
        for (int b : todo) images += Math.min(plan.samples(), (b + 1) * plan.batch()) - b * plan.batch();
        Progress progress = new Progress(todo.size(), images, plan.batch(), out);
        long t0 = System.nanoTime(), started;
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            started = System.nanoTime();
            out.printf(
                    "spark %s (%s): %d batches of %d samples as tasks%n",
                    sc.version(), sc.master(), todo.size(), plan.batch());
            sc.sc().addSparkListener(progress);
            sc.parallelize(todo, todo.size()).map(task).collect();
        } catch (Exception e) { // Spark's job failures are SparkException, which Java does not see declared
            if (e instanceof TesseraException t) throw t;
            throw new TesseraException("the Spark job failed: " + rootMessage(e), e);
        } finally {
            ExecutorModels.clear();
            progress.finish();
        }
        double all = (System.nanoTime() - t0) * 1e-9, jobs = (System.nanoTime() - started) * 1e-9;
        out.printf(
                Locale.ROOT,
                "spark: %d batches, %d samples in %s: %.3g samples/s (%.3g with Spark's start, %s)%n",
                todo.size(),
                images,
                ProgressBar.duration(jobs),
                images / jobs,
                images / all,
                ProgressBar.duration(all - jobs));
    }

    /**
     * Appends the complete shards that follow {@code DIR/features} to it, in batch order, with their timings, and
     * removes them; the shards folder goes once every batch is in.
     *
     * @return the samples {@code DIR/features} holds
     */
    private static int gather(EvalPlan plan, Path dir) {
        EvalRun run = new EvalRun(plan, dir, new PrintStream(PrintStream.nullOutputStream()));
        int count;
        try (FeatureStore store = FeatureStore.open(dir.resolve("features"))) {
            int b = store.count() >= plan.samples() ? plan.batches() : store.count() / plan.batch();
            store.truncate(Math.min(store.count(), b * plan.batch()));
            for (; b < plan.batches(); b++) {
                Path shard = ShardTask.shard(dir, b);
                if (!Files.isDirectory(shard)) break;
                int expected = Math.min(plan.samples(), (b + 1) * plan.batch()) - b * plan.batch();
                try (FeatureStore s = FeatureStore.open(shard)) {
                    if (s.count() != expected)
                        throw new TesseraException(shard + ": holds " + s.count() + " feature rows, not " + expected
                                + "; remove it to measure the batch again");
                    store.append(s);
                }
                run.logTimes(times(shard, b, expected));
                deleteTree(shard);
            }
            count = store.count();
        }
        // the folder goes when no complete shard is left in it (what else is there: dead tasks' temporary folders)
        Path shards = dir.resolve("shards");
        if (Files.isDirectory(shards)) {
            try (Stream<Path> s = Files.list(shards)) {
                if (count == plan.samples()
                        || s.noneMatch(p -> !p.getFileName().toString().startsWith("."))) deleteTree(shards);
            } catch (IOException e) {
                throw new TesseraException(shards + ": cannot list (" + e.getMessage() + ")", e);
            }
        }
        return count;
    }

    /**
     * {@link #gather} for a folder on a store: the features of the committed shards that follow those of the
     * working copy are appended to it in batch order; once every batch is there, the shards' samples are copied to
     * the store's {@code samples/} ({@link #publish} writes the rest after the report).
     */
    private int gatherFromStore(EvalPlan plan, Path dir) {
        EvalRun run = new EvalRun(plan, dir, new PrintStream(PrintStream.nullOutputStream()));
        List<String> attempts = new ArrayList<>();
        int count;
        try (FeatureStore features = FeatureStore.open(dir.resolve("features"))) {
            int b = features.count() >= plan.samples() ? plan.batches() : features.count() / plan.batch();
            int first = b;
            features.truncate(Math.min(features.count(), b * plan.batch()));
            for (; b < plan.batches(); b++) {
                String attempt = store.committed(b);
                if (attempt == null) break;
                var from = store.child(store.shard(b), attempt);
                Path local = dir.resolve(".shard");
                store.downloadFolder(store.child(from, StoreShardTask.FEATURES), local.toFile());
                store.download(store.child(from, TIMES), local.resolve(TIMES).toFile());
                int expected = Math.min(plan.samples(), (b + 1) * plan.batch()) - b * plan.batch();
                try (FeatureStore s = FeatureStore.open(local)) {
                    if (s.count() != expected)
                        throw new TesseraException(from + ": holds " + s.count() + " feature rows, not " + expected);
                    features.append(s);
                }
                run.logTimes(times(local, b, expected));
                deleteTree(local);
                attempts.add(attempt);
            }
            count = features.count();
            if (count == plan.samples()) copySamples(first, attempts);
        }
        return count;
    }

    /**
     * The committed shards' samples (batches {@code first}, ...) copied to the store's {@code samples/}, several
     * shards at a time: on an object store each file is a request or two, which one thread would pay 50,000 times
     * in a row.
     */
    private void copySamples(int first, List<String> attempts) {
        ExecutorService pool = Executors.newFixedThreadPool(COPY_THREADS);
        try {
            List<Future<?>> copies = new ArrayList<>();
            for (int i = 0; i < attempts.size(); i++) {
                var from = store.child(store.child(store.shard(first + i), attempts.get(i)), StoreShardTask.SAMPLES);
                copies.add(pool.submit(() -> store.copyFiles(from, store.resolve("samples"))));
            }
            for (Future<?> f : copies) f.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new TesseraException("copying the samples failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TesseraException("interrupted while copying the samples", e);
        } finally {
            pool.shutdownNow();
        }
    }

    private static EvalRun.Batch times(Path shard, int b, int count) {
        try {
            Map<?, ?> t = (Map<?, ?>) Json.read(shard.resolve(TIMES));
            return new EvalRun.Batch(
                    b,
                    ((Number) t.get("from")).intValue(),
                    count,
                    List.of(),
                    Boolean.TRUE.equals(t.get("generated")),
                    ((Number) t.get("generation_s")).doubleValue(),
                    ((Number) t.get("features_s")).doubleValue());
        } catch (RuntimeException e) { // timings are informative only
            return new EvalRun.Batch(b, b * count, count, List.of(), false, 0, 0);
        }
    }

    private static void deleteTree(Path p) {
        try {
            ShardTask.deleteTree(p);
        } catch (IOException e) {
            throw new TesseraException(p + ": cannot remove (" + e.getMessage() + ")", e);
        }
    }

    private static Set<Integer> injectedFailures(String property) {
        Set<Integer> s = new HashSet<>();
        String v = System.getProperty(property, "");
        for (String x : v.split(",")) if (!x.isBlank()) s.add(Integer.parseInt(x.strip()));
        return s;
    }

    private static String rootMessage(Throwable e) {
        String m = e.getMessage() == null ? e.toString() : e.getMessage();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    /** Shards done, samples per second and the time left, as tasks end (a task's retries count once). */
    private static final class Progress extends SparkListener {
        private final int shards, images, batch;
        private final BitSet done = new BitSet();
        private final ProgressBar bar;
        private int imagesDone;

        Progress(int shards, int images, int batch, PrintStream out) {
            this.shards = shards;
            this.images = images;
            this.batch = batch;
            this.bar = new ProgressBar("eval").withRate("samples").withLogLines(out, 60);
        }

        @Override
        public synchronized void onTaskEnd(SparkListenerTaskEnd end) {
            int index = end.taskInfo().index();
            if (!end.taskInfo().successful() || done.get(index)) return;
            done.set(index);
            imagesDone = Math.min(images, imagesDone + batch);
            if (done.cardinality() == shards) imagesDone = images;
            bar.update("shards " + done.cardinality() + "/" + shards + ", samples", imagesDone, images);
        }

        synchronized void finish() {
            bar.finish();
        }
    }
}
