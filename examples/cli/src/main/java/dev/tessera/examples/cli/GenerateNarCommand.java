package dev.tessera.examples.cli;

import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.samplers.GeneratedImage;
import dev.tessera.samplers.Generation;
import dev.tessera.samplers.TokenDetails;
import dev.tessera.samplers.ar.SamplerStats;
import dev.tessera.samplers.nar.NarPipeline;
import dev.tessera.samplers.ar.TokenSettings;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code tessera generate nar}: next-neighbour decoding, the grid in 2n − 1 forward passes. */
public final class GenerateNarCommand {
    static final String NAME = "tessera generate nar";
    static final String HELP = """
            Usage: tessera generate nar --model FILE --vq FILE --class N [--class N ...] --out PATH [options]

            Generates one image per --class with NAR (next-neighbour autoregressive modeling on the LlamaGen stack):
            every token of an anti-diagonal of the token grid in one forward pass, 31 passes for 16x16 tokens.
            The tokenizer is LlamaGen's VQ-16 (vq_ds16_c2i.pt), as in the official release.

            Required:
              --model FILE        NAR checkpoint (NAR-B/M/L/XL/XXL, e.g. last_version.pt)
              --vq FILE           LlamaGen VQ tokenizer checkpoint
              --class N|NAME      ImageNet class by index or name; repeat for more images
              --out PATH          a .png file for one image, otherwise a directory (000.png, 001.png, ...)

            Options:
              --heads N           attention heads (default width/64, as every released size)
              --image-size PX     256 (default; 16x16 tokens)
              --seed S            random seed (default 0)
              --cfg F             classifier-free guidance on the mixed logits (default 2.0; <= 1: off)
              --cfg-interval I    stop guiding once more than I tokens are generated (default -1: never)
              --temperature T     (default 1.0)
              --top-k K           (default 0: off; 1: greedy)
              --top-p P           (default 1.0: off)
              --tokens-out FILE   {"images": [{"class": c, "tokens": [...]}, ...]} (row-major)
              --stats-out FILE    forward passes and time
              --weights F         f32 (default) or bf16: linear weights stored as bfloat16: half their memory,
                                  faster when streaming them dominates (LlamaGen); results differ slightly
            """;

    private GenerateNarCommand() {
    }

    public static int run(List<String> argv, PrintStream out) {
        Args a = Args.parse(NAME, argv, Set.of("weights", "model", "vq", "heads", "image-size", "class", "seed", "cfg", "cfg-interval",
                "temperature", "top-k", "top-p", "out", "tokens-out", "stats-out"), Set.of("help"));
        if (a.has("help")) {
            out.print(HELP);
            return 0;
        }
        a.rejectPositional();
        WeightPanels.Format weights = a.weights(out);
        Path model = Path.of(a.require("model")), vq = Path.of(a.require("vq"));
        List<String> labels = a.requireAll("class");
        List<Path> files = Outputs.plan(Path.of(a.require("out")), labels.size(), NAME);
        TokenOptions sampling = TokenOptions.parse(a);
        Path tokensOut = a.get("tokens-out") == null ? null : Path.of(a.get("tokens-out"));
        Path statsOut = a.get("stats-out") == null ? null : Path.of(a.get("stats-out"));
        long t0 = System.nanoTime();
        try (NarPipeline pipe = NarPipeline.builder().model(model).vq(vq).heads(a.getInt("heads", 0))
                .imageSize(a.getInt("image-size", 256)).weights(weights).load()) {
            int numClasses = pipe.config().numClasses();
            int[] classes = Outputs.classes(labels, numClasses, NAME);
            TokenSettings settings = sampling.applyTo(TokenSettings.builder()).build();
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
            SamplerStats st = r.stats().getFirst();
            if (statsOut != null) {
                Map<String, Object> m = new java.util.LinkedHashMap<>(st.toMap());
                m.put("forward_passes_per_image", st.targetForwards());
                m.put("decode_seconds", r.decodeSeconds());
                m.put("load_seconds", load);
                Outputs.writeJson(statsOut, m);
            }
            for (int i = 0; i < classes.length; i++) {
                GeneratedImage img = g.images().get(i);
                out.printf("wrote %s (%dx%d, class %d%s)%n", files.get(i), img.width(), img.height(), classes[i],
                        Outputs.describe(classes[i], numClasses));
            }
            if (tokensOut != null) out.println("wrote " + tokensOut);
            if (statsOut != null) out.println("wrote " + statsOut);
            out.printf("NAR %s | %d forward passes per image | load %.2f s, tokens %.2f s, decode %.2f s%n", pipe.config(),
                    st.targetForwards(), load, st.seconds(), r.decodeSeconds());
            return 0;
        }
    }
}
