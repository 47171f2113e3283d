package dev.tessera.examples.cli;

import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.engine.ops.Ops;
import dev.tessera.engine.ops.Parallel;
import dev.tessera.examples.bench.RandomWeights;
import dev.tessera.examples.bench.SyntheticLlamaGen;
import dev.tessera.samplers.Pipeline;
import dev.tessera.samplers.TokenDetails;
import dev.tessera.samplers.ar.SamplerStats;
import dev.tessera.samplers.llamagen.LlamaGenPipeline;
import dev.tessera.samplers.llamagen.LlamaGenSettings;
import dev.tessera.samplers.llamagen.Sampler;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code tessera bench llamagen}: seconds per image with random weights of a released LlamaGen size. */
@Command(
        name = "llamagen",
        sortOptions = false,
        header = "LlamaGen-B/L/XL/XXL with the VQ-16 tokenizer and a sampler",
        description = {
            "Random weights of a LlamaGen size (LlamaGenSettings.OFFICIAL sampling with the chosen sampler); warm-up",
            "until steady, then N timed runs.",
            ""
        })
final class LlamaGenBench extends FamilyBench<LlamaGenSettings, TokenDetails> {
    @Option(names = "--size", paramLabel = "SIZE", description = "B (default), L, XL or XXL")
    String size = "B";

    @Option(names = "--sampler", paramLabel = "NAME", description = "ar (default), speculative, lantern or sjd")
    String sampler = "ar";

    @Option(
            names = "--draft-size",
            paramLabel = "SIZE",
            description = "the draft's size for speculative and lantern (default B)")
    String draftSize = "B";

    @Option(names = "--gamma", paramLabel = "G", description = "drafts per round (default ${DEFAULT-VALUE})")
    int gamma = LlamaGenSettings.GAMMA;

    @Option(
            names = "--sjd-window",
            paramLabel = "W",
            description = "positions per Jacobi forward (default ${DEFAULT-VALUE})")
    int sjdWindow = LlamaGenSettings.SJD_WINDOW;

    private Sampler algorithm;
    private int[] shape, draftShape;
    private Path gpt, vq, draft;

    LlamaGenBench(PrintStream out) {
        super(out, 2);
    }

    private boolean needsDraft() {
        return algorithm == Sampler.SPECULATIVE || algorithm == Sampler.LANTERN;
    }

    @Override
    void check() {
        try {
            algorithm = Sampler.parse(sampler);
            shape = SyntheticLlamaGen.size(size);
            draftShape = SyntheticLlamaGen.size(draftSize);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    @Override
    long writeWeights(Path dir) {
        RandomWeights gptW = SyntheticLlamaGen.gpt(shape[0], shape[1], 0, 1), vqW = SyntheticLlamaGen.vq(2);
        long bytes = gptW.bytes() + vqW.bytes();
        gpt = gptW.writeTo(dir.resolve("c2i_" + size + "_256.safetensors"));
        vq = vqW.writeTo(dir.resolve("vq_ds16_c2i.safetensors"));
        if (needsDraft()) {
            RandomWeights dw = SyntheticLlamaGen.gpt(draftShape[0], draftShape[1], 0, 3);
            bytes += dw.bytes();
            draft = dw.writeTo(dir.resolve("draft.safetensors"));
        }
        return bytes;
    }

    @Override
    Pipeline<LlamaGenSettings, TokenDetails> load(Ops ops, WeightPanels.Format weights) {
        return LlamaGenPipeline.builder()
                .model(gpt)
                .vq(vq)
                .draft(draft)
                .ops(ops)
                .weights(weights)
                .load();
    }

    @Override
    String loaded(long weightBytes) {
        return String.format(
                "LlamaGen-%s (%.2f GB with the tokenizer%s),",
                size.toUpperCase(), weightBytes / 1e9, needsDraft() ? " and the draft" : "");
    }

    @Override
    String model() {
        return "LlamaGen-" + size.toUpperCase() + " (random weights), VQ-16";
    }

    @Override
    LlamaGenSettings settings(Pipeline<LlamaGenSettings, TokenDetails> pipe) {
        return LlamaGenSettings.builder()
                .sampler(algorithm)
                .gamma(gamma)
                .sjdWindow(sjdWindow)
                .build();
    }

    @Override
    String breakdown(TokenDetails d) {
        return String.format(
                "tokens %.2f, decode %.2f",
                d.stats().stream().mapToDouble(SamplerStats::seconds).sum(), d.decodeSeconds());
    }

    /** Sums of the statistics over all timed runs: {target forwards, draft forwards, proposed, accepted}. */
    private static int[] counts(Runs<TokenDetails> runs) {
        int[] c = new int[4];
        for (TokenDetails d : runs.details()) {
            for (SamplerStats st : d.stats()) {
                c[0] += st.targetForwards();
                c[1] += st.draftForwards();
                c[2] += st.proposed();
                c[3] += st.accepted();
            }
        }
        return c;
    }

    /** Runs that forwards are counted over: a batched AR run shares its forwards among its images. */
    private int perImageRuns(Runs<TokenDetails> runs) {
        return algorithm == Sampler.AR ? runs.count() : runs.count() * common.batch;
    }

    private double tokenSeconds(Runs<TokenDetails> runs) {
        return perImage(runs.details().stream()
                .flatMap(d -> d.stats().stream())
                .mapToDouble(SamplerStats::seconds)
                .sum());
    }

    private double decodeSeconds(Runs<TokenDetails> runs) {
        return perImage(
                runs.details().stream().mapToDouble(TokenDetails::decodeSeconds).sum());
    }

    @Override
    void json(Runs<TokenDetails> runs, LlamaGenSettings settings, Map<String, Object> head, Map<String, Object> tail) {
        int[] c = counts(runs);
        head.put("sampler", algorithm.id());
        tail.put("token_seconds_per_image", tokenSeconds(runs));
        tail.put("decode_seconds_per_image", decodeSeconds(runs));
        tail.put("target_forwards_per_image", (double) c[0] / perImageRuns(runs));
        tail.put("draft_forwards_per_image", (double) c[1] / perImageRuns(runs));
        tail.put("acceptance_rate", c[2] == 0 ? 0 : (double) c[3] / c[2]);
    }

    @Override
    void text(
            Runs<TokenDetails> runs,
            LlamaGenSettings settings,
            double perImage,
            long weightBytes,
            long peakRss,
            PrintStream out) {
        int[] c = counts(runs);
        out.printf(
                "%nLlamaGen-%s, %s, batch %d, %d runs, %d threads%n",
                size.toUpperCase(), algorithm.id(), common.batch, runs.count(), Parallel.threads());
        out.printf(
                "seconds per image: %.2f (tokens %.2f, decode %.2f)%n",
                perImage, tokenSeconds(runs), decodeSeconds(runs));
        out.printf(
                "target forwards per image: %.1f, draft forwards per image: %.1f, acceptance %.2f%n",
                (double) c[0] / perImageRuns(runs),
                (double) c[1] / perImageRuns(runs),
                c[2] == 0 ? 0 : (double) c[3] / c[2]);
        out.printf("memory: peak RSS %.2f GB, weights %.2f GB%n", peakRss / 1e9, weightBytes / 1e9);
    }
}
