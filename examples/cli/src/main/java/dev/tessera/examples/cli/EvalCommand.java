package dev.tessera.examples.cli;

import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.examples.fid.EvalManifest;
import dev.tessera.examples.fid.EvalPlan;
import dev.tessera.examples.fid.EvalRun;
import dev.tessera.examples.fid.ModelFamily;
import dev.tessera.examples.fid.ReferenceSet;
import dev.tessera.examples.fid.SampleGenerator;
import dev.tessera.examples.fid.inception.FidInception;
import dev.tessera.examples.fid.inception.Preprocessing;
import dev.tessera.samplers.mar.MarSettings;
import java.io.File;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;

/** {@code tessera eval}: the FID harness (generate class-balanced samples, measure them, report). */
@Command(
        name = "eval",
        sortOptions = false,
        abbreviateSynopsis = true,
        header = {
            "generate N class-balanced samples; report FID, sFID, IS, precision/recall, KID",
            "(--metrics fmnist: class accuracy and judge FID of a Fashion-MNIST model)"
        },
        description = {
            "Generates N class-balanced samples (K of each of N/K classes spread over the model's classes; 50 x 1000",
            "for the ImageNet protocol of VAR and FlowAR), extracts their Inception features, and reports FID, sFID,",
            "Inception Score, precision/recall and KID against the reference, in DIR/report.json and DIR/report.html",
            "(metrics, settings, timings and a grid of samples per class).",
            "",
            "The run can be interrupted at any time: started again with the same command it continues where it",
            "stopped (samples in DIR/samples, features in DIR/features are kept as they are made). Another --ref on",
            "an existing DIR only recomputes the metrics.",
            "",
            "Required: --model-family, --model, --vae (var, flowar, mar) or --vq (llamagen, nar), --samples,",
            "--per-class, --ref, --inception, --out. Sampling defaults are each family's official FID settings (var:",
            "VarSettings, llamagen and nar: TokenSettings, flowar: the size's FlowArSettings, mar: the size's",
            "MarSettings). MAR takes the options of 'generate mar' (--heads, --num-iter, --cfg-schedule,",
            "--diffusion-steps, --temperature, and --sampler cspd with --draft, --draft-heads, --cspd-rule, --gamma,",
            "--prefill, --inner-temperature).",
            "",
            "Fashion-MNIST models (the zoo in examples/models/fmnist) are judged by the bundled CNN instead of the",
            "Inception with --metrics fmnist: class accuracy (the judge's label equals the requested class), the FID",
            "in the judge's feature space against the test set with the real-vs-real floor (train vs test) beside it,",
            "and each sample's RMS distance to its nearest training image beside that of real test images (samples",
            "are not copies when it is not smaller). --model/--vae default to the bundled VAR (var-d3) and its card's",
            "sampling; --per-class defaults to N/10; --ref, --inception and --out are not needed (--out DIR writes",
            "DIR/report.json).",
            ""
        },
        footer = {
            "",
            "Examples:",
            "  tessera eval --model-family var --metrics fmnist --samples 1000",
            "  tessera eval --model-family var --model var_d16.pth --vae vae_ch160v4096z32.pth --samples 50000 \\",
            "      --per-class 50 --ref VIRTUAL_imagenet256_labeled.npz \\",
            "      --inception pt_inception-2015-12-05-6726825d.pth --out eval-d16/"
        })
public final class EvalCommand extends CommandBase {
    @Option(names = "--model-family", paramLabel = "F", description = "var, llamagen, nar, flowar or mar")
    String modelFamily;

    @Option(names = "--model", paramLabel = "FILE", description = "the model checkpoint")
    Path model;

    @Option(names = "--vae", paramLabel = "FILE", description = "VAR's VQ-VAE (var) or MAR's KL-16 (flowar, mar)")
    Path vae;

    @Option(names = "--vq", paramLabel = "FILE", description = "the VQ tokenizer (llamagen, nar)")
    Path vq;

    @Option(names = "--samples", paramLabel = "N", description = "how many samples (50000 for the published numbers)")
    Integer samples;

    @Option(names = "--per-class", paramLabel = "K", description = "samples per class (N must be a multiple of K)")
    Integer perClass;

    @Option(
            names = "--ref",
            paramLabel = "REF.npz",
            description = "the reference: an ADM reference batch (VIRTUAL_imagenet256_labeled.npz: arr_0, mu, sigma, "
                    + "mu_s, sigma_s), pytorch-fid statistics (mu, sigma: FID only), or an image batch (arr_0)")
    Path ref;

    @Option(
            names = "--inception",
            paramLabel = "FILE",
            description = "pt_inception-2015-12-05-6726825d.pth (pytorch-fid's FID Inception weights)")
    Path inception;

    @Option(names = "--out", paramLabel = "DIR", description = "the evaluation folder")
    Path out;

    @Mixin
    SeedOption seed = new SeedOption();

    @Option(names = "--cfg", paramLabel = "F", description = "classifier-free guidance")
    Double cfg;

    @Option(names = "--top-k", paramLabel = "K", description = "keep the K largest logits (0 = off; not for flowar)")
    Integer topK;

    @Option(
            names = "--top-p",
            paramLabel = "P",
            description = "nucleus threshold (var: 0 = off; llamagen, nar: 1.0 = off; not for flowar)")
    Double topP;

    @Option(names = "--temperature", paramLabel = "T", description = "llamagen, nar, mar (its diffusion noise)")
    Double temperature;

    @Option(
            names = "--heads",
            paramLabel = "E[,D]",
            description = "mar: encoder and decoder heads (default: 12 for width 768, 16 for 1024 and 1280)")
    String heads;

    @Option(names = "--num-iter", paramLabel = "N", description = "mar: MAR steps (default 256)")
    String numIter;

    @Option(names = "--cfg-schedule", paramLabel = "NAME", description = "mar: linear (default) or constant")
    String cfgSchedule;

    @Option(names = "--diffusion-steps", paramLabel = "K", description = "mar: DDPM sampling steps (default 100)")
    String diffusionSteps;

    @Option(names = "--sampler", paramLabel = "NAME", description = "mar: mar (default) or cspd (needs --draft)")
    String sampler;

    @Option(names = "--draft", paramLabel = "FILE", description = "mar: the CSpD draft MAR checkpoint")
    Path draft;

    @Option(names = "--draft-heads", paramLabel = "E[,D]", description = "mar: the draft's heads")
    String draftHeads;

    @Option(names = "--cspd-rule", paramLabel = "NAME", description = "mar: released (default) or exact")
    String cspdRule;

    @Option(names = "--gamma", paramLabel = "G", description = "mar CSpD: verify every G draft steps (default 8)")
    String gamma;

    @Option(names = "--prefill", paramLabel = "R", description = "mar CSpD: the target makes steps s <= R·N (0.15)")
    String prefill;

    @Option(
            names = "--inner-temperature",
            paramLabel = "T",
            description = "mar CSpD released rule: inner temperature (default 42)")
    String innerTemperature;

    @Option(
            names = "--batch",
            paramLabel = "B",
            description = "images per generation batch (default ${DEFAULT-VALUE}); batch b is generated from seed S+b")
    int batch = 8;

    @Option(
            names = "--preprocess",
            paramLabel = "MODE",
            description = "adm (default: the ADM evaluator, as VAR/LlamaGen/FlowAR report), pytorch-fid, clean-fid; "
                    + "must match how the reference statistics were made")
    String preprocess;

    @Option(
            names = "--max-new",
            paramLabel = "M",
            description = "stop after M new samples (run the same command again to continue)")
    Integer maxNew;

    @Mixin
    LoadOptions load = new LoadOptions();

    @Option(
            names = "--spark",
            paramLabel = "MASTER",
            description = "run the batches as Apache Spark tasks: local[N] (an embedded Spark, N threads; failed "
                    + "tasks retried 4 times) or a cluster's master URL; same samples and numbers as without it. "
                    + "With it the files and --out may be URIs (hdfs://, s3a://, file:) read and written through "
                    + "Hadoop")
    String spark;

    @Option(names = "--metrics", paramLabel = "KIND", description = "inception (default) or fmnist (see above)")
    String metrics = "inception";

    @Option(names = "--judge", paramLabel = "FILE", description = "fmnist: another judge (default: the bundle's)")
    Path judge;

    @Option(
            names = "--judge-stats",
            paramLabel = "FILE",
            description = "fmnist: another judge's feature statistics (default: the bundle's)")
    Path judgeStats;

    @Option(
            names = "--train-images",
            paramLabel = "DIR",
            description = "fmnist: the Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist, Debian's "
                    + "dataset-fashion-mnist); without them the nearest-image distance is left out")
    Path trainImages;

    public EvalCommand(PrintStream out) {
        super(out);
    }

    @Override
    public Integer call() {
        try {
            return evaluate();
        } finally {
            load.close();
        }
    }

    private int evaluate() {
        WeightPanels.Format format = load.start(super.out);
        if (metrics.equals("fmnist")) return JudgedEval.run(this, format, super.out);
        if (!metrics.equals("inception"))
            throw new UsageException("unknown --metrics '" + metrics + "' (inception or fmnist)");
        for (String o : JudgedEval.OPTIONS) {
            if (given(o)) throw new UsageException(o + " belongs to --metrics fmnist");
        }
        String familyName = require(modelFamily, "--model-family");
        ModelFamily family = ModelFamily.byId(familyName);
        if (family == null)
            throw new UsageException(
                    "unknown --model-family '" + familyName + "' (available: var, llamagen, nar, flowar, mar)");
        String other = family.tokenizerOption().equals("vae") ? "vq" : "vae";
        if (given("--" + other)) {
            throw new UsageException("--" + other + " is not an option of the " + family.id() + " family (it takes --"
                    + family.tokenizerOption() + ")");
        }
        Path modelFile = require(model, "--model"),
                tokenizer = require(tokenizer(family), "--" + family.tokenizerOption());
        Path refFile = require(ref, "--ref"),
                inceptionFile = require(inception, "--inception"),
                dir = require(out, "--out");
        int n = positive(samples, "--samples"), k = positive(perClass, "--per-class"), b = positive(batch, "--batch");
        if (n % k != 0) throw new UsageException("--samples (" + n + ") must be a multiple of --per-class (" + k + ")");
        if (maxNew != null && maxNew < 0) throw new UsageException("--max-new must be positive, got " + maxNew);
        if (!family.usesTemperature() && temperature != null)
            throw new UsageException("--temperature is not an option of the " + family.id() + " family");
        if (!family.usesTokenFilters()) {
            if (topK != null) throw new UsageException("--top-k is not an option of the " + family.id() + " family");
            if (topP != null) throw new UsageException("--top-p is not an option of the " + family.id() + " family");
        }
        if ((family == ModelFamily.FLOWAR || family == ModelFamily.MAR) && cfg != null && !(cfg >= 1)) {
            throw new UsageException("--cfg must be at least 1 for " + family.id()
                    + " (1 = no guidance; leave it out for the official value)");
        }
        SampleGenerator.Sampling sampling = sampling(family.defaults()).withOptions(familyOptions(family));
        Preprocessing mode = FidCommand.preprocessing(preprocess);
        if (spark == null) { // without Spark a URI would be taken for a relative path (and hdfs:/ made here)
            for (String o :
                    new String[] {"--model", "--" + family.tokenizerOption(), "--inception", "--ref", "--out"}) {
                if (text(o).matches("[A-Za-z][A-Za-z0-9+.-]+://.*"))
                    throw new UsageException(
                            o + " " + text(o) + ": a URI needs --spark (Hadoop's file systems come with it)");
            }
        }
        if (spark != null && load.deviceGiven())
            throw new UsageException("--device is not an option of --spark (the Spark tasks run on the CPU)");
        DistributedEval distributed = spark == null ? null : DistributedEval.find();
        try {
            if (distributed != null) { // files and --out may be URIs (hdfs:, s3a:, ...) for the Spark tasks
                distributed.check(spark);
                modelFile = distributed.input(text("--model"));
                tokenizer = distributed.input(text("--" + family.tokenizerOption()));
                inceptionFile = distributed.input(text("--inception"));
                refFile = distributed.input(text("--ref"));
            }
            for (Path p : new Path[] {modelFile, tokenizer, inceptionFile}) {
                if (!Files.isRegularFile(p)) throw new UsageException(p + ": no such file");
            }
            if (distributed != null) dir = distributed.output(text("--out"));
            EvalPlan plan = new EvalPlan(
                    family, modelFile, tokenizer, n, k, seed.seed(), b, sampling, format, inceptionFile, mode);
            if (distributed != null) plan = plan.withSources(distributed.sources());
            return run(family, plan, refFile, dir, maxNew == null ? 0 : maxNew, distributed);
        } finally {
            if (distributed != null) distributed.close();
        }
    }

    /** A path option's text as given (its Path loses a URI's '//'). */
    private String text(String option) {
        OptionSpec o = spec.commandLine().getParseResult().matchedOption(option);
        return o == null || o.originalStringValues().isEmpty()
                ? ""
                : o.originalStringValues().getLast();
    }

    /** The MAR options given, by {@link ModelFamily#MAR_OPTIONS} name, checked; an error for another family. */
    private Map<String, String> familyOptions(ModelFamily family) {
        Map<String, String> o = new LinkedHashMap<>();
        put(o, "heads", heads);
        put(o, "num_iter", numIter);
        put(o, "cfg_schedule", cfgSchedule);
        put(o, "diffusion_steps", diffusionSteps);
        put(o, "sampler", sampler);
        if (draft != null) {
            if (!Files.isRegularFile(draft)) throw new UsageException(draft + ": no such file (--draft)");
            o.put("draft", draft.toAbsolutePath().normalize().toString());
        }
        put(o, "draft_heads", draftHeads);
        put(o, "cspd_rule", cspdRule);
        put(o, "gamma", gamma);
        put(o, "prefill", prefill);
        put(o, "inner_temperature", innerTemperature);
        if (family != ModelFamily.MAR) {
            if (!o.isEmpty()) {
                throw new UsageException("--" + o.keySet().iterator().next().replace('_', '-')
                        + " is not an option of the " + family.id() + " family (only of mar)");
            }
            return o;
        }
        try {
            ModelFamily.marSettings(
                    new MarSettings(256, 3.0, MarSettings.CfgSchedule.LINEAR, 1.0, 100, null, null),
                    new SampleGenerator.Sampling(0, 0, 1.0, temperature != null ? temperature : 1.0, o));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        return o;
    }

    private static void put(Map<String, String> o, String key, String value) {
        if (value != null) o.put(key, value);
    }

    /** --vae or --vq, whichever the family takes. */
    Path tokenizer(ModelFamily family) {
        return family.tokenizerOption().equals("vae") ? vae : vq;
    }

    /** The sampling options over a family's (or the bundle's) defaults, checked. */
    SampleGenerator.Sampling sampling(SampleGenerator.Sampling d) {
        SampleGenerator.Sampling s = new SampleGenerator.Sampling(
                cfg != null ? cfg : d.cfg(),
                topK != null ? topK : d.topK(),
                topP != null ? topP : d.topP(),
                temperature != null ? temperature : d.temperature());
        if (s.topK() < 0) throw new UsageException("--top-k must be >= 0, got " + s.topK());
        if (s.topP() < 0 || s.topP() > 1) throw new UsageException("--top-p must be in [0, 1], got " + s.topP());
        if (!(s.temperature() > 0)) throw new UsageException("--temperature must be positive, got " + s.temperature());
        return s;
    }

    int positive(Integer value, String option) {
        int v = require(value, option);
        if (v <= 0) throw new UsageException(option + " must be positive, got " + v);
        return v;
    }

    private int run(
            ModelFamily family, EvalPlan plan, Path refFile, Path dir, int maxNew, DistributedEval distributed) {
        PrintStream out = super.out;
        Path modelFile = plan.model(), tokenizer = plan.tokenizer();
        SampleGenerator.Sampling sampling = plan.sampling();
        WeightPanels.Format weights = plan.weights();
        // everything that can be checked is checked before the folder is touched
        boolean existing = EvalManifest.check(dir, plan);
        try (ReferenceSet ref = ReferenceSet.open(refFile)) {
            // a new run loads the model first, so that a bad file or too many classes fail before the Inception is
            // read and before DIR exists
            SampleGenerator[] first = {
                existing ? null : family.open(modelFile, tokenizer, sampling, weights, load.ops())
            };
            FidInception net;
            try {
                if (first[0] != null) plan.checkClasses(first[0].numClasses());
                net = FidInception.load(plan.inception(), load.ops()); // on --device too
            } catch (RuntimeException e) {
                if (first[0] != null) first[0].close();
                throw e;
            }
            try (net) {
                if (!existing) EvalManifest.write(dir, plan);
                if (distributed != null) { // the Spark tasks load their own model; the metrics follow as below
                    if (first[0] != null) {
                        EvalRun.recordModel(dir, first[0]);
                        first[0].close();
                    }
                    first[0] = null;
                    long t0 = System.nanoTime();
                    int done = distributed.generate(spark, plan, dir, maxNew, out);
                    if (done < plan.samples()) {
                        out.printf(
                                "stopped with %d of %d samples done in %s (%s); run the same command again to "
                                        + "continue%n",
                                done,
                                plan.samples(),
                                distributed.place(dir),
                                ProgressBar.duration((System.nanoTime() - t0) * 1e-9));
                        return 0;
                    }
                }
                Supplier<SampleGenerator> generator = () -> {
                    SampleGenerator g = first[0] != null
                            ? first[0]
                            : family.open(modelFile, tokenizer, sampling, weights, load.ops());
                    first[0] = null;
                    return g;
                };
                ProgressBar bar = new ProgressBar("eval").withRate("images").withLogLines(out, 300);
                ProgressBar refBar =
                        new ProgressBar("reference").withRate("images").withLogLines(out, 300);
                long t0 = System.nanoTime();
                EvalRun.Outcome o = new EvalRun(plan, dir, out).run(generator, net, ref, maxNew, bar, refBar);
                bar.finish();
                refBar.finish();
                if (!o.complete()) {
                    out.printf(
                            "stopped with %d of %d samples done in %s (%s); run the same command again to continue%n",
                            o.done(), o.total(), dir, ProgressBar.duration((System.nanoTime() - t0) * 1e-9));
                    return 0;
                }
                if (distributed != null) distributed.publish(dir);
                printReport(o.report(), distributed == null ? dir.toString() : distributed.place(dir), out);
                // the generator's and the Inception's weights
                if (load.deviceGiven()) out.println(DeviceOption.describe(load.ops()));
                return 0;
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static void printReport(Map<String, Object> report, String dir, PrintStream out) {
        Map<String, Object> m = (Map<String, Object>) report.get("metrics");
        out.printf(
                "FID %s | sFID %s | IS %s | precision %s | recall %s | KID %s%n",
                num(m.get("fid")),
                num(m.get("sfid")),
                meanStd(m.get("inception_score")),
                num(m.get("precision")),
                num(m.get("recall")),
                meanStd(m.get("kid")));
        for (Object n : (List<Object>) report.get("notes")) out.println("note: " + n);
        out.printf("wrote %s and %s%n", dir + File.separator + "report.json", dir + File.separator + "report.html");
    }

    private static String num(Object v) {
        return v instanceof Number n ? String.format(Locale.ROOT, "%.4f", n.doubleValue()) : "n/a";
    }

    private static String meanStd(Object v) {
        if (!(v instanceof Map<?, ?> m)) return "n/a";
        return String.format(
                Locale.ROOT,
                "%.4f +- %.4f",
                ((Number) m.get("mean")).doubleValue(),
                ((Number) m.get("std")).doubleValue());
    }
}
