package dev.tessera.examples.cli;

import dev.tessera.engine.io.Json;
import dev.tessera.engine.nn.Linear;
import dev.tessera.engine.ops.Activation;
import dev.tessera.engine.ops.Ops;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code tessera bench gemm}: the linear layer's matrix product on the chosen backend at VAR-d16's shapes, in GFLOP/s.
 * Each timed batch of calls ends by reading one output element back, which waits for every queued kernel, so a
 * device that runs the calls asynchronously is timed for their work, not for queueing them.
 */
@Command(
        name = "gemm",
        sortOptions = false,
        header = "the linear layer's GEMM at VAR-d16's shapes, in GFLOP/s, on any backend",
        description = {
            "Times Ops.linear (y = x W^T + b, float32 weights) for each M and IN x OUT, on arrays from the backend's",
            "allocate (resident on a device), after a check of the result against the CPU backend. GFLOP/s counts",
            "2*M*IN*OUT per call. The defaults are VAR-d16's largest products: the last two scales under CFG (M = 512",
            "and 338 rows) through the attention projections (1024x3072, 1024x1024) and the MLP (1024x4096,",
            "4096x1024).",
            ""
        })
final class GemmBench extends CommandBase {
    @Option(names = "--m", split = ",", paramLabel = "M", description = "rows of x, comma-separated (default: 512,338)")
    int[] rows = {512, 338};

    @Option(
            names = "--shape",
            split = ",",
            paramLabel = "INxOUT",
            description = "layer shapes, comma-separated (default: 1024x3072,1024x1024,1024x4096,4096x1024)")
    String[] shapes = {"1024x3072", "1024x1024", "1024x4096", "4096x1024"};

    @Option(
            names = "--seconds",
            paramLabel = "S",
            description = "timed seconds per shape, after a warm-up of a fifth of that (default ${DEFAULT-VALUE})")
    double seconds = 1;

    @Option(names = "--json", description = "one JSON object on standard output; the table goes to standard error")
    boolean json;

    @Mixin
    LoadOptions load = new LoadOptions();

    GemmBench(PrintStream out) {
        super(out);
    }

    private record Shape(int in, int out) {}

    private List<Shape> parseShapes() {
        List<Shape> list = new ArrayList<>();
        for (String s : shapes) {
            String[] p = s.toLowerCase(Locale.ROOT).split("x");
            try {
                if (p.length != 2) throw new NumberFormatException();
                Shape shape = new Shape(Integer.parseInt(p[0].trim()), Integer.parseInt(p[1].trim()));
                if (shape.in() < 1 || shape.out() < 1) throw new NumberFormatException();
                list.add(shape);
            } catch (NumberFormatException e) {
                throw new UsageException("--shape " + s + ": expected INxOUT with positive integers, e.g. 1024x4096");
            }
        }
        return list;
    }

    @Override
    public Integer call() {
        try {
            return measure();
        } finally {
            load.close();
        }
    }

    private int measure() {
        PrintStream log = json ? System.err : out;
        List<Shape> list = parseShapes();
        for (int m : rows) if (m < 1) throw new UsageException("--m must be at least 1, got " + m);
        if (!(seconds > 0 && seconds <= 600)) throw new UsageException("--seconds must be in (0, 600]");
        load.start(log);
        Ops ops = load.ops();
        log.printf("GEMM on %s%n", ops.name());
        log.printf("  %6s %11s %12s %10s %10s%n", "M", "IN x OUT", "ms per call", "GFLOP/s", "max error");
        List<Map<String, Object>> results = new ArrayList<>();
        double flopsAll = 0, secondsAll = 0;
        for (Shape s : list) {
            for (int m : rows) {
                Map<String, Object> r = time(ops, m, s);
                results.add(r);
                double perCall = (double) r.get("seconds_per_call");
                flopsAll += 2.0 * m * s.in() * s.out();
                secondsAll += perCall;
                log.printf(
                        Locale.ROOT,
                        "  %6d %11s %12.4f %10.1f %10.2e%n",
                        m,
                        s.in() + "x" + s.out(),
                        perCall * 1e3,
                        r.get("gflops"),
                        r.get("max_error"));
            }
        }
        double overall = flopsAll / secondsAll / 1e9;
        log.printf(Locale.ROOT, "all shapes once each: %.1f GFLOP/s%n", overall);
        if (json) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("device", ops.name());
            o.put("results", results);
            o.put("gflops_all_shapes", overall);
            out.println(Json.write(o));
        }
        return 0;
    }

    private Map<String, Object> time(Ops ops, int m, Shape s) {
        int in = s.in(), outs = s.out();
        float[] w = random((long) outs * in, 1, 1 / Math.sqrt(in)), bias = random(outs, 2, 0.02);
        Linear layer = new Linear(MemorySegment.ofArray(w), bias, outs, in);
        float[] xHost = random((long) m * in, 3, 1);
        float[] x = ops.allocate(m * in), y = ops.allocate(m * outs);
        System.arraycopy(xHost, 0, x, 0, xHost.length);
        ops.hostWrote(x);
        // the result, against the CPU backend (a fast but wrong kernel must not pass as fast)
        ops.linear(x, 0, m, layer, y, 0, Activation.NONE);
        ops.toHost(y);
        float[] want = new float[m * outs];
        Ops.cpu().linear(xHost, 0, m, new Linear(MemorySegment.ofArray(w), bias, outs, in), want, 0, Activation.NONE);
        double err = 0, scale = 0;
        for (int i = 0; i < want.length; i++) {
            double d = Math.abs(y[i] - (double) want[i]);
            err = Double.isNaN(d) ? Double.POSITIVE_INFINITY : Math.max(err, d);
            scale = Math.max(scale, Math.abs(want[i]));
        }
        double relative = err / Math.max(scale, 1e-30);
        // warm-up, then batches of calls that double until the time is spent
        runFor(ops, x, m, layer, y, seconds / 5);
        long[] done = runFor(ops, x, m, layer, y, seconds);
        double perCall = done[1] * 1e-9 / done[0];
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("m", m);
        r.put("in", in);
        r.put("out", outs);
        r.put("calls", done[0]);
        r.put("seconds_per_call", perCall);
        r.put("gflops", 2.0 * m * in * outs / perCall / 1e9);
        r.put("max_error", relative);
        return r;
    }

    /** Runs batches of calls, each ended by a read of one element, until {@code limit} seconds; {calls, nanos}. */
    private static long[] runFor(Ops ops, float[] x, int m, Linear layer, float[] y, double limit) {
        long calls = 0, nanos = 0;
        int batch = 1;
        while (nanos < limit * 1e9) {
            long t = System.nanoTime();
            for (int i = 0; i < batch; i++) ops.linear(x, 0, m, layer, y, 0, Activation.NONE);
            ops.toHost(y, 0, 1);
            nanos += System.nanoTime() - t;
            calls += batch;
            // the next batch: twice as many, but no more than the time left holds
            double left = limit * 1e9 - nanos, perCall = nanos / (double) calls;
            batch = (int) Math.max(1, Math.min(Math.min(2L * batch, 1 << 12), left / perCall));
        }
        return new long[] {calls, nanos};
    }

    private static float[] random(long n, long seed, double scale) {
        if (n > Integer.MAX_VALUE - 8) throw new UsageException("a matrix of " + n + " floats is too large");
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[(int) n];
        for (int i = 0; i < a.length; i++) a[i] = (float) ((r.nextDouble() * 2 - 1) * scale);
        return a;
    }
}
