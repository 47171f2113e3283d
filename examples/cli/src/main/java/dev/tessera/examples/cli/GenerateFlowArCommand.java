package dev.tessera.examples.cli;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.samplers.BundledModels;
import dev.tessera.samplers.Generation;
import dev.tessera.samplers.flowar.FlowArDetails;
import dev.tessera.samplers.flowar.FlowArPipeline;
import dev.tessera.samplers.flowar.FlowArSettings;
import dev.tessera.samplers.flowar.FlowCspdSettings;
import dev.tessera.samplers.flowar.FlowNoise;
import dev.tessera.samplers.flowar.FlowSampler;
import dev.tessera.samplers.mar.CspdSettings;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code tessera generate flowar}: next-scale generation with a flow-matching head, decoded by MAR's KL-16 VAE. */
@Command(
        name = "flowar",
        sortOptions = false,
        abbreviateSynopsis = true,
        header = "class-conditional images with FlowAR (next-scale, flow-matching head), optionally CSpD-style",
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
            "",
            "--sampler cspd: a CSpD-style verifier with a --draft FlowAR (e.g. FlowAR-S for a FlowAR-L target; same",
            "scales, latent channels and classes, any width and depth) on the Euler-Maruyama solver. It is an",
            "APPROXIMATION of the target, not the target's distribution: on each scale after the pre-filled ones the",
            "draft makes the whole trajectory along the noise it shares with the target, and the target evaluates only",
            "the last step from the draft's state; each token's draft value is accepted or resampled against the",
            "target's last-step Gaussian as in CSpD (MAR's rules: --cspd-rule exact, the default here, is min(1, p/q);",
            "released adds the inner temperature, which at 42 accepts nearly every draft). It saves the target's",
            "flow-head evaluations but not its transformer passes. With the draft equal to the target it gives the",
            "target's euler-maruyama image.",
            "",
            "Without --model and --vae it uses the bundled Fashion-MNIST FlowAR (examples/models/fmnist:",
            "flowar-target on kl-vae, 32 px, scales 1, 2, 4, 8) at its card's settings (cfg 4, guidance 0.9, 25",
            "steps); --class then also takes the class names, and --sampler cspd defaults --draft to the bundled",
            "flowar-draft.",
            ""
        },
        footer = {
            "",
            "Examples:",
            "  tessera generate flowar --model FlowAR-S.pth --vae kl16.ckpt --class 207 --seed 1 --out dog.png",
            "  tessera generate flowar --model FlowAR-L.pth --draft FlowAR-S.pth --vae kl16.ckpt --sampler cspd \\",
            "      --class 207 --out dog.png --stats-out stats.json"
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
            description = "euler (default, as the official evaluation), euler-maruyama, or cspd (euler-maruyama "
                    + "with a --draft, see above)")
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

    @Option(names = "--draft", paramLabel = "FILE", description = "the draft FlowAR checkpoint of --sampler cspd")
    Path draft;

    @Option(names = "--draft-heads", paramLabel = "N", description = "the draft's AR heads (default: inferred)")
    Integer draftHeads;

    @Option(
            names = "--cspd-rule",
            paramLabel = "NAME",
            description = "exact (default: min(1, p/q) on the last step's Gaussians) or released (with the inner "
                    + "temperature)")
    String cspdRule;

    @Option(
            names = "--prefill",
            paramLabel = "R",
            description = "CSpD: the target itself makes the scales s <= R·S (scale 0 always; default 0.15)")
    Double prefill;

    @Option(
            names = "--inner-temperature",
            paramLabel = "T",
            description = "CSpD released rule: inner temperature of the acceptance test (default 42)")
    Double innerTemperature;

    @Option(
            names = "--stats-out",
            paramLabel = "FILE",
            description = "write the run's statistics as JSON (passes, head evaluations, acceptance, rejection "
                    + "proposals, seconds)")
    Path statsOut;

    public GenerateFlowArCommand(PrintStream out) {
        super(out);
    }

    private FlowSampler solver;
    private FlowCspdSettings cspd;
    private Checkpoint noiseFile;
    /** The bundle's folder when neither --model nor --vae is given. */
    private Path bundle;

    @Override
    void check() {
        // without --model and --vae: the bundled Fashion-MNIST FlowAR target and its card's settings
        bundle = model != null || vae != null ? null : bundle(BundledModels::flowArDirectory, "--model/--vae");
        if (bundle != null) {
            model = bundle.resolve(BundledModels.FLOWAR_MODEL);
            vae = bundle.resolve(BundledModels.FLOWAR_VAE);
        }
        require(model, "--model");
        require(vae, "--vae");
        boolean speculative = sampler.toLowerCase(Locale.ROOT).equals("cspd");
        try {
            solver = speculative ? FlowSampler.EULER_MARUYAMA : FlowSampler.parse(sampler);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage().replace(")", ", or cspd)"));
        }
        CspdSettings.Rule rule = switch (cspdRule == null ? "exact" : cspdRule.toLowerCase(Locale.ROOT)) {
            case "released" -> CspdSettings.Rule.RELEASED;
            case "exact" -> CspdSettings.Rule.EXACT;
            default -> throw new UsageException("--cspd-rule must be exact or released, got '" + cspdRule + "'");
        };
        if (speculative && draft == null && bundle != null) draft = bundle.resolve(BundledModels.FLOWAR_DRAFT);
        if (speculative && draft == null) throw new UsageException("--sampler cspd needs a --draft model");
        if (!speculative
                && (draft != null
                        || draftHeads != null
                        || prefill != null
                        || innerTemperature != null
                        || cspdRule != null))
            throw new UsageException(
                    "--draft, --draft-heads, --cspd-rule, --prefill and --inner-temperature need --sampler cspd");
        if (draft != null && !Files.isRegularFile(draft)) throw new UsageException(draft + ": no such file (--draft)");
        if (draftHeads != null && draftHeads < 1)
            throw new UsageException("--draft-heads must be at least 1, got " + draftHeads);
        if (speculative) {
            FlowCspdSettings d = FlowCspdSettings.DEFAULTS;
            try {
                cspd = new FlowCspdSettings(
                        prefill != null ? prefill : d.prefill(),
                        innerTemperature != null ? innerTemperature : d.innerTemperature(),
                        rule);
            } catch (IllegalArgumentException e) {
                throw new UsageException(e.getMessage());
            }
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

    @Override
    FlowArPipeline open(WeightPanels.Format format) {
        FlowArPipeline.Builder b = FlowArPipeline.builder()
                .model(model)
                .vae(vae)
                .defaults(bundle != null ? BundledModels.FLOWAR_SAMPLING : null)
                .heads(heads == null ? 0 : heads)
                .weights(format)
                .packedWeights(load.packedWeights())
                .ops(load.ops());
        if (cspd != null) b.draft(draft, draftHeads == null ? 0 : draftHeads);
        return b.load();
    }

    /** The size's official settings with the options over them (and the noise file opened, if any). */
    @Override
    FlowArSettings settings(FlowArPipeline pipe) {
        try {
            FlowArSettings req = pipe.defaults().withSolver(solver).withCspd(cspd);
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
        FlowArDetails.Speculation c = r.cspd();
        if (statsOut != null) {
            Map<String, Object> s = new LinkedHashMap<>();
            s.put(
                    "sampler",
                    c != null ? "cspd" : solver.name().toLowerCase(Locale.ROOT).replace('_', '-'));
            s.put("images", classes.length);
            s.put("steps", req.steps());
            s.put("evaluations_per_scale", r.evaluations());
            if (c != null) {
                s.put("rule", cspd.rule().name().toLowerCase(Locale.ROOT));
                s.put("prefill", cspd.prefill());
                s.put("inner_temperature", cspd.innerTemperature());
                s.put("target_forwards", c.targetForwards());
                s.put("draft_forwards", c.draftForwards());
                s.put("target_head_evaluations", c.targetEvaluations());
                s.put("draft_head_evaluations", c.draftEvaluations());
                s.put("drafted", c.drafted());
                s.put("accepted", c.accepted());
                s.put("acceptance_rate", c.drafted() == 0 ? null : c.acceptanceRate());
                s.put("rejection_proposals", c.rejectionProposals());
                s.put("fallbacks", c.fallbacks());
            } else {
                s.put("target_forwards", pipe.config().scaleCount());
                s.put("target_head_evaluations", pipe.config().scaleCount() * r.evaluations());
            }
            s.put("seconds", r.totalSeconds());
            s.put("seconds_per_image", r.totalSeconds() / classes.length);
            s.put("ar_seconds", r.arSeconds());
            s.put("flow_seconds", r.flowSeconds());
            s.put("decode_seconds", r.decodeSeconds());
            Outputs.writeJson(statsOut, s);
            out.println("wrote " + statsOut);
        }
        String spec = c == null
                ? ""
                : String.format(
                        Locale.ROOT,
                        " | CSpD-style %s: %d target + %d draft head evaluations, accepted %d of %d drafted, %d "
                                + "rejection proposals",
                        cspd.rule().name().toLowerCase(Locale.ROOT),
                        c.targetEvaluations(),
                        c.draftEvaluations(),
                        c.accepted(),
                        c.drafted(),
                        c.rejectionProposals());
        out.printf(
                Locale.ROOT,
                "FlowAR %s | %d steps x %d scales, cfg %.2f, guidance %.2f, %s%s | load %.2f s, AR %.2f s, flow "
                        + "%.2f s, decode %.2f s%n",
                pipe.config(),
                r.evaluations(),
                pipe.config().scaleCount(),
                req.cfg(),
                req.guidance(),
                solver.name().toLowerCase(Locale.ROOT).replace('_', '-'),
                spec,
                load,
                r.arSeconds(),
                r.flowSeconds(),
                r.decodeSeconds());
    }
}
