package dev.tessera.examples.apps;

import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.engine.ops.Ops;
import dev.tessera.examples.fid.EvalPlan;
import dev.tessera.examples.fid.FeatureStats;
import dev.tessera.examples.fid.JudgeCnn;
import dev.tessera.examples.fid.JudgeMetrics;
import dev.tessera.examples.fid.ModelFamily;
import dev.tessera.examples.fid.SampleGenerator;
import dev.tessera.samplers.BundledModels;
import dev.tessera.samplers.GeneratedImage;
import dev.tessera.samplers.Progress;
import dev.tessera.samplers.var.VarPipeline;
import dev.tessera.samplers.var.VarSettings;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Collaborative decoding (CoDe) on the bundled Fashion-MNIST VARs: the small model (depth 2) alone, the large one
 * (depth 3) alone, and the large one drafting the first N scales for the small one, N = 1 .. 3 of the 4 scales. Each
 * makes the same class-balanced samples (same seeds, the model card's sampling) and is measured as
 * {@code tessera eval --metrics fmnist} measures: the bundled judge's class accuracy and judge FID against the test
 * set's statistics; the wall time per image (batches of 50, after a warm-up) is printed beside them.
 *
 * <pre>java ... dev.tessera.examples.apps.CollaborativeBundled [SAMPLES]</pre>
 */
public final class CollaborativeBundled {
    private CollaborativeBundled() {}

    public static void main(String[] args) {
        int samples = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        Path dir = BundledModels.directory();
        Path small = dir.resolve("var-d2.safetensors"), large = dir.resolve("var-d3.safetensors");
        Path vae = dir.resolve(BundledModels.VAR_VAE);
        VarSettings card = BundledModels.VAR_SAMPLING;
        EvalPlan plan = new EvalPlan(
                ModelFamily.VAR,
                small,
                vae,
                samples,
                samples / 10,
                0,
                50,
                new SampleGenerator.Sampling(card.cfg(), card.topK(), card.topP(), 1.0),
                WeightPanels.Format.F32,
                null,
                null);
        try (JudgeCnn judge = JudgeCnn.load(dir.resolve(BundledModels.JUDGE), Ops.cpu())) {
            FeatureStats[] stats =
                    JudgeMetrics.bundledStats(dir.resolve(BundledModels.JUDGE_STATS), judge.featureSize());
            JudgeMetrics metrics = new JudgeMetrics(judge, Ops.cpu());
            JudgeMetrics.References refs = new JudgeMetrics.References(stats[0], stats[1], null, null);
            System.out.printf(Locale.ROOT, "%d samples each, cfg %.1f, seeds from 0%n", samples, card.cfg());
            try (VarPipeline warm = VarPipeline.builder()
                    .model(small)
                    .vae(vae)
                    .drafter(large, 2)
                    .load()) {
                for (int i = 0; i < Math.min(5, samples / 50); i++) warm.generate(new int[50], i, card); // JIT warm-up
            }
            for (int n = -2; n <= 3; n++) {
                if (n == 0) continue;
                VarPipeline.Builder b =
                        VarPipeline.builder().model(n == -1 ? large : small).vae(vae);
                if (n > 0) b.drafter(large, n);
                String name = n == -2 ? "small (d2) alone" : n == -1 ? "large (d3) alone" : "CoDe d3 -> d2, N = " + n;
                try (VarPipeline var = b.load()) {
                    long t0 = System.nanoTime();
                    Map<String, Object> m = metrics.measure(generator(var, card), plan, refs, Progress.NONE);
                    double perImage = (System.nanoTime() - t0) * 1e-9 / samples;
                    System.out.printf(
                            Locale.ROOT,
                            "%-22s class accuracy %5.1f%% | judge FID %7.3f | %.1f ms per image (judge included)%n",
                            name,
                            100 * (double) m.get("class_accuracy"),
                            (double) m.get("judge_fid"),
                            perImage * 1e3);
                }
            }
        }
    }

    private static SampleGenerator generator(VarPipeline var, VarSettings settings) {
        return new SampleGenerator() {
            @Override
            public int numClasses() {
                return var.numClasses();
            }

            @Override
            public List<GeneratedImage> generate(int[] classes, long seed) {
                return var.generate(classes, seed, settings).images();
            }

            @Override
            public String describe() {
                return var.describe();
            }

            @Override
            public void close() {}
        };
    }
}
