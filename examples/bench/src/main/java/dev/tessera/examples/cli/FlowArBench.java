package dev.tessera.examples.cli;

import dev.tessera.engine.io.Json;
import dev.tessera.engine.ops.Ops;
import dev.tessera.engine.ops.Parallel;
import dev.tessera.engine.ops.ProfilingOps;
import dev.tessera.examples.bench.RandomWeights;
import dev.tessera.examples.bench.SyntheticFlowAr;
import dev.tessera.samplers.flowar.FlowArPipeline;
import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.samplers.flowar.FlowArDetails;
import dev.tessera.samplers.flowar.FlowArSettings;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code tessera bench flowar}: seconds per image with random weights of a released FlowAR size. */
final class FlowArBench {
    private FlowArBench() {
    }

    static int run(List<String> argv, PrintStream out) {
        Args a = Args.parse("tessera bench flowar", argv, Set.of("weights", "size", "batch", "runs", "steps", "warmup"), Set.of("json", "profile", "help"));
        if (a.has("help")) {
            out.print(BenchCommand.HELP);
            return 0;
        }
        WeightPanels.Format weights = a.weights(a.has("json") ? System.err : out);
        SyntheticFlowAr.Size size;
        try {
            size = SyntheticFlowAr.Size.of(a.get("size") == null ? "S" : a.get("size"));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        int batch = a.getInt("batch", 1), runs = a.getInt("runs", 2);
        if (batch < 1 || runs < 1) throw new UsageException("--batch and --runs must be at least 1");
        int warmups = BenchCommand.warmups(a);
        if (a.get("steps") != null && a.getInt("steps", 25) < 2) throw new UsageException("--steps must be at least 2");
        boolean json = a.has("json");
        PrintStream log = json ? System.err : out;
        long t0 = System.nanoTime();
        Path dir = BenchCommand.tempDir();
        RandomWeights mw = SyntheticFlowAr.model(size, 1), vw = SyntheticFlowAr.kl16(2);
        long weightBytes = mw.bytes() + vw.bytes();
        Path model = mw.writeTo(dir.resolve("FlowAR-" + size.name() + ".safetensors"));
        Path vae = vw.writeTo(dir.resolve("kl16.safetensors"));
        System.gc();
        BenchCommand.resetPeakRss();
        ProfilingOps ops = new ProfilingOps(Ops.cpu());
        try (FlowArPipeline pipe = FlowArPipeline.builder().model(model).vae(vae).ops(ops).weights(weights).load()) {
            log.printf("random weights: FlowAR-%s (%.2f GB with the KL-16 VAE), loaded in %.1f s; %s%n", size.name(),
                    weightBytes / 1e9, (System.nanoTime() - t0) * 1e-9, Ops.cpu().name());
            int[] classes = new int[batch];
            for (int b = 0; b < batch; b++) classes[b] = (207 + 97 * b) % 1000;
            FlowArSettings settings = a.get("steps") != null ? pipe.defaults().withSteps(a.getInt("steps", 25)) : pipe.defaults();
            double[] warm = BenchCommand.warmUp(warmups, log, () -> pipe.generate(classes, 1, settings));
            double wall = 0, ar = 0, flow = 0, decode = 0;
            int evals = 0;
            for (int r = 0; r < runs; r++) {
                ops.reset();
                long s = System.nanoTime();
                FlowArDetails res = pipe.generate(classes, 1, settings).details();
                double seconds = (System.nanoTime() - s) * 1e-9;
                wall += seconds;
                ar += res.arSeconds();
                flow += res.flowSeconds();
                decode += res.decodeSeconds();
                evals = res.evaluations();
                log.printf("run %d: %.2f s (AR %.2f, flow %.2f, decode %.2f)%n", r + 1, seconds, res.arSeconds(),
                        res.flowSeconds(), res.decodeSeconds());
            }
            double perImage = wall / runs / batch;
            long peak = BenchCommand.peakRssBytes();
            String name = "FlowAR-" + size.name() + " (random weights), KL-16";
            if (json) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("model", name);
                o.put("batch", batch);
                o.put("runs", runs);
                o.put("warmup_seconds", warm);
                o.put("threads", Parallel.threads());
                o.put("steps", settings.steps());
                o.put("cfg", settings.cfg());
                o.put("flow_evaluations_per_scale", evals);
                o.put("seconds_per_image", perImage);
                o.put("weights", weights.name().toLowerCase(java.util.Locale.ROOT));
                o.put("ar_seconds_per_image", ar / runs / batch);
                o.put("flow_seconds_per_image", flow / runs / batch);
                o.put("decode_seconds_per_image", decode / runs / batch);
                o.put("weight_bytes", weightBytes);
                o.put("peak_rss_bytes", peak);
                out.println(Json.write(o));
            } else {
                out.printf("%n%s, batch %d, %d runs, %d threads, %d steps (%d evaluations per scale), cfg %.1f%n", name,
                        batch, runs, Parallel.threads(), settings.steps(), evals, settings.cfg());
                out.printf("seconds per image: %.2f (AR %.2f, flow head %.2f, decode %.2f)%n", perImage, ar / runs / batch,
                        flow / runs / batch, decode / runs / batch);
                out.printf("memory: peak RSS %.2f GB, weights %.2f GB%n", peak / 1e9, weightBytes / 1e9);
            }
            if (a.has("profile")) BenchCommand.printProfile(log, ops.snapshot());
        }
        return 0;
    }
}
