package dev.tessera.examples.cli;

import dev.tessera.engine.io.Json;
import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.engine.ops.Ops;
import dev.tessera.examples.fid.EvalPlan;
import dev.tessera.examples.fid.FashionMnist;
import dev.tessera.examples.fid.FeatureStats;
import dev.tessera.examples.fid.JudgeCnn;
import dev.tessera.examples.fid.JudgeMetrics;
import dev.tessera.examples.fid.ModelFamily;
import dev.tessera.examples.fid.SampleGenerator;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code tessera eval --metrics fmnist}: a Fashion-MNIST model judged by the bundled CNN (see {@link JudgeMetrics}).
 */
final class JudgedEval {
    static final List<String> OPTIONS = List.of("--judge", "--judge-stats", "--train-images");

    private JudgedEval() {}

    @SuppressWarnings("unchecked")
    static int run(EvalCommand a, WeightPanels.Format weights, PrintStream out) {
        for (String o : new String[] {"--ref", "--inception", "--preprocess", "--max-new", "--spark"}) {
            if (a.given(o)) throw new UsageException(o + " is not an option of --metrics fmnist");
        }
        ModelFamily family = ModelFamily.byId(a.modelFamily == null ? "var" : a.modelFamily);
        if (family == null)
            throw new UsageException(
                    "unknown --model-family '" + a.modelFamily + "' (available: var, llamagen, nar, flowar)");
        String tokOpt = family.tokenizerOption();
        boolean useBundle = a.model == null && a.tokenizer(family) == null;
        if (useBundle && family != ModelFamily.VAR)
            throw new UsageException("the bundle has a VAR only; give --model and --" + tokOpt + " for " + family.id());
        BundledVar bundle = useBundle || a.judge == null || a.judgeStats == null ? BundledVar.locate() : null;
        Path model = useBundle ? bundle.model() : a.require(a.model, "--model");
        Path tokenizer = useBundle ? bundle.vae() : a.require(a.tokenizer(family), "--" + tokOpt);
        Path judgeFile = a.judge != null ? a.judge : bundle.file(BundledVar.JUDGE);
        Path statsFile = a.judgeStats != null ? a.judgeStats : bundle.file(BundledVar.JUDGE_STATS);
        Path realFile = bundle != null ? bundle.dir().resolve(BundledVar.TEST_IMAGES) : null;
        Path trainDir = a.trainImages != null ? a.trainImages : FashionMnist.DEBIAN_DIR;
        for (Path p : new Path[] {model, tokenizer, judgeFile, statsFile}) {
            if (!Files.isRegularFile(p)) throw new UsageException(p + ": no such file");
        }
        if (a.trainImages != null && !Files.isDirectory(trainDir))
            throw new UsageException(trainDir + ": no such folder");
        int samples = a.positive(a.samples, "--samples");
        int perClass = a.perClass != null ? a.perClass : samples % 10 == 0 ? samples / 10 : -1;
        if (perClass <= 0)
            throw new UsageException(
                    a.perClass != null
                            ? "--per-class must be positive, got " + perClass
                            : "--samples (" + samples + ") is not a multiple of 10; give --per-class");
        if (samples % perClass != 0)
            throw new UsageException(
                    "--samples (" + samples + ") must be a multiple of --per-class (" + perClass + ")");
        int batch = a.positive(a.batch, "--batch");
        SampleGenerator.Sampling d = useBundle
                ? new SampleGenerator.Sampling(
                        BundledVar.SAMPLING.cfg(), BundledVar.SAMPLING.topK(), BundledVar.SAMPLING.topP(), 1.0)
                : family.defaults();
        SampleGenerator.Sampling sampling = a.sampling(d);
        Path dir = a.out;
        if (dir != null && Files.exists(dir) && !Files.isDirectory(dir))
            throw new UsageException(dir + " exists and is not a folder");
        EvalPlan plan = new EvalPlan(
                family, model, tokenizer, samples, perClass, a.seed.seed(), batch, sampling, weights, null, null);

        Ops ops = Ops.cpu();
        long t0 = System.nanoTime();
        try (JudgeCnn judge = JudgeCnn.load(judgeFile, ops);
                SampleGenerator gen = family.open(model, tokenizer, sampling, weights, a.load.ops())) {
            FeatureStats[] stats = JudgeMetrics.bundledStats(statsFile, judge.featureSize());
            FashionMnist real =
                    realFile != null && Files.isRegularFile(realFile) ? FashionMnist.bundledTestImages(realFile) : null;
            FashionMnist train = Files.isDirectory(trainDir) ? FashionMnist.readIdx(trainDir, "train") : null;
            ProgressBar bar = new ProgressBar("eval").withRate("samples").withLogLines(out, 300);
            Map<String, Object> metrics = new JudgeMetrics(judge, ops)
                    .measure(gen, plan, new JudgeMetrics.References(stats[0], stats[1], train, real), bar);
            bar.finish();
            double seconds = (System.nanoTime() - t0) * 1e-9;
            Map<String, Object> report = new LinkedHashMap<>();
            report.put("metrics_kind", "fmnist judge");
            report.put("generation", plan.generationSettings());
            report.put("judge", judgeFile.toAbsolutePath().normalize().toString());
            report.put("metrics", metrics);
            report.put("seconds", seconds);
            if (train == null)
                report.put("notes", List.of("no training images at " + trainDir + ": nearest-image distance left out"));
            print(metrics, samples, seconds, out);
            if (train == null)
                out.println("note: no training images at " + trainDir
                        + " (Debian package dataset-fashion-mnist): nearest-image distance left out");
            if (dir != null) {
                try {
                    Files.createDirectories(dir);
                } catch (IOException e) {
                    throw new UsageException(dir + ": cannot create the folder (" + e.getMessage() + ")");
                }
                Json.write(dir.resolve("report.json"), report);
                out.println("wrote " + dir.resolve("report.json"));
            }
            return 0;
        }
    }

    @SuppressWarnings("unchecked")
    private static void print(Map<String, Object> m, int samples, double seconds, PrintStream out) {
        out.printf(
                Locale.ROOT,
                "%d samples in %s: class accuracy %.2f%% | judge FID %.3f (floor, train vs test: %.3f)%n",
                samples,
                ProgressBar.duration(seconds),
                100 * (double) m.get("class_accuracy"),
                (double) m.get("judge_fid"),
                (double) m.get("judge_fid_floor_train_vs_test"));
        if (m.get("judge_fid_floor_train_vs_test_same_count") instanceof Double f) {
            out.printf(
                    Locale.ROOT,
                    "judge FID of %d training images vs test (the floor at this sample count): %.3f%n",
                    samples,
                    f);
        }
        Object realAcc = m.get("judge_accuracy_on_real_test_images");
        if (realAcc != null)
            out.printf(Locale.ROOT, "judge accuracy on 500 real test images: %.2f%%%n", 100 * (double) realAcc);
        if (m.get("nearest_train_rms_samples") instanceof Map<?, ?> s) {
            Map<String, Object> r = (Map<String, Object>) m.get("nearest_train_rms_real_test_images");
            out.printf(
                    Locale.ROOT,
                    "RMS distance to the nearest training image: samples mean %.4f (min %.4f)%s%n",
                    (double) s.get("mean"),
                    (double) s.get("min"),
                    r == null
                            ? ""
                            : String.format(
                                    Locale.ROOT,
                                    ", real test images mean %.4f (min %.4f)",
                                    (double) r.get("mean"),
                                    (double) r.get("min")));
        }
    }
}
