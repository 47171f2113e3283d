package dev.tessera.examples.cli;

import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.samplers.GeneratedImage;
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
import java.util.Set;

/** {@code tessera generate var}: class-conditional images from VAR checkpoints, written as PNG files. */
public final class GenerateVarCommand {
    static final String NAME = "tessera generate var";
    static final String HELP = """
            Usage: tessera generate var [--model FILE --vae FILE] --class N [--class N ...] --out PATH [options]

            Generates one image per --class with VAR (next-scale prediction) from the official checkpoints
            (var_d16.pth ... var_d30.pth with vae_ch160v4096z32.pth, or the same weights as .safetensors),
            exactly as the official autoregressive_infer_cfg samples them, with Tessera's seeded generator.

            Without --model and --vae it uses the bundled Fashion-MNIST VAR (examples/models/fmnist, 32x32 px,
            classes t-shirt/top, trouser, pullover, dress, coat, sandal, shirt, sneaker, bag, ankle boot) with the
            sampling its model card recommends (--cfg 3, --top-k 0, --top-p 0), e.g.
              tessera generate var --class sneaker --out sneaker.png

            Required:
              --model FILE        VAR transformer checkpoint (.pth or .safetensors); with --vae, or neither
              --vae FILE          VAR multi-scale VQ-VAE checkpoint
              --class N|NAME      class by index (207) or name: ImageNet ("golden retriever") for official
                                  checkpoints, Fashion-MNIST ("sneaker") for the bundled model; repeat for more images
              --out PATH          a .png file for a single image, otherwise a directory that receives
                                  000.png, 001.png, ... in the order of the --class options

            Sampling (defaults: the official FID recipe):
              --seed S            random seed (default 0); same seed, same images, on any number of threads
              --cfg F             classifier-free guidance (default 1.5); scale k uses (1+t)*cond - t*uncond,
                                  t = F*k/(scales-1)
              --top-k K           keep the K largest logits (default 900; 0 = off; 1 = greedy argmax)
              --top-p P           nucleus sampling threshold (default 0.96; 0 = off)
              --more-smooth       Gumbel-softmax smoothing of token embeddings (the demo's look; not for FID)

            Model:
              --patch-nums LIST   token-map sides per scale, e.g. 1,2,3,4,6,9,13,18,24,32 for 512 px
                                  (default: the schedule recorded in the checkpoint)
              --heads N           attention heads, for checkpoints that do not record them (default: width/64)
              --weights F         f32 (default) or bf16: linear weights stored as bfloat16: half their memory,
                                  faster when streaming them dominates (LlamaGen); results differ slightly
              --device D          cpu (default) or opencl[:PLATFORM:DEVICE] (see tessera devices)

            Output:
              --tokens-out FILE   also write the chosen tokens as JSON:
                                  {"images": [{"class": c, "scales": [[...], ...]}, ...]} (row-major maps)

            Example:
              tessera generate var --model var_d16.pth --vae vae_ch160v4096z32.pth --class 207 --seed 0 --out dog.png
            """;

    private GenerateVarCommand() {
    }

    public static int run(List<String> argv, PrintStream out) {
        Args a = Args.parse(NAME, argv,
                Set.of("weights", "model", "vae", "class", "seed", "cfg", "top-k", "top-p", "patch-nums", "heads", "out",
                        "tokens-out", "quant-resi", "device"),
                Set.of("more-smooth", "help"));
        if (a.has("help")) {
            out.print(HELP);
            return 0;
        }
        a.rejectPositional();
        WeightPanels.Format weights = a.weights(out);
        // without --model and --vae: the bundled Fashion-MNIST VAR with its recommended sampling
        BundledVar bundled = a.has("model") || a.has("vae") ? null : BundledVar.locate();
        Path model = bundled != null ? bundled.model() : Path.of(a.require("model"));
        Path vae = bundled != null ? bundled.vae() : Path.of(a.require("vae"));
        List<String> labels = a.requireAll("class");
        List<Path> files = Outputs.plan(Path.of(a.require("out")), labels.size(), NAME);
        Path tokensOut = a.get("tokens-out") == null ? null : Path.of(a.get("tokens-out"));
        long seed = a.getLong("seed", 0);
        VarSettings defaults = bundled != null ? BundledVar.SAMPLING : VarSettings.OFFICIAL;
        double cfg = a.getDouble("cfg", defaults.cfg());
        double topP = a.getDouble("top-p", defaults.topP());
        int topK = a.getInt("top-k", defaults.topK());
        if (topK < 0) throw new UsageException("--top-k must be >= 0, got " + topK);
        if (topP < 0 || topP > 1) throw new UsageException("--top-p must be in [0, 1], got " + topP);
        int heads = a.getInt("heads", 0);
        if (heads < 0) throw new UsageException("--heads must be positive, got " + heads);

        long t0 = System.nanoTime();
        try (Devices.Opened device = Devices.open(a);
             VarPipeline pipe = VarPipeline.builder().model(model).vae(vae).patchNums(a.getIntList("patch-nums"))
                .heads(heads).quantResi((float) a.getDouble("quant-resi", 0.5)).weights(weights).ops(device.ops()).load()) {
            int numClasses = pipe.config().numClasses();
            int[] classes = bundled != null ? labels.stream().mapToInt(BundledVar::resolve).toArray()
                    : Outputs.classes(labels, numClasses, NAME);
            VarSettings settings = new VarSettings(cfg, topK, topP, a.has("more-smooth"));
            double loadSeconds = (System.nanoTime() - t0) * 1e-9;

            ProgressBar bar = new ProgressBar("generating " + classes.length + " image" + (classes.length > 1 ? "s" : ""));
            Generation<VarDetails> r = pipe.generate(classes, seed, settings, bar);
            bar.finish();

            Outputs.writeImages(r.images(), files);
            if (tokensOut != null) writeTokens(tokensOut, r.details(), classes);

            for (int i = 0; i < classes.length; i++) {
                GeneratedImage img = r.images().get(i);
                out.printf("wrote %s (%dx%d, class %d%s)%n", files.get(i), img.width(), img.height(), classes[i],
                        bundled != null ? " " + BundledVar.CLASSES.get(classes[i]) : Outputs.describe(classes[i], numClasses));
            }
            if (tokensOut != null) out.println("wrote " + tokensOut);
            VarDetails.Timings t = r.details().timings();
            if (a.has("device")) out.println("device " + device.ops().name());
            out.printf("%s | load %.2f s, transformer %.2f s, sampling %.2f s, VQ %.2f s, decode %.2f s%n",
                    pipe.config(), loadSeconds, t.transformerTotal(), t.samplingSeconds(), t.vqSeconds(), t.decodeSeconds());
            return 0;
        }
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
