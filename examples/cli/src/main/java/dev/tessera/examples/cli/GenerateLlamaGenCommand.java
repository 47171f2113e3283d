package dev.tessera.examples.cli;

import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.samplers.BundledModels;
import dev.tessera.samplers.Generation;
import dev.tessera.samplers.TokenDetails;
import dev.tessera.samplers.ar.JacobiSampler;
import dev.tessera.samplers.ar.SamplerStats;
import dev.tessera.samplers.llamagen.LlamaGenPipeline;
import dev.tessera.samplers.llamagen.LlamaGenSettings;
import dev.tessera.samplers.llamagen.Sampler;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code tessera generate llamagen}: raster-order class-conditional images with LlamaGen and its samplers. */
@Command(
        name = "llamagen",
        sortOptions = false,
        abbreviateSynopsis = true,
        header = "class-conditional images with LlamaGen (raster AR; speculative, LANTERN, SJD)",
        description = {
            "Generates one image per --class with LlamaGen's class-conditional GPT (c2i_B/L/XL/XXL_*.pt) and its",
            "VQ-16 tokenizer (vq_ds16_c2i.pt), token by token in raster order, or with an accelerated sampler.",
            "Without --model and --vq it uses the bundled Fashion-MNIST LlamaGen (examples/models/fmnist: lg-target,",
            "its draft lg-draft for --sampler speculative/lantern, lg-vq; 32x32 px) at its card's cfg 3, e.g.",
            "  tessera generate llamagen --class sneaker --sampler lantern --out sneaker.png",
            "Sampling defaults are the official evaluation settings; guidance is uncond + (cond - uncond)*cfg (<= "
                    + "1: off).",
            ""
        },
        footer = {
            "",
            "Example:",
            "  tessera generate llamagen --model c2i_L_256.pt --vq vq_ds16_c2i.pt --class 207 --sampler sjd --out "
                    + "dog.png"
        })
public final class GenerateLlamaGenCommand extends GenerateBase<LlamaGenSettings, TokenDetails, LlamaGenPipeline> {
    @Option(
            names = "--model",
            paramLabel = "FILE",
            description =
                    "LlamaGen GPT checkpoint (.pt/.pth or .safetensors); with --vq, or neither (the bundled model)")
    Path model;

    @Option(names = "--vq", paramLabel = "FILE", description = "LlamaGen VQ tokenizer checkpoint")
    Path vq;

    @Option(
            names = "--heads",
            paramLabel = "N",
            description = "attention heads (default width/64, as every released size)")
    int heads;

    @Option(
            names = "--image-size",
            paramLabel = "PX",
            description =
                    "256 (default; 16x16 tokens) or 384 (24x24) with the VQ-16 tokenizer; 32 for the bundled model")
    int imageSize = 256;

    @Mixin
    TokenOptions sampling = new TokenOptions();

    @Option(names = "--sampler", paramLabel = "NAME", description = "ar (default), speculative, lantern, sjd")
    String sampler = "ar";

    @Option(
            names = "--draft",
            paramLabel = "FILE",
            description = "draft model for speculative and lantern (a smaller LlamaGen, same tokenizer; the bundled "
                    + "lg-draft by default with the bundled model)")
    Path draft;

    @Option(names = "--draft-heads", paramLabel = "N", description = "its attention heads (default width/64)")
    int draftHeads;

    @Option(
            names = "--gamma",
            paramLabel = "G",
            description = "drafts per round for speculative and lantern (default ${DEFAULT-VALUE})")
    int gamma = LlamaGenSettings.GAMMA;

    @Option(
            names = "--lantern-k",
            paramLabel = "K",
            description = "latent neighbours considered (default ${DEFAULT-VALUE})")
    int lanternK = LlamaGenSettings.LANTERN_K;

    @Option(
            names = "--lantern-delta",
            paramLabel = "D",
            description = "total-variation budget delta (default ${DEFAULT-VALUE}; 0 = exact); > 1 is LANTERN++'s "
                    + "lambda")
    double lanternDelta = LlamaGenSettings.LANTERN_DELTA;

    @Option(
            names = "--sjd-window",
            paramLabel = "W",
            description = "positions per Jacobi forward (default ${DEFAULT-VALUE})")
    int sjdWindow = LlamaGenSettings.SJD_WINDOW;

    @Option(names = "--sjd-init", paramLabel = "MODE", description = "repeat_horizon (default) or random")
    String sjdInit = "repeat_horizon";

    @Option(
            names = "--tokens-out",
            paramLabel = "FILE",
            description = "{\"images\": [{\"class\": c, \"tokens\": [...]}, ...]} (row-major)")
    Path tokensOut;

    @Option(
            names = "--stats-out",
            paramLabel = "FILE",
            description = "the sampler's statistics: forward passes, acceptance, time")
    Path statsOut;

    public GenerateLlamaGenCommand(PrintStream out) {
        super(out);
    }

    private Sampler algorithm;

    /** The bundle's folder when neither --model nor --vq is given. */
    private Path bundle;

    @Override
    void check() {
        try {
            algorithm = Sampler.parse(sampler);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--sampler: " + e.getMessage());
        }
        // without --model and --vq: the bundled Fashion-MNIST LlamaGen (target, draft, tokenizer) and its card's cfg
        bundle = model != null || vq != null ? null : bundle(BundledModels::llamaGenDirectory, "--model/--vq");
        if (bundle != null) {
            model = bundle.resolve(BundledModels.LLAMAGEN_MODEL);
            vq = bundle.resolve(BundledModels.LLAMAGEN_VQ);
            if (!given("--image-size")) imageSize = BundledModels.LLAMAGEN_IMAGE_SIZE;
            if (!given("--cfg")) sampling.filters.cfg = BundledModels.LLAMAGEN_CFG;
            if (draft == null && (algorithm == Sampler.SPECULATIVE || algorithm == Sampler.LANTERN)) {
                draft = bundle.resolve(BundledModels.LLAMAGEN_DRAFT);
            }
        }
        require(model, "--model");
        require(vq, "--vq");
        if ((algorithm == Sampler.SPECULATIVE || algorithm == Sampler.LANTERN) && draft == null) {
            throw new UsageException("--sampler " + algorithm.id() + " needs a draft model: --draft FILE");
        }
        JacobiSampler.Init init = switch (sjdInit.toLowerCase(Locale.ROOT)) {
            case "repeat_horizon", "repeat-horizon" -> JacobiSampler.Init.REPEAT_HORIZON;
            case "random" -> JacobiSampler.Init.RANDOM;
            default -> throw new UsageException("--sjd-init must be repeat_horizon or random");
        };
        if (gamma < 1) throw new UsageException("--gamma must be at least 1");
        if (sjdWindow < 1) throw new UsageException("--sjd-window must be at least 1");
        if (lanternK < 0 || lanternDelta < 0) throw new UsageException("--lantern-k and --lantern-delta must be >= 0");
        preset = sampling.applyTo(LlamaGenSettings.builder())
                .sampler(algorithm)
                .gamma(gamma)
                .lanternK(lanternK)
                .lanternDelta(lanternDelta)
                .sjdWindow(sjdWindow)
                .sjdInit(init)
                .build();
    }

    @Override
    LlamaGenPipeline open(WeightPanels.Format format) {
        return LlamaGenPipeline.builder()
                .model(model)
                .vq(vq)
                .heads(heads)
                .draft(draft)
                .draftHeads(draftHeads)
                .imageSize(imageSize)
                .weights(format)
                .packedWeights(load.packedWeights())
                .ops(load.ops())
                .load();
    }

    @Override
    void report(
            LlamaGenPipeline pipe, Generation<TokenDetails> g, int[] classes, LlamaGenSettings settings, double load) {
        TokenDetails r = g.details();
        Outputs.writeTokenOutputs(tokensOut, statsOut, classes, r, statsJson(algorithm, r, load), out);
        int targetForwards =
                r.stats().stream().mapToInt(SamplerStats::targetForwards).sum();
        double tokenSeconds =
                r.stats().stream().mapToDouble(SamplerStats::seconds).sum();
        out.printf(
                "%s | %s: %d target forwards for %d tokens | load %.2f s, tokens %.2f s, decode %.2f s%n",
                pipe.config(),
                algorithm.id(),
                targetForwards,
                classes.length * pipe.config().tokens(),
                load,
                tokenSeconds,
                r.decodeSeconds());
    }

    @Override
    boolean bundled() {
        return bundle != null;
    }

    static Map<String, Object> statsJson(Sampler sampler, TokenDetails r, double loadSeconds) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("sampler", sampler.id());
        List<Object> per = new ArrayList<>();
        for (SamplerStats s : r.stats()) per.add(s.toMap());
        m.put("runs", per);
        int tokens = r.stats().stream().mapToInt(SamplerStats::tokens).sum();
        int images = r.stats().stream().mapToInt(SamplerStats::images).sum();
        int tf = r.stats().stream().mapToInt(SamplerStats::targetForwards).sum();
        int df = r.stats().stream().mapToInt(SamplerStats::draftForwards).sum();
        int proposed = r.stats().stream().mapToInt(SamplerStats::proposed).sum();
        int accepted = r.stats().stream().mapToInt(SamplerStats::accepted).sum();
        m.put("tokens", tokens);
        m.put("target_forwards", tf);
        m.put("draft_forwards", df);
        m.put("images", images);
        // target forwards per image: a batched run's forwards serve all of its images
        double forwardsPerImage =
                r.stats().stream().mapToDouble(s -> (double) s.targetForwards()).sum()
                        / r.stats().size();
        m.put("target_forwards_per_image", forwardsPerImage);
        m.put("mean_accepted_tokens_per_target_forward", tf == 0 ? 0 : (double) tokens / images / forwardsPerImage);
        m.put("acceptance_rate", proposed == 0 ? 0 : (double) accepted / proposed);
        m.put(
                "token_seconds",
                r.stats().stream().mapToDouble(SamplerStats::seconds).sum());
        m.put("decode_seconds", r.decodeSeconds());
        m.put("load_seconds", loadSeconds);
        return m;
    }
}
