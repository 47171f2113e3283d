package dev.tessera.examples.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.io.Json;
import dev.tessera.examples.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * {@code tessera bench} with the bench module on the class path: found as a service, help generated, errors one line.
 */
class BenchCliTest {
    private record Result(int status, String out, String err) {}

    private static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int status = Main.run(
                List.of(args),
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void everyBenchmarksHelpExitsZeroAndListsItsOptions() {
        PrintStream sink = new PrintStream(new ByteArrayOutputStream());
        CommandLine bench = Main.commandLine(sink, sink).getSubcommands().get("bench");
        assertInstanceOf(BenchCommand.class, bench.getCommand(), "the bench module's command is registered");
        List<String> names = new ArrayList<>(bench.getSubcommands().keySet());
        assertEquals(List.of("var", "llamagen", "nar", "flowar", "mar", "samplers", "gemm", "kernels"), names);
        PrintStream systemErr = System.err;
        ByteArrayOutputStream warnings = new ByteArrayOutputStream();
        System.setErr(new PrintStream(warnings, true)); // picocli reports a help text it cannot format there
        Result top;
        try {
            everyHelp(bench, names);
            top = run("bench", "--help");
        } finally {
            System.setErr(systemErr);
        }
        assertEquals("", warnings.toString(), "picocli warnings");
        assertEquals(0, top.status());
        assertTrue(
                top.out().contains("bench var")
                        && top.out().contains("bench kernels")
                        && top.out().contains("within 5% of"),
                top.out());
        Result alone = run("bench");
        assertEquals(2, alone.status());
        assertTrue(alone.out().contains("Usage: tessera bench"), alone.out());
    }

    private static void everyHelp(CommandLine bench, List<String> names) {
        for (String name : names) {
            Result r = run("bench", name, "--help");
            assertEquals(0, r.status(), name + ": " + r.err());
            for (OptionSpec o :
                    bench.getSubcommands().get(name).getCommandSpec().options()) {
                assertFalse(o.hidden(), name + ": " + o.longestName() + " hidden");
                for (String n : o.names())
                    assertTrue(r.out().contains(n), "bench " + name + " --help lacks " + n + ":\n" + r.out());
            }
        }
    }

    @Test
    void badInputIsOneLine() {
        String[][] cases = {
            {"frob", "unknown benchmark 'frob'"},
            {"var", "--depth", "0", "--depth must be between 1 and 64"},
            {"nar", "--size", "Q", "or M"},
            {"flowar", "--steps", "1", "--steps must be at least 2"},
            {"mar", "--size", "X", "unknown MAR size"},
            {"mar", "--gamma", "2", "needs --draft"},
            {"llamagen", "--runs", "0", "--batch and --runs must be at least 1"},
            {"var", "--frobnicate", "unknown option --frobnicate"},
            {"samplers", "--only", "ar,frob", "--only: no row 'frob' (see --list)"},
            {"samplers", "--samples", "0", "--samples must be at least 1"},
            {"gemm", "--shape", "64y64", "--shape 64y64: expected INxOUT"},
            {"gemm", "--m", "0", "--m must be at least 1"},
            {"gemm", "--seconds", "0", "--seconds must be in (0, 600]"}
        };
        for (String[] c : cases) {
            List<String> args = new ArrayList<>(List.of("bench"));
            args.addAll(List.of(c).subList(0, c.length - 1));
            Result r = run(args.toArray(String[]::new));
            String err = r.err().strip();
            assertEquals(2, r.status(), err);
            assertEquals(1, err.lines().count(), err);
            assertTrue(err.startsWith("tessera: ") && err.contains(c[c.length - 1]), err);
        }
    }

    /** The shared benchmark path end to end on a tiny VAR: the JSON report has the common and the family's figures. */
    @Test
    @SuppressWarnings("unchecked")
    void aTinyVarBenchReportsJson() {
        Result r = run("bench", "var", "--depth", "1", "--runs", "1", "--warmup", "0", "--json");
        assertEquals(0, r.status(), r.err());
        Map<String, Object> o = (Map<String, Object>) Json.parse(r.out().strip());
        assertEquals("VAR-d1 (random weights), vae ch160 v4096 z32", o.get("model"));
        assertEquals("f32", o.get("weights"));
        double perImage = ((Number) o.get("seconds_per_image")).doubleValue();
        assertTrue(perImage > 0 && Double.isFinite(perImage), String.valueOf(perImage));
        assertEquals(10, ((List<Object>) o.get("transformer_ms_per_scale")).size());
        assertTrue(((Number) o.get("gflops")).doubleValue() > 0, o.toString());
        for (String k :
                new String[] {"batch", "runs", "warmup_seconds", "threads", "weight_bytes", "peak_rss_bytes", "decode_s"
                }) {
            assertTrue(o.containsKey(k), k + " in " + o.keySet());
        }
    }

    /** {@code bench gemm} on the CPU at tiny shapes: one row per M and shape, checked against the CPU backend. */
    @Test
    @SuppressWarnings("unchecked")
    void aTinyGemmBenchReportsEveryShape() {
        Result r = run("bench", "gemm", "--m", "3,5", "--shape", "8x16,24x8", "--seconds", "0.01", "--json");
        assertEquals(0, r.status(), r.err());
        Map<String, Object> o = (Map<String, Object>) Json.parse(r.out().strip());
        List<Map<String, Object>> rows = (List<Map<String, Object>>) o.get("results");
        assertEquals(
                List.of("3:8x16", "5:8x16", "3:24x8", "5:24x8"),
                rows.stream()
                        .map(m -> m.get("m") + ":" + m.get("in") + "x" + m.get("out"))
                        .toList());
        for (Map<String, Object> row : rows) {
            double gflops = ((Number) row.get("gflops")).doubleValue(),
                    err = ((Number) row.get("max_error")).doubleValue();
            assertTrue(gflops > 0 && Double.isFinite(gflops) && err < 1e-5, row.toString());
            assertTrue(((Number) row.get("calls")).longValue() >= 1, row.toString());
        }
        assertTrue(((Number) o.get("gflops_all_shapes")).doubleValue() > 0, o.toString());
    }

    /**
     * The FlowAR rows: the bundled target and its draft alone, each image 4 AR passes and 4 x 24 flow-head
     * evaluations (Euler, 25 steps), counted as target forwards for the target and as draft forwards for the draft.
     */
    @Test
    @SuppressWarnings("unchecked")
    void theFlowArRowsRunTheBundledPair() {
        Result r = run("bench", "samplers", "--samples", "2", "--only", "flowar,flowar-draft,flowar-cspd", "--json");
        assertEquals(0, r.status(), r.err());
        Map<String, Object> o = (Map<String, Object>) Json.parse(r.out().strip());
        List<Map<String, Object>> rows = (List<Map<String, Object>>) o.get("rows");
        assertEquals(
                List.of("flowar", "flowar-draft", "flowar-cspd"),
                rows.stream().map(m -> m.get("row")).toList());
        // the verifier: the target makes scale 0 and checks the others once each, the draft makes the rest
        Map<String, Object> cspd = rows.remove(2);
        double tf = (double) cspd.get("target_forwards_per_image"), df = (double) cspd.get("draft_forwards_per_image");
        assertTrue(tf > 4 && tf < 100 && df > 0 && df < 100, cspd.toString());
        double accept = (double) cspd.get("acceptance_rate");
        assertTrue(accept >= 0 && accept <= 1, cspd.toString());
        assertEquals(100.0, rows.get(0).get("target_forwards_per_image"), "target: 4 AR passes + 96 flow evaluations");
        assertEquals(0.0, rows.get(0).get("draft_forwards_per_image"));
        assertEquals(0.0, rows.get(1).get("target_forwards_per_image"));
        assertEquals(100.0, rows.get(1).get("draft_forwards_per_image"), "draft: the same schedule");
        for (Map<String, Object> row : rows) {
            double acc = (double) row.get("class_accuracy"),
                    fid = (double) row.get("judge_fid"),
                    sec = (double) row.get("seconds_per_image");
            assertTrue(
                    acc >= 0 && acc <= 1 && Double.isFinite(fid) && fid >= 0 && sec > 0 && Double.isFinite(sec),
                    row.toString());
            assertEquals(null, row.get("acceptance_rate"), "no proposals without a verifier");
        }
    }

    /**
     * The MAR rows on the bundled pair: the target alone makes its 16 steps, CSpD hands most steps to the draft and
     * verifies them in fewer target forwards, and the draft alone is counted as draft forwards.
     */
    @Test
    @SuppressWarnings("unchecked")
    void theMarRowsRunTheBundledPair() {
        Result r = run("bench", "samplers", "--samples", "2", "--only", "mar,mar-draft,mar-cspd-g4-t42", "--json");
        assertEquals(0, r.status(), r.err());
        Map<String, Object> o = (Map<String, Object>) Json.parse(r.out().strip());
        List<Map<String, Object>> rows = (List<Map<String, Object>>) o.get("rows");
        assertEquals(
                List.of("mar", "mar-draft", "mar-cspd-g4-t42"),
                rows.stream().map(m -> m.get("row")).toList());
        assertEquals(16.0, rows.get(0).get("target_forwards_per_image"), "one target forward per MAR step");
        assertEquals(0.0, rows.get(0).get("draft_forwards_per_image"));
        assertEquals(0.0, rows.get(1).get("target_forwards_per_image"));
        assertEquals(16.0, rows.get(1).get("draft_forwards_per_image"), "the draft alone: the same 16 steps");
        Map<String, Object> cspd = rows.get(2);
        double tf = (double) cspd.get("target_forwards_per_image"), df = (double) cspd.get("draft_forwards_per_image");
        assertTrue(tf >= 4 && tf < 16 && df > 0 && tf + df >= 16, cspd.toString());
        double accept = (double) cspd.get("acceptance_rate");
        assertTrue(accept >= 0 && accept <= 1, cspd.toString());
        assertEquals(4L, cspd.get("gamma"));
        assertEquals("released", cspd.get("cspd_rule"));
        for (Map<String, Object> row : rows) {
            double acc = (double) row.get("class_accuracy"),
                    fid = (double) row.get("judge_fid"),
                    sec = (double) row.get("seconds_per_image");
            assertTrue(
                    acc >= 0 && acc <= 1 && Double.isFinite(fid) && fid >= 0 && sec > 0 && Double.isFinite(sec),
                    row.toString());
        }
    }

    /**
     * The sampler table on the bundled LlamaGen pair, a few images per row: LANTERN with delta 0 is speculative
     * sampling (same forwards, acceptance, images: same accuracy and FID), greedy Jacobi gives greedy AR's images in
     * fewer target forwards, and every figure is finite and in range.
     */
    @Test
    @SuppressWarnings("unchecked")
    void theSamplerTableOnTheBundledPair() {
        Result r = run(
                "bench",
                "samplers",
                "--samples",
                "6",
                "--only",
                "ar,speculative-g4,lantern-d0-k1000,ar-greedy,jacobi-greedy-w16",
                "--json");
        assertEquals(0, r.status(), r.err());
        Map<String, Object> o = (Map<String, Object>) Json.parse(r.out().strip());
        Map<String, Map<String, Object>> rows = new LinkedHashMap<>();
        for (Object row : (List<Object>) o.get("rows"))
            rows.put((String) ((Map<String, Object>) row).get("row"), (Map<String, Object>) row);
        assertEquals(
                List.of("ar", "speculative-g4", "lantern-d0-k1000", "ar-greedy", "jacobi-greedy-w16"),
                List.copyOf(rows.keySet()));
        for (String k : new String[] {
            "target_forwards_per_image", "draft_forwards_per_image", "acceptance_rate", "class_accuracy", "judge_fid"
        }) {
            assertEquals(
                    rows.get("speculative-g4").get(k),
                    rows.get("lantern-d0-k1000").get(k),
                    k + ": delta 0");
        }
        for (String k : new String[] {"class_accuracy", "judge_fid"}) {
            assertEquals(
                    rows.get("ar-greedy").get(k), rows.get("jacobi-greedy-w16").get(k), k + ": greedy Jacobi");
        }
        assertEquals(64.0, rows.get("ar").get("target_forwards_per_image"), "plain AR: one forward per token");
        double jacobi = (double) rows.get("jacobi-greedy-w16").get("target_forwards_per_image");
        assertTrue(jacobi < 64, "greedy Jacobi needs fewer forwards than AR: " + jacobi);
        double spec = (double) rows.get("speculative-g4").get("target_forwards_per_image");
        assertTrue(spec < 64 && (double) rows.get("speculative-g4").get("draft_forwards_per_image") > 0, o.toString());
        for (Map<String, Object> row : rows.values()) {
            double acc = (double) row.get("class_accuracy"),
                    fid = (double) row.get("judge_fid"),
                    sec = (double) row.get("seconds_per_image");
            assertTrue(
                    acc >= 0 && acc <= 1 && Double.isFinite(fid) && fid >= 0 && sec > 0 && Double.isFinite(sec),
                    row.toString());
        }
    }
}
