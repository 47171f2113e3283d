package dev.tessera.opencl;

import dev.tessera.engine.ops.Backends;
import dev.tessera.samplers.BundledModels;
import dev.tessera.samplers.Pipeline;
import dev.tessera.samplers.SamplingSettings;
import dev.tessera.samplers.ar.TokenSettings;
import dev.tessera.samplers.flowar.FlowArPipeline;
import dev.tessera.samplers.flowar.FlowArSettings;
import dev.tessera.samplers.flowar.FlowNoise;
import dev.tessera.samplers.flowar.FlowSampler;
import dev.tessera.samplers.llamagen.LlamaGenPipeline;
import dev.tessera.samplers.llamagen.LlamaGenSettings;
import dev.tessera.samplers.mar.MarPipeline;
import dev.tessera.samplers.mar.MarSettings;
import dev.tessera.samplers.nar.NarPipeline;
import dev.tessera.samplers.var.VarPipeline;
import dev.tessera.samplers.var.VarSettings;
import java.nio.file.Path;
import java.util.List;

/**
 * Not a test: prints the bytes one image moves to and from an OpenCL device ({@link OpenClOps#bytesToDevice()},
 * {@link OpenClOps#bytesFromDevice()} around the second of two one-image generations, so the weights are already
 * up), and the device-side copies ({@link OpenClOps#deviceCopies()}), for the bundled models (VAR also at its
 * card's settings: {@code var-bundled-card}) and the golden test models of each family. Run from the repository
 * root with the test class path, e.g. {@code java -cp ... dev.tessera.opencl.TransferCounts [opencl[:P:D]] [name ...]}.
 */
public final class TransferCounts {
    private TransferCounts() {}

    private record Case(String name, Opener open) {}

    private interface Opener {
        void run(OpenClOps ops) throws Exception;
    }

    public static void main(String[] args) throws Exception {
        String spec = args.length > 0 ? args[0] : "opencl";
        List<String> only = args.length > 1 ? List.of(args).subList(1, args.length) : List.of();
        Path fm = BundledModels.directory(),
                td = fm.resolve("../../../testdata").normalize();
        VarSettings greedyVar = new VarSettings(1.5, 1, 0, false);
        TokenSettings greedyTokens = TokenSettings.builder().cfg(2.0).topK(1).build();
        List<Case> cases = List.of(
                new Case(
                        "lg-target",
                        ops -> twice(
                                LlamaGenPipeline.builder()
                                        .ops(ops)
                                        .model(fm.resolve(BundledModels.LLAMAGEN_MODEL))
                                        .vq(fm.resolve(BundledModels.LLAMAGEN_VQ))
                                        .imageSize(BundledModels.LLAMAGEN_IMAGE_SIZE)
                                        .load(),
                                BundledModels.LLAMAGEN_SAMPLING,
                                ops)),
                new Case(
                        "lg-nar",
                        ops -> twice(
                                NarPipeline.builder()
                                        .ops(ops)
                                        .model(fm.resolve(BundledModels.NAR_MODEL))
                                        .vq(fm.resolve(BundledModels.LLAMAGEN_VQ))
                                        .imageSize(BundledModels.LLAMAGEN_IMAGE_SIZE)
                                        .load(),
                                BundledModels.LLAMAGEN_SAMPLING.tokens(),
                                ops)),
                new Case(
                        "flowar-target",
                        ops -> twice(
                                FlowArPipeline.builder()
                                        .ops(ops)
                                        .model(fm.resolve(BundledModels.FLOWAR_MODEL))
                                        .vae(fm.resolve(BundledModels.FLOWAR_VAE))
                                        .defaults(BundledModels.FLOWAR_SAMPLING)
                                        .load(),
                                BundledModels.FLOWAR_SAMPLING,
                                ops)),
                new Case(
                        "mar-target",
                        ops -> twice(
                                MarPipeline.builder()
                                        .ops(ops)
                                        .model(fm.resolve(BundledModels.MAR_MODEL))
                                        .vae(fm.resolve(BundledModels.MAR_VAE))
                                        .heads(BundledModels.MAR_HEADS, BundledModels.MAR_HEADS)
                                        .load(),
                                BundledModels.MAR_SAMPLING,
                                ops)),
                new Case(
                        "var-bundled-card",
                        ops -> twice(
                                VarPipeline.builder()
                                        .ops(ops)
                                        .model(fm.resolve(BundledModels.VAR_MODEL))
                                        .vae(fm.resolve(BundledModels.VAR_VAE))
                                        .load(),
                                BundledModels.VAR_SAMPLING,
                                ops)),
                new Case(
                        "var-bundled",
                        ops -> twice(
                                VarPipeline.builder()
                                        .ops(ops)
                                        .model(fm.resolve(BundledModels.VAR_MODEL))
                                        .vae(fm.resolve(BundledModels.VAR_VAE))
                                        .load(),
                                greedyVar,
                                ops)),
                new Case(
                        "var-small",
                        ops -> twice(
                                VarPipeline.builder()
                                        .ops(ops)
                                        .model(td.resolve("var-small/var.pth"))
                                        .vae(td.resolve("var-small/vae.pth"))
                                        .load(),
                                greedyVar,
                                ops)),
                new Case(
                        "llamagen-small",
                        ops -> twice(
                                LlamaGenPipeline.builder()
                                        .ops(ops)
                                        .model(td.resolve("llamagen-small/gpt.pth"))
                                        .vq(td.resolve("llamagen-small/vq.pth"))
                                        .heads(4)
                                        .load(),
                                LlamaGenSettings.builder().cfg(2.0).topK(1).build(),
                                ops)),
                new Case(
                        "nar-small",
                        ops -> twice(
                                NarPipeline.builder()
                                        .ops(ops)
                                        .model(td.resolve("nar-small/gpt.pth"))
                                        .vq(td.resolve("llamagen-small/vq.pth"))
                                        .heads(4)
                                        .load(),
                                greedyTokens,
                                ops)),
                new Case(
                        "nar-bundled",
                        ops -> twice(
                                NarPipeline.builder()
                                        .ops(ops)
                                        .model(BundledModels.narDirectory().resolve(BundledModels.NAR_MODEL))
                                        .vq(fm.resolve(BundledModels.LLAMAGEN_VQ))
                                        .imageSize(BundledModels.LLAMAGEN_IMAGE_SIZE)
                                        .load(),
                                TokenSettings.builder()
                                        .cfg(BundledModels.LLAMAGEN_CFG)
                                        .topK(1)
                                        .build(),
                                ops)),
                new Case(
                        "mar-small",
                        ops -> twice(
                                MarPipeline.builder()
                                        .ops(ops)
                                        .model(td.resolve("mar-small/mar.pth"))
                                        .vae(td.resolve("flowar-small/vae.pth"))
                                        .heads(2, 2)
                                        .load(),
                                new MarSettings(8, 3.0, MarSettings.CfgSchedule.LINEAR, 1.0, 20, null, null),
                                ops)),
                new Case(
                        "flowar-small",
                        ops -> twice(
                                FlowArPipeline.builder()
                                        .ops(ops)
                                        .model(td.resolve("flowar-small/flowar.pth"))
                                        .vae(td.resolve("flowar-small/vae.pth"))
                                        .load(),
                                new FlowArSettings(2.0, 0.9, 25, FlowSampler.EULER, FlowNoise::seeded),
                                ops)));
        for (Case c : cases) {
            if (!only.isEmpty() && !only.contains(c.name())) continue;
            try (OpenClOps ops = (OpenClOps) Backends.open(spec)) {
                System.out.print(c.name() + ": ");
                c.open().run(ops);
            }
        }
    }

    private static <S extends SamplingSettings> void twice(Pipeline<S, ?> p, S settings, OpenClOps ops)
            throws Exception {
        try (p) {
            p.generate(new int[] {3}, 0, settings);
            long up = ops.bytesToDevice(), down = ops.bytesFromDevice(), copies = ops.deviceCopies();
            p.generate(new int[] {3}, 0, settings);
            long to = ops.bytesToDevice() - up, from = ops.bytesFromDevice() - down;
            System.out.printf(
                    "%.2f MB to the device, %.2f MB from it, per image (%d and %d bytes), %d device copies%n",
                    to / 1e6, from / 1e6, to, from, ops.deviceCopies() - copies);
        }
    }
}
