package dev.tessera.examples.cli;

import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.samplers.Generation;
import dev.tessera.samplers.var.VarDetails;
import dev.tessera.samplers.var.VarPipeline;
import dev.tessera.samplers.var.VarSettings;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code tessera generate var}: class-conditional images from VAR checkpoints, written as PNG files. */
@Command(
        name = "var",
        sortOptions = false,
        abbreviateSynopsis = true,
        header = "class-conditional images with VAR (next-scale prediction) -> PNG",
        description = {
            "Generates one image per --class with VAR (next-scale prediction) from the official checkpoints",
            "(var_d16.pth ... var_d30.pth with vae_ch160v4096z32.pth, or the same weights as .safetensors),",
            "exactly as the official autoregressive_infer_cfg samples them, with Tessera's seeded generator.",
            "Sampling defaults are the official FID recipe; scale k guides with (1+t)*cond - t*uncond, t = "
                    + "cfg*k/(scales-1).",
            "",
            "Without --model and --vae it uses the bundled Fashion-MNIST VAR (examples/models/fmnist, 32x32 px,",
            "classes t-shirt/top, trouser, pullover, dress, coat, sandal, shirt, sneaker, bag, ankle boot) with the",
            "sampling its model card recommends (--cfg 3, --top-k 0, --top-p 0), e.g.",
            "  tessera generate var --class sneaker --out sneaker.png",
            ""
        },
        footer = {
            "",
            "Examples:",
            "  tessera generate var --model var_d16.pth --vae vae_ch160v4096z32.pth --class 207 --seed 0 --out dog.png",
            "  tessera generate var --model var_d16.pth --drafter var_d30.pth --draft-scales 8 \\",
            "      --vae vae_ch160v4096z32.pth --class 207 --out dog.png      (CoDe: d30 drafts 8 scales, d16 refines)",
            "",
            "With --drafter one random stream runs through: the drafter draws for its scales, the refiner goes on",
            "from there (CoDe's reference reseeds and draws throwaway tokens; greedy results are the same)."
        })
public final class GenerateVarCommand extends GenerateBase<VarSettings, VarDetails, VarPipeline> {
    @Option(
            names = "--model",
            paramLabel = "FILE",
            description = "VAR transformer checkpoint (.pth or .safetensors); with --vae, or neither")
    Path model;

    @Option(names = "--vae", paramLabel = "FILE", description = "VAR multi-scale VQ-VAE checkpoint")
    Path vae;

    @Mixin
    SamplingOptions sampling = SamplingOptions.of(VarSettings.OFFICIAL);

    @Option(
            names = "--more-smooth",
            description = "Gumbel-softmax smoothing of token embeddings (the demo's look; not for FID)")
    boolean moreSmooth;

    @Option(
            names = "--patch-nums",
            paramLabel = "LIST",
            split = ",",
            description = "token-map sides per scale, e.g. 1,2,3,4,6,9,13,18,24,32 for 512 px (default: the schedule "
                    + "recorded in the checkpoint)")
    int[] patchNums;

    @Option(
            names = "--heads",
            paramLabel = "N",
            description = "attention heads, for checkpoints that do not record them (default: width/64)")
    int heads;

    @Option(
            names = "--quant-resi",
            paramLabel = "R",
            description = "the VQ-VAE's residual mix ratio phi (default ${DEFAULT-VALUE}, as released)")
    double quantResi = VarPipeline.QUANT_RESI;

    @Option(
            names = "--drafter",
            paramLabel = "FILE",
            description = "collaborative decoding (CoDe): a larger VAR checkpoint that drafts the first --draft-scales "
                    + "scales; --model (the refiner) finishes them, both on the one --vae")
    Path drafter;

    @Option(
            names = "--draft-scales",
            paramLabel = "N",
            description = "with --drafter: how many scales it drafts (1 to scales-1; CoDe's default for d30 -> d16 "
                    + "is 8)")
    Integer draftScales;

    @Option(
            names = "--drafter-heads",
            paramLabel = "N",
            description = "the drafter's attention heads, for checkpoints that do not record them (default: width/64)")
    int drafterHeads;

    @Option(
            names = "--tokens-out",
            paramLabel = "FILE",
            description = "also write the chosen tokens as JSON: "
                    + "{\"images\": [{\"class\": c, \"scales\": [[...], ...]}, ...]} (row-major maps)")
    Path tokensOut;

    public GenerateVarCommand(PrintStream out) {
        super(out);
    }

    /** The bundled Fashion-MNIST VAR when neither --model nor --vae is given. */
    private BundledVar bundled;

    private Path modelFile, vaeFile;

    @Override
    void check() {
        // without --model and --vae: the bundled Fashion-MNIST VAR with its recommended sampling
        bundled = model != null || vae != null ? null : BundledVar.locate();
        modelFile = bundled != null ? bundled.model() : require(model, "--model");
        vaeFile = bundled != null ? bundled.vae() : require(vae, "--vae");
        preset = sampling.var(bundled != null ? BundledVar.SAMPLING : VarSettings.OFFICIAL, moreSmooth);
        if (heads < 0) throw new UsageException("--heads must be positive, got " + heads);
        if ((drafter == null) != (draftScales == null)) {
            throw new UsageException("--drafter and --draft-scales go together (" + hint() + ")");
        }
        if (drafterHeads < 0) throw new UsageException("--drafter-heads must be positive, got " + drafterHeads);
        if (drafterHeads > 0 && drafter == null) throw new UsageException("--drafter-heads goes with --drafter");
        if (draftScales != null && draftScales < 1) {
            throw new UsageException("--draft-scales must be at least 1, got " + draftScales);
        }
        if (patchNums != null) {
            for (int p : patchNums) {
                if (p <= 0) throw new UsageException("--patch-nums values must be positive, got " + p);
            }
        }
    }

    @Override
    VarPipeline open(WeightPanels.Format format) {
        VarPipeline.Builder b = VarPipeline.builder();
        if (drafter != null) b.drafter(drafter, draftScales).drafterHeads(drafterHeads);
        return b.model(modelFile)
                .vae(vaeFile)
                .patchNums(patchNums)
                .heads(heads)
                .quantResi((float) quantResi)
                .weights(format)
                .packedWeights(load.packedWeights())
                .ops(load.ops())
                .load();
    }

    @Override
    boolean bundled() {
        return bundled != null;
    }

    @Override
    void report(VarPipeline pipe, Generation<VarDetails> r, int[] classes, VarSettings settings, double loadSeconds) {
        if (tokensOut != null) {
            writeTokens(tokensOut, r.details(), classes);
            out.println("wrote " + tokensOut);
        }
        VarDetails.Timings t = r.details().timings();
        out.printf(
                "%s | load %.2f s, transformer %.2f s, sampling %.2f s, VQ %.2f s, decode %.2f s%n",
                pipe.describe(),
                loadSeconds,
                t.transformerTotal(),
                t.samplingSeconds(),
                t.vqSeconds(),
                t.decodeSeconds());
    }

    static void writeTokens(Path file, VarDetails r, int[] classes) {
        List<Object> images = new ArrayList<>();
        for (int b = 0; b < classes.length; b++) {
            Map<String, Object> img = new LinkedHashMap<>();
            img.put("class", classes[b]);
            List<Object> scales = new ArrayList<>();
            for (int si = 0; si < r.patchNums().length; si++) scales.add(r.tokens(b, si));
            img.put("scales", scales);
            images.add(img);
        }
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("images", images);
        Outputs.writeJson(file, root);
    }
}
