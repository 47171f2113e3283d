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

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** {@code tessera eval --metrics fmnist}: a Fashion-MNIST model judged by the bundled CNN (see {@link JudgeMetrics}). */
final class JudgedEval {
    static final List<String> OPTIONS = List.of("judge", "judge-stats", "train-images");

    private JudgedEval() {
    }

    @SuppressWarnings("unchecked")
    static int run(Args a, WeightPanels.Format weights, PrintStream out) {
        for (String o : new String[] {"ref", "inception", "preprocess", "max-new"}) {
            if (a.has(o)) throw new UsageException("--" + o + " is not an option of --metrics fmnist");
        }
        ModelFamily family = ModelFamily.byId(a.get("model-family") == null ? "var" : a.get("model-family"));
        if (family == null) throw new UsageException("unknown --model-family '" + a.get("model-family") + "' (available: var, llamagen, nar, flowar)");
        String tokOpt = family.tokenizerOption();
        boolean useBundle = !a.has("model") && !a.has(tokOpt);
        if (useBundle && family != ModelFamily.VAR) throw new UsageException("the bundle has a VAR only; give --model and --" + tokOpt + " for " + family.id());
        BundledVar bundle = useBundle || !a.has("judge") || !a.has("judge-stats") ? BundledVar.locate() : null;
        Path model = useBundle ? bundle.model() : Path.of(a.require("model"));
        Path tokenizer = useBundle ? bundle.vae() : Path.of(a.require(tokOpt));
        Path judgeFile = a.has("judge") ? Path.of(a.get("judge")) : bundle.file(BundledVar.JUDGE);
        Path statsFile = a.has("judge-stats") ? Path.of(a.get("judge-stats")) : bundle.file(BundledVar.JUDGE_STATS);
        Path realFile = bundle != null ? bundle.dir().resolve(BundledVar.TEST_IMAGES) : null;
        Path trainDir = a.has("train-images") ? Path.of(a.get("train-images")) : FashionMnist.DEBIAN_DIR;
        for (Path p : new Path[] {model, tokenizer, judgeFile, statsFile}) {
            if (!Files.isRegularFile(p)) throw new UsageException(p + ": no such file");
        }
        if (a.has("train-images") && !Files.isDirectory(trainDir)) throw new UsageException(trainDir + ": no such folder");
        int samples = a.getInt("samples", -1);
        if (!a.has("samples")) a.require("samples");
        if (samples <= 0) throw new UsageException("--samples must be positive, got " + samples);
        int perClass = a.getInt("per-class", samples % 10 == 0 ? samples / 10 : -1);
        if (perClass <= 0) throw new UsageException(a.has("per-class") ? "--per-class must be positive, got " + perClass
                : "--samples (" + samples + ") is not a multiple of 10; give --per-class");
        if (samples % perClass != 0) throw new UsageException("--samples (" + samples + ") must be a multiple of --per-class (" + perClass + ")");
        int batch = a.getInt("batch", 8);
        if (batch <= 0) throw new UsageException("--batch must be positive, got " + batch);
        SampleGenerator.Sampling d = useBundle ? new SampleGenerator.Sampling(BundledVar.SAMPLING.cfg(), BundledVar.SAMPLING.topK(),
                BundledVar.SAMPLING.topP(), 1.0)
                : family.defaults();
        SampleGenerator.Sampling sampling = new SampleGenerator.Sampling(a.getDouble("cfg", d.cfg()), a.getInt("top-k", d.topK()),
                a.getDouble("top-p", d.topP()), a.getDouble("temperature", d.temperature()));
        if (sampling.topK() < 0) throw new UsageException("--top-k must be >= 0, got " + sampling.topK());
        if (sampling.topP() < 0 || sampling.topP() > 1) throw new UsageException("--top-p must be in [0, 1], got " + sampling.topP());
        if (!(sampling.temperature() > 0)) throw new UsageException("--temperature must be positive, got " + sampling.temperature());
        Path dir = a.has("out") ? Path.of(a.get("out")) : null;
        if (dir != null && Files.exists(dir) && !Files.isDirectory(dir)) throw new UsageException(dir + " exists and is not a folder");
        EvalPlan plan = new EvalPlan(family, model, tokenizer, samples, perClass, a.getLong("seed", 0), batch, sampling,
                weights, null, null);

        Ops ops = Ops.cpu();
        long t0 = System.nanoTime();
        try (JudgeCnn judge = JudgeCnn.load(judgeFile, ops); SampleGenerator gen = family.open(model, tokenizer, sampling, weights)) {
            FeatureStats[] stats = JudgeMetrics.bundledStats(statsFile, judge.featureSize());
            FashionMnist real = realFile != null && Files.isRegularFile(realFile) ? FashionMnist.bundledTestImages(realFile) : null;
            FashionMnist train = Files.isDirectory(trainDir) ? FashionMnist.readIdx(trainDir, "train") : null;
            ProgressBar bar = new ProgressBar("eval").withRate("samples").withLogLines(out, 300);
            Map<String, Object> metrics = new JudgeMetrics(judge, ops).measure(gen, plan,
                    new JudgeMetrics.References(stats[0], stats[1], train, real), bar);
            bar.finish();
            double seconds = (System.nanoTime() - t0) * 1e-9;
            Map<String, Object> report = new LinkedHashMap<>();
            report.put("metrics_kind", "fmnist judge");
            report.put("generation", plan.generationSettings());
            report.put("judge", judgeFile.toAbsolutePath().normalize().toString());
            report.put("metrics", metrics);
            report.put("seconds", seconds);
            if (train == null) report.put("notes", List.of("no training images at " + trainDir + ": nearest-image distance left out"));
            print(metrics, samples, seconds, out);
            if (train == null) out.println("note: no training images at " + trainDir + " (Debian package dataset-fashion-mnist): nearest-image distance left out");
            if (dir != null) {
                try {
                    Files.createDirectories(dir);
                } catch (java.io.IOException e) {
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
        out.printf(Locale.ROOT, "%d samples in %s: class accuracy %.2f%% | judge FID %.3f (floor, train vs test: %.3f)%n", samples,
                ProgressBar.duration(seconds), 100 * (double) m.get("class_accuracy"), (double) m.get("judge_fid"),
                (double) m.get("judge_fid_floor_train_vs_test"));
        if (m.get("judge_fid_floor_train_vs_test_same_count") instanceof Double f) {
            out.printf(Locale.ROOT, "judge FID of %d training images vs test (the floor at this sample count): %.3f%n", samples, f);
        }
        Object realAcc = m.get("judge_accuracy_on_real_test_images");
        if (realAcc != null) out.printf(Locale.ROOT, "judge accuracy on 500 real test images: %.2f%%%n", 100 * (double) realAcc);
        if (m.get("nearest_train_rms_samples") instanceof Map<?, ?> s) {
            Map<String, Object> r = (Map<String, Object>) m.get("nearest_train_rms_real_test_images");
            out.printf(Locale.ROOT, "RMS distance to the nearest training image: samples mean %.4f (min %.4f)%s%n", (double) s.get("mean"),
                    (double) s.get("min"), r == null ? "" : String.format(Locale.ROOT, ", real test images mean %.4f (min %.4f)",
                            (double) r.get("mean"), (double) r.get("min")));
        }
    }
}
