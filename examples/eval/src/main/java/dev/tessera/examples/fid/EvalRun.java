package dev.tessera.examples.fid;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.io.Json;
import dev.tessera.examples.fid.inception.FidInception;
import dev.tessera.examples.fid.inception.InceptionFeatures;
import dev.tessera.examples.fid.inception.Rgb8Image;
import dev.tessera.samplers.GeneratedImage;
import dev.tessera.samplers.Progress;
import dev.tessera.tokenizers.Images;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * One evaluation folder: class-balanced samples generated batch by batch ({@code samples/00000.png, ...}), their
 * Inception features appended as each batch is done ({@code features/*.npy}), and at the end the metrics against
 * a reference, in {@code report.json} and {@code report.html}. Everything is written so that an interrupted run,
 * started again with the same command, continues where it stopped: features count as done only once on disk;
 * images already written are read back rather than generated again; a batch is always regenerated whole from its
 * own seed, so the result does not depend on where the interruption fell.
 */
public final class EvalRun {
    private final EvalPlan plan;
    private final Path dir;
    private final PrintStream out;

    public EvalRun(EvalPlan plan, Path dir, PrintStream out) {
        this.plan = plan;
        this.dir = dir;
        this.out = out;
    }

    /** Where the samples went, how many are done, and the report (null until the run is complete). */
    public record Outcome(int done, int total, Map<String, Object> report) {
        public boolean complete() {
            return report != null;
        }
    }

    /**
     * Generates what is missing (at most {@code maxNew} new samples when positive), then, once all samples are
     * there, computes the metrics against {@code ref} and writes the report. The generator is loaded only if a
     * sample has to be generated.
     */
    public Outcome run(
            Supplier<SampleGenerator> generatorFactory,
            FidInception net,
            ReferenceSet ref,
            int maxNew,
            Progress progress,
            Progress referenceProgress) {
        FeatureExtractor extractor = new FeatureExtractor(net, plan.preprocessing());
        SampleGenerator[] generator = {null};
        Supplier<SampleGenerator> lazy = () -> {
            if (generator[0] == null) {
                generator[0] = generatorFactory.get();
                plan.checkClasses(generator[0].numClasses());
                recordModel(dir, generator[0]);
            }
            return generator[0];
        };
        int N = plan.samples(), B = plan.batch();
        try (FeatureStore store = FeatureStore.open(dir.resolve("features"))) {
            int first = store.count() >= N ? plan.batches() : store.count() / B;
            store.truncate(Math.min(store.count(), first * B));
            int done = store.count();
            if (done > 0 && done < N) out.printf("resuming %s: %d of %d samples done%n", dir, done, N);
            int fresh = 0;
            for (int b = first; b < plan.batches() && (maxNew <= 0 || fresh < maxNew); b++) {
                Batch batch = batch(b, lazy, extractor);
                if (batch.generated()) fresh += batch.count();
                store.append(batch.features());
                logTimes(batch);
                progress.update("samples", batch.from() + batch.count(), N);
            }
            done = store.count();
            if (generator[0] != null) {
                generator[0].close();
                generator[0] = null;
            }
            if (done < N) return new Outcome(done, N, null);
            if (!Files.exists(dir.resolve("model.json"))) { // every sample was read back: describe the model now
                try (SampleGenerator g = generatorFactory.get()) {
                    recordModel(dir, g);
                }
            }
            Map<?, ?> model = (Map<?, ?>) Json.read(dir.resolve("model.json"));
            Map<String, Object> report = new EvalReport(
                            plan,
                            dir,
                            ((Number) model.get("num_classes")).intValue(),
                            String.valueOf(model.get("config")))
                    .write(metrics(store, extractor, ref, referenceProgress), ref, times());
            return new Outcome(done, N, report);
        } finally {
            if (generator[0] != null) generator[0].close();
        }
    }

    /**
     * One batch of the plan, measured: its images and their features, whether the images were generated (else read
     * back), and the seconds each part took.
     */
    public record Batch(
            int index,
            int from,
            int count,
            List<InceptionFeatures> features,
            boolean generated,
            double generationSeconds,
            double featureSeconds) {}

    /**
     * Batch {@code b}: its samples are read back when all of them are on disk and readable, else generated whole from
     * the batch's seed (the generator is asked for only then) and written, each PNG under a temporary name first;
     * then their Inception features. The result depends on the plan and {@code b} alone, so any process, in any
     * order, gives the same bytes.
     */
    public Batch batch(int b, Supplier<SampleGenerator> generator, FeatureExtractor extractor) {
        int N = plan.samples(), B = plan.batch();
        int from = b * B, to = Math.min(N, from + B);
        List<Path> files = new ArrayList<>();
        for (int i = from; i < to; i++) files.add(sampleFile(i));
        long t0 = System.nanoTime();
        List<Rgb8Image> images = readBack(files);
        boolean generated = images == null;
        if (generated) {
            SampleGenerator g = generator.get();
            int[] classes = new int[to - from];
            for (int i = from; i < to; i++) classes[i - from] = plan.classOf(i, g.numClasses());
            images = write(g.generate(classes, plan.seedOf(b)), files);
        }
        long t1 = System.nanoTime();
        List<InceptionFeatures> features = extractor.features(images);
        long t2 = System.nanoTime();
        return new Batch(b, from, to - from, features, generated, (t1 - t0) * 1e-9, (t2 - t1) * 1e-9);
    }

    public Path sampleFile(int i) {
        return sampleFile(dir, plan.samples(), i);
    }

    /** {@code samples/00042.png}: at least five digits, more when N needs them. */
    static Path sampleFile(Path dir, int samples, int i) {
        int digits = Math.max(5, String.valueOf(samples - 1).length());
        return dir.resolve("samples").resolve(String.format("%0" + digits + "d.png", i));
    }

    /** The batch's images when all of them are on disk and readable, else null. */
    private static List<Rgb8Image> readBack(List<Path> files) {
        List<Rgb8Image> images = new ArrayList<>();
        for (Path f : files) {
            if (!Files.isRegularFile(f)) return null;
            try {
                images.add(ImageFolder.read(f));
            } catch (TesseraException e) {
                return null;
            }
        }
        return images;
    }

    /**
     * Quantises to 8 bits (round(255·x), as the generate commands write), writes the PNGs, returns the 8-bit images.
     */
    private static List<Rgb8Image> write(List<GeneratedImage> generated, List<Path> files) {
        List<Rgb8Image> out = new ArrayList<>();
        for (int i = 0; i < generated.size(); i++) {
            BufferedImage img = generated.get(i).toBufferedImage();
            Images.writePng(img, files.get(i));
            out.add(ImageFolder.rgb(img));
        }
        return out;
    }

    // ------------------------------------------------------------------ bookkeeping

    /** Appends a batch's line to {@code timings.tsv} (the report's timings sum them over every session). */
    public void logTimes(Batch b) {
        String line = String.format(
                Locale.ROOT,
                "%d\t%d\t%d\t%.6f\t%.6f%n",
                b.from(),
                b.count(),
                b.generated() ? 1 : 0,
                b.generationSeconds(),
                b.featureSeconds());
        try {
            Files.writeString(
                    dir.resolve("timings.tsv"),
                    line,
                    StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new TesseraException(dir.resolve("timings.tsv") + ": cannot write (" + e.getMessage() + ")", e);
        }
    }

    /** Sums of timings.tsv: generated images and seconds, feature seconds (over every session of the run). */
    private Map<String, Object> times() {
        double gen = 0, feat = 0;
        long generatedImages = 0;
        Path file = dir.resolve("timings.tsv");
        try {
            if (Files.exists(file)) {
                for (String line : Files.readAllLines(file)) {
                    String[] f = line.split("\t");
                    if (f.length != 5) continue;
                    if (f[2].equals("1")) {
                        generatedImages += Long.parseLong(f[1]);
                        gen += Double.parseDouble(f[3]);
                    }
                    feat += Double.parseDouble(f[4]);
                }
            }
        } catch (IOException | NumberFormatException e) {
            // timings are informative only
        }
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("generation_s", gen);
        t.put("generated_images", generatedImages);
        t.put("images_per_s", gen > 0 ? generatedImages / gen : null);
        t.put("features_s", feat);
        t.put("features_s_per_image", plan.samples() > 0 ? feat / plan.samples() : null);
        return t;
    }

    /**
     * model.json: what the report says of the model when the run ends in a session that loaded none. Written under
     * a temporary name, then renamed: processes that write it at once leave one whole file.
     */
    public static void recordModel(Path dir, SampleGenerator g) {
        Path file = dir.resolve("model.json");
        try {
            Path tmp = Files.createTempFile(dir, ".model-", ".json.part");
            try {
                Json.write(tmp, ordered("num_classes", g.numClasses(), "config", g.describe()));
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new TesseraException(file + ": cannot write (" + e.getMessage() + ")", e);
        }
    }

    // ------------------------------------------------------------------ metrics

    private Map<String, Object> metrics(
            FeatureStore store, FeatureExtractor extractor, ReferenceSet ref, Progress refProgress) {
        long t0 = System.nanoTime();
        int n = store.count();
        float[] pool3 = store.pool3(), spatial = store.spatial(), logits = store.logits();
        Map<String, Object> m = new LinkedHashMap<>();
        List<String> notes = new ArrayList<>();
        float[] refPool3 = null, refSpatial = null;
        int nRef = 0;
        if (ref.hasImages()) {
            try (FeatureStore rs = ReferenceFeatures.open(dir.resolve("reference"), ref, plan)) {
                ReferenceFeatures.complete(rs, ref, extractor, refProgress);
                nRef = rs.count();
                refPool3 = rs.pool3();
                refSpatial = rs.spatial();
            }
        }
        FeatureRows samples3 = FeatureRows.of(pool3, n, InceptionFeatures.POOL3);
        FeatureRows samplesS = FeatureRows.of(spatial, n, InceptionFeatures.SPATIAL);
        FeatureStats refFid = ref.fidStatistics() != null
                ? ref.fidStatistics()
                : nRef >= 2 ? FeatureStats.of(FeatureRows.of(refPool3, nRef, InceptionFeatures.POOL3)) : null;
        FeatureStats refSfid = ref.sfidStatistics() != null
                ? ref.sfidStatistics()
                : nRef >= 2 && ref.fidStatistics() == null
                        ? FeatureStats.of(FeatureRows.of(refSpatial, nRef, InceptionFeatures.SPATIAL))
                        : null;
        m.put(
                "fid",
                n >= 2 && refFid != null ? FrechetDistance.of(samples3, refFid).distance() : null);
        m.put(
                "sfid",
                n >= 2 && refSfid != null
                        ? FrechetDistance.of(samplesS, refSfid).distance()
                        : null);
        if (refSfid == null)
            notes.add("sFID needs the reference's mu_s/sigma_s (an ADM reference batch) or its images");
        if (n >= InceptionScore.SPLITS) {
            InceptionScore is = InceptionScore.of(logits, n, FidInception.CLASSES);
            m.put(
                    "inception_score",
                    ordered(
                            "mean",
                            is.mean(),
                            "std",
                            is.std(),
                            "splits",
                            InceptionScore.SPLITS,
                            "shuffle_seed",
                            InceptionScore.SEED));
        } else {
            m.put("inception_score", null);
            notes.add("the Inception Score needs at least " + InceptionScore.SPLITS + " samples (10 splits)");
        }
        if (refPool3 != null && n > PrecisionRecall.K && nRef > PrecisionRecall.K) {
            PrecisionRecall pr = PrecisionRecall.of(refPool3, nRef, pool3, n, InceptionFeatures.POOL3);
            m.put("precision", pr.precision());
            m.put("recall", pr.recall());
        } else {
            m.put("precision", null);
            m.put("recall", null);
            notes.add(
                    refPool3 == null
                            ? "precision, recall and KID need reference images (arr_0 of an ADM reference batch)"
                            : "precision and recall need more than " + PrecisionRecall.K
                                    + " samples and reference images");
        }
        if (refPool3 != null && Math.min(n, nRef) >= 2) {
            KernelInceptionDistance kid = KernelInceptionDistance.of(pool3, n, refPool3, nRef, InceptionFeatures.POOL3);
            m.put(
                    "kid",
                    ordered(
                            "mean",
                            kid.mean(),
                            "std",
                            kid.std(),
                            "subsets",
                            kid.subsets(),
                            "subset_size",
                            kid.subsetSize()));
        } else {
            m.put("kid", null);
        }
        if (n < 50_000)
            notes.add("FID is biased upward at small N (here " + n
                    + "); compare FIDs only at equal N (50,000 is the convention)");
        if (ref.preprocess() != null
                && !ref.preprocess().equals(plan.preprocessing().id())) {
            notes.add("the reference was made with " + ref.preprocess() + " preprocessing, the samples with "
                    + plan.preprocessing().id() + ": the numbers mix two pipelines");
        } else if (ref.preprocess() == null
                && ref.sfidStatistics() != null
                && !plan.preprocessing().id().equals("adm")) {
            notes.add("ADM reference batches come from the adm pipeline; these samples used "
                    + plan.preprocessing().id());
        }
        m.put("metrics_s", (System.nanoTime() - t0) * 1e-9);
        m.put("notes", notes);
        return m;
    }

    static Map<String, Object> ordered(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }
}
