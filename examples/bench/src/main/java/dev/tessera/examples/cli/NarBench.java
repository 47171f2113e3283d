package dev.tessera.examples.cli;

import dev.tessera.engine.io.Json;
import dev.tessera.engine.ops.Ops;
import dev.tessera.engine.ops.Parallel;
import dev.tessera.engine.ops.ProfilingOps;
import dev.tessera.examples.bench.RandomWeights;
import dev.tessera.examples.bench.SyntheticLlamaGen;
import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.samplers.TokenDetails;
import dev.tessera.samplers.nar.NarPipeline;
import dev.tessera.samplers.ar.TokenSettings;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code tessera bench nar}: seconds per image with random weights of a released NAR size. */
final class NarBench {
    private NarBench() {
    }

    /** NAR sizes: main blocks and width (NAR-M is NAR's own 18-block, 1024-wide configuration). */
    static int[] size(String name) {
        return switch (name.toUpperCase(java.util.Locale.ROOT)) {
            case "M" -> new int[] {18, 1024};
            default -> SyntheticLlamaGen.size(name);
        };
    }

    static int run(List<String> argv, PrintStream out) {
        Args a = Args.parse("tessera bench nar", argv, Set.of("weights", "size", "batch", "runs", "warmup"), Set.of("json", "profile", "help"));
        if (a.has("help")) {
            out.print(BenchCommand.HELP);
            return 0;
        }
        WeightPanels.Format weights = a.weights(a.has("json") ? System.err : out);
        String size = a.get("size") == null ? "B" : a.get("size");
        int[] shape;
        try {
            shape = size(size);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage().replace("LlamaGen", "NAR") + " or M");
        }
        int batch = a.getInt("batch", 1), runs = a.getInt("runs", 2);
        if (batch < 1 || runs < 1) throw new UsageException("--batch and --runs must be at least 1");
        int warmups = BenchCommand.warmups(a);
        boolean json = a.has("json");
        PrintStream log = json ? System.err : out;
        long t0 = System.nanoTime();
        Path dir = BenchCommand.tempDir();
        RandomWeights gptW = SyntheticLlamaGen.gpt(shape[0], shape[1], 1, 1), vqW = SyntheticLlamaGen.vq(2);
        long weightBytes = gptW.bytes() + vqW.bytes();
        Path gpt = gptW.writeTo(dir.resolve("nar_" + size + ".safetensors"));
        Path vq = vqW.writeTo(dir.resolve("vq_ds16_c2i.safetensors"));
        System.gc();
        BenchCommand.resetPeakRss();
        ProfilingOps ops = new ProfilingOps(Ops.cpu());
        try (NarPipeline pipe = NarPipeline.builder().model(gpt).vq(vq).ops(ops).weights(weights).load()) {
            log.printf("random weights: NAR-%s (%.2f GB with the tokenizer), loaded in %.1f s; %s%n", size.toUpperCase(),
                    weightBytes / 1e9, (System.nanoTime() - t0) * 1e-9, Ops.cpu().name());
            int[] classes = new int[batch];
            for (int b = 0; b < batch; b++) classes[b] = (207 + 97 * b) % 1000;
            TokenSettings settings = TokenSettings.OFFICIAL;
            double[] warm = BenchCommand.warmUp(warmups, log, () -> pipe.generate(classes, 0, settings));
            double wall = 0, tokens = 0, decode = 0;
            int forwards = 0;
            for (int r = 0; r < runs; r++) {
                ops.reset();
                long s = System.nanoTime();
                TokenDetails res = pipe.generate(classes, 0, settings).details();
                double seconds = (System.nanoTime() - s) * 1e-9;
                wall += seconds;
                tokens += res.stats().getFirst().seconds();
                decode += res.decodeSeconds();
                forwards = res.stats().getFirst().targetForwards();
                log.printf("run %d: %.2f s (tokens %.2f, decode %.2f)%n", r + 1, seconds, res.stats().getFirst().seconds(), res.decodeSeconds());
            }
            double perImage = wall / runs / batch;
            long peak = BenchCommand.peakRssBytes();
            if (json) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("model", "NAR-" + size.toUpperCase() + " (random weights), VQ-16");
                o.put("batch", batch);
                o.put("runs", runs);
                o.put("warmup_seconds", warm);
                o.put("threads", Parallel.threads());
                o.put("seconds_per_image", perImage);
                o.put("weights", weights.name().toLowerCase(java.util.Locale.ROOT));
                o.put("token_seconds_per_image", tokens / runs / batch);
                o.put("decode_seconds_per_image", decode / runs / batch);
                o.put("forward_passes_per_image", forwards);
                o.put("weight_bytes", weightBytes);
                o.put("peak_rss_bytes", peak);
                out.println(Json.write(o));
            } else {
                out.printf("%nNAR-%s, batch %d, %d runs, %d threads%n", size.toUpperCase(), batch, runs, Parallel.threads());
                out.printf("seconds per image: %.2f (tokens %.2f, decode %.2f), %d forward passes%n", perImage,
                        tokens / runs / batch, decode / runs / batch, forwards);
                out.printf("memory: peak RSS %.2f GB, weights %.2f GB%n", peak / 1e9, weightBytes / 1e9);
            }
            if (a.has("profile")) BenchCommand.printProfile(log, ops.snapshot());
        }
        return 0;
    }
}
