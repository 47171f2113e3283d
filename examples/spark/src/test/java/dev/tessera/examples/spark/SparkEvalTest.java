package dev.tessera.examples.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.io.Json;
import dev.tessera.engine.io.NpzWriter;
import dev.tessera.engine.tensor.DType;
import dev.tessera.engine.tensor.Tensor;
import dev.tessera.engine.testing.Golden;
import dev.tessera.examples.Main;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tessera eval --spark local[2]} on the small VAR test model with the random-weight FID Inception of the
 * shared golden set: 10 samples (5 of each of 2 classes) in batches of 3, so 4 shards, the last one short. The
 * folder it makes is the single-machine {@code eval}'s, byte for byte where it is deterministic.
 */
class SparkEvalTest {
    static final Path VAR = Golden.testdata().resolve("var-small/var.pth");
    static final Path VAE = Golden.testdata().resolve("var-small/vae.pth");

    @TempDir
    static Path shared;

    static Path ref, single;

    @TempDir
    Path tmp;

    record Run(int status, String out, String err) {}

    static Path inception() {
        Path p = Golden.sharedRoot().resolve("fid-small/pt_inception-random.pth");
        if (!Files.isRegularFile(p)) {
            String msg = "SKIPPED: " + p + " not found (set -Dtessera.golden=/path/to/shared/golden)";
            System.err.println(msg);
            Assumptions.abort(msg);
        }
        return p;
    }

    /** A reference image batch (arr_0: every metric is computed from its images) and the single-machine run. */
    @BeforeAll
    static void reference() {
        Random r = new Random(3);
        byte[] px = new byte[12 * 32 * 32 * 3];
        r.nextBytes(px);
        ref = shared.resolve("ref.npz");
        new NpzWriter()
                .put("arr_0", new Tensor("arr_0", DType.U8, new long[] {12, 32, 32, 3}, MemorySegment.ofArray(px)))
                .write(ref);
        single = shared.resolve("single");
        Run s = eval(single);
        assertEquals(0, s.status(), s.err());
    }

    static Run run(List<String> args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int status = Main.run(
                args,
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static Run eval(Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("eval"));
        a.addAll(arguments(out));
        a.addAll(List.of(extra));
        return run(a);
    }

    /** eval's arguments for the 10 samples of every test. */
    static List<String> arguments(Path out) {
        return List.of(
                "--model-family",
                "var",
                "--model",
                VAR.toString(),
                "--vae",
                VAE.toString(),
                "--samples",
                "10",
                "--per-class",
                "5",
                "--batch",
                "3",
                "--top-k",
                "2",
                "--ref",
                ref.toString(),
                "--inception",
                inception().toString(),
                "--out",
                out.toString());
    }

    /** eval's arguments with one option's value replaced. */
    static List<String> with(List<String> arguments, String option, String value) {
        List<String> a = new ArrayList<>(List.of("eval"));
        a.addAll(arguments);
        a.set(a.indexOf(option) + 1, value);
        return a;
    }

    static Run withProperty(String key, String value, Path out, String... extra) {
        System.setProperty(key, value);
        try {
            return eval(out, extra);
        } finally {
            System.clearProperty(key);
        }
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> report(Path dir) {
        return (Map<String, Object>) Json.read(dir.resolve("report.json"));
    }

    /** Same samples (bytes), same feature rows (bits), same metrics (bits) as the single-machine run. */
    static void assertSameAsSingleMachine(Path dir) throws IOException {
        for (int i = 0; i < 10; i++) {
            String name = String.format("samples/%05d.png", i);
            assertArrayEquals(Files.readAllBytes(single.resolve(name)), Files.readAllBytes(dir.resolve(name)), name);
        }
        try (Stream<Path> s = Files.list(dir.resolve("samples"))) {
            assertEquals(10, s.count(), "no other file in samples/");
        }
        for (String f : new String[] {"pool3", "logits", "spatial"}) {
            String file = "features/" + f + ".npy";
            assertArrayEquals(Files.readAllBytes(single.resolve(file)), Files.readAllBytes(dir.resolve(file)), file);
        }
        Map<String, Object> a = report(single), b = report(dir);
        assertEquals(a.get("metrics"), b.get("metrics"));
        // the same files, as the run named them (a path, or a URI on a store)
        assertEquals(fileNames(a.get("model")), fileNames(b.get("model")));
        assertEquals(a.get("sampler"), b.get("sampler"));
        assertFalse(Files.exists(dir.resolve("shards")), "the shards were gathered and removed");
    }

    /** A report section with every file's "path" cut to its last name. */
    static Object fileNames(Object o) {
        if (o instanceof Map<?, ?> m) {
            Map<Object, Object> r = new LinkedHashMap<>();
            m.forEach((k, v) -> r.put(
                    k, k.equals("path") ? v.toString().substring(v.toString().lastIndexOf('/') + 1) : fileNames(v)));
            return r;
        }
        return o;
    }

    @Test
    void localModeGivesTheSingleMachineFolderAndNumbers() throws IOException {
        Map<?, ?> m = (Map<?, ?>) report(single).get("metrics");
        for (String k : new String[] {"fid", "sfid", "inception_score", "precision", "recall", "kid"})
            assertNotNull(m.get(k), k + " is measured (the comparison below covers every metric)");

        Path dir = tmp.resolve("spark");
        Run r = eval(dir, "--spark", "local[2]");
        assertEquals(0, r.status(), r.err());
        assertTrue(
                r.out().contains("4 batches of 3 samples as tasks") && r.out().contains("local[2,4]"), r.out());
        assertTrue(r.out().contains("eval: shards 4/4, samples 10/10"), r.out());
        assertTrue(r.out().contains("FID ") && r.out().contains("report.html"), r.out());
        assertSameAsSingleMachine(dir);
        List<String> timings = Files.readAllLines(dir.resolve("timings.tsv"));
        assertEquals(4, timings.size(), "one line per batch: " + timings);
        assertTrue(timings.get(3).startsWith("9\t1\t1\t"), timings.toString());
    }

    @Test
    void aFailedFirstAttemptIsRetriedWithTheSameResult() throws IOException {
        Path dir = tmp.resolve("retried");
        Run r = withProperty(SparkEval.FAIL_FIRST_ATTEMPT, "1", dir, "--spark", "local[2]");
        assertEquals(0, r.status(), r.err());
        assertSameAsSingleMachine(dir);
        // the failed attempt had written batch 1's samples: its retry read them back
        List<String> timings = Files.readAllLines(dir.resolve("timings.tsv"));
        assertTrue(timings.get(1).startsWith("3\t3\t0\t"), timings.toString());
        assertTrue(timings.get(0).startsWith("0\t3\t1\t"), timings.toString());
    }

    @Test
    void aKilledEvaluationRestartedEndsTheSame() throws IOException {
        Path dir = tmp.resolve("killed");
        // batch 2 fails at every attempt: the job stops with the other batches' shards complete, batch 2's samples
        // on disk and a shard under a temporary name
        Run killed = withProperty(SparkEval.FAIL_EVERY_ATTEMPT, "2", dir, "--spark", "local[2]");
        assertEquals(1, killed.status(), killed.out());
        assertTrue(
                killed.err().startsWith("tessera: the Spark job failed: ")
                        && killed.err().contains("batch 2"),
                killed.err());
        assertEquals(
                1, killed.err().lines().filter(l -> l.startsWith("tessera:")).count(), killed.err());
        assertFalse(Files.exists(dir.resolve("report.json")));
        try (Stream<Path> s = Files.list(dir.resolve("shards"))) {
            assertTrue(s.anyMatch(p -> p.getFileName().toString().startsWith(".000002-")), "a dead shard is left");
        }

        Run restarted = eval(dir, "--spark", "local[2]");
        assertEquals(0, restarted.status(), restarted.err());
        assertTrue(restarted.out().contains("resuming"), restarted.out());
        // the shards complete before the stop are not run again
        String tasks = restarted
                .out()
                .lines()
                .filter(l -> l.contains("batches of 3 samples as tasks"))
                .findFirst()
                .orElseThrow();
        assertFalse(tasks.contains(": 4 batches"), restarted.out());
        assertSameAsSingleMachine(dir);
    }

    @Test
    void aRunStoppedWithMaxNewContinuesWithoutSpark() throws IOException {
        Path dir = tmp.resolve("mixed");
        Run first = eval(dir, "--spark", "local[1]", "--max-new", "4");
        assertEquals(0, first.status(), first.err());
        assertTrue(first.out().contains("stopped with 6 of 10 samples"), first.out());
        Run rest = eval(dir);
        assertEquals(0, rest.status(), rest.err());
        assertSameAsSingleMachine(dir);
    }

    @Test
    void badSparkOptionsAreOneLine() {
        Path dir = tmp.resolve("bad");
        Run device = eval(dir, "--spark", "local[2]", "--device", "cpu");
        assertEquals(2, device.status());
        assertEquals("tessera: --device is not an option of --spark (the Spark tasks run on the CPU)\n", device.err());
        Run zero = eval(dir, "--spark", "local[0]");
        assertEquals(2, zero.status());
        assertEquals("tessera: --spark local[0]: local mode needs at least 1 thread\n", zero.err());
        Run fmnist = run(List.of("eval", "--metrics", "fmnist", "--samples", "10", "--spark", "local[2]"));
        assertEquals(2, fmnist.status());
        assertEquals("tessera: --spark is not an option of --metrics fmnist\n", fmnist.err());
        Run uri = run(with(arguments(dir), "--out", "hdfs://head/eval"));
        assertEquals(2, uri.status());
        assertEquals(
                "tessera: --out hdfs://head/eval: a URI needs --spark (Hadoop's file systems come with it)\n",
                uri.err());
        assertFalse(Files.exists(Path.of("hdfs:")), "no local folder named after the scheme");
        String absent = CountingFileSystem.uri(dir.resolve("no.pth").toFile());
        List<String> a = with(arguments(dir), "--model", absent);
        a.addAll(List.of("--spark", "local[2]"));
        System.setProperty(CountingFileSystem.TEST_PROPERTY, CountingFileSystem.class.getName());
        Run missing;
        try {
            missing = run(a);
        } finally {
            System.clearProperty(CountingFileSystem.TEST_PROPERTY);
        }
        assertEquals(1, missing.status());
        assertEquals("tessera: " + absent + ": no such file\n", missing.err());
        assertFalse(Files.exists(dir), "nothing was written");
    }

    @Test
    void theSparkSubmitEntryRunsEvalWithSubmitsMaster() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8),
                e = new PrintStream(err, true, StandardCharsets.UTF_8);
        assertEquals(2, SparkEvalMain.run("", List.of("--samples", "10"), o, e));
        assertTrue(err.toString(StandardCharsets.UTF_8).startsWith("tessera: no Spark master"), err.toString());
        err.reset();
        // the arguments are eval's, the master spark-submit's (this one reaches eval's check of --spark)
        Path dir = tmp.resolve("submit");
        assertEquals(2, SparkEvalMain.run("local[0]", arguments(dir), o, e));
        assertEquals(
                "tessera: --spark local[0]: local mode needs at least 1 thread",
                err.toString(StandardCharsets.UTF_8).strip());
        assertFalse(Files.exists(dir));
    }

    // ------------------------------------------------------------------ models and folder named by URI

    /**
     * eval's arguments with the model, VAE, Inception and reference copied under {@code root/models} and every file
     * (and --out) named by its {@code testfs:} URI: a path Java's file I/O cannot open (testfs:///a is a relative
     * path there), so only Hadoop's FileSystem API reaches them.
     */
    static List<String> storeArguments(Path root, Path out) throws IOException {
        Path models = root.resolve("models");
        Files.createDirectories(models);
        List<String> a = new ArrayList<>(arguments(out));
        for (String option : new String[] {"--model", "--vae", "--inception", "--ref"}) {
            int i = a.indexOf(option) + 1;
            Path copy = models.resolve(Path.of(a.get(i)).getFileName());
            if (!Files.exists(copy)) Files.copy(Path.of(a.get(i)), copy);
            a.set(i, CountingFileSystem.uri(copy.toFile()));
        }
        a.set(a.indexOf("--out") + 1, CountingFileSystem.uri(out.toFile()));
        return a;
    }

    /** eval into a store (--spark local[2]; each run with a new model cache, as a new JVM would have). */
    Run storeEval(Path root, Path out, String... extra) throws IOException {
        List<String> a = new ArrayList<>(List.of("eval"));
        a.addAll(storeArguments(root, out));
        a.addAll(List.of("--spark", "local[2]"));
        a.addAll(List.of(extra));
        System.setProperty(CountingFileSystem.TEST_PROPERTY, CountingFileSystem.class.getName());
        System.setProperty(
                ModelCache.PROPERTY, Files.createTempDirectory(tmp, "cache").toString());
        try {
            return run(a);
        } finally {
            System.clearProperty(ModelCache.PROPERTY);
            System.clearProperty(CountingFileSystem.TEST_PROPERTY);
        }
    }

    @Test
    void aFolderOnAStoreGetsTheSameFilesThroughTheFileSystemApiOnly() throws IOException {
        CountingFileSystem.reset();
        Path root = tmp.resolve("store"), out = root.resolve("eval");
        Run r = storeEval(root, out);
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("wrote " + CountingFileSystem.uri(out.toFile()) + "/report.json"), r.out());
        assertSameAsSingleMachine(out);
        // each model file read through the API once (the driver and the local executor share the JVM's cache)
        try (Stream<Path> s = Files.list(root.resolve("models"))) {
            for (Path m : s.toList()) assertEquals(1, CountingFileSystem.opened(m.toFile()), m.toString());
        }
        // every file of the folder was written through the API; nothing relied on rename
        try (Stream<Path> s = Files.walk(out)) {
            for (Path f : s.filter(Files::isRegularFile).toList())
                assertTrue(CountingFileSystem.CREATED.containsKey(f.toString()), f + " written around the API");
        }
        assertEquals(0, CountingFileSystem.RENAMES.get());
        assertFalse(Files.exists(Path.of(CountingFileSystem.SCHEME + ":")), "nothing went to a local 'testfs:'");
        assertTrue(Files.exists(out.resolve("reference/_COMMITTED")) && Files.exists(out.resolve("model.json")));
        Map<?, ?> model = (Map<?, ?>) report(out).get("model");
        assertEquals(
                CountingFileSystem.uri(root.resolve("models/var.pth").toFile()),
                ((Map<?, ?>) model.get("model")).get("path"),
                "the report names the model by its URI");
    }

    @Test
    void onAStoreAFailedFirstAttemptIsRetriedWithTheSameResult() throws IOException {
        Path root = tmp.resolve("store"), out = root.resolve("eval");
        System.setProperty(SparkEval.FAIL_FIRST_ATTEMPT, "1");
        Run r;
        try {
            r = storeEval(root, out);
        } finally {
            System.clearProperty(SparkEval.FAIL_FIRST_ATTEMPT);
        }
        assertEquals(0, r.status(), r.err());
        assertSameAsSingleMachine(out);
    }

    @Test
    void onAStoreAKilledEvaluationRestartedEndsTheSame() throws IOException {
        Path root = tmp.resolve("store"), out = root.resolve("eval");
        System.setProperty(SparkEval.FAIL_EVERY_ATTEMPT, "2");
        Run killed;
        try {
            killed = storeEval(root, out);
        } finally {
            System.clearProperty(SparkEval.FAIL_EVERY_ATTEMPT);
        }
        assertEquals(1, killed.status(), killed.out());
        assertTrue(killed.err().startsWith("tessera: the Spark job failed: "), killed.err());
        assertFalse(Files.exists(out.resolve("report.json")));
        // batch 2's dead attempts left their samples, and no marker
        try (Stream<Path> s = Files.list(out.resolve("shards/000002"))) {
            List<String> names = s.map(p -> p.getFileName().toString()).toList();
            assertTrue(names.stream().anyMatch(n -> n.startsWith("attempt-")), names.toString());
            assertTrue(names.stream().noneMatch(n -> n.endsWith(StoreFolder.MARKER)), names.toString());
        }

        Run restarted = storeEval(root, out);
        assertEquals(0, restarted.status(), restarted.err());
        assertTrue(restarted.out().contains("3 shards") && restarted.out().contains(": 1 batches"), restarted.out());
        assertSameAsSingleMachine(out);
    }

    /**
     * A shard committed twice (a speculative copy that finished too) and a dead attempt that sorts first: the reader
     * takes one committed attempt and never the dead one, so no sample is duplicated, lost or taken half-written.
     */
    @Test
    void onAStoreOnlyCommittedAttemptsCountAndOneOfTwoIsTaken() throws IOException {
        Path root = tmp.resolve("store"), out = root.resolve("eval");
        Run first = storeEval(root, out, "--max-new", "6");
        assertEquals(0, first.status(), first.err());
        assertTrue(first.out().contains("stopped with 6 of 10 samples"), first.out());
        Path shard0 = out.resolve("shards/000000"), shard1 = out.resolve("shards/000001");
        String attempt;
        try (Stream<Path> s = Files.list(shard0)) {
            attempt = s.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(StoreFolder.MARKER))
                    .findFirst()
                    .orElseThrow();
        }
        Path committed = shard0.resolve(attempt.substring(0, attempt.length() - StoreFolder.MARKER.length()));
        Path twin = shard0.resolve("attempt-0-0");
        try (Stream<Path> s = Files.walk(committed)) {
            for (Path p : s.toList())
                Files.copy(p, twin.resolve(committed.relativize(p).toString()));
        }
        Files.createFile(shard0.resolve("attempt-0-0" + StoreFolder.MARKER));
        Path dead = shard1.resolve("attempt-0-0/samples");
        Files.createDirectories(dead);
        Files.write(dead.resolve("00003.png"), new byte[] {1, 2, 3});

        Run rest = storeEval(root, out);
        assertEquals(0, rest.status(), rest.err());
        assertSameAsSingleMachine(out);
    }

    // ------------------------------------------------------------------ a standalone cluster, spark-submit

    /**
     * spark-submit (SparkSubmit in a child JVM, client mode) against a standalone Master and Worker started here
     * (two more JVMs), the Worker's two 1-core executors further JVMs: every executor loads the model through the
     * FileSystem API into its own cache and writes its shards to the store; the folder is the single-machine one.
     */
    @Test
    void sparkSubmitOnAStandaloneClusterGivesTheSameFolder() throws Exception {
        Path root = tmp.resolve("cluster"), out = root.resolve("store/eval");
        Path app = appJar(root.resolve("tessera-spark.jar"));
        String jvm = "--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED "
                + "--sun-misc-unsafe-memory-access=allow @"
                + Path.of("jvm.args").toAbsolutePath();
        try (StandaloneCluster cluster = new StandaloneCluster(root.resolve("spark"), 2, "2g", 120)) {
            List<String> cmd = StandaloneCluster.java(
                    "org.apache.spark.deploy.SparkSubmit",
                    "--master",
                    cluster.master,
                    "--class",
                    SparkEvalMain.class.getName(),
                    "--executor-cores",
                    "1",
                    "--total-executor-cores",
                    "2",
                    "--executor-memory",
                    "768m",
                    "--conf",
                    "spark.executor.extraClassPath=" + System.getProperty("java.class.path"),
                    "--conf",
                    "spark.executor.extraJavaOptions=" + jvm + " -Dtessera.threads=1 -D" + ModelCache.PROPERTY + "="
                            + root.resolve("executor-cache"),
                    "--conf",
                    CountingFileSystem.TEST_PROPERTY + "=" + CountingFileSystem.class.getName(),
                    "--conf",
                    "spark.ui.enabled=false",
                    app.toString());
            cmd.addAll(storeArguments(root.resolve("store"), out));
            cmd.add(1, "-D" + ModelCache.PROPERTY + "=" + root.resolve("driver-cache"));
            Path log = root.resolve("submit.log");
            Process submit = new ProcessBuilder(cmd)
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            try {
                boolean ended = submit.waitFor(240, TimeUnit.SECONDS);
                String text = Files.readString(log);
                assertTrue(ended, "spark-submit still running after 240 s:\n" + text + cluster.logs());
                assertEquals(0, submit.exitValue(), text + cluster.logs());
                assertTrue(text.contains("(" + cluster.master + "): 4 batches"), text);
            } finally {
                submit.descendants().forEach(ProcessHandle::destroyForcibly);
                submit.destroyForcibly();
            }
        }
        assertSameAsSingleMachine(out);
        // the executors were JVMs of their own, each with its own copy of the model
        try (Stream<Path> s = Files.list(root.resolve("executor-cache"))) {
            assertTrue(s.count() >= 3, "model, VAE and Inception copied by the executors");
        }
        try (Stream<Path> s = Files.walk(root.resolve("spark/work"), 2)) {
            assertTrue(s.anyMatch(p -> p.getFileName().toString().matches("\\d+") && Files.isDirectory(p)));
        }
    }

    /** The module's classes as a jar, as spark-submit takes an application (the executors also fetch it). */
    static Path appJar(Path jar) throws IOException {
        Path classes = Path.of("target/classes");
        Files.createDirectories(jar.getParent());
        try (JarOutputStream j = new JarOutputStream(Files.newOutputStream(jar));
                Stream<Path> s = Files.walk(classes)) {
            for (Path p : s.filter(Files::isRegularFile).sorted().toList()) {
                j.putNextEntry(new JarEntry(classes.relativize(p).toString().replace('\\', '/')));
                Files.copy(p, j);
                j.closeEntry();
            }
        }
        return jar;
    }

    @Test
    void masterUrls() {
        assertEquals("local[2,4]", SparkEval.master("local[2]"));
        assertEquals("local[1,4]", SparkEval.master("local"));
        assertEquals("local[*,4]", SparkEval.master("local[*]"));
        assertEquals("local[2,1]", SparkEval.master("local[2,1]"));
        assertEquals("spark://head:7077", SparkEval.master("spark://head:7077"));
    }
}
