package dev.tessera.examples.cli;

import dev.tessera.engine.io.Json;
import dev.tessera.engine.ops.Ops;
import dev.tessera.engine.ops.Parallel;
import dev.tessera.engine.ops.ProfilingOps;
import dev.tessera.examples.bench.RandomWeights;
import dev.tessera.examples.bench.SyntheticLlamaGen;
import dev.tessera.samplers.ar.SamplerStats;
import dev.tessera.samplers.llamagen.LlamaGenPipeline;
import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.samplers.TokenDetails;
import dev.tessera.samplers.llamagen.LlamaGenSettings;
import dev.tessera.samplers.llamagen.Sampler;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code tessera bench llamagen}: seconds per image with random weights of a released LlamaGen size. */
final class LlamaGenBench {
    private LlamaGenBench() {
    }

    static int run(List<String> argv, PrintStream out) {
        Args a = Args.parse("tessera bench llamagen", argv, Set.of("weights", "size", "sampler", "draft-size", "batch", "runs", "gamma", "sjd-window", "warmup"),
                Set.of("json", "profile", "help"));
        if (a.has("help")) {
            out.print(BenchCommand.HELP);
            return 0;
        }
        WeightPanels.Format weights = a.weights(a.has("json") ? System.err : out);
        String size = a.get("size") == null ? "B" : a.get("size");
        Sampler sampler;
        int[] shape, draftShape;
        try {
            sampler = Sampler.parse(a.get("sampler") == null ? "ar" : a.get("sampler"));
            shape = SyntheticLlamaGen.size(size);
            draftShape = SyntheticLlamaGen.size(a.get("draft-size") == null ? "B" : a.get("draft-size"));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        int batch = a.getInt("batch", 1), runs = a.getInt("runs", 2);
        if (batch < 1 || runs < 1) throw new UsageException("--batch and --runs must be at least 1");
        int warmups = BenchCommand.warmups(a);
        boolean json = a.has("json"), needsDraft = sampler == Sampler.SPECULATIVE || sampler == Sampler.LANTERN;
        PrintStream log = json ? System.err : out;

        long t0 = System.nanoTime();
        Path dir = BenchCommand.tempDir();
        RandomWeights gptW = SyntheticLlamaGen.gpt(shape[0], shape[1], 0, 1), vqW = SyntheticLlamaGen.vq(2);
        long weightBytes = gptW.bytes() + vqW.bytes();
        Path gpt = gptW.writeTo(dir.resolve("c2i_" + size + "_256.safetensors"));
        Path vq = vqW.writeTo(dir.resolve("vq_ds16_c2i.safetensors"));
        Path draft = null;
        if (needsDraft) {
            RandomWeights dw = SyntheticLlamaGen.gpt(draftShape[0], draftShape[1], 0, 3);
            weightBytes += dw.bytes();
            draft = dw.writeTo(dir.resolve("draft.safetensors"));
        }
        System.gc();
        BenchCommand.resetPeakRss();
        ProfilingOps ops = new ProfilingOps(Ops.cpu());
        try (LlamaGenPipeline pipe = LlamaGenPipeline.builder().model(gpt).vq(vq).draft(draft).ops(ops).weights(weights).load()) {
            log.printf("random weights: LlamaGen-%s (%.2f GB with the tokenizer%s), loaded in %.1f s; %s%n", size.toUpperCase(),
                    weightBytes / 1e9, needsDraft ? " and the draft" : "", (System.nanoTime() - t0) * 1e-9, Ops.cpu().name());
            int[] classes = new int[batch];
            for (int b = 0; b < batch; b++) classes[b] = (207 + 97 * b) % 1000;
            LlamaGenSettings settings = LlamaGenSettings.builder().sampler(sampler)
                    .gamma(a.getInt("gamma", LlamaGenSettings.GAMMA)).sjdWindow(a.getInt("sjd-window", LlamaGenSettings.SJD_WINDOW)).build();
            double[] warm = BenchCommand.warmUp(warmups, log, () -> pipe.generate(classes, 0, settings));
            double wall = 0, tokenSeconds = 0, decode = 0;
            int targetForwards = 0, draftForwards = 0, proposed = 0, accepted = 0;
            for (int r = 0; r < runs; r++) {
                ops.reset();
                long s = System.nanoTime();
                TokenDetails res = pipe.generate(classes, 0, settings).details();
                double seconds = (System.nanoTime() - s) * 1e-9;
                wall += seconds;
                decode += res.decodeSeconds();
                for (SamplerStats st : res.stats()) {
                    tokenSeconds += st.seconds();
                    targetForwards += st.targetForwards();
                    draftForwards += st.draftForwards();
                    proposed += st.proposed();
                    accepted += st.accepted();
                }
                log.printf("run %d: %.2f s (tokens %.2f, decode %.2f)%n", r + 1, seconds,
                        res.stats().stream().mapToDouble(SamplerStats::seconds).sum(), res.decodeSeconds());
            }
            int perImageRuns = sampler == Sampler.AR ? runs : runs * batch;   // a batched AR run shares its forwards
            double perImage = wall / runs / batch;
            long peak = BenchCommand.peakRssBytes();
            if (json) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("model", "LlamaGen-" + size.toUpperCase() + " (random weights), VQ-16");
                o.put("sampler", sampler.id());
                o.put("batch", batch);
                o.put("runs", runs);
                o.put("warmup_seconds", warm);
                o.put("threads", Parallel.threads());
                o.put("seconds_per_image", perImage);
                o.put("weights", weights.name().toLowerCase(java.util.Locale.ROOT));
                o.put("token_seconds_per_image", tokenSeconds / runs / batch);
                o.put("decode_seconds_per_image", decode / runs / batch);
                o.put("target_forwards_per_image", (double) targetForwards / perImageRuns);
                o.put("draft_forwards_per_image", (double) draftForwards / perImageRuns);
                o.put("acceptance_rate", proposed == 0 ? 0 : (double) accepted / proposed);
                o.put("weight_bytes", weightBytes);
                o.put("peak_rss_bytes", peak);
                out.println(Json.write(o));
            } else {
                out.printf("%nLlamaGen-%s, %s, batch %d, %d runs, %d threads%n", size.toUpperCase(), sampler.id(), batch, runs, Parallel.threads());
                out.printf("seconds per image: %.2f (tokens %.2f, decode %.2f)%n", perImage, tokenSeconds / runs / batch, decode / runs / batch);
                out.printf("target forwards per image: %.1f, draft forwards per image: %.1f, acceptance %.2f%n",
                        (double) targetForwards / perImageRuns, (double) draftForwards / perImageRuns,
                        proposed == 0 ? 0 : (double) accepted / proposed);
                out.printf("memory: peak RSS %.2f GB, weights %.2f GB%n", peak / 1e9, weightBytes / 1e9);
            }
            if (a.has("profile")) BenchCommand.printProfile(log, ops.snapshot());
        }
        return 0;
    }
}
