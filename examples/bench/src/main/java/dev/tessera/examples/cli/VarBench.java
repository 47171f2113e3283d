package dev.tessera.examples.cli;

import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.engine.ops.Ops;
import dev.tessera.engine.ops.Parallel;
import dev.tessera.examples.bench.RandomWeights;
import dev.tessera.examples.bench.SyntheticVar;
import dev.tessera.samplers.Pipeline;
import dev.tessera.samplers.var.VarDetails;
import dev.tessera.samplers.var.VarPipeline;
import dev.tessera.samplers.var.VarSettings;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code tessera bench var}: seconds per image with random weights of the released VAR shapes. */
@Command(
        name = "var",
        sortOptions = false,
        header = "VAR-d{D} at 256 px with the official sampling",
        description = {
            "Builds random weights with the shapes of the official release (var_d{D}.pth: width 64*D, D heads, 1000",
            "classes, V 4096; vae_ch160v4096z32.pth decoder) in memory, runs warm-up generations and then N timed ones",
            "at 256 px with the official FID sampling (VarSettings.OFFICIAL), and prints where the time goes.",
            ""
        })
final class VarBench extends FamilyBench<VarSettings, VarDetails> {
    private static final int[] PATCH_NUMS = {1, 2, 3, 4, 5, 6, 8, 10, 13, 16};

    @Option(names = "--depth", paramLabel = "D", description = "16 (default), 20, 24 or 30")
    int depth = 16;

    private Path varFile, vaeFile;
    private long varBytes, vaeBytes;

    VarBench(PrintStream out) {
        super(out, 3);
    }

    @Override
    void check() {
        if (depth < 1 || depth > 64) throw new UsageException("--depth must be between 1 and 64");
    }

    @Override
    long writeWeights(Path dir) {
        RandomWeights varW = SyntheticVar.transformer(depth, PATCH_NUMS, 1), vaeW = SyntheticVar.vqvae(2);
        varFile = varW.writeTo(dir.resolve("var_d" + depth + ".safetensors"));
        vaeFile = vaeW.writeTo(dir.resolve("vae_ch160v4096z32.safetensors"));
        varBytes = varW.bytes();
        vaeBytes = vaeW.bytes();
        return varBytes + vaeBytes;
    }

    @Override
    Pipeline<VarSettings, VarDetails> load(Ops ops, WeightPanels.Format weights) {
        return VarPipeline.builder()
                .model(varFile)
                .vae(vaeFile)
                .patchNums(PATCH_NUMS)
                .ops(ops)
                .weights(weights)
                .load();
    }

    @Override
    String loaded(long weightBytes) {
        return String.format(
                "VAR-d%d %.2f GB + VQ-VAE %.2f GB, written to %s and",
                depth, varBytes / 1e9, vaeBytes / 1e9, varFile.getParent());
    }

    @Override
    String model() {
        return "VAR-d" + depth + " (random weights), vae ch160 v4096 z32";
    }

    @Override
    VarSettings settings(Pipeline<VarSettings, VarDetails> pipe) {
        return VarSettings.OFFICIAL;
    }

    @Override
    String breakdown(VarDetails d) {
        VarDetails.Timings t = d.timings();
        return String.format(
                "transformer %.2f, sampling %.2f, VQ %.2f, decode %.2f",
                t.transformerTotal(), t.samplingSeconds(), t.vqSeconds(), t.decodeSeconds());
    }

    private double mean(Runs<VarDetails> runs, ToDoubleFunction<VarDetails.Timings> f) {
        return runs.details().stream()
                        .mapToDouble(d -> f.applyAsDouble(d.timings()))
                        .sum()
                / runs.count();
    }

    private double[] scaleMs(Runs<VarDetails> runs) {
        double[] ms = new double[PATCH_NUMS.length];
        for (VarDetails d : runs.details()) {
            for (int i = 0; i < ms.length; i++) ms[i] += d.timings().transformerSeconds()[i] * 1000 / runs.count();
        }
        return ms;
    }

    @Override
    void json(Runs<VarDetails> runs, VarSettings settings, Map<String, Object> head, Map<String, Object> tail) {
        double perImage = perImage(runs.wallSeconds());
        tail.put("images_per_second", 1 / perImage);
        tail.put("transformer_s", mean(runs, VarDetails.Timings::transformerTotal));
        tail.put("sampling_s", mean(runs, VarDetails.Timings::samplingSeconds));
        tail.put("vq_s", mean(runs, VarDetails.Timings::vqSeconds));
        tail.put("decode_s", mean(runs, VarDetails.Timings::decodeSeconds));
        tail.put("transformer_ms_per_scale", scaleMs(runs));
        tail.put("gflops", runs.flops() / runs.wallSeconds() / 1e9);
        tail.put("tflop_per_image", perImage(runs.flops()) / 1e12);
    }

    @Override
    void text(
            Runs<VarDetails> runs,
            VarSettings settings,
            double perImage,
            long weightBytes,
            long peakRss,
            PrintStream out) {
        out.printf("%nVAR-d%d, batch %d, %d runs, %d threads%n", depth, common.batch, runs.count(), Parallel.threads());
        StringBuilder sb = new StringBuilder("transformer per scale (ms):");
        double[] ms = scaleMs(runs);
        for (int i = 0; i < PATCH_NUMS.length; i++) sb.append(String.format(" %d:%.0f", PATCH_NUMS[i], ms[i]));
        out.println(sb);
        out.printf(
                "transformer %.2f s | sampling %.2f s | VQ %.2f s | decode %.2f s%n",
                mean(runs, VarDetails.Timings::transformerTotal),
                mean(runs, VarDetails.Timings::samplingSeconds),
                mean(runs, VarDetails.Timings::vqSeconds),
                mean(runs, VarDetails.Timings::decodeSeconds));
        out.printf("seconds per image: %.2f (%.3f images/s)%n", perImage, 1 / perImage);
        out.printf(
                "achieved: %.1f GFLOP/s over %.3f TFLOP per image%n",
                runs.flops() / runs.wallSeconds() / 1e9, perImage(runs.flops()) / 1e12);
        out.printf(
                "memory: peak RSS %.2f GB, weights %.2f GB (%.2fx)%n",
                peakRss / 1e9, weightBytes / 1e9, peakRss / (double) weightBytes);
    }
}
