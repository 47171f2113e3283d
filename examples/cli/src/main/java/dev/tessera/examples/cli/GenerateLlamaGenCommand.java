package dev.tessera.examples.cli;

import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.samplers.BundledModels;
import dev.tessera.samplers.GeneratedImage;
import dev.tessera.samplers.Generation;
import dev.tessera.samplers.ar.JacobiSampler;
import dev.tessera.samplers.ar.SamplerStats;
import dev.tessera.samplers.llamagen.LlamaGenPipeline;
import dev.tessera.samplers.llamagen.LlamaGenSettings;
import dev.tessera.samplers.TokenDetails;
import dev.tessera.samplers.llamagen.Sampler;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** {@code tessera generate llamagen}: raster-order class-conditional images with LlamaGen and its samplers. */
public final class GenerateLlamaGenCommand {
    static final String NAME = "tessera generate llamagen";
    static final String HELP = """
            Usage: tessera generate llamagen [--model FILE --vq FILE] --class N [--class N ...] --out PATH [options]

            Generates one image per --class with LlamaGen's class-conditional GPT (c2i_B/L/XL/XXL_*.pt) and its
            VQ-16 tokenizer (vq_ds16_c2i.pt), token by token in raster order, or with an accelerated sampler.
            Without --model and --vq it uses the bundled Fashion-MNIST LlamaGen (examples/models/fmnist: lg-target,
            its draft lg-draft for --sampler speculative/lantern, lg-vq; 32x32 px) at its card's --cfg, e.g.
              tessera generate llamagen --class sneaker --sampler lantern --out sneaker.png

            Required:
              --model FILE        LlamaGen GPT checkpoint (.pt/.pth or .safetensors); with --vq, or neither
              --vq FILE           LlamaGen VQ tokenizer checkpoint
              --class N|NAME      ImageNet class by index or name (Fashion-MNIST for the bundled model, e.g.
                                  "sneaker"); repeat for more images
              --out PATH          a .png file for one image, otherwise a directory (000.png, 001.png, ...)

            Model:
              --heads N           attention heads (default width/64, as every released size)
              --image-size PX     256 (default; 16x16 tokens) or 384 (24x24) with the VQ-16 tokenizer; 32 bundled

            Sampling (defaults: the official evaluation settings):
              --seed S            random seed (default 0)
              --cfg F             classifier-free guidance uncond + (cond - uncond)*F (default 2.0, the bundled
                                  model's card: 3.0; <= 1: off)
              --cfg-interval I    guide only tokens 1..I+1 (default -1: all)
              --temperature T     (default 1.0)
              --top-k K           keep the K largest logits (default 0: off; 1: greedy)
              --top-p P           nucleus threshold (default 1.0: off)

            Samplers:
              --sampler NAME      ar (default), speculative, lantern, sjd
              --draft FILE        draft model for speculative and lantern (a smaller LlamaGen, same tokenizer;
                                  the bundled lg-draft by default with the bundled model)
              --draft-heads N     its attention heads (default width/64)
              --gamma G           drafts per round for speculative and lantern (default 4)
              --lantern-k K       latent neighbours considered (default 1000)
              --lantern-delta D   total-variation budget delta (default 0.1; 0 = exact); > 1 is LANTERN++'s lambda
              --sjd-window W      positions per Jacobi forward (default 16)
              --sjd-init MODE     repeat_horizon (default) or random
              --weights F         f32 (default) or bf16: linear weights stored as bfloat16: half their memory,
                                  faster when streaming them dominates (LlamaGen); results differ slightly

            Output:
              --tokens-out FILE   {"images": [{"class": c, "tokens": [...]}, ...]} (row-major)
              --stats-out FILE    the sampler's statistics: forward passes, acceptance, time

            Example:
              tessera generate llamagen --model c2i_L_256.pt --vq vq_ds16_c2i.pt --class 207 --sampler sjd --out dog.png
            """;

    private GenerateLlamaGenCommand() {
    }

    public static int run(List<String> argv, PrintStream out) {
        Args a = Args.parse(NAME, argv, Set.of("weights", "model", "vq", "heads", "image-size", "class", "seed", "cfg", "cfg-interval",
                "temperature", "top-k", "top-p", "sampler", "draft", "draft-heads", "gamma", "lantern-k", "lantern-delta",
                "sjd-window", "sjd-init", "out", "tokens-out", "stats-out"), Set.of("help"));
        if (a.has("help")) {
            out.print(HELP);
            return 0;
        }
        a.rejectPositional();
        WeightPanels.Format weights = a.weights(out);
        // without --model and --vq: the bundled Fashion-MNIST LlamaGen (target, draft, tokenizer) and its card's cfg
        Path bundle = a.has("model") || a.has("vq") ? null : bundledLlamaGen();
        Path model = bundle != null ? bundle.resolve(BundledModels.LLAMAGEN_MODEL) : Path.of(a.require("model"));
        Path vq = bundle != null ? bundle.resolve(BundledModels.LLAMAGEN_VQ) : Path.of(a.require("vq"));
        List<String> labels = a.requireAll("class");
        List<Path> files = Outputs.plan(Path.of(a.require("out")), labels.size(), NAME);
        Sampler sampler;
        try {
            sampler = Sampler.parse(a.get("sampler") == null ? "ar" : a.get("sampler"));
        } catch (IllegalArgumentException e) {
            throw new UsageException("--sampler: " + e.getMessage());
        }
        boolean drafted = sampler == Sampler.SPECULATIVE || sampler == Sampler.LANTERN;
        Path draft = a.get("draft") != null ? Path.of(a.get("draft"))
                : bundle != null && drafted ? bundle.resolve(BundledModels.LLAMAGEN_DRAFT) : null;
        if ((sampler == Sampler.SPECULATIVE || sampler == Sampler.LANTERN) && draft == null) {
            throw new UsageException("--sampler " + sampler.id() + " needs a draft model: --draft FILE");
        }
        JacobiSampler.Init init = switch (a.get("sjd-init") == null ? "repeat_horizon" : a.get("sjd-init").toLowerCase(Locale.ROOT)) {
            case "repeat_horizon", "repeat-horizon" -> JacobiSampler.Init.REPEAT_HORIZON;
            case "random" -> JacobiSampler.Init.RANDOM;
            default -> throw new UsageException("--sjd-init must be repeat_horizon or random");
        };
        TokenOptions sampling = bundle != null ? TokenOptions.parse(a, BundledModels.LLAMAGEN_CFG) : TokenOptions.parse(a);
        int gamma = a.getInt("gamma", LlamaGenSettings.GAMMA), window = a.getInt("sjd-window", LlamaGenSettings.SJD_WINDOW),
                lanternK = a.getInt("lantern-k", LlamaGenSettings.LANTERN_K);
        double delta = a.getDouble("lantern-delta", LlamaGenSettings.LANTERN_DELTA);
        if (gamma < 1) throw new UsageException("--gamma must be at least 1");
        if (window < 1) throw new UsageException("--sjd-window must be at least 1");
        if (lanternK < 0 || delta < 0) throw new UsageException("--lantern-k and --lantern-delta must be >= 0");
        Path tokensOut = a.get("tokens-out") == null ? null : Path.of(a.get("tokens-out"));
        Path statsOut = a.get("stats-out") == null ? null : Path.of(a.get("stats-out"));

        long t0 = System.nanoTime();
        try (LlamaGenPipeline pipe = LlamaGenPipeline.builder().model(model).vq(vq).heads(a.getInt("heads", 0))
                .draft(draft).draftHeads(a.getInt("draft-heads", 0)).imageSize(a.getInt("image-size", bundle != null ? BundledModels.LLAMAGEN_IMAGE_SIZE : 256)).weights(weights).load()) {
            int numClasses = pipe.config().numClasses();
            int[] classes = bundle != null ? labels.stream().mapToInt(BundledVar::resolve).toArray()
                    : Outputs.classes(labels, numClasses, NAME);
            LlamaGenSettings settings = sampling.applyTo(LlamaGenSettings.builder()).sampler(sampler).gamma(gamma)
                    .lanternK(lanternK).lanternDelta(delta).sjdWindow(window).sjdInit(init).build();
            double load = (System.nanoTime() - t0) * 1e-9;
            ProgressBar bar = new ProgressBar("generating " + classes.length + " image" + (classes.length > 1 ? "s" : ""));
            Generation<TokenDetails> g = pipe.generate(classes, sampling.seed(), settings, bar);
            bar.finish();
            Outputs.writeImages(g.images(), files);
            TokenDetails r = g.details();
            if (tokensOut != null) {
                List<Object> images = new ArrayList<>();
                for (int b = 0; b < classes.length; b++) images.add(Map.of("class", classes[b], "tokens", r.tokens().get(b)));
                Outputs.writeJson(tokensOut, Map.of("images", images));
            }
            if (statsOut != null) Outputs.writeJson(statsOut, statsJson(sampler, r, load));
            for (int i = 0; i < classes.length; i++) {
                GeneratedImage img = g.images().get(i);
                out.printf("wrote %s (%dx%d, class %d%s)%n", files.get(i), img.width(), img.height(), classes[i],
                        bundle != null ? " " + BundledModels.FASHION_MNIST_CLASSES.get(classes[i]) : Outputs.describe(classes[i], numClasses));
            }
            if (tokensOut != null) out.println("wrote " + tokensOut);
            if (statsOut != null) out.println("wrote " + statsOut);
            int targetForwards = r.stats().stream().mapToInt(SamplerStats::targetForwards).sum();
            double tokenSeconds = r.stats().stream().mapToDouble(SamplerStats::seconds).sum();
            out.printf("%s | %s: %d target forwards for %d tokens | load %.2f s, tokens %.2f s, decode %.2f s%n",
                    pipe.config(), sampler.id(), targetForwards, classes.length * pipe.config().tokens(), load, tokenSeconds,
                    r.decodeSeconds());
            return 0;
        }
    }

    /** The bundle's folder with the LlamaGen files; their absence is a usage error here. */
    private static Path bundledLlamaGen() {
        try {
            return BundledModels.llamaGenDirectory();
        } catch (dev.tessera.engine.TesseraException e) {
            throw new UsageException("no --model/--vq given and " + e.getMessage());
        }
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
        double forwardsPerImage = r.stats().stream().mapToDouble(s -> (double) s.targetForwards()).sum() / r.stats().size();
        m.put("target_forwards_per_image", forwardsPerImage);
        m.put("mean_accepted_tokens_per_target_forward", tf == 0 ? 0 : (double) tokens / images / forwardsPerImage);
        m.put("acceptance_rate", proposed == 0 ? 0 : (double) accepted / proposed);
        m.put("token_seconds", r.stats().stream().mapToDouble(SamplerStats::seconds).sum());
        m.put("decode_seconds", r.decodeSeconds());
        m.put("load_seconds", loadSeconds);
        return m;
    }
}
