package dev.tessera.examples.cli;

import dev.tessera.engine.io.Json;
import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.engine.ops.Parallel;
import dev.tessera.examples.fid.FeatureRows;
import dev.tessera.examples.fid.FeatureStats;
import dev.tessera.examples.fid.FrechetDistance;
import dev.tessera.examples.fid.JudgeCnn;
import dev.tessera.examples.fid.JudgeMetrics;
import dev.tessera.samplers.BundledModels;
import dev.tessera.samplers.GeneratedImage;
import dev.tessera.samplers.Generation;
import dev.tessera.samplers.Progress;
import dev.tessera.samplers.TokenDetails;
import dev.tessera.samplers.ar.JacobiSampler;
import dev.tessera.samplers.ar.SamplerStats;
import dev.tessera.samplers.flowar.FlowArDetails;
import dev.tessera.samplers.flowar.FlowArPipeline;
import dev.tessera.samplers.flowar.FlowArSettings;
import dev.tessera.samplers.flowar.FlowCspdSettings;
import dev.tessera.samplers.flowar.FlowSampler;
import dev.tessera.samplers.llamagen.LlamaGenPipeline;
import dev.tessera.samplers.llamagen.LlamaGenSettings;
import dev.tessera.samplers.llamagen.Sampler;
import dev.tessera.samplers.mar.CspdSettings;
import dev.tessera.samplers.mar.MarDetails;
import dev.tessera.samplers.mar.MarPipeline;
import dev.tessera.samplers.mar.MarSettings;
import dev.tessera.samplers.nar.NarPipeline;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code tessera bench samplers}: the samplers measured on the bundled Fashion-MNIST LlamaGen target and draft (models
 * that learned something, so acceptance rates mean something): per sampler and setting, target and draft forwards
 * per image, acceptance, seconds per image at batch 1, and the quality of the same samples by the bundled judge
 * (class accuracy, judge FID against the test set's statistics).
 */
@Command(
        name = "samplers",
        sortOptions = false,
        header = "the samplers on the bundled Fashion-MNIST LlamaGen pair, NAR and FlowAR: forwards, acceptance, time, "
                + "quality",
        description = {
            "Runs every sampler setting of the table in the README on the bundled LlamaGen target (and draft): N",
            "images each, one per call (batch 1), class i mod 10 from seed S+i, cfg 3 (the card's), temperature 1.",
            "Reports target and draft forward passes per image, the share of proposed tokens accepted, seconds per",
            "image (tokens and decode, after 10 untimed images of every row), and the judge's class accuracy and",
            "judge FID of the N samples against the test set (FID is biased upwards at small N: compare rows at",
            "equal N). The flowar rows run the bundled FlowAR target and its draft alone at their card's settings",
            "(their forwards: AR passes plus flow-head evaluations, 4 + 96 per image), the target on the",
            "Euler-Maruyama solver, and the target with the CSpD-style verifier and the bundled draft (an",
            "approximation of the target: see generate flowar --help). The mar rows run the bundled MAR target",
            "and draft alone at their card's settings (16 steps, cfg 3 linear, 500 DDPM steps) and the target with",
            "continuous speculative decoding (CSpD) and the bundled draft: the released rule at several gamma and",
            "inner temperatures, and the exact rule (forwards: encoder/decoder passes; acceptance: drafted tokens",
            "accepted).",
            ""
        })
final class SamplersBench extends CommandBase {
    /** Which bundled model a row runs. */
    enum Model {
        /** the LlamaGen target (with its draft where the sampler uses one) */
        LLAMAGEN,
        /** the bundled NAR on the same tokenizer, with the settings' token part */
        NAR,
        /** the bundled FlowAR target alone, at its card's settings */
        FLOWAR,
        /** the bundled FlowAR draft alone, at the same settings */
        FLOWAR_DRAFT,
        /** the bundled FlowAR target alone on the Euler–Maruyama solver (what the verifier approximates) */
        FLOWAR_EM,
        /** the bundled FlowAR target with the CSpD-style verifier and the bundled draft (exact rule) */
        FLOWAR_CSPD,
        /** the bundled MAR target alone, at its card's settings */
        MAR,
        /** the bundled MAR draft alone, at the same settings */
        MAR_DRAFT,
        /** the bundled MAR target with CSpD and the bundled draft (the row's CSpD settings) */
        MAR_CSPD
    }

    /** One row of the table: a name, its settings (LlamaGen rows), the model it runs and its CSpD settings (MAR). */
    record Row(String name, LlamaGenSettings settings, Model model, CspdSettings cspd) {
        Row(String name, LlamaGenSettings settings) {
            this(name, settings, Model.LLAMAGEN);
        }

        Row(String name, LlamaGenSettings settings, Model model) {
            this(name, settings, model, null);
        }

        boolean mar() {
            return model == Model.MAR || model == Model.MAR_DRAFT || model == Model.MAR_CSPD;
        }

        boolean nar() {
            return model == Model.NAR;
        }

        boolean flowAr() {
            return model == Model.FLOWAR
                    || model == Model.FLOWAR_DRAFT
                    || model == Model.FLOWAR_EM
                    || model == Model.FLOWAR_CSPD;
        }
    }

    /** What one image cost: forwards (FlowAR: AR passes + flow-head evaluations), proposals, seconds. */
    record Drawn(GeneratedImage image, long target, long draft, long proposed, long accepted, double seconds) {}

    static final int WARMUP = 10;

    @Option(
            names = "--samples",
            paramLabel = "N",
            description = "images per row (default ${DEFAULT-VALUE}; the README's table uses 2000)")
    int samples = 2000;

    @Option(names = "--seed", paramLabel = "S", description = "image i uses seed S+i (default ${DEFAULT-VALUE})")
    long seed = 0;

    @Option(
            names = "--only",
            paramLabel = "ROWS",
            split = ",",
            description = "rows to run, by name (default: all; see --list)")
    List<String> only;

    @Option(names = "--list", description = "print the rows' names and settings, run nothing")
    boolean list;

    @Option(names = "--json", description = "one JSON object on standard output; the table goes to standard error")
    boolean json;

    @Mixin
    LoadOptions load = new LoadOptions();

    SamplersBench(PrintStream out) {
        super(out);
    }

    /** The table's rows: plain AR, speculative γ 2/4/8, LANTERN δ and k, SJD windows, greedy AR and Jacobi. */
    static List<Row> rows() {
        double cfg = BundledModels.LLAMAGEN_CFG;
        List<Row> rows = new ArrayList<>();
        rows.add(new Row("ar", base(cfg).build()));
        for (int g : new int[] {2, 4, 8}) {
            rows.add(new Row(
                    "speculative-g" + g,
                    base(cfg).sampler(Sampler.SPECULATIVE).gamma(g).build()));
        }
        for (double d : new double[] {0, 0.05, 0.1, 0.2, 0.4}) {
            rows.add(new Row(
                    "lantern-d" + fmt(d) + "-k" + LlamaGenSettings.LANTERN_K,
                    base(cfg).sampler(Sampler.LANTERN).gamma(4).lanternDelta(d).build()));
        }
        for (int k : new int[] {4, 16, 64}) {
            rows.add(new Row(
                    "lantern-d0.1-k" + k,
                    base(cfg)
                            .sampler(Sampler.LANTERN)
                            .gamma(4)
                            .lanternDelta(0.1)
                            .lanternK(k)
                            .build()));
        }
        for (int w : new int[] {4, 8, 16}) {
            rows.add(new Row(
                    "sjd-w" + w, base(cfg).sampler(Sampler.SJD).sjdWindow(w).build()));
        }
        rows.add(new Row("ar-greedy", base(cfg).topK(1).build()));
        rows.add(new Row(
                "jacobi-greedy-w16",
                base(cfg)
                        .topK(1)
                        .sampler(Sampler.SJD)
                        .sjdWindow(16)
                        .sjdInit(JacobiSampler.Init.REPEAT_HORIZON)
                        .build()));
        rows.add(new Row("nar", base(cfg).build(), Model.NAR));
        rows.add(new Row("flowar", base(cfg).build(), Model.FLOWAR));
        rows.add(new Row("flowar-draft", base(cfg).build(), Model.FLOWAR_DRAFT));
        rows.add(new Row("flowar-em", base(cfg).build(), Model.FLOWAR_EM));
        rows.add(new Row("flowar-cspd", base(cfg).build(), Model.FLOWAR_CSPD));
        rows.add(new Row("mar", base(cfg).build(), Model.MAR));
        rows.add(new Row("mar-draft", base(cfg).build(), Model.MAR_DRAFT));
        double prefill = CspdSettings.RELEASED_DEFAULTS.prefill();
        for (int g : new int[] {2, 4, 8}) {
            rows.add(new Row(
                    "mar-cspd-g" + g + "-t42",
                    base(cfg).build(),
                    Model.MAR_CSPD,
                    new CspdSettings(g, prefill, 42, CspdSettings.Rule.RELEASED)));
        }
        for (double t : new double[] {1, 5}) {
            rows.add(new Row(
                    "mar-cspd-g4-t" + fmt(t),
                    base(cfg).build(),
                    Model.MAR_CSPD,
                    new CspdSettings(4, prefill, t, CspdSettings.Rule.RELEASED)));
        }
        for (int g : new int[] {2, 4, 8}) {
            rows.add(new Row(
                    "mar-cspd-exact-g" + g,
                    base(cfg).build(),
                    Model.MAR_CSPD,
                    new CspdSettings(g, prefill, 1, CspdSettings.Rule.EXACT)));
        }
        return rows;
    }

    /** The settings in words: sampler, its options, and what differs from the card's sampling. */
    static String describe(Row r) {
        LlamaGenSettings s = r.settings();
        if (r.nar()) return "NAR next-neighbour decoding (bundled lg-nar), cfg " + fmt(s.cfg());
        if (r.mar()) {
            MarSettings m = BundledModels.MAR_SAMPLING;
            CspdSettings c = r.cspd();
            String how = switch (r.model()) {
                case MAR_DRAFT -> "MAR draft alone";
                case MAR_CSPD ->
                    "MAR target + draft, CSpD " + c.rule().name().toLowerCase(Locale.ROOT) + " rule, gamma "
                            + c.gamma() + ", prefill " + fmt(c.prefill())
                            + (c.rule() == CspdSettings.Rule.RELEASED
                                    ? ", inner temperature " + fmt(c.innerTemperature())
                                    : "");
                default -> "MAR target alone";
            };
            return how + ", " + m.numIter() + " steps, cfg " + fmt(m.cfg()) + " linear, " + m.diffusionSteps()
                    + " DDPM steps (forwards: encoder/decoder passes)";
        }
        if (r.flowAr()) {
            FlowArSettings f = BundledModels.FLOWAR_SAMPLING;
            String how = switch (r.model()) {
                case FLOWAR_DRAFT -> "FlowAR draft alone, Euler";
                case FLOWAR_EM -> "FlowAR target alone, Euler-Maruyama";
                case FLOWAR_CSPD ->
                    "FlowAR target + draft, CSpD-style verifier (an approximation; exact rule, prefill "
                            + fmt(FlowCspdSettings.DEFAULTS.prefill()) + "), Euler-Maruyama";
                default -> "FlowAR target alone, Euler";
            };
            return how + " " + f.steps() + " steps, cfg " + fmt(f.cfg()) + ", guidance " + fmt(f.guidance())
                    + " (forwards: AR passes + flow-head evaluations)";
        }
        String what = switch (s.sampler()) {
            case AR -> "plain AR";
            case SPECULATIVE -> "speculative sampling, gamma " + s.gamma();
            case LANTERN -> "LANTERN, gamma " + s.gamma() + ", delta " + fmt(s.lanternDelta()) + ", k " + s.lanternK();
            case SJD ->
                "Speculative Jacobi Decoding, window " + s.sjdWindow() + ", init "
                        + s.sjdInit().name().toLowerCase(Locale.ROOT);
        };
        int k = s.tokens().distribution().topK();
        return what + ", cfg " + fmt(s.cfg()) + (k > 0 ? ", top-k " + k + (k == 1 ? " (greedy)" : "") : "");
    }

    private static LlamaGenSettings.Builder base(double cfg) {
        return LlamaGenSettings.builder().cfg(cfg);
    }

    private static String fmt(double d) {
        String s = String.format(Locale.ROOT, "%.2f", d);
        return s.replaceAll("0+$", "").replaceAll("\\.$", "");
    }

    @Override
    public Integer call() {
        if (samples < 1) throw new UsageException("--samples must be at least 1");
        List<Row> all = rows(), run = new ArrayList<>();
        if (only == null) {
            run.addAll(all);
        } else {
            for (String name : only) {
                Row r = all.stream()
                        .filter(x -> x.name().equals(name.strip()))
                        .findFirst()
                        .orElseThrow(() -> new UsageException("--only: no row '" + name + "' (see --list)"));
                run.add(r);
            }
        }
        if (list) {
            for (Row r : all) out.printf(Locale.ROOT, "%-22s %s%n", r.name(), describe(r));
            return 0;
        }
        PrintStream log = json ? System.err : out;
        WeightPanels.Format format = load.start(log);
        Path dir = BundledModels.llamaGenDirectory();
        List<Map<String, Object>> results = new ArrayList<>();
        try (JudgeCnn judge = JudgeCnn.load(dir.resolve(BundledModels.JUDGE), load.ops());
                LlamaGenPipeline lg = LlamaGenPipeline.builder()
                        .model(dir.resolve(BundledModels.LLAMAGEN_MODEL))
                        .vq(dir.resolve(BundledModels.LLAMAGEN_VQ))
                        .draft(dir.resolve(BundledModels.LLAMAGEN_DRAFT))
                        .imageSize(BundledModels.LLAMAGEN_IMAGE_SIZE)
                        .weights(format)
                        .ops(load.ops())
                        .load();
                NarPipeline nar = run.stream().anyMatch(Row::nar)
                        ? NarPipeline.builder()
                                .model(BundledModels.narDirectory().resolve(BundledModels.NAR_MODEL))
                                .vq(dir.resolve(BundledModels.LLAMAGEN_VQ))
                                .imageSize(BundledModels.LLAMAGEN_IMAGE_SIZE)
                                .weights(format)
                                .ops(load.ops())
                                .load()
                        : null;
                FlowArPipeline flowAr =
                        loadFlowAr(run, BundledModels.FLOWAR_MODEL, format, Model.FLOWAR, Model.FLOWAR_EM);
                FlowArPipeline flowArDraft = loadFlowAr(run, BundledModels.FLOWAR_DRAFT, format, Model.FLOWAR_DRAFT);
                FlowArPipeline flowArPair = loadFlowAr(run, BundledModels.FLOWAR_MODEL, format, Model.FLOWAR_CSPD);
                MarPipeline mar = loadMar(run, false, format, Model.MAR, Model.MAR_CSPD);
                MarPipeline marDraft = loadMar(run, true, format, Model.MAR_DRAFT)) {
            Models models = new Models(lg, nar, flowAr, flowArDraft, flowArPair, mar, marDraft);
            FeatureStats test =
                    JudgeMetrics.bundledStats(dir.resolve(BundledModels.JUDGE_STATS), judge.featureSize())[0];
            log.printf(
                    Locale.ROOT,
                    "bundled LlamaGen target %s, draft %s; %d images per row, batch 1, %d threads%n",
                    BundledModels.LLAMAGEN_MODEL,
                    BundledModels.LLAMAGEN_DRAFT,
                    samples,
                    Parallel.threads());
            log.printf(
                    Locale.ROOT,
                    "%-22s %9s %9s %8s %8s %8s %9s%n",
                    "row",
                    "target/im",
                    "draft/im",
                    "accept",
                    "s/image",
                    "class acc",
                    "judge FID");
            // the JIT compiles each sampler's code paths during its first images: warm every row up first
            log.println("warming up (" + WARMUP + " images per row)...");
            for (Row r : run) {
                for (int i = 0; i < WARMUP; i++) generate(models, r, i % 10, seed + samples + i);
            }
            for (Row r : run) {
                Map<String, Object> m = measure(models, judge, test, r);
                results.add(m);
                log.printf(
                        Locale.ROOT,
                        "%-22s %9.1f %9.1f %8s %8.4f %8.1f%% %9.3f%n",
                        r.name(),
                        (double) m.get("target_forwards_per_image"),
                        (double) m.get("draft_forwards_per_image"),
                        m.get("acceptance_rate") == null
                                ? "-"
                                : String.format(Locale.ROOT, "%.3f", (double) m.get("acceptance_rate")),
                        (double) m.get("seconds_per_image"),
                        100 * (double) m.get("class_accuracy"),
                        (double) m.get("judge_fid"));
            }
        } finally {
            load.close();
        }
        if (json) {
            Map<String, Object> doc = new LinkedHashMap<>();
            Map<String, Object> models = new LinkedHashMap<>(); // in this order in every run (Map.of's varies)
            models.put("target", BundledModels.LLAMAGEN_MODEL);
            models.put("draft", BundledModels.LLAMAGEN_DRAFT);
            models.put("vq", BundledModels.LLAMAGEN_VQ);
            models.put("flowar_target", BundledModels.FLOWAR_MODEL);
            models.put("flowar_draft", BundledModels.FLOWAR_DRAFT);
            models.put("flowar_vae", BundledModels.FLOWAR_VAE);
            models.put("mar_target", BundledModels.MAR_MODEL);
            models.put("mar_draft", BundledModels.MAR_DRAFT);
            doc.put("models", models);
            doc.put("samples_per_row", samples);
            doc.put("seed", seed);
            doc.put("threads", Parallel.threads());
            doc.put("rows", results);
            out.println(Json.write(doc));
        }
        return 0;
    }

    /** The loaded pipelines (null where no row to run needs them). */
    record Models(
            LlamaGenPipeline lg,
            NarPipeline nar,
            FlowArPipeline flowAr,
            FlowArPipeline flowArDraft,
            FlowArPipeline flowArPair,
            MarPipeline mar,
            MarPipeline marDraft) {}

    /**
     * A bundled MAR pipeline if a row to run uses it, else null: the target with the bundled draft (its rows alone
     * and with CSpD), or the draft alone.
     */
    private MarPipeline loadMar(List<Row> run, boolean draftAlone, WeightPanels.Format format, Model... models) {
        List<Model> uses = List.of(models);
        if (run.stream().noneMatch(r -> uses.contains(r.model()))) return null;
        Path dir = BundledModels.marDirectory();
        MarPipeline.Builder b = MarPipeline.builder()
                .vae(dir.resolve(BundledModels.MAR_VAE))
                .weights(format)
                .ops(load.ops());
        if (draftAlone) {
            b.model(dir.resolve(BundledModels.MAR_DRAFT))
                    .heads(BundledModels.MAR_DRAFT_HEADS, BundledModels.MAR_DRAFT_HEADS);
        } else {
            b.model(dir.resolve(BundledModels.MAR_MODEL))
                    .heads(BundledModels.MAR_HEADS, BundledModels.MAR_HEADS)
                    .draft(
                            dir.resolve(BundledModels.MAR_DRAFT),
                            BundledModels.MAR_DRAFT_HEADS,
                            BundledModels.MAR_DRAFT_HEADS);
        }
        return b.load();
    }

    /** A bundled FlowAR pipeline if a row to run uses it (the CSpD row's with the bundled draft), else null. */
    private FlowArPipeline loadFlowAr(List<Row> run, String file, WeightPanels.Format format, Model... models) {
        List<Model> uses = List.of(models);
        if (run.stream().noneMatch(r -> uses.contains(r.model()))) return null;
        Path dir = BundledModels.flowArDirectory();
        FlowArPipeline.Builder b = FlowArPipeline.builder()
                .model(dir.resolve(file))
                .vae(dir.resolve(BundledModels.FLOWAR_VAE))
                .defaults(BundledModels.FLOWAR_SAMPLING)
                .weights(format)
                .ops(load.ops());
        if (uses.contains(Model.FLOWAR_CSPD)) b.draft(dir.resolve(BundledModels.FLOWAR_DRAFT), 0);
        return b.load();
    }

    private static Drawn generate(Models m, Row r, int label, long seed) {
        int[] one = {label};
        if (r.mar()) {
            MarPipeline p = r.model() == Model.MAR_DRAFT ? m.marDraft() : m.mar();
            Generation<MarDetails> g =
                    p.generate(one, seed, BundledModels.MAR_SAMPLING.withCspd(r.cspd()), Progress.NONE);
            MarDetails d = g.details();
            boolean draftAlone = r.model() == Model.MAR_DRAFT;
            return new Drawn(
                    g.images().get(0),
                    draftAlone ? 0 : d.targetForwards(),
                    draftAlone ? d.targetForwards() : d.draftForwards(),
                    d.drafted(),
                    d.accepted(),
                    d.totalSeconds());
        }
        if (r.flowAr()) {
            FlowArSettings f = BundledModels.FLOWAR_SAMPLING;
            FlowArPipeline p = switch (r.model()) {
                case FLOWAR_DRAFT -> m.flowArDraft();
                case FLOWAR_CSPD -> m.flowArPair();
                default -> m.flowAr();
            };
            if (r.model() == Model.FLOWAR_EM) f = f.withSolver(FlowSampler.EULER_MARUYAMA);
            if (r.model() == Model.FLOWAR_CSPD)
                f = f.withSolver(FlowSampler.EULER_MARUYAMA).withCspd(FlowCspdSettings.DEFAULTS);
            Generation<FlowArDetails> g = p.generate(one, seed, f, Progress.NONE);
            FlowArDetails d = g.details();
            if (d.cspd() != null) {
                FlowArDetails.Speculation c = d.cspd();
                return new Drawn(
                        g.images().get(0),
                        c.targetForwards() + c.targetEvaluations(),
                        c.draftForwards() + c.draftEvaluations(),
                        c.drafted(),
                        c.accepted(),
                        d.totalSeconds());
            }
            long forwards = (long) p.config().scaleCount() * (1 + d.evaluations());
            boolean target = r.model() != Model.FLOWAR_DRAFT;
            return new Drawn(g.images().get(0), target ? forwards : 0, target ? 0 : forwards, 0, 0, d.totalSeconds());
        }
        Generation<TokenDetails> g = r.nar()
                ? m.nar().generate(one, seed, r.settings().tokens(), Progress.NONE)
                : m.lg().generate(one, seed, r.settings(), Progress.NONE);
        long tf = 0, df = 0, proposed = 0, accepted = 0;
        double sec = g.details().decodeSeconds();
        for (SamplerStats st : g.details().stats()) {
            tf += st.targetForwards();
            df += st.draftForwards();
            proposed += st.proposed();
            accepted += st.accepted();
            sec += st.seconds();
        }
        return new Drawn(g.images().get(0), tf, df, proposed, accepted, sec);
    }

    private Map<String, Object> measure(Models models, JudgeCnn judge, FeatureStats test, Row r) {
        LlamaGenSettings s = r.settings();
        int d = judge.featureSize();
        float[] features = new float[samples * d];
        long tf = 0, df = 0, proposed = 0, accepted = 0;
        int ok = 0;
        double sec = 0;
        for (int i = 0; i < samples; i++) {
            int c = i % BundledModels.FASHION_MNIST_CLASSES.size();
            Drawn g = generate(models, r, c, seed + i);
            tf += g.target();
            df += g.draft();
            proposed += g.proposed();
            accepted += g.accepted();
            sec += g.seconds();
            GeneratedImage img = g.image();
            JudgeCnn.Verdict v =
                    judge.judge(List.of(JudgeMetrics.judgeInput(img))).get(0);
            if (v.label() == c) ok++;
            System.arraycopy(v.features(), 0, features, i * d, d);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("row", r.name());
        boolean tokens = !r.flowAr() && !r.mar();
        m.put(
                "sampler",
                r.nar() ? "nar" : r.flowAr() || r.mar() ? r.name() : s.sampler().id());
        m.put(
                "gamma",
                r.cspd() != null
                        ? Integer.valueOf(r.cspd().gamma())
                        : s.sampler() == Sampler.SPECULATIVE || s.sampler() == Sampler.LANTERN ? s.gamma() : null);
        if (r.cspd() != null) {
            m.put("cspd_rule", r.cspd().rule().name().toLowerCase(Locale.ROOT));
            m.put(
                    "inner_temperature",
                    r.cspd().rule() == CspdSettings.Rule.RELEASED ? r.cspd().innerTemperature() : null);
            m.put("prefill", r.cspd().prefill());
        }
        m.put("lantern_delta", s.sampler() == Sampler.LANTERN ? s.lanternDelta() : null);
        m.put("lantern_k", s.sampler() == Sampler.LANTERN ? s.lanternK() : null);
        m.put("sjd_window", s.sampler() == Sampler.SJD ? s.sjdWindow() : null);
        m.put("top_k", tokens ? s.tokens().distribution().topK() : null);
        m.put(
                "cfg",
                tokens ? s.cfg() : r.mar() ? BundledModels.MAR_SAMPLING.cfg() : BundledModels.FLOWAR_SAMPLING.cfg());
        m.put("images", samples);
        m.put("target_forwards_per_image", (double) tf / samples);
        m.put("draft_forwards_per_image", (double) df / samples);
        m.put("acceptance_rate", proposed == 0 ? null : (double) accepted / proposed);
        m.put("seconds_per_image", sec / samples);
        m.put("class_accuracy", (double) ok / samples);
        m.put(
                "judge_fid",
                FrechetDistance.of(FeatureRows.of(features, samples, d), test).distance());
        return m;
    }
}
