package dev.tessera.examples.cli;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.io.Json;
import dev.tessera.engine.models.var.VarTransformer;
import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.engine.ops.Ops;
import dev.tessera.engine.ops.Parallel;
import dev.tessera.engine.ops.ProfilingOps;
import dev.tessera.examples.bench.RandomWeights;
import dev.tessera.examples.bench.SyntheticVar;
import dev.tessera.samplers.Progress;
import dev.tessera.samplers.var.VarGenerator;
import dev.tessera.samplers.var.VarDetails;
import dev.tessera.samplers.var.VarSettings;
import dev.tessera.tokenizers.var.MultiScaleVqVae;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code tessera bench var}: seconds per image with random weights of the released shapes. */
public final class BenchCommand {
    static final String NAME = "tessera bench";
    static final String HELP = """
            Usage: tessera bench var [--depth D] [--batch B] [--runs N] [--warmup N] [--weights F] [--device D] [--json]
                                     [--profile]
                   tessera bench llamagen [--size B|L|XL|XXL] [--sampler ar|speculative|lantern|sjd]
                                          [--draft-size B] [--batch B] [--runs N] [--warmup N] [--weights F] [--json]
                                          [--profile]
                   tessera bench nar [--size B|M|L|XL|XXL] [--batch B] [--runs N] [--warmup N] [--weights F] [--json]
                                     [--profile]
                   tessera bench flowar [--size S|L|H] [--steps N] [--batch B] [--runs N] [--warmup N] [--weights F]
                                        [--json] [--profile]
                   tessera bench kernels [JMH options]     (JMH: GEMM, attention, conv2d; -h for more)

            Builds random weights with the shapes of the official release (var_d{D}.pth: width 64*D, D heads,
            1000 classes, V 4096; vae_ch160v4096z32.pth decoder) in memory, runs warm-up generations and then N
            timed ones at 256 px with CFG 1.5, top-k 900, top-p 0.96, and prints where the time goes. Every bench
            reports the steady state: the JIT compiler is still at work during the first two or three generations
            of a fresh JVM (the first one takes 2-3x as long), so by default untimed generations run until one
            takes within 5% of the one before (at least 2, at most 6); all of them are printed.

            Options:
              --depth D     16 (default), 20, 24 or 30
              --batch B     images per generation (default 1)
              --runs N      timed runs after the warm-up (default 3)
              --warmup N    exactly N untimed generations first (0 times a cold JVM; default: until steady)
              --json        one JSON object: seconds_per_image, transformer_s, decode_s, gflops, ...
              --profile     also print time and GFLOP/s per kernel
              --weights F   f32 (default) or bf16: linear weights stored as bfloat16 (not parity; see README)
              --device D    (var) cpu (default) or opencl[:PLATFORM:DEVICE] (see tessera devices)
            """;

    private BenchCommand() {
    }

    public static int run(List<String> argv, PrintStream out) {
        if (!argv.isEmpty() && argv.get(0).equals("kernels")) return kernels(argv.subList(1, argv.size()), out);
        if (!argv.isEmpty() && argv.get(0).equals("llamagen")) return LlamaGenBench.run(argv.subList(1, argv.size()), out);
        if (!argv.isEmpty() && argv.get(0).equals("nar")) return NarBench.run(argv.subList(1, argv.size()), out);
        if (!argv.isEmpty() && argv.get(0).equals("flowar")) return FlowArBench.run(argv.subList(1, argv.size()), out);
        Args a = Args.parse(NAME, argv, Set.of("weights", "depth", "batch", "runs", "warmup", "device"), Set.of("json", "profile", "help"));
        if (a.has("help") || a.positional().isEmpty()) {
            out.print(HELP);
            return a.has("help") ? 0 : 2;
        }
        if (!a.positional().get(0).equals("var")) throw new UsageException("unknown benchmark '" + a.positional().get(0) + "' (available: var, llamagen, nar, flowar, kernels)");
        WeightPanels.Format weights = a.weights(a.has("json") ? System.err : out);
        int depth = a.getInt("depth", 16), batch = a.getInt("batch", 1), runs = a.getInt("runs", 3);
        if (depth < 1 || depth > 64) throw new UsageException("--depth must be between 1 and 64");
        if (batch < 1 || runs < 1) throw new UsageException("--batch and --runs must be at least 1");
        int warmups = warmups(a);
        boolean json = a.has("json");
        PrintStream log = json ? System.err : out;

        Ops backend = Devices.open(a).ops();   // before the weights are made; held to the end of the process, as they are
        int[] pn = {1, 2, 3, 4, 5, 6, 8, 10, 13, 16};
        long t0 = System.nanoTime();
        RandomWeights varW = SyntheticVar.transformer(depth, pn, 1), vaeW = SyntheticVar.vqvae(2);
        long weightBytes = varW.bytes() + vaeW.bytes(), varBytes = varW.bytes(), vaeBytes = vaeW.bytes();
        Path dir = tempDir();
        Path varFile = varW.writeTo(dir.resolve("var_d" + depth + ".safetensors"));
        Path vaeFile = vaeW.writeTo(dir.resolve("vae_ch160v4096z32.safetensors"));
        // the peak memory reported is that of loading and generating, not of making the random weights
        System.gc();
        resetPeakRss();
        Checkpoint varCkpt = Checkpoints.open(varFile);
        Checkpoint vaeCkpt = Checkpoints.open(vaeFile);
        ProfilingOps ops = new ProfilingOps(backend);
        VarTransformer model = VarTransformer.load(varCkpt, 0, null, ops, weights);
        MultiScaleVqVae vae = MultiScaleVqVae.load(vaeCkpt, pn, 0.5f, ops);
        VarGenerator gen = new VarGenerator(model, vae);
        log.printf("random weights: VAR-d%d %.2f GB + VQ-VAE %.2f GB, written to %s and loaded in %.1f s; %s%n",
                depth, varBytes / 1e9, vaeBytes / 1e9, dir, (System.nanoTime() - t0) * 1e-9, backend.name());

        int[] classes = new int[batch];
        for (int b = 0; b < batch; b++) classes[b] = (207 + 97 * b) % 1000;
        VarSettings settings = VarSettings.OFFICIAL;
        double[] warm = warmUp(warmups, log, () -> gen.generate(classes, 0, settings, Progress.NONE));

        List<double[]> perScale = new ArrayList<>();
        double transformer = 0, decode = 0, sampling = 0, vq = 0, wall = 0;
        long flops = 0;
        Map<String, long[]> profile = null;
        for (int r = 0; r < runs; r++) {
            ops.reset();
            long s = System.nanoTime();
            VarDetails res = gen.generate(classes, 0, settings, Progress.NONE).details();
            double seconds = (System.nanoTime() - s) * 1e-9;
            wall += seconds;
            VarDetails.Timings t = res.timings();
            perScale.add(t.transformerSeconds());
            transformer += t.transformerTotal();
            decode += t.decodeSeconds();
            sampling += t.samplingSeconds();
            vq += t.vqSeconds();
            flops += ops.flops();
            profile = ops.snapshot();
            log.printf("run %d: %.2f s (transformer %.2f, sampling %.2f, VQ %.2f, decode %.2f)%n", r + 1, seconds,
                    t.transformerTotal(), t.samplingSeconds(), t.vqSeconds(), t.decodeSeconds());
        }
        double perImage = wall / runs / batch;
        double gflops = flops / wall / 1e9;
        long peakRss = peakRssBytes();
        double[] scaleMs = new double[pn.length];
        for (double[] ps : perScale) for (int i = 0; i < pn.length; i++) scaleMs[i] += ps[i] * 1000 / runs;

        if (json) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("model", "VAR-d" + depth + " (random weights), vae ch160 v4096 z32");
            o.put("device", backend.name());
            o.put("batch", batch);
            o.put("runs", runs);
            o.put("warmup_seconds", warm);
            o.put("threads", Parallel.threads());
            o.put("seconds_per_image", perImage);
            o.put("weights", weights.name().toLowerCase(java.util.Locale.ROOT));
            o.put("images_per_second", 1 / perImage);
            o.put("transformer_s", transformer / runs);
            o.put("sampling_s", sampling / runs);
            o.put("vq_s", vq / runs);
            o.put("decode_s", decode / runs);
            o.put("transformer_ms_per_scale", scaleMs);
            o.put("gflops", gflops);
            o.put("tflop_per_image", flops / (double) runs / batch / 1e12);
            o.put("weight_bytes", weightBytes);
            o.put("peak_rss_bytes", peakRss);
            out.println(Json.write(o));
        } else {
            out.printf("%nVAR-d%d, batch %d, %d runs, %d threads%n", depth, batch, runs, Parallel.threads());
            StringBuilder sb = new StringBuilder("transformer per scale (ms):");
            for (int i = 0; i < pn.length; i++) sb.append(String.format(" %d:%.0f", pn[i], scaleMs[i]));
            out.println(sb);
            out.printf("transformer %.2f s | sampling %.2f s | VQ %.2f s | decode %.2f s%n", transformer / runs,
                    sampling / runs, vq / runs, decode / runs);
            out.printf("seconds per image: %.2f (%.3f images/s)%n", perImage, 1 / perImage);
            out.printf("achieved: %.1f GFLOP/s over %.3f TFLOP per image%n", gflops, flops / (double) runs / batch / 1e12);
            out.printf("memory: peak RSS %.2f GB, weights %.2f GB (%.2fx)%n", peakRss / 1e9, (weightBytes) / 1e9,
                    peakRss / (double) (weightBytes));
        }
        if (a.has("profile") && profile != null) printProfile(log, profile);
        return 0;
    }

    /** Untimed generations when {@code --warmup} is not given: until one is within 5% of the one before. */
    static final int WARMUP_UNTIL_STEADY = -1;
    static final int MIN_WARMUPS = 2, MAX_WARMUPS = 6;

    /** {@code --warmup N}, checked before anything loads; {@link #WARMUP_UNTIL_STEADY} when absent. */
    static int warmups(Args a) {
        if (a.get("warmup") == null) return WARMUP_UNTIL_STEADY;
        int n = a.getInt("warmup", 0);
        if (n < 0) throw new UsageException("--warmup must be at least 0");
        return n;
    }

    /**
     * Runs untimed generations, printing how long each took: {@code n} of them, or for {@link #WARMUP_UNTIL_STEADY}
     * until one takes within 5% of the one before (at least {@value #MIN_WARMUPS}, at most {@value #MAX_WARMUPS}).
     * Returns their times in seconds.
     */
    static double[] warmUp(int n, PrintStream log, Runnable generation) {
        return warmUp(n, log, generation, System::nanoTime);
    }

    static double[] warmUp(int n, PrintStream log, Runnable generation, java.util.function.LongSupplier nanoClock) {
        boolean untilSteady = n == WARMUP_UNTIL_STEADY;
        List<Double> times = new ArrayList<>();
        while (untilSteady ? times.size() < MAX_WARMUPS : times.size() < n) {
            long t = nanoClock.getAsLong();
            generation.run();
            double s = (nanoClock.getAsLong() - t) * 1e-9;
            times.add(s);
            log.printf(java.util.Locale.ROOT, "warm-up run %d: %.2f s%n", times.size(), s);
            if (untilSteady && times.size() >= MIN_WARMUPS && withinFivePercent(times.get(times.size() - 2), s)) break;
        }
        return times.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static boolean withinFivePercent(double before, double now) {
        return Math.abs(now - before) <= 0.05 * before;
    }

    static void printProfile(PrintStream log, Map<String, long[]> profile) {
        log.println("\nper kernel (last run): seconds, GFLOP/s, calls");
        profile.forEach((k, v) -> log.printf("  %-14s %7.3f s %8.1f GFLOP/s %7d%n", k, v[1] * 1e-9,
                v[1] == 0 ? 0 : v[0] / (double) v[1], v[2]));
    }

    /**
     * {@code tessera bench kernels [JMH options]}: the JMH benchmarks of GEMM, attention and conv2d
     * ({@code dev.tessera.examples.jmh}); any JMH option can follow, e.g. {@code -p m=512 -f 1}.
     */
    static int kernels(List<String> jmhArgs, PrintStream out) {
        List<String> args = new ArrayList<>(jmhArgs);
        boolean hasPattern = args.stream().anyMatch(s -> !s.startsWith("-") && args.indexOf(s) == 0);
        if (args.contains("-h") || args.contains("--help")) {
            out.println("Usage: tessera bench kernels [JMH options] [benchmark regexp]");
            out.println("Runs the JMH benchmarks GemmBenchmark, AttentionBenchmark, Conv2dBenchmark (default: all).");
            out.println("Examples: tessera bench kernels Gemm -p m=512 ;  tessera bench kernels Conv2d -wi 1 -i 3");
            return 0;
        }
        if (!hasPattern) args.add(0, "dev.tessera.examples.jmh");
        try {
            org.openjdk.jmh.Main.main(args.toArray(String[]::new));
            return 0;
        } catch (Exception e) {
            throw new dev.tessera.engine.TesseraException("JMH failed: " + e.getMessage(), e);
        }
    }

    /** A temporary folder for the weight files, deleted when the JVM exits. */
    static Path tempDir() {
        try {
            Path dir = Files.createTempDirectory("tessera-bench-");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try (var files = Files.list(dir)) {
                    files.forEach(f -> f.toFile().delete());
                } catch (IOException ignored) {
                    // best effort
                }
                dir.toFile().delete();
            }));
            return dir;
        } catch (IOException e) {
            throw new dev.tessera.engine.TesseraException("cannot create a temporary folder for the benchmark weights: " + e.getMessage(), e);
        }
    }

    /** Resets VmHWM to the current RSS (Linux {@code clear_refs} 5); silently does nothing elsewhere. */
    static void resetPeakRss() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
        } catch (IOException | RuntimeException e) {
            // not Linux, or not allowed: the peak then includes building the weights
        }
    }

    /** VmHWM of this process (Linux), or -1. */
    static long peakRssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }
}
