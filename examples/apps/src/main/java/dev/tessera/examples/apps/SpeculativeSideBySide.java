package dev.tessera.examples.apps;

import dev.tessera.samplers.Generation;
import dev.tessera.samplers.TokenDetails;
import dev.tessera.samplers.ar.SamplerStats;
import dev.tessera.samplers.llamagen.LlamaGenPipeline;
import dev.tessera.samplers.llamagen.LlamaGenSettings;
import dev.tessera.samplers.llamagen.Sampler;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Plain autoregressive decoding beside speculative sampling with a draft model (and Speculative Jacobi Decoding,
 * which needs none) on a LlamaGen checkpoint: the same class and seed through each sampler, their images written
 * side by side as files, and what each cost (target and draft forwards, acceptance).
 *
 * <pre>java ... dev.tessera.examples.apps.SpeculativeSideBySide MODEL.pt DRAFT.pt VQ.pt OUT_DIR [CLASS]</pre>
 */
public final class SpeculativeSideBySide {
    private SpeculativeSideBySide() {}

    public static void main(String[] args) {
        if (args.length < 4) {
            System.err.println("usage: SpeculativeSideBySide MODEL DRAFT VQ OUT_DIR [CLASS]");
            System.exit(2);
        }
        Path model = Path.of(args[0]), draft = Path.of(args[1]), vq = Path.of(args[2]), out = Path.of(args[3]);
        int label = args.length > 4 ? Integer.parseInt(args[4]) : 0;
        try (LlamaGenPipeline p =
                LlamaGenPipeline.builder().model(model).draft(draft).vq(vq).load()) {
            for (Sampler sampler : new Sampler[] {Sampler.AR, Sampler.SPECULATIVE, Sampler.SJD}) {
                LlamaGenSettings settings =
                        LlamaGenSettings.builder().sampler(sampler).build(); // official cfg, gamma 4
                Generation<TokenDetails> g = p.generate(new int[] {label}, 0, settings);
                Path file = out.resolve(sampler.name().toLowerCase(Locale.ROOT) + ".png");
                g.images().get(0).writePng(file);
                SamplerStats s = g.details().stats().get(0);
                System.out.printf(
                        Locale.ROOT,
                        "%-12s %4d target forwards, %4d draft forwards, acceptance %5.1f%%, %s%n",
                        sampler,
                        s.targetForwards(),
                        s.draftForwards(),
                        100 * s.acceptanceRate(),
                        file);
            }
        }
    }
}
