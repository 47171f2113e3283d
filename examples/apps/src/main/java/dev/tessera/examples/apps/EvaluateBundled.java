package dev.tessera.examples.apps;

import dev.tessera.engine.ops.Ops;
import dev.tessera.examples.fid.JudgeCnn;
import dev.tessera.examples.fid.JudgeMetrics;
import dev.tessera.samplers.BundledModels;
import dev.tessera.samplers.GeneratedImage;
import dev.tessera.samplers.var.VarPipeline;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * A small evaluation of the bundled VAR: {@code perClass} samples of every class, classified by the bundled judge
 * CNN; prints the class accuracy per class and overall and writes the misclassified samples as PNGs to look at.
 * ({@code tessera eval --metrics fmnist} does the full protocol with FID and nearest-image distances.)
 *
 * <pre>java ... dev.tessera.examples.apps.EvaluateBundled [OUT_DIR] [PER_CLASS]</pre>
 */
public final class EvaluateBundled {
    private EvaluateBundled() {}

    public static void main(String[] args) {
        Path out = Path.of(args.length > 0 ? args[0] : "misclassified");
        int perClass = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        Path dir = BundledModels.directory();
        int ok = 0, total = 0;
        try (VarPipeline var = VarPipeline.loadDefault();
                JudgeCnn judge = JudgeCnn.load(dir.resolve(BundledModels.JUDGE), Ops.cpu())) {
            for (int c = 0; c < var.numClasses(); c++) {
                int[] labels = new int[perClass];
                Arrays.fill(labels, c);
                List<GeneratedImage> images = var.generate(labels, 100 + c).images();
                int right = 0;
                for (int i = 0; i < perClass; i++) {
                    int said =
                            judge.judge(JudgeMetrics.judgeInput(images.get(i))).label();
                    if (said == c) {
                        right++;
                    } else {
                        if (!out.toFile().isDirectory() && !out.toFile().mkdirs())
                            throw new IllegalStateException("cannot create " + out);
                        images.get(i).writePng(out.resolve(String.format("class%d-%02d-judged%d.png", c, i, said)));
                    }
                }
                System.out.printf(
                        Locale.ROOT,
                        "%-12s %5.1f%%%n",
                        BundledModels.FASHION_MNIST_CLASSES.get(c),
                        100.0 * right / perClass);
                ok += right;
                total += perClass;
            }
        }
        System.out.printf(Locale.ROOT, "class accuracy %.1f%% of %d samples%n", 100.0 * ok / total, total);
    }
}
