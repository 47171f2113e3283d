package dev.tessera.examples.cli;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.samplers.BundledModels;
import dev.tessera.samplers.Generation;
import dev.tessera.samplers.mar.CspdSettings;
import dev.tessera.samplers.mar.MarDetails;
import dev.tessera.samplers.mar.MarPipeline;
import dev.tessera.samplers.mar.MarRandom;
import dev.tessera.samplers.mar.MarSettings;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code tessera generate mar}: masked autoregression over continuous tokens, each sampled by a diffusion MLP. */
@Command(
        name = "mar",
        sortOptions = false,
        abbreviateSynopsis = true,
        header = "class-conditional images with MAR (continuous tokens, diffusion head), optionally with CSpD",
        description = {
            "Generates one image per --class with MAR: in --num-iter steps along a random order per image, a",
            "bidirectional encoder/decoder conditions a small diffusion MLP that samples each due token's 16 latent",
            "values by DDPM; MAR's KL-16 VAE decodes them. Loads the released files as they are (their EMA weights):",
            "mar-base, mar-large, mar-huge checkpoint-last.pth with kl16.ckpt. Heads are not stored in a checkpoint:",
            "widths 768, 1024, 1280 get the official 12, 16, 16; other widths need --heads. Images are written as",
            "round(clip((x+1)/2*255)), as the official evaluation does.",
            "",
            "Defaults are the official evaluation settings of the size (256 steps, 100 diffusion steps, linear",
            "guidance 2.9 / 3.0 / 3.2 for B / L / H, temperature 1.0), read from MarSettings; --num-iter 64 is much",
            "faster. --seed S reproduces np.random.seed(S); torch.manual_seed(S) of the official code (orders and",
            "Gaussian draws on the CPU).",
            "",
            "--sampler cspd: continuous speculative decoding (CSpD) with a --draft MAR (e.g. MAR-B for a MAR-L",
            "target): the draft proposes tokens along noises it shares with the target, the target verifies every",
            "--gamma steps and replaces rejected tokens. --cspd-rule released (default) is the released runner's test",
            "(inner temperature, product of step-deviation ratios); --cspd-rule exact is the textbook min(1, p/q) on",
            "the last step's Gaussians.",
            "",
            "Without --model and --vae it uses the bundled Fashion-MNIST MAR (examples/models/fmnist: mar-target on",
            "kl-vae, 32 px, 64 tokens, 2 heads) at its card's settings (16 steps, cfg 3 linear, 500 diffusion steps);",
            "--class then also takes the class names, and --sampler cspd defaults --draft to the bundled mar-draft.",
            ""
        },
        footer = {
            "",
            "Examples:",
            "  tessera generate mar --class sneaker --out sneaker.png",
            "  tessera generate mar --model mar-large.pth --vae kl16.ckpt --class 207 --num-iter 64 --out dog.png",
            "  tessera generate mar --model mar-large.pth --draft mar-base.pth --vae kl16.ckpt --sampler cspd \\",
            "      --gamma 8 --class 207 --num-iter 64 --out dog.png --stats-out stats.json"
        })
public final class GenerateMarCommand extends GenerateBase<MarSettings, MarDetails, MarPipeline> {
    @Option(
            names = "--model",
            paramLabel = "FILE",
            description = "MAR checkpoint (.pth or .safetensors); with --vae, or neither (the bundled model)")
    Path model;

    @Option(names = "--vae", paramLabel = "FILE", description = "MAR KL-16 VAE (kl16.ckpt; with --model)")
    Path vae;

    @Option(
            names = "--heads",
            paramLabel = "E[,D]",
            description = "encoder and decoder attention heads (default: 12 for width 768, 16 for 1024 and 1280)")
    String heads;

    @Option(names = "--num-iter", paramLabel = "N", description = "MAR steps (default 256)")
    Integer numIter;

    @Option(names = "--cfg", paramLabel = "F", description = "classifier-free guidance scale (1 = off)")
    Double cfg;

    @Option(
            names = "--cfg-schedule",
            paramLabel = "NAME",
            description = "linear (default: 1 + (F-1)·(256-masked)/256 per step) or constant")
    String cfgSchedule;

    @Option(names = "--temperature", paramLabel = "T", description = "diffusion noise temperature (default 1.0)")
    Double temperature;

    @Option(names = "--diffusion-steps", paramLabel = "K", description = "DDPM sampling steps (default 100)")
    Integer diffusionSteps;

    @Option(
            names = "--noise-from",
            paramLabel = "FILE",
            description = "replay recorded random numbers from a safetensors file: <p>.orders (B, 256) and the draws "
                    + "<p>.randn.NNNN (or <p>.draw.NNNN.<kind> for CSpD) in call order")
    Path noiseFrom;

    @Option(
            names = "--latents-out",
            paramLabel = "FILE",
            description = "also write the (B, 16, 16, 16) latents (before the 1/0.2325 scaling) as float32 .npy")
    Path latentsOut;

    @Option(names = "--sampler", paramLabel = "NAME", description = "mar (default) or cspd (needs --draft)")
    String sampler = "mar";

    @Option(names = "--draft", paramLabel = "FILE", description = "CSpD draft MAR checkpoint")
    Path draft;

    @Option(names = "--draft-heads", paramLabel = "E[,D]", description = "the draft's heads (default: from its width)")
    String draftHeads;

    @Option(
            names = "--cspd-rule",
            paramLabel = "NAME",
            description = "released (default: the released runner's rule) or exact (textbook min(1, p/q))")
    String cspdRule = "released";

    @Option(names = "--gamma", paramLabel = "G", description = "CSpD: verify every G draft steps (default 8)")
    Integer gamma;

    @Option(
            names = "--prefill",
            paramLabel = "R",
            description = "CSpD: the target itself makes the steps s <= R·N (default 0.15)")
    Double prefill;

    @Option(
            names = "--inner-temperature",
            paramLabel = "T",
            description = "CSpD released rule: inner temperature of the acceptance test (default 42)")
    Double innerTemperature;

    @Option(
            names = "--stats-out",
            paramLabel = "FILE",
            description = "write the run's statistics as JSON (forwards, acceptance, rejection proposals, seconds)")
    Path statsOut;

    public GenerateMarCommand(PrintStream out) {
        super(out);
    }

    private int[] headsParsed, draftHeadsParsed;
    private MarSettings.CfgSchedule schedule;
    private CspdSettings.Rule rule;
    private boolean cspd;
    private Checkpoint noiseFile;
    /** The bundle's folder when neither --model nor --vae is given. */
    private Path bundle;

    @Override
    void check() {
        // without --model and --vae: the bundled Fashion-MNIST MAR target (and draft) and its card's settings
        bundle = model != null || vae != null ? null : bundle(BundledModels::marDirectory, "--model/--vae");
        if (bundle != null) {
            model = bundle.resolve(BundledModels.MAR_MODEL);
            vae = bundle.resolve(BundledModels.MAR_VAE);
        }
        require(model, "--model");
        require(vae, "--vae");
        headsParsed = parseHeads(heads, "--heads");
        draftHeadsParsed = parseHeads(draftHeads, "--draft-heads");
        schedule = switch (cfgSchedule == null ? "linear" : cfgSchedule.toLowerCase(Locale.ROOT)) {
            case "linear" -> MarSettings.CfgSchedule.LINEAR;
            case "constant" -> MarSettings.CfgSchedule.CONSTANT;
            default -> throw new UsageException("--cfg-schedule must be linear or constant, got '" + cfgSchedule + "'");
        };
        rule = switch (cspdRule.toLowerCase(Locale.ROOT)) {
            case "released" -> CspdSettings.Rule.RELEASED;
            case "exact" -> CspdSettings.Rule.EXACT;
            default -> throw new UsageException("--cspd-rule must be released or exact, got '" + cspdRule + "'");
        };
        cspd = switch (sampler.toLowerCase(Locale.ROOT)) {
            case "mar" -> false;
            case "cspd" -> true;
            default -> throw new UsageException("--sampler must be mar or cspd, got '" + sampler + "'");
        };
        if (bundle != null) {
            int t = BundledModels.MAR_HEADS, d = BundledModels.MAR_DRAFT_HEADS;
            if (heads == null) headsParsed = new int[] {t, t};
            if (cspd && draft == null) {
                draft = bundle.resolve(BundledModels.MAR_DRAFT);
                if (draftHeads == null) draftHeadsParsed = new int[] {d, d};
            }
        }
        if (cspd && draft == null) throw new UsageException("--sampler cspd needs a --draft model");
        if (!cspd && (draft != null || gamma != null || prefill != null || innerTemperature != null))
            throw new UsageException("--draft, --gamma, --prefill and --inner-temperature need --sampler cspd");
        if (draft != null && !Files.isRegularFile(draft)) throw new UsageException(draft + ": no such file (--draft)");
        if (noiseFrom != null && !Files.isRegularFile(noiseFrom))
            throw new UsageException(noiseFrom + ": no such file (--noise-from)");
        long s = seed.seed();
        if (s < 0 || s > 0xffffffffL)
            throw new UsageException("--seed must be 0 to 4294967295 for MAR (NumPy's seed range), got " + s);
        try {
            settings0();
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    @Override
    boolean bundled() {
        return bundle != null;
    }

    private static int[] parseHeads(String v, String option) {
        if (v == null) return new int[] {0, 0};
        String[] parts = v.split(",", -1);
        if (parts.length > 2) throw new UsageException(option + " takes E or E,D, got '" + v + "'");
        try {
            int e = Integer.parseInt(parts[0].trim()), d = parts.length == 2 ? Integer.parseInt(parts[1].trim()) : e;
            if (e < 1 || d < 1) throw new UsageException(option + " must be at least 1, got '" + v + "'");
            return new int[] {e, d};
        } catch (NumberFormatException x) {
            throw new UsageException(option + " takes E or E,D (whole numbers), got '" + v + "'");
        }
    }

    /** The options over a neutral base, to check them before anything loads. */
    private void settings0() {
        MarSettings base = new MarSettings(256, 3.0, schedule, 1.0, 100, null, null);
        apply(base);
    }

    private MarSettings apply(MarSettings req) {
        req = req.withSchedule(schedule);
        if (numIter != null) req = req.withNumIter(numIter);
        if (cfg != null) req = req.withCfg(cfg);
        if (temperature != null) req = req.withTemperature(temperature);
        if (diffusionSteps != null) req = req.withDiffusionSteps(diffusionSteps);
        if (cspd) {
            CspdSettings d = CspdSettings.RELEASED_DEFAULTS;
            req = req.withCspd(new CspdSettings(
                    gamma != null ? gamma : d.gamma(),
                    prefill != null ? prefill : d.prefill(),
                    innerTemperature != null ? innerTemperature : d.innerTemperature(),
                    rule));
        }
        return req;
    }

    @Override
    MarPipeline open(WeightPanels.Format format) {
        MarPipeline.Builder b = MarPipeline.builder()
                .model(model)
                .vae(vae)
                .heads(headsParsed[0], headsParsed[1])
                .weights(format)
                .packedWeights(load.packedWeights())
                .ops(load.ops());
        if (cspd) b.draft(draft, draftHeadsParsed[0], draftHeadsParsed[1]);
        return b.load();
    }

    @Override
    MarSettings settings(MarPipeline pipe) {
        try {
            MarSettings req = apply(bundle != null ? BundledModels.MAR_SAMPLING : pipe.defaults());
            if (noiseFrom != null) {
                Checkpoint noise = noiseFile = Checkpoints.open(noiseFrom);
                req = req.withRandom(s -> MarRandom.injected(noise));
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
    void report(MarPipeline pipe, Generation<MarDetails> g, int[] classes, MarSettings req, double load) {
        MarDetails r = g.details();
        if (latentsOut != null) {
            int side = r.side(), D = pipe.config().tokenDim();
            Outputs.writeNpy(latentsOut, r.latents(), classes.length, D, side, side);
            out.println("wrote " + latentsOut);
        }
        if (statsOut != null) {
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("sampler", cspd ? "cspd" : "mar");
            s.put("images", classes.length);
            s.put("num_iter", req.numIter());
            s.put("target_forwards", r.targetForwards());
            s.put("draft_forwards", r.draftForwards());
            if (cspd) {
                s.put("rule", rule.name().toLowerCase(Locale.ROOT));
                s.put("gamma", req.cspd().gamma());
                s.put("prefill", req.cspd().prefill());
                s.put("inner_temperature", req.cspd().innerTemperature());
                s.put("drafted", r.drafted());
                s.put("accepted", r.accepted());
                s.put("acceptance_rate", r.drafted() == 0 ? null : r.acceptanceRate());
                s.put("rejection_proposals", r.rejectionProposals());
                s.put("fallbacks", r.fallbacks());
            }
            s.put("seconds", r.totalSeconds());
            s.put("seconds_per_image", r.totalSeconds() / classes.length);
            s.put("mar_seconds", r.marSeconds());
            s.put("diffusion_seconds", r.diffusionSeconds());
            s.put("decode_seconds", r.decodeSeconds());
            Outputs.writeJson(statsOut, s);
            out.println("wrote " + statsOut);
        }
        String spec = cspd
                ? String.format(
                        Locale.ROOT,
                        " | CSpD %s gamma %d: %d target + %d draft passes, accepted %d of %d drafted, %d rejection "
                                + "proposals",
                        rule.name().toLowerCase(Locale.ROOT),
                        req.cspd().gamma(),
                        r.targetForwards(),
                        r.draftForwards(),
                        r.accepted(),
                        r.drafted(),
                        r.rejectionProposals())
                : "";
        out.printf(
                Locale.ROOT,
                "MAR %s | %d steps, %d diffusion steps, cfg %.2f %s, temperature %.2f%s | load %.2f s, MAR %.2f s, "
                        + "diffusion %.2f s, decode %.2f s%n",
                pipe.config(),
                req.numIter(),
                req.diffusionSteps(),
                req.cfg(),
                req.schedule().name().toLowerCase(Locale.ROOT),
                req.temperature(),
                spec,
                load,
                r.marSeconds(),
                r.diffusionSeconds(),
                r.decodeSeconds());
    }
}
