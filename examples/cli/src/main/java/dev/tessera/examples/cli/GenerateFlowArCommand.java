package dev.tessera.examples.cli;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.samplers.BundledModels;
import dev.tessera.samplers.Generation;
import dev.tessera.samplers.flowar.FlowArDetails;
import dev.tessera.samplers.flowar.FlowArPipeline;
import dev.tessera.samplers.flowar.FlowArSettings;
import dev.tessera.samplers.flowar.FlowNoise;
import dev.tessera.samplers.flowar.FlowSampler;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code tessera generate flowar}: next-scale generation with a flow-matching head, decoded by MAR's KL-16 VAE. */
@Command(
        name = "flowar",
        sortOptions = false,
        abbreviateSynopsis = true,
        header = "class-conditional images with FlowAR (next-scale, flow-matching head)",
        description = {
            "Generates one image per --class with FlowAR: for each scale (1, 2, 4, 8, 16 latent tokens a side) the AR",
            "transformer conditions a flow-matching head that turns Gaussian noise into the scale's latents with an",
            "Euler ODE solver; MAR's KL-16 VAE decodes the last scale. Loads the released files as they are",
            "(FlowAR-S.pth, FlowAR-L.pth, FlowAR-H.pth with kl16.ckpt). The Java API also takes class 1000, the null",
            "class, for unconditional samples. Images are written as round(clip((x+1)/2*255)), as the official",
            "evaluation does.",
            "",
            "Sampling defaults are the official settings of the model size (S: 25 steps, cfg 4.3, guidance 0.9;",
            "L: 25, 2.4, 0.9; H: 50, 2.4, 0.7), read from FlowArSettings.",
            "Without --model and --vae it uses the bundled Fashion-MNIST FlowAR (examples/models/fmnist:",
            "flowar-target on kl-vae, 32 px, scales 1, 2, 4, 8) at its card's settings (cfg 4, guidance 0.9, 25",
            "steps); --class then also takes the class names.",
            ""
        },
        footer = {
            "",
            "Example:",
            "  tessera generate flowar --model FlowAR-S.pth --vae kl16.ckpt --class 207 --seed 1 --out dog.png"
        })
public final class GenerateFlowArCommand extends GenerateBase<FlowArSettings, FlowArDetails, FlowArPipeline> {
    @Option(
            names = "--model",
            paramLabel = "FILE",
            description = "FlowAR checkpoint (.pth or .safetensors); with --vae, or neither (the bundled model)")
    Path model;

    @Option(names = "--vae", paramLabel = "FILE", description = "MAR KL VAE (kl16.ckpt; with --model)")
    Path vae;

    @Option(
            names = "--cfg",
            paramLabel = "F",
            description = "classifier-free guidance on the velocities, ramping from 1 at the first scale to F at the "
                    + "last (1 = off)")
    Double cfg;

    @Option(names = "--guidance", paramLabel = "G", description = "guide only while t <= G")
    Double guidance;

    @Option(
            names = "--steps",
            paramLabel = "N",
            description = "solver steps (25: 24 Euler evaluations per scale; 50: 50)")
    Integer steps;

    @Option(
            names = "--sampler",
            paramLabel = "NAME",
            description = "euler (default, as the official evaluation) or euler-maruyama")
    String sampler = "euler";

    @Option(
            names = "--noise-from",
            paramLabel = "FILE",
            description = "take the noise from a safetensors file: noise.0, noise.1, ... of shape (2B, n_k, 16) with "
                    + "CFG, (B, n_k, 16) without (and noise.<k>.<step> for euler-maruyama's steps, else those "
                    + "come from --seed)")
    Path noiseFrom;

    @Option(
            names = "--heads",
            paramLabel = "N",
            description = "AR attention heads (default: from the checkpoint's rotary table)")
    Integer heads;

    @Option(
            names = "--latents-out",
            paramLabel = "FILE",
            description = "also write the (B, 16, side, side) latents as float32 .npy")
    Path latentsOut;

    public GenerateFlowArCommand(PrintStream out) {
        super(out);
    }

    private FlowSampler solver;
    private Checkpoint noiseFile;
    /** The bundle's folder when neither --model nor --vae is given. */
    private Path bundle;

    @Override
    void check() {
        // without --model and --vae: the bundled Fashion-MNIST FlowAR target and its card's settings
        bundle = model != null || vae != null ? null : bundledFlowAr();
        if (bundle != null) {
            model = bundle.resolve(BundledModels.FLOWAR_MODEL);
            vae = bundle.resolve(BundledModels.FLOWAR_VAE);
        }
        require(model, "--model");
        require(vae, "--vae");
        try {
            solver = FlowSampler.parse(sampler);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        if (noiseFrom != null && !Files.isRegularFile(noiseFrom))
            throw new UsageException(noiseFrom + ": no such file (--noise-from)");
        if (heads != null && heads < 1) throw new UsageException("--heads must be at least 1, got " + heads);
        if (steps != null && steps < 2) throw new UsageException("--steps must be at least 2");
        if (cfg != null && !(cfg >= 1)) throw new UsageException("--cfg must be at least 1 (1 = no guidance)");
    }

    @Override
    boolean bundled() {
        return bundle != null;
    }

    private static Path bundledFlowAr() {
        try {
            return BundledModels.flowArDirectory();
        } catch (TesseraException e) {
            throw new UsageException("no --model/--vae given and " + e.getMessage());
        }
    }

    @Override
    FlowArPipeline open(WeightPanels.Format format) {
        return FlowArPipeline.builder()
                .model(model)
                .vae(vae)
                .defaults(bundle != null ? BundledModels.FLOWAR_SAMPLING : null)
                .heads(heads == null ? 0 : heads)
                .weights(format)
                .packedWeights(load.packedWeights())
                .ops(load.ops())
                .load();
    }

    /** The size's official settings with the options over them (and the noise file opened, if any). */
    @Override
    FlowArSettings settings(FlowArPipeline pipe) {
        try {
            FlowArSettings req = pipe.defaults().withSolver(solver);
            if (cfg != null) req = req.withCfg(cfg);
            if (guidance != null) req = req.withGuidance(guidance);
            if (steps != null) req = req.withSteps(steps);
            if (noiseFrom != null) {
                Checkpoint noise = noiseFile = Checkpoints.open(noiseFrom);
                req = req.withNoise(s -> FlowNoise.injected(noise, FlowNoise.seeded(s)));
            }
            return req;
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    @Override
    void release() {
        if (noiseFile != null) noiseFile.close();
    }

    @Override
    void report(FlowArPipeline pipe, Generation<FlowArDetails> g, int[] classes, FlowArSettings req, double load) {
        FlowArDetails r = g.details();
        if (latentsOut != null) {
            int side = r.side(), D = pipe.config().tokenDim();
            Outputs.writeNpy(latentsOut, r.latents(), classes.length, D, side, side);
            out.println("wrote " + latentsOut);
        }
        out.printf(
                "FlowAR %s | %d steps x %d scales, cfg %.2f, guidance %.2f, %s | load %.2f s, AR %.2f s, flow %.2f "
                        + "s, decode %.2f s%n",
                pipe.config(),
                r.evaluations(),
                pipe.config().scaleCount(),
                req.cfg(),
                req.guidance(),
                solver.name().toLowerCase().replace('_', '-'),
                load,
                r.arSeconds(),
                r.flowSeconds(),
                r.decodeSeconds());
    }
}
