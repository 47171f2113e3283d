package dev.tessera.examples.cli;

import dev.tessera.examples.fid.inception.FidInception;
import dev.tessera.examples.fid.inception.Preprocessing;
import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.engine.ops.Ops;
import dev.tessera.examples.fid.EvalManifest;
import dev.tessera.examples.fid.EvalPlan;
import dev.tessera.examples.fid.EvalRun;
import dev.tessera.examples.fid.ModelFamily;
import dev.tessera.examples.fid.ReferenceSet;
import dev.tessera.examples.fid.SampleGenerator;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/** {@code tessera eval}: the FID harness (generate class-balanced samples, measure them, report). */
public final class EvalCommand {
    static final String NAME = "tessera eval";
    static final String HELP = """
            Usage: tessera eval --model-family var|llamagen|nar|flowar --model FILE (--vae FILE | --vq FILE)
                                --samples N --per-class K --ref REF.npz --inception FILE --out DIR [options]

            Generates N class-balanced samples (K of each of N/K classes spread over the model's classes; 50 x 1000
            for the ImageNet protocol of VAR and FlowAR), extracts their Inception features, and reports FID, sFID,
            Inception Score, precision/recall and KID against the reference, in DIR/report.json and DIR/report.html
            (metrics, settings, timings and a grid of samples per class).

            The run can be interrupted at any time: started again with the same command it continues where it
            stopped (samples in DIR/samples, features in DIR/features are kept as they are made). Another --ref on
            an existing DIR only recomputes the metrics.

            Required:
              --model-family F    var, llamagen, nar or flowar
              --model FILE        the model checkpoint
              --vae FILE          VAR's VQ-VAE (var) or MAR's KL-16 (flowar); --vq FILE: the VQ tokenizer
                                  (llamagen, nar)
              --samples N         how many samples (50000 for the published numbers)
              --per-class K       samples per class (N must be a multiple of K)
              --ref REF.npz       the reference: an ADM reference batch (VIRTUAL_imagenet256_labeled.npz: arr_0,
                                  mu, sigma, mu_s, sigma_s), pytorch-fid statistics (mu, sigma: FID only), or an
                                  image batch (arr_0)
              --inception FILE    pt_inception-2015-12-05-6726825d.pth (pytorch-fid's FID Inception weights)
              --out DIR           the evaluation folder

            Sampling (defaults: each family's official FID settings; var: cfg 1.5, top-k 900, top-p 0.96;
            llamagen, nar: cfg 2.0, no top-k/top-p, temperature 1; flowar: the size's official cfg, guidance
            and steps, Euler solver):
              --seed S            base seed (default 0): batch b of the samples is generated from seed S+b
              --cfg F             classifier-free guidance
              --top-k K           keep the K largest logits (0 = off; not for flowar)
              --top-p P           nucleus threshold (var: 0 = off; llamagen, nar: 1.0 = off; not for flowar)
              --temperature T     llamagen, nar

            Run:
              --batch B           images per generation batch (default 8)
              --preprocess MODE   adm (default: the ADM evaluator, as VAR/LlamaGen/FlowAR report), pytorch-fid,
                                  clean-fid; must match how the reference statistics were made
              --max-new M         stop after M new samples (run the same command again to continue)
              --weights F         f32 (default) or bf16: generate with bfloat16 linear weights (recorded in
                                  eval.json; a folder holds samples of one format only)

            Fashion-MNIST models (the zoo in examples/models/fmnist), judged by the bundled CNN instead of Inception:
              --metrics fmnist    report class accuracy (the judge's label equals the requested class), the FID
                                  in the judge's feature space against the test set with the real-vs-real floor
                                  (train vs test) beside it, and each sample's RMS distance to its nearest training
                                  image beside that of real test images (samples are not copies when it is not
                                  smaller). --model/--vae default to the bundled VAR (var-d3) and its card's
                                  sampling (cfg 3, no top-k/top-p); --per-class defaults to N/10; --ref,
                                  --inception and --out are not needed (--out DIR writes DIR/report.json).
              --judge FILE, --judge-stats FILE
                                  another judge / feature statistics (default: the bundle's)
              --train-images DIR  the Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist, Debian's
                                  dataset-fashion-mnist); without them the nearest-image distance is left out

            Examples:
              tessera eval --model-family var --metrics fmnist --samples 1000
              tessera eval --model-family var --model var_d16.pth --vae vae_ch160v4096z32.pth --samples 50000 \\
                  --per-class 50 --ref VIRTUAL_imagenet256_labeled.npz \\
                  --inception pt_inception-2015-12-05-6726825d.pth --out eval-d16/
            """;

    private EvalCommand() {
    }

    public static int run(List<String> argv, PrintStream out) {
        Args a = Args.parse(NAME, argv, Set.of("model-family", "model", "vae", "vq", "samples", "per-class", "ref", "inception",
                "out", "seed", "cfg", "top-k", "top-p", "temperature", "batch", "preprocess", "max-new", "weights", "metrics", "judge",
                "judge-stats", "train-images"), Set.of("help"));
        if (a.has("help")) {
            out.print(HELP);
            return 0;
        }
        a.rejectPositional();
        WeightPanels.Format weights = a.weights(out);
        String metrics = a.get("metrics") == null ? "inception" : a.get("metrics");
        if (metrics.equals("fmnist")) return JudgedEval.run(a, weights, out);
        if (!metrics.equals("inception")) throw new UsageException("unknown --metrics '" + metrics + "' (inception or fmnist)");
        for (String o : JudgedEval.OPTIONS) {
            if (a.has(o)) throw new UsageException("--" + o + " belongs to --metrics fmnist");
        }
        String familyName = a.require("model-family");
        ModelFamily family = ModelFamily.byId(familyName);
        if (family == null) throw new UsageException("unknown --model-family '" + familyName + "' (available: var, llamagen, nar, flowar)");
        String other = family.tokenizerOption().equals("vae") ? "vq" : "vae";
        if (a.has(other)) throw new UsageException("--" + other + " is not an option of the " + family.id() + " family (it takes --" + family.tokenizerOption() + ")");
        Path model = Path.of(a.require("model")), tokenizer = Path.of(a.require(family.tokenizerOption()));
        Path refFile = Path.of(a.require("ref")), inception = Path.of(a.require("inception")), dir = Path.of(a.require("out"));
        int samples = positive(a, "samples", -1), perClass = positive(a, "per-class", -1), batch = positive(a, "batch", 8);
        if (samples % perClass != 0) throw new UsageException("--samples (" + samples + ") must be a multiple of --per-class (" + perClass + ")");
        int maxNew = a.getInt("max-new", 0);
        if (maxNew < 0) throw new UsageException("--max-new must be positive, got " + maxNew);
        if (!family.usesTemperature() && a.has("temperature")) throw new UsageException("--temperature is not an option of the " + family.id() + " family");
        for (String o : new String[] {"top-k", "top-p"}) {
            if (!family.usesTokenFilters() && a.has(o)) throw new UsageException("--" + o + " is not an option of the " + family.id() + " family");
        }
        if (family == ModelFamily.FLOWAR && a.get("cfg") != null && !(a.getDouble("cfg", 1) >= 1)) {
            throw new UsageException("--cfg must be at least 1 for flowar (1 = no guidance; leave it out for the official value)");
        }
        SampleGenerator.Sampling d = family.defaults();
        SampleGenerator.Sampling sampling = new SampleGenerator.Sampling(a.getDouble("cfg", d.cfg()), a.getInt("top-k", d.topK()),
                a.getDouble("top-p", d.topP()), a.getDouble("temperature", d.temperature()));
        if (sampling.topK() < 0) throw new UsageException("--top-k must be >= 0, got " + sampling.topK());
        if (sampling.topP() < 0 || sampling.topP() > 1) throw new UsageException("--top-p must be in [0, 1], got " + sampling.topP());
        if (!(sampling.temperature() > 0)) throw new UsageException("--temperature must be positive, got " + sampling.temperature());
        Preprocessing mode = FidCommand.preprocessing(a);
        for (Path p : new Path[] {model, tokenizer, inception}) {
            if (!Files.isRegularFile(p)) throw new UsageException(p + ": no such file");
        }
        EvalPlan plan = new EvalPlan(family, model, tokenizer, samples, perClass, a.getLong("seed", 0), batch, sampling,
                weights, inception, mode);

        // everything that can be checked is checked before the folder is touched
        boolean existing = EvalManifest.check(dir, plan);
        try (ReferenceSet ref = ReferenceSet.open(refFile)) {
            // a new run loads the model first, so that a bad file or too many classes fail before the Inception is
            // read and before DIR exists
            SampleGenerator[] first = {existing ? null : family.open(model, tokenizer, sampling, weights)};
            FidInception net;
            try {
                if (first[0] != null) plan.checkClasses(first[0].numClasses());
                net = FidInception.load(inception, Ops.cpu());
            } catch (RuntimeException e) {
                if (first[0] != null) first[0].close();
                throw e;
            }
            try (net) {
                if (!existing) EvalManifest.write(dir, plan);
                Supplier<SampleGenerator> generator = () -> {
                    SampleGenerator g = first[0] != null ? first[0] : family.open(model, tokenizer, sampling, weights);
                    first[0] = null;
                    return g;
                };
                ProgressBar bar = new ProgressBar("eval").withRate("images").withLogLines(out, 300);
                ProgressBar refBar = new ProgressBar("reference").withRate("images").withLogLines(out, 300);
                long t0 = System.nanoTime();
                EvalRun.Outcome o = new EvalRun(plan, dir, out).run(generator, net, ref, maxNew, bar, refBar);
                bar.finish();
                refBar.finish();
                if (!o.complete()) {
                    out.printf("stopped with %d of %d samples done in %s (%s); run the same command again to continue%n", o.done(),
                            o.total(), dir, ProgressBar.duration((System.nanoTime() - t0) * 1e-9));
                    return 0;
                }
                printReport(o.report(), dir, out);
                return 0;
            }
        }
    }

    private static int positive(Args a, String name, int fallback) {
        if (fallback < 0) a.require(name);
        int v = a.getInt(name, fallback);
        if (v <= 0) throw new UsageException("--" + name + " must be positive, got " + v);
        return v;
    }

    @SuppressWarnings("unchecked")
    private static void printReport(Map<String, Object> report, Path dir, PrintStream out) {
        Map<String, Object> m = (Map<String, Object>) report.get("metrics");
        out.printf("FID %s | sFID %s | IS %s | precision %s | recall %s | KID %s%n", num(m.get("fid")), num(m.get("sfid")),
                meanStd(m.get("inception_score")), num(m.get("precision")), num(m.get("recall")), meanStd(m.get("kid")));
        for (Object n : (List<Object>) report.get("notes")) out.println("note: " + n);
        out.printf("wrote %s and %s%n", dir.resolve("report.json"), dir.resolve("report.html"));
    }

    private static String num(Object v) {
        return v instanceof Number n ? String.format(Locale.ROOT, "%.4f", n.doubleValue()) : "n/a";
    }

    private static String meanStd(Object v) {
        if (!(v instanceof Map<?, ?> m)) return "n/a";
        return String.format(Locale.ROOT, "%.4f +- %.4f", ((Number) m.get("mean")).doubleValue(), ((Number) m.get("std")).doubleValue());
    }
}
