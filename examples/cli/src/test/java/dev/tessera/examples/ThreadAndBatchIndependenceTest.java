package dev.tessera.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.tessera.engine.testing.Golden;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The README's promise that "the arithmetic of every image is the same whatever the thread count, the JIT state or
 * the other images of the batch", for every family and the FID features. The engine reads its thread count once, at
 * class load ({@code -Dtessera.threads}), so each count runs in its own JVM ({@link DeterminismProbe}): 1, 2 and 3
 * threads (2 and 3 cut the work into different chunks), and every output (tokens, latents, pixels, the logits behind
 * the tokens, Inception features) must have the same SHA-256. At every thread count, image a generated alone and as
 * the second image of a batch [b, a] (greedy, or for FlowAR from noise of its own) must be bit-identical, and so
 * must the FID features of an image in a batch and alone. A child that runs too long is killed.
 */
class ThreadAndBatchIndependenceTest {
    static final int[] THREADS = {1, 2, 3};
    static final String[] FAMILIES = {"var", "llamagen", "nar", "flowar"};
    /** Per child JVM; the children run one after another. */
    static final long CHILD_SECONDS = 120;
    /** The FID Inception weights (48 MB, not vendored). */
    static final boolean FID = Files.isRegularFile(Golden.sharedRoot().resolve("fid-small/pt_inception-random.pth"));

    /** Every run's digests by thread count. */
    static final Map<Integer, Map<String, String>> RUNS = new LinkedHashMap<>();

    /** One child JVM per thread count, shared by the tests (each pays the JIT warm-up once). */
    @BeforeAll
    @Timeout(value = 450, unit = TimeUnit.SECONDS) // above 3 children x 120 s and their stream drains
    static void runProbes() {
        List<String> parts = new ArrayList<>(List.of(FAMILIES));
        if (FID) parts.add("fid");
        for (int threads : THREADS) RUNS.put(threads, run(threads, parts.toArray(String[]::new)));
    }

    @Test
    void everyFamilyGivesTheSameBitsForAnyThreadCountAndBatch() {
        Map<String, String> digests = check(k -> !k.startsWith("fid."), 4);
        for (String family : FAMILIES) {
            assertTrue(digests.containsKey(family + ".sampled"), family + ": " + digests.keySet());
        }
    }

    @Test
    void fidFeaturesAreTheSameForAnyThreadCountAndBatch() {
        Golden.shared("fid-small").close(); // skipped, loudly, without ../shared
        check(k -> k.startsWith("fid."), 6);
    }

    /**
     * The outputs named by {@code which}: the same names and digests at every thread count, and at every thread
     * count {@code pairs} alone/batch pairs with equal digests. Every difference is listed before the test fails.
     * Returns the digests.
     */
    private static Map<String, String> check(Predicate<String> which, int pairs) {
        Map<String, String> first = subset(RUNS.get(THREADS[0]), which);
        assertFalse(first.isEmpty(), "no outputs: " + RUNS.get(THREADS[0]).keySet());
        List<String> problems = new ArrayList<>();
        for (int threads : THREADS) {
            Map<String, String> other = subset(RUNS.get(threads), which);
            assertEquals(first.keySet(), other.keySet(), "outputs at " + threads + " threads");
            for (var e : first.entrySet()) {
                if (!e.getValue().equals(other.get(e.getKey()))) {
                    problems.add(e.getKey() + ": other bits at " + threads + " threads than at " + THREADS[0]);
                }
            }
            batchPairs(other, pairs, threads, problems);
        }
        assertTrue(problems.isEmpty(), problems.size() + " differences:\n" + String.join("\n", problems));
        return first;
    }

    private static Map<String, String> subset(Map<String, String> digests, Predicate<String> which) {
        Map<String, String> m = new LinkedHashMap<>(digests);
        m.keySet().removeIf(which.negate());
        return m;
    }

    /**
     * Every {@code NAME.a@[a]} (alone) must equal {@code NAME.a@[b,a]} (in a batch), and every {@code X@alone} its
     * {@code X@batch}; the images of a batch must differ from each other (the outputs are not degenerate).
     * Expects {@code pairs} pairs.
     */
    private static void batchPairs(Map<String, String> digests, int pairs, int threads, List<String> problems) {
        int seen = 0;
        Set<String> distinct = new HashSet<>();
        for (var e : digests.entrySet()) {
            String k = e.getKey();
            String partner = k.endsWith(".a@[a]")
                    ? k.replace(".a@[a]", ".a@[b,a]")
                    : k.endsWith("@alone") ? k.replace("@alone", "@batch") : null;
            if (k.endsWith("@batch") || k.endsWith("@[b,a]")) distinct.add(e.getValue());
            if (partner == null) continue;
            assertTrue(digests.containsKey(partner), "no " + partner + " in " + digests.keySet());
            if (!digests.get(partner).equals(e.getValue())) {
                problems.add(
                        k + " differs from " + partner + " at " + threads + " threads: an image depends on its batch");
            }
            seen++;
        }
        assertEquals(pairs, seen, "alone/batch pairs in " + digests.keySet());
        long batched = digests.keySet().stream()
                .filter(k -> k.endsWith("@batch") || k.endsWith("@[b,a]"))
                .count();
        assertEquals(batched, distinct.size(), "different images of a batch gave the same digest: " + digests);
    }

    /** One child JVM with {@code -Dtessera.threads=threads}; returns its digests by name. */
    private static Map<String, String> run(int threads, String... parts) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current()
                .info()
                .command()
                .orElseThrow(() -> new IllegalStateException("no java command")));
        cmd.addAll(List.of(
                "--add-modules",
                "jdk.incubator.vector",
                "-Xss8m",
                "-Xmx2g",
                "-Dtessera.threads=" + threads,
                "-Dtessera.testdata=" + Golden.testdata(),
                "-Dtessera.golden=" + Golden.sharedRoot(),
                "-cp",
                System.getProperty("java.class.path"),
                DeterminismProbe.class.getName()));
        cmd.addAll(List.of(parts));
        long t0 = System.nanoTime();
        Process p;
        try {
            p = new ProcessBuilder(cmd).start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        Thread outReader = drain(p.getInputStream(), out), errReader = drain(p.getErrorStream(), err);
        boolean finished;
        try {
            finished = p.waitFor(CHILD_SECONDS, TimeUnit.SECONDS);
            if (!finished) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
            outReader.join(5_000);
            errReader.join(5_000);
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        String stdout = out.toString(StandardCharsets.UTF_8), stderr = err.toString(StandardCharsets.UTF_8);
        if (!finished)
            fail("the probe with " + threads + " threads ran past " + CHILD_SECONDS + " s\n" + stdout + stderr);
        assertEquals(0, p.exitValue(), "the probe with " + threads + " threads failed:\n" + stdout + stderr);
        System.out.printf(
                "probe %s with %d threads: %.1f s (%s)%n",
                String.join(",", parts),
                threads,
                (System.nanoTime() - t0) * 1e-9,
                stdout.lines().filter(l -> l.startsWith("seconds")).toList());
        Map<String, String> digests = new LinkedHashMap<>();
        boolean sawThreads = false;
        for (String line : stdout.split("\n")) {
            String[] f = line.trim().split(" ");
            if (f[0].equals("threads")) {
                assertEquals(threads, Integer.parseInt(f[1]), "the probe ran with another thread count:\n" + stdout);
                sawThreads = true;
            } else if (f[0].equals("digest")) {
                assertEquals(5, f.length, line); // digest NAME SHA-256 VALUES SECONDS
                assertTrue(Long.parseLong(f[3]) > 0, "empty output: " + line);
                assertFalse(digests.containsKey(f[1]), "twice: " + f[1]);
                digests.put(f[1], f[2]);
            }
        }
        assertTrue(sawThreads, "no thread count printed:\n" + stdout + stderr);
        assertFalse(digests.isEmpty(), "no digests printed:\n" + stdout + stderr);
        return digests;
    }

    /** Reads a stream to its end on a daemon thread (so a child that fills its pipe never blocks). */
    private static Thread drain(InputStream in, ByteArrayOutputStream sink) {
        Thread t = new Thread(
                () -> {
                    try (in) {
                        in.transferTo(sink);
                    } catch (IOException ignored) {
                        // the child was killed: what was read so far is kept
                    }
                },
                "probe-output");
        t.setDaemon(true);
        t.start();
        return t;
    }
}
