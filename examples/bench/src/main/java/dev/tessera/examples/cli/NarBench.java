package dev.tessera.examples.cli;

import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.engine.ops.Ops;
import dev.tessera.engine.ops.Parallel;
import dev.tessera.examples.bench.RandomWeights;
import dev.tessera.examples.bench.SyntheticLlamaGen;
import dev.tessera.samplers.Pipeline;
import dev.tessera.samplers.TokenDetails;
import dev.tessera.samplers.ar.TokenSettings;
import dev.tessera.samplers.nar.NarPipeline;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code tessera bench nar}: seconds per image with random weights of a released NAR size. */
@Command(
        name = "nar",
        sortOptions = false,
        header = "NAR-B/M/L/XL/XXL with the VQ-16 tokenizer, official sampling",
        description = {
            "Random weights of a NAR size (TokenSettings.OFFICIAL sampling); warm-up until steady, then N timed runs.",
            ""
        })
final class NarBench extends FamilyBench<TokenSettings, TokenDetails> {
    @Option(names = "--size", paramLabel = "SIZE", description = "B (default), M, L, XL or XXL")
    String size = "B";

    private int[] shape;
    private Path gpt, vq;

    NarBench(PrintStream out) {
        super(out, 2);
    }

    /** NAR sizes: main blocks and width (NAR-M is NAR's own 18-block, 1024-wide configuration). */
    static int[] size(String name) {
        return switch (name.toUpperCase(Locale.ROOT)) {
            case "M" -> new int[] {18, 1024};
            default -> SyntheticLlamaGen.size(name);
        };
    }

    @Override
    void check() {
        try {
            shape = size(size);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage().replace("LlamaGen", "NAR") + " or M");
        }
    }

    @Override
    long writeWeights(Path dir) {
        RandomWeights gptW = SyntheticLlamaGen.gpt(shape[0], shape[1], 1, 1), vqW = SyntheticLlamaGen.vq(2);
        gpt = gptW.writeTo(dir.resolve("nar_" + size + ".safetensors"));
        vq = vqW.writeTo(dir.resolve("vq_ds16_c2i.safetensors"));
        return gptW.bytes() + vqW.bytes();
    }

    @Override
    Pipeline<TokenSettings, TokenDetails> load(Ops ops, WeightPanels.Format weights) {
        return NarPipeline.builder().model(gpt).vq(vq).ops(ops).weights(weights).load();
    }

    @Override
    String loaded(long weightBytes) {
        return String.format("NAR-%s (%.2f GB with the tokenizer),", size.toUpperCase(), weightBytes / 1e9);
    }

    @Override
    String model() {
        return "NAR-" + size.toUpperCase() + " (random weights), VQ-16";
    }

    @Override
    TokenSettings settings(Pipeline<TokenSettings, TokenDetails> pipe) {
        return TokenSettings.OFFICIAL;
    }

    @Override
    String breakdown(TokenDetails d) {
        return String.format("tokens %.2f, decode %.2f", d.stats().getFirst().seconds(), d.decodeSeconds());
    }

    private double tokenSeconds(Runs<TokenDetails> runs) {
        return perImage(runs.details().stream()
                .mapToDouble(d -> d.stats().getFirst().seconds())
                .sum());
    }

    private double decodeSeconds(Runs<TokenDetails> runs) {
        return perImage(
                runs.details().stream().mapToDouble(TokenDetails::decodeSeconds).sum());
    }

    private static int forwards(Runs<TokenDetails> runs) {
        return runs.details().getLast().stats().getFirst().targetForwards();
    }

    @Override
    void json(Runs<TokenDetails> runs, TokenSettings settings, Map<String, Object> head, Map<String, Object> tail) {
        tail.put("token_seconds_per_image", tokenSeconds(runs));
        tail.put("decode_seconds_per_image", decodeSeconds(runs));
        tail.put("forward_passes_per_image", forwards(runs));
    }

    @Override
    void text(
            Runs<TokenDetails> runs,
            TokenSettings settings,
            double perImage,
            long weightBytes,
            long peakRss,
            PrintStream out) {
        out.printf(
                "%nNAR-%s, batch %d, %d runs, %d threads%n",
                size.toUpperCase(), common.batch, runs.count(), Parallel.threads());
        out.printf(
                "seconds per image: %.2f (tokens %.2f, decode %.2f), %d forward passes%n",
                perImage, tokenSeconds(runs), decodeSeconds(runs), forwards(runs));
        out.printf("memory: peak RSS %.2f GB, weights %.2f GB%n", peakRss / 1e9, weightBytes / 1e9);
    }
}
