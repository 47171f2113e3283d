package dev.tessera.examples.cli;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.samplers.GeneratedImage;
import dev.tessera.samplers.Generation;
import dev.tessera.samplers.flowar.FlowArPipeline;
import dev.tessera.samplers.flowar.FlowArDetails;
import dev.tessera.samplers.flowar.FlowArSettings;
import dev.tessera.samplers.flowar.FlowNoise;
import dev.tessera.samplers.flowar.FlowSampler;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/** {@code tessera generate flowar}: next-scale generation with a flow-matching head, decoded by MAR's KL-16 VAE. */
public final class GenerateFlowArCommand {
    static final String NAME = "tessera generate flowar";
    static final String HELP = """
            Usage: tessera generate flowar --model FILE --vae FILE --class N [--class N ...] --out PATH [options]

            Generates one image per --class with FlowAR: for each scale (1, 2, 4, 8, 16 latent tokens a side) the AR
            transformer conditions a flow-matching head that turns Gaussian noise into the scale's latents with an
            Euler ODE solver; MAR's KL-16 VAE decodes the last scale. Loads the released files as they are
            (FlowAR-S.pth, FlowAR-L.pth, FlowAR-H.pth with kl16.ckpt).

            Required:
              --model FILE        FlowAR checkpoint (.pth or .safetensors)
              --vae FILE          MAR KL-16 VAE (kl16.ckpt)
              --class N|NAME      ImageNet class by index or name; repeat for more images
                                  (the Java API also takes 1000, the null class, for unconditional samples)
              --out PATH          a .png file for one image, otherwise a directory (000.png, 001.png, ...)

            Sampling (defaults: the official settings of the model size; S: 25 steps, cfg 4.3, guidance 0.9;
            L: 25, 2.4, 0.9; H: 50, 2.4, 0.7):
              --seed S            seeds the noise stream, PyTorch's CPU generator after torch.manual_seed(S)
                                  (default 0)
              --cfg F             classifier-free guidance on the velocities, ramping from 1 at the first scale
                                  to F at the last (1 = off)
              --guidance G        guide only while t <= G
              --steps N           solver steps (25: 24 Euler evaluations per scale; 50: 50)
              --sampler NAME      euler (default, as the official evaluation) or euler-maruyama
              --noise-from FILE   take the noise from a safetensors file: noise.0, noise.1, ... of shape
                                  (2B, n_k, 16) with CFG, (B, n_k, 16) without (and noise.<k>.<step> for
                                  euler-maruyama's steps, else those come from --seed)

            Model:
              --heads N           AR attention heads (default: from the checkpoint's rotary table)
              --weights F         f32 (default) or bf16: linear weights stored as bfloat16: half their memory,
                                  faster when streaming them dominates (LlamaGen); results differ slightly

            Output:
              --latents-out FILE  also write the (B, 16, 16, 16) latents as float32 .npy
            Images are written as round(clip((x+1)/2*255)), as the official evaluation does.

            Example:
              tessera generate flowar --model FlowAR-S.pth --vae kl16.ckpt --class 207 --seed 1 --out dog.png
            """;

    private GenerateFlowArCommand() {
    }

    public static int run(List<String> argv, PrintStream out) {
        Args a = Args.parse(NAME, argv, Set.of("weights", "model", "vae", "class", "seed", "cfg", "guidance", "steps", "sampler",
                "noise-from", "heads", "out", "latents-out"), Set.of("help"));
        if (a.has("help")) {
            out.print(HELP);
            return 0;
        }
        a.rejectPositional();
        WeightPanels.Format weights = a.weights(out);
        Path model = Path.of(a.require("model")), vae = Path.of(a.require("vae"));
        List<String> labels = a.requireAll("class");
        List<Path> files = Outputs.plan(Path.of(a.require("out")), labels.size(), NAME);
        FlowSampler sampler;
        try {
            sampler = FlowSampler.parse(a.get("sampler") == null ? "euler" : a.get("sampler"));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        Path latentsOut = a.get("latents-out") == null ? null : Path.of(a.get("latents-out"));
        Path noiseFrom = a.get("noise-from") == null ? null : Path.of(a.get("noise-from"));
        if (noiseFrom != null && !java.nio.file.Files.isRegularFile(noiseFrom)) throw new UsageException(noiseFrom + ": no such file (--noise-from)");
        int heads = a.getInt("heads", 0);
        if (a.get("heads") != null && heads < 1) throw new UsageException("--heads must be at least 1, got " + heads);
        if (a.get("steps") != null && a.getInt("steps", 25) < 2) throw new UsageException("--steps must be at least 2");
        if (a.get("cfg") != null && !(a.getDouble("cfg", 1) >= 1)) throw new UsageException("--cfg must be at least 1 (1 = no guidance)");
        long t0 = System.nanoTime();
        try (FlowArPipeline pipe = FlowArPipeline.builder().model(model).vae(vae).heads(heads).weights(weights).load();
             Checkpoint noiseFile = noiseFrom == null ? null : Checkpoints.open(noiseFrom)) {
            int numClasses = pipe.config().numClasses();
            int[] classes = Outputs.classes(labels, numClasses, NAME);
            long seed = a.getLong("seed", 0);
            FlowArSettings req;
            try {
                req = pipe.defaults().withSolver(sampler);
                if (a.get("cfg") != null) req = req.withCfg(a.getDouble("cfg", 1));
                if (a.get("guidance") != null) req = req.withGuidance(a.getDouble("guidance", 1));
                if (a.get("steps") != null) req = req.withSteps(a.getInt("steps", 25));
                if (noiseFile != null) req = req.withNoise(s -> FlowNoise.injected(noiseFile, FlowNoise.seeded(s)));
            } catch (IllegalArgumentException e) {
                throw new UsageException(e.getMessage());
            }
            double load = (System.nanoTime() - t0) * 1e-9;
            ProgressBar bar = new ProgressBar("generating " + classes.length + " image" + (classes.length > 1 ? "s" : ""));
            Generation<FlowArDetails> g = pipe.generate(classes, seed, req, bar);
            bar.finish();
            Outputs.writeImages(g.images(), files);
            FlowArDetails r = g.details();
            if (latentsOut != null) {
                int side = r.side(), D = pipe.config().tokenDim();
                Outputs.writeNpy(latentsOut, r.latents(), classes.length, D, side, side);
            }
            for (int i = 0; i < classes.length; i++) {
                GeneratedImage img = g.images().get(i);
                out.printf("wrote %s (%dx%d, class %d%s)%n", files.get(i), img.width(), img.height(), classes[i],
                        Outputs.describe(classes[i], numClasses));
            }
            if (latentsOut != null) out.println("wrote " + latentsOut);
            out.printf("FlowAR %s | %d steps x %d scales, cfg %.2f, guidance %.2f, %s | load %.2f s, AR %.2f s, flow %.2f s, decode %.2f s%n",
                    pipe.config(), r.evaluations(), pipe.config().scaleCount(), req.cfg(), req.guidance(),
                    sampler.name().toLowerCase().replace('_', '-'), load, r.arSeconds(), r.flowSeconds(), r.decodeSeconds());
            return 0;
        }
    }
}
