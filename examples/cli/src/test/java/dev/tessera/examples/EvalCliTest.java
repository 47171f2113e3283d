package dev.tessera.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.io.Json;
import dev.tessera.engine.io.Npy;
import dev.tessera.engine.io.NpyAppender;
import dev.tessera.engine.io.NpzFile;
import dev.tessera.engine.io.NpzWriter;
import dev.tessera.engine.ops.Ops;
import dev.tessera.engine.tensor.DType;
import dev.tessera.engine.tensor.Tensor;
import dev.tessera.engine.testing.Golden;
import dev.tessera.examples.fid.FeatureRows;
import dev.tessera.examples.fid.FeatureStats;
import dev.tessera.examples.fid.FrechetDistance;
import dev.tessera.examples.fid.ImageFolder;
import dev.tessera.examples.fid.inception.FidInception;
import dev.tessera.examples.fid.inception.InceptionFeatures;
import dev.tessera.examples.fid.inception.Preprocessing;
import dev.tessera.tokenizers.Images;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code tessera eval} end to end on the bundled var-small model (10 classes), with the random-weight FID Inception
 * of the shared golden set and references built here: 4 samples, 2 per class, batches of 2.
 */
class EvalCliTest {
    static final Path VAR = Golden.testdata().resolve("var-small/var.pth");
    static final Path VAE = Golden.testdata().resolve("var-small/vae.pth");

    @TempDir
    static Path shared;

    static Path refBatch, refStats;

    @TempDir
    Path tmp;

    /** An ADM-style image batch (arr_0 only: every statistic comes from its images) and pytorch-fid statistics. */
    @BeforeAll
    static void references() {
        FidCliTest.inception();
        Random r = new Random(9);
        byte[] px = new byte[5 * 40 * 48 * 3];
        r.nextBytes(px);
        refBatch = shared.resolve("ref-batch.npz");
        new NpzWriter()
                .put("arr_0", new Tensor("arr_0", DType.U8, new long[] {5, 40, 48, 3}, MemorySegment.ofArray(px)))
                .write(refBatch);
        refStats = shared.resolve("ref-stats.npz");
        Cli s = Cli.run(
                "fid",
                "stats",
                "--inception",
                FidCliTest.inception().toString(),
                "--images",
                FidCliTest.images(shared.resolve("ref-images"), 3, 64, 64, 2).toString(),
                "--out",
                refStats.toString());
        assertEquals(0, s.status(), s.err());
    }

    static Cli eval(Path out, Path ref, String... extra) {
        String[] base = {
            "eval",
            "--model-family",
            "var",
            "--model",
            VAR.toString(),
            "--vae",
            VAE.toString(),
            "--samples",
            "4",
            "--per-class",
            "2",
            "--batch",
            "2",
            "--ref",
            ref.toString(),
            "--inception",
            FidCliTest.inception().toString(),
            "--out",
            out.toString()
        };
        return Cli.run(GenerateVarCliTest.concat(base, extra));
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> metrics(Path out) {
        return (Map<String, Object>) ((Map<String, Object>) Json.read(out.resolve("report.json"))).get("metrics");
    }

    @Test
    void evaluatesTheBundledModel() throws IOException {
        Path out = tmp.resolve("eval");
        Cli r = eval(out, refBatch, "--top-k", "1");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("FID ") && r.out().contains("report.html"), r.out());

        // four 256x256 samples, classes spread over the 10: 0, 0, 5, 5
        for (int i = 0; i < 4; i++) {
            assertEquals(
                    256,
                    Images.read(out.resolve(String.format("samples/%05d.png", i)))
                            .getWidth());
        }
        // the stored features are those of the PNGs on disk
        float[] pool3 = Npy.readFile(out.resolve("features/pool3.npy"), "p").toFloatArray();
        assertEquals(4 * InceptionFeatures.POOL3, pool3.length);
        try (FidInception net = FidInception.load(FidCliTest.inception(), Ops.cpu())) {
            float[] third = net.forward(Preprocessing.ADM.apply(ImageFolder.read(out.resolve("samples/00002.png"))))
                    .pool3();
            for (int i = 0; i < InceptionFeatures.POOL3; i++)
                assertEquals(third[i], pool3[2 * InceptionFeatures.POOL3 + i], 1e-5f);
        }
        // the reported FID is the distance of those features to the reference images' statistics
        Map<String, Object> m = metrics(out);
        float[] refPool3 = Npy.readFile(out.resolve("reference/pool3.npy"), "r").toFloatArray();
        assertEquals(5 * InceptionFeatures.POOL3, refPool3.length);
        double fid = FrechetDistance.of(
                        FeatureRows.of(pool3, 4, InceptionFeatures.POOL3),
                        FeatureStats.of(FeatureRows.of(refPool3, 5, InceptionFeatures.POOL3)))
                .distance();
        assertEquals(fid, ((Number) m.get("fid")).doubleValue(), 1e-9 * fid);
        assertNotNull(m.get("sfid"));
        assertNotNull(m.get("precision"));
        assertNotNull(m.get("recall"));
        assertNotNull(m.get("kid"));
        assertNull(m.get("inception_score"), "IS needs 10 samples");

        @SuppressWarnings("unchecked")
        Map<String, Object> report = (Map<String, Object>) Json.read(out.resolve("report.json"));
        @SuppressWarnings("unchecked")
        Map<String, Object> sampler = (Map<String, Object>) report.get("sampler");
        assertEquals(1L, sampler.get("top_k"));
        assertEquals(0L, sampler.get("seed"));
        assertTrue(
                report.get("model").toString().contains("VAR depth 2"),
                report.get("model").toString());
        assertTrue(report.get("timings").toString().contains("images_per_s"));
        String html = Files.readString(out.resolve("report.html"));
        assertTrue(
                html.contains("<th>FID</th>") && html.contains("samples/00003.png") && html.contains("class 5"), html);

        // an ADM reference batch (images + mu/sigma/mu_s/sigma_s) whose statistics are those of its images gives
        // the same numbers: the file's statistics are read and used
        float[] refSpatial =
                Npy.readFile(out.resolve("reference/spatial.npy"), "s").toFloatArray();
        FeatureStats s3 = FeatureStats.of(FeatureRows.of(refPool3, 5, InceptionFeatures.POOL3));
        FeatureStats ss = FeatureStats.of(FeatureRows.of(refSpatial, 5, InceptionFeatures.SPATIAL));
        Path adm = tmp.resolve("adm-ref.npz");
        try (NpzFile batch = NpzFile.open(refBatch)) {
            new NpzWriter()
                    .put("arr_0", batch.tensor("arr_0"))
                    .put("mu", FidCliTest.doubles("mu", s3.mu(), 2048))
                    .put("sigma", FidCliTest.doubles("sigma", s3.sigma(), 2048, 2048))
                    .put("mu_s", FidCliTest.doubles("mu_s", ss.mu(), 2023))
                    .put("sigma_s", FidCliTest.doubles("sigma_s", ss.sigma(), 2023, 2023))
                    .write(adm);
        }
        Cli withStats = eval(out, adm, "--top-k", "1");
        assertEquals(0, withStats.status(), withStats.err());
        Map<String, Object> m3 = metrics(out);
        for (String k : new String[] {"fid", "sfid", "precision", "recall"}) {
            double a = ((Number) m.get(k)).doubleValue(), b = ((Number) m3.get(k)).doubleValue();
            assertEquals(a, b, 1e-9 * Math.max(1, Math.abs(a)), k);
        }
        assertTrue(Json.read(out.resolve("report.json"))
                .toString()
                .contains("FID statistics + sFID statistics + images (arr_0)"));

        // a pytorch-fid statistics reference on the same folder: only the metrics are recomputed
        long timingLines = Files.readAllLines(out.resolve("timings.tsv")).size();
        Cli again = eval(out, refStats, "--top-k", "1");
        assertEquals(0, again.status(), again.err());
        assertEquals(timingLines, Files.readAllLines(out.resolve("timings.tsv")).size(), "nothing regenerated");
        Map<String, Object> m2 = metrics(out);
        assertNotNull(m2.get("fid"));
        assertNull(m2.get("sfid"));
        assertNull(m2.get("precision"));
        assertTrue(again.out().contains("sFID n/a"), again.out());
    }

    @Test
    void anInterruptedRunResumesAndEndsAsAnUninterruptedOne() throws IOException {
        Path whole = tmp.resolve("whole"), parts = tmp.resolve("parts");
        assertEquals(0, eval(whole, refBatch).status());

        Cli first = eval(parts, refBatch, "--max-new", "2");
        assertEquals(0, first.status(), first.err());
        assertTrue(first.out().contains("stopped with 2 of 4 samples"), first.out());
        assertFalse(Files.exists(parts.resolve("report.json")));
        // simulate a crash after the second batch's images were written but before its features were stored:
        // run one more batch, then drop its feature rows
        assertEquals(0, eval(parts, refBatch, "--max-new", "2").status());
        assertTrue(Files.exists(parts.resolve("samples/00003.png")));
        try (NpyAppender p = NpyAppender.open(parts.resolve("features/pool3.npy"), InceptionFeatures.POOL3)) {
            p.truncate(3); // even a partial batch: the whole batch is redone
        }
        Cli last = eval(parts, refBatch);
        assertEquals(0, last.status(), last.err());
        assertTrue(last.out().contains("resuming") && last.out().contains("2 of 4 samples done"), last.out());
        List<String> timings = Files.readAllLines(parts.resolve("timings.tsv"));
        assertTrue(
                timings.get(timings.size() - 1).startsWith("2\t2\t0\t"),
                "the last batch was read back, not generated: " + timings);

        for (int i = 0; i < 4; i++) {
            String name = String.format("samples/%05d.png", i);
            assertArrayEquals(Files.readAllBytes(whole.resolve(name)), Files.readAllBytes(parts.resolve(name)), name);
        }
        for (String f : new String[] {"pool3", "logits", "spatial"}) {
            assertArrayEquals(
                    Npy.readFile(whole.resolve("features/" + f + ".npy"), f).toFloatArray(),
                    Npy.readFile(parts.resolve("features/" + f + ".npy"), f).toFloatArray(),
                    0f,
                    f);
        }
        assertEquals(metrics(whole).get("fid"), metrics(parts).get("fid"));
    }

    @ParameterizedTest
    @CsvSource({"llamagen, llamagen-small/gpt.pth", "nar, nar-small/gpt.pth"})
    void evaluatesTheTokenModels(String family, String model) {
        Path out = tmp.resolve(family);
        Cli r = Cli.run(
                "eval",
                "--model-family",
                family,
                "--model",
                Golden.testdata().resolve(model).toString(),
                "--vq",
                Golden.testdata().resolve("llamagen-small/vq.pth").toString(),
                "--samples",
                "2",
                "--per-class",
                "1",
                "--batch",
                "2",
                "--ref",
                refStats.toString(),
                "--inception",
                FidCliTest.inception().toString(),
                "--out",
                out.toString(),
                "--top-k",
                "50",
                "--temperature",
                "0.9");
        assertEquals(0, r.status(), r.err());
        assertNotNull(metrics(out).get("fid"));
        @SuppressWarnings("unchecked")
        Map<String, Object> report = (Map<String, Object>) Json.read(out.resolve("report.json"));
        assertTrue(
                report.get("sampler").toString().contains("temperature=0.9"),
                report.get("sampler").toString());
        assertEquals(family, ((Map<?, ?>) report.get("model")).get("family"));
    }

    @Test
    void evaluatesFlowAr() {
        Path out = tmp.resolve("flowar");
        Path dir = Golden.testdata().resolve("flowar-small");
        Cli r = Cli.run(
                "eval",
                "--model-family",
                "flowar",
                "--model",
                dir.resolve("flowar.pth").toString(),
                "--vae",
                dir.resolve("vae.pth").toString(),
                "--samples",
                "2",
                "--per-class",
                "1",
                "--batch",
                "2",
                "--ref",
                refStats.toString(),
                "--inception",
                FidCliTest.inception().toString(),
                "--out",
                out.toString(),
                "--cfg",
                "2.0");
        assertEquals(0, r.status(), r.err());
        assertNotNull(metrics(out).get("fid"));
        @SuppressWarnings("unchecked")
        Map<String, Object> report = (Map<String, Object>) Json.read(out.resolve("report.json"));
        assertEquals("flowar", ((Map<?, ?>) report.get("model")).get("family"));
    }

    /** eval on mar-small (10 classes, heads 2,2), 2 samples in one batch from seed 5, with MAR's options. */
    static Cli evalMar(Path out, String... extra) {
        String[] base = {
            "eval",
            "--model-family",
            "mar",
            "--model",
            Golden.testdata().resolve("mar-small/mar.pth").toString(),
            "--vae",
            Golden.testdata().resolve("flowar-small/vae.pth").toString(),
            "--heads",
            "2,2",
            "--samples",
            "2",
            "--per-class",
            "1",
            "--batch",
            "2",
            "--seed",
            "5",
            "--ref",
            refStats.toString(),
            "--inception",
            FidCliTest.inception().toString(),
            "--out",
            out.toString()
        };
        return Cli.run(GenerateVarCliTest.concat(base, extra));
    }

    @Test
    void evaluatesMarWithItsOptionsAndTheSamplesAreGenerateMarsImages() throws IOException {
        String[] options = {
            "--num-iter",
            "4",
            "--diffusion-steps",
            "10",
            "--cfg",
            "2",
            "--cfg-schedule",
            "constant",
            "--temperature",
            "0.9"
        };
        Path out = tmp.resolve("mar");
        Cli r = evalMar(out, options);
        assertEquals(0, r.status(), r.err());
        assertNotNull(metrics(out).get("fid"));
        @SuppressWarnings("unchecked")
        Map<String, Object> report = (Map<String, Object>) Json.read(out.resolve("report.json"));
        assertEquals("mar", ((Map<?, ?>) report.get("model")).get("family"));
        String sampler = report.get("sampler").toString();
        assertTrue(sampler.contains("num_iter=4") && sampler.contains("cfg_schedule=constant"), sampler);
        // the samples are what 'generate mar' makes with the same options, classes and seed
        int n = ((Number) ((Map<?, ?>) report.get("model")).get("num_classes")).intValue();
        Path gen = tmp.resolve("mar-generate");
        Cli g = Cli.run(GenerateVarCliTest.concat(
                new String[] {
                    "generate",
                    "mar",
                    "--model",
                    Golden.testdata().resolve("mar-small/mar.pth").toString(),
                    "--vae",
                    Golden.testdata().resolve("flowar-small/vae.pth").toString(),
                    "--heads",
                    "2,2",
                    "--class",
                    "0",
                    "--class",
                    String.valueOf(n / 2),
                    "--seed",
                    "5",
                    "--out",
                    gen.toString()
                },
                options));
        assertEquals(0, g.status(), g.err());
        for (int i = 0; i < 2; i++) {
            assertArrayEquals(
                    Images.toTensor(Images.read(gen.resolve(String.format("%03d.png", i)))),
                    Images.toTensor(Images.read(out.resolve("samples").resolve(String.format("%05d.png", i)))),
                    "sample " + i);
        }
    }

    @Test
    void evaluatesMarWithCspd() {
        Path out = tmp.resolve("mar-cspd");
        Path cspd = Golden.testdata().resolve("cspd-small");
        Cli r = Cli.run(
                "eval",
                "--model-family",
                "mar",
                "--model",
                cspd.resolve("target.pth").toString(),
                "--draft",
                cspd.resolve("draft.pth").toString(),
                "--heads",
                "2,2",
                "--draft-heads",
                "2,2",
                "--vae",
                Golden.testdata().resolve("flowar-small/vae.pth").toString(),
                "--sampler",
                "cspd",
                "--gamma",
                "2",
                "--num-iter",
                "4",
                "--diffusion-steps",
                "10",
                "--samples",
                "2",
                "--per-class",
                "1",
                "--batch",
                "2",
                "--ref",
                refStats.toString(),
                "--inception",
                FidCliTest.inception().toString(),
                "--out",
                out.toString());
        assertEquals(0, r.status(), r.err());
        @SuppressWarnings("unchecked")
        Map<String, Object> report = (Map<String, Object>) Json.read(out.resolve("report.json"));
        String sampler = report.get("sampler").toString();
        assertTrue(sampler.contains("sampler=cspd") && sampler.contains("gamma=2"), sampler);
        assertTrue(
                ((Map<?, ?>) report.get("model")).get("config").toString().contains("CSpD released, gamma 2"),
                report.get("model").toString());
    }

    @Test
    void marOptionsAreCheckedBeforeAnythingIsWritten() {
        String[][] bad = {
            {"--num-iter", "0"},
            {"--gamma", "2"},
            {"--sampler", "cspd"},
            {"--cfg-schedule", "cosine"},
            {"--heads", "2,2,2"},
            {"--diffusion-steps", "many"},
            {"--top-k", "5"}
        };
        for (String[] b : bad) {
            Path out = tmp.resolve("bad");
            Cli r = evalMar(out, b);
            assertEquals(2, r.status(), String.join(" ", b) + ": " + r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertFalse(Files.exists(out), String.join(" ", b));
        }
        // a MAR option on another family
        Cli r = eval(tmp.resolve("var-bad"), refStats, "--num-iter", "4");
        assertEquals(2, r.status(), r.err());
        assertTrue(r.err().contains("--num-iter is not an option of the var family"), r.err());
    }

    @Test
    void aFolderWithOtherSettingsIsNotResumed() {
        Path out = tmp.resolve("eval");
        assertEquals(0, eval(out, refStats, "--max-new", "2").status());
        Cli other = eval(out, refStats, "--cfg", "2");
        assertEquals(1, other.status());
        String err = other.err().strip();
        assertTrue(err.contains("other settings") && err.contains("sampler.cfg 2.0 here, 1.5 there"), err);
        assertEquals(1, err.lines().count(), err);
        assertTrue(Arrays.asList(out.toFile().list()).contains("eval.json"));
        // samples made with bfloat16 weights are not mixed with float32 ones
        Cli bf16 = eval(out, refStats, "--weights", "bf16");
        assertEquals(1, bf16.status());
        assertTrue(
                bf16.err().contains("other settings") && bf16.err().contains("weights \"bf16\" here, absent there"),
                bf16.err());
        Path bfOut = tmp.resolve("eval-bf16");
        assertEquals(
                0, eval(bfOut, refStats, "--max-new", "2", "--weights", "bf16").status());
        Cli f32 = eval(bfOut, refStats);
        assertEquals(1, f32.status());
        assertTrue(f32.err().contains("weights absent here, \"bf16\" there"), f32.err());
    }

    @Test
    void sparkIsOffTheDefaultClassPath() {
        Path out = tmp.resolve("spark");
        Cli r = eval(out, refStats, "--spark", "local[2]");
        assertEquals(2, r.status());
        assertEquals(
                "tessera: --spark needs examples/spark on the class path (./tessera eval --spark adds it)",
                r.err().strip());
        assertFalse(Files.exists(out), "nothing was written");
    }
}
