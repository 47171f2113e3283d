package dev.tessera.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.io.Json;
import dev.tessera.examples.fid.FashionMnist;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tessera models} and {@code tessera eval --metrics fmnist} on the bundled zoo. */
class FashionMnistCliTest {

    @Test
    void modelsListsTheBundle() {
        Cli r = Cli.run("models");
        assertEquals(0, r.status(), r.err());
        for (String m : new String[] {
            "fmnist/var-d3",
            "fmnist/var-d2",
            "fmnist/vae",
            "fmnist/judge",
            "examples/models/fmnist/var-d3.json",
            "ankle boot"
        }) {
            assertTrue(r.out().contains(m), m + " in:\n" + r.out());
        }
    }

    /**
     * A small judged evaluation. The "training set" given is the first 20 bundled real test images written as IDX
     * files, so those real images have a training image at distance 0: the nearest-image search must find it.
     */
    @Test
    @SuppressWarnings("unchecked")
    void judgedEvaluation(@TempDir Path tmp) throws IOException {
        FashionMnist real = FashionMnist.bundledTestImages(Path.of(System.getProperty("tessera.home", "../.."))
                .resolve("examples/models/fmnist/fmnist-test-500.safetensors"));
        Path idx = tmp.resolve("idx");
        writeIdx(idx, real, 20);
        Path out = tmp.resolve("ev");
        Cli r = Cli.run(
                "eval",
                "--metrics",
                "fmnist",
                "--samples",
                "20",
                "--batch",
                "4",
                "--train-images",
                idx.toString(),
                "--out",
                out.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("class accuracy") && r.out().contains("judge FID"), r.out());
        Map<String, Object> m =
                (Map<String, Object>) ((Map<String, Object>) Json.read(out.resolve("report.json"))).get("metrics");
        double acc = ((Number) m.get("class_accuracy")).doubleValue();
        assertTrue(acc >= 0.5 && acc <= 1, "class accuracy " + acc);
        double fid = ((Number) m.get("judge_fid")).doubleValue(),
                floor = ((Number) m.get("judge_fid_floor_train_vs_test")).doubleValue();
        assertTrue(fid > 0 && Double.isFinite(fid) && floor > 0 && floor < fid, fid + " vs floor " + floor);
        Map<String, Object> near = (Map<String, Object>) m.get("nearest_train_rms_real_test_images");
        assertEquals(0.0, ((Number) near.get("min")).doubleValue(), 1e-3, "a real image that is in the training set");
        assertTrue(((Number) near.get("mean")).doubleValue() > 0.02, near.toString());
        Map<String, Object> samples = (Map<String, Object>) m.get("nearest_train_rms_samples");
        assertEquals(20, ((Number) samples.get("count")).intValue());
        assertTrue(((Number) samples.get("min")).doubleValue() > 0.01, samples.toString());
    }

    @Test
    void badInputsAreOneLine(@TempDir Path tmp) {
        String[][] cases = {
            {"eval", "--metrics", "inceptionv4", "--samples", "10"},
            {"eval", "--metrics", "fmnist", "--samples", "15"},
            {"eval", "--metrics", "fmnist", "--samples", "10", "--inception", "x.pth"},
            {"eval", "--metrics", "fmnist", "--samples", "10", "--model-family", "llamagen"},
            {
                "eval",
                "--metrics",
                "fmnist",
                "--samples",
                "10",
                "--train-images",
                tmp.resolve("none").toString()
            },
            {"eval", "--samples", "10", "--judge", "j.safetensors"},
            {"models", "extra"},
        };
        for (String[] c : cases) {
            Cli r = Cli.run(c);
            assertEquals(2, r.status(), String.join(" ", c) + ": " + r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
        }
        assertFalse(Files.exists(tmp.resolve("none")));
    }

    static void writeIdx(Path dir, FashionMnist set, int n) throws IOException {
        Files.createDirectories(dir);
        try (DataOutputStream d = new DataOutputStream(
                new GZIPOutputStream(Files.newOutputStream(dir.resolve("train-images-idx3-ubyte.gz"))))) {
            d.writeInt(0x0803);
            d.writeInt(n);
            d.writeInt(28);
            d.writeInt(28);
            for (int i = 0; i < n; i++) {
                for (int y = 2; y < 30; y++) d.write(set.images(), i * 1024 + y * 32 + 2, 28);
            }
        }
        try (DataOutputStream d = new DataOutputStream(
                new GZIPOutputStream(Files.newOutputStream(dir.resolve("train-labels-idx1-ubyte.gz"))))) {
            d.writeInt(0x0801);
            d.writeInt(n);
            for (int i = 0; i < n; i++) d.write(set.labels()[i]);
        }
    }
}
