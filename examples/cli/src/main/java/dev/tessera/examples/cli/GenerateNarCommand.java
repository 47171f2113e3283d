package dev.tessera.examples.cli;

import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.samplers.BundledModels;
import dev.tessera.samplers.Generation;
import dev.tessera.samplers.TokenDetails;
import dev.tessera.samplers.ar.SamplerStats;
import dev.tessera.samplers.ar.TokenSettings;
import dev.tessera.samplers.nar.NarPipeline;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code tessera generate nar}: next-neighbour decoding, the grid in 2n − 1 forward passes. */
@Command(
        name = "nar",
        sortOptions = false,
        abbreviateSynopsis = true,
        header = "class-conditional images with NAR (next-neighbour decoding)",
        description = {
            "Generates one image per --class with NAR (next-neighbour autoregressive modeling on the LlamaGen stack):",
            "every token of an anti-diagonal of the token grid in one forward pass, 31 passes for 16x16 tokens.",
            "The tokenizer is LlamaGen's VQ-16 (vq_ds16_c2i.pt), as in the official release. Guidance acts on the",
            "mixed logits (cfg <= 1: off); --cfg-interval I stops guiding once more than I tokens are generated.",
            "Without --model and --vq it uses the bundled Fashion-MNIST NAR (examples/models/fmnist: lg-nar on the",
            "lg-vq tokenizer, 32 px, 15 passes) at its card's cfg 3; --class then also takes the class names.",
            ""
        })
public final class GenerateNarCommand extends GenerateBase<TokenSettings, TokenDetails, NarPipeline> {
    @Option(
            names = "--model",
            paramLabel = "FILE",
            description = "NAR checkpoint (NAR-B/M/L/XL/XXL, e.g. last_version.pt); with --vq, or neither (the bundled "
                    + "model)")
    Path model;

    @Option(names = "--vq", paramLabel = "FILE", description = "LlamaGen VQ tokenizer checkpoint (with --model)")
    Path vq;

    @Option(
            names = "--heads",
            paramLabel = "N",
            description = "attention heads (default width/64, as every released size)")
    int heads;

    @Option(
            names = "--image-size",
            paramLabel = "PX",
            description = "256 (default; 16x16 tokens with VQ-16); 32 for the bundled model")
    int imageSize = 256;

    @Mixin
    TokenOptions sampling = new TokenOptions();

    @Option(
            names = "--tokens-out",
            paramLabel = "FILE",
            description = "{\"images\": [{\"class\": c, \"tokens\": [...]}, ...]} (row-major)")
    Path tokensOut;

    @Option(names = "--stats-out", paramLabel = "FILE", description = "forward passes and time")
    Path statsOut;

    public GenerateNarCommand(PrintStream out) {
        super(out);
    }

    /** The bundle's folder when neither --model nor --vq is given. */
    private Path bundle;

    @Override
    void check() {
        // without --model and --vq: the bundled Fashion-MNIST NAR and its card's cfg
        bundle = model != null || vq != null ? null : bundle(BundledModels::narDirectory, "--model/--vq");
        if (bundle != null) {
            model = bundle.resolve(BundledModels.NAR_MODEL);
            vq = bundle.resolve(BundledModels.LLAMAGEN_VQ);
            if (!given("--image-size")) imageSize = BundledModels.LLAMAGEN_IMAGE_SIZE;
            if (!given("--cfg")) sampling.filters.cfg = BundledModels.LLAMAGEN_CFG;
        }
        require(model, "--model");
        require(vq, "--vq");
        preset = sampling.applyTo(TokenSettings.builder()).build();
    }

    @Override
    boolean bundled() {
        return bundle != null;
    }

    @Override
    NarPipeline open(WeightPanels.Format format) {
        return NarPipeline.builder()
                .model(model)
                .vq(vq)
                .heads(heads)
                .imageSize(imageSize)
                .weights(format)
                .packedWeights(load.packedWeights())
                .ops(load.ops())
                .load();
    }

    @Override
    void report(NarPipeline pipe, Generation<TokenDetails> g, int[] classes, TokenSettings settings, double load) {
        TokenDetails r = g.details();
        SamplerStats st = r.stats().getFirst();
        Map<String, Object> stats = new LinkedHashMap<>(st.toMap());
        stats.put("forward_passes_per_image", st.targetForwards());
        stats.put("decode_seconds", r.decodeSeconds());
        stats.put("load_seconds", load);
        Outputs.writeTokenOutputs(tokensOut, statsOut, classes, r, stats, out);
        out.printf(
                "NAR %s | %d forward passes per image | load %.2f s, tokens %.2f s, decode %.2f s%n",
                pipe.config(), st.targetForwards(), load, st.seconds(), r.decodeSeconds());
    }
}
