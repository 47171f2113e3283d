package dev.tessera.examples.cli;

import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.samplers.Generation;
import dev.tessera.samplers.TokenDetails;
import dev.tessera.samplers.ar.SamplerStats;
import dev.tessera.samplers.ar.TokenSettings;
import dev.tessera.samplers.nar.NarPipeline;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code tessera generate nar}: next-neighbour decoding, the grid in 2n − 1 forward passes. */
@Command(name = "nar", sortOptions = false, abbreviateSynopsis = true,
        header = "class-conditional images with NAR (next-neighbour decoding)",
        description = {
                "Generates one image per --class with NAR (next-neighbour autoregressive modeling on the LlamaGen stack):",
                "every token of an anti-diagonal of the token grid in one forward pass, 31 passes for 16x16 tokens.",
                "The tokenizer is LlamaGen's VQ-16 (vq_ds16_c2i.pt), as in the official release. Guidance acts on the",
                "mixed logits (cfg <= 1: off); --cfg-interval I stops guiding once more than I tokens are generated.",
                ""})
public final class GenerateNarCommand extends CommandBase {
    @Option(names = "--model", paramLabel = "FILE", description = "(required) NAR checkpoint (NAR-B/M/L/XL/XXL, e.g. last_version.pt)")
    Path model;

    @Option(names = "--vq", paramLabel = "FILE", description = "(required) LlamaGen VQ tokenizer checkpoint")
    Path vq;

    @Mixin
    TargetOptions target = new TargetOptions();

    @Option(names = "--heads", paramLabel = "N", description = "attention heads (default width/64, as every released size)")
    int heads;

    @Option(names = "--image-size", paramLabel = "PX", description = "256 (default; 16x16 tokens)")
    int imageSize = 256;

    @Mixin
    TokenOptions sampling = new TokenOptions();

    @Mixin
    WeightsOption weights = new WeightsOption();

    @Mixin
    ThreadsOption threads = new ThreadsOption();

    @Option(names = "--tokens-out", paramLabel = "FILE", description = "{\"images\": [{\"class\": c, \"tokens\": [...]}, ...]} (row-major)")
    Path tokensOut;

    @Option(names = "--stats-out", paramLabel = "FILE", description = "forward passes and time")
    Path statsOut;

    public GenerateNarCommand(PrintStream out) {
        super(out);
    }

    @Override
    public Integer call() {
        threads.check();
        WeightPanels.Format format = weights.format(out);
        Path modelFile = require(model, "--model"), vqFile = require(vq, "--vq");
        List<String> labels = target.labels(this);
        List<Path> files = target.files(this, labels.size());
        TokenSettings.Builder settings = sampling.applyTo(TokenSettings.builder());
        long t0 = System.nanoTime();
        try (NarPipeline pipe = NarPipeline.builder().model(modelFile).vq(vqFile).heads(heads).imageSize(imageSize)
                .weights(format).load()) {
            int numClasses = pipe.config().numClasses();
            int[] classes = Outputs.classes(labels, numClasses);
            double load = (System.nanoTime() - t0) * 1e-9;
            Generation<TokenDetails> g = Outputs.generate(pipe, classes, sampling.seed(), settings.build(), files, out,
                    Outputs.describer(numClasses));
            TokenDetails r = g.details();
            SamplerStats st = r.stats().getFirst();
            Map<String, Object> stats = new LinkedHashMap<>(st.toMap());
            stats.put("forward_passes_per_image", st.targetForwards());
            stats.put("decode_seconds", r.decodeSeconds());
            stats.put("load_seconds", load);
            Outputs.writeTokenOutputs(tokensOut, statsOut, classes, r, stats, out);
            out.printf("NAR %s | %d forward passes per image | load %.2f s, tokens %.2f s, decode %.2f s%n", pipe.config(),
                    st.targetForwards(), load, st.seconds(), r.decodeSeconds());
            return 0;
        }
    }
}
