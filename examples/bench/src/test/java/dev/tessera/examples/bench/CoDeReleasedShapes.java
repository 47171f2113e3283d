package dev.tessera.examples.bench;

import dev.tessera.samplers.var.VarDetails;
import dev.tessera.samplers.var.VarPipeline;
import dev.tessera.samplers.var.VarSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * Not a test: a measurement program for collaborative decoding (CoDe) at the released VAR shapes. It writes random
 * weights of {@code var_d16}, {@code var_d30} and the VQ-VAE into a folder (once; kept for reruns), then times one
 * 256 px image (batch 1, class 207, the official FID sampling) for d16 alone, d30 alone and d30 drafting N = 6 .. 9
 * scales for d16: one untimed warm-up generation per configuration, then RUNS timed ones, each on its own seed.
 *
 * <pre>java ... dev.tessera.examples.bench.CoDeReleasedShapes WEIGHTS_DIR [RUNS] [N ...]</pre>
 */
public final class CoDeReleasedShapes {
    private static final int[] PATCH_NUMS = {1, 2, 3, 4, 5, 6, 8, 10, 13, 16};

    private CoDeReleasedShapes() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        Files.createDirectories(dir);
        Path d16 = weights(dir, "var_d16.safetensors", () -> SyntheticVar.transformer(16, PATCH_NUMS, 1));
        Path d30 = weights(dir, "var_d30.safetensors", () -> SyntheticVar.transformer(30, PATCH_NUMS, 3));
        Path vae = weights(dir, "vae_ch160v4096z32.safetensors", () -> SyntheticVar.vqvae(2));
        time("d16 alone", VarPipeline.builder().model(d16).vae(vae), runs);
        time("d30 alone", VarPipeline.builder().model(d30).vae(vae), runs);
        for (int n = 6; n <= 9; n++) {
            time(
                    "d30 drafts " + n + ", d16 refines",
                    VarPipeline.builder().model(d16).vae(vae).drafter(d30, n),
                    runs);
        }
    }

    private static Path weights(Path dir, String name, Supplier<RandomWeights> maker) {
        Path file = dir.resolve(name);
        if (!Files.isRegularFile(file)) maker.get().writeTo(file);
        return file;
    }

    private static void time(String name, VarPipeline.Builder builder, int runs) {
        try (VarPipeline var = builder.patchNums(PATCH_NUMS).load()) {
            var.generate(new int[] {207}, 100, VarSettings.OFFICIAL);
            double total = 0, transformer = 0;
            for (int r = 0; r < runs; r++) {
                long t0 = System.nanoTime();
                VarDetails d =
                        var.generate(new int[] {207}, r, VarSettings.OFFICIAL).details();
                total += (System.nanoTime() - t0) * 1e-9;
                transformer += d.timings().transformerTotal();
            }
            System.out.printf(
                    Locale.ROOT,
                    "%-26s %6.2f s per image (transformers %6.2f s), mean of %d%n",
                    name,
                    total / runs,
                    transformer / runs,
                    runs);
        }
    }
}
