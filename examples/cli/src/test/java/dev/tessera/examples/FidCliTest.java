package dev.tessera.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.io.Json;
import dev.tessera.engine.io.Npy;
import dev.tessera.engine.io.NpzFile;
import dev.tessera.engine.io.NpzWriter;
import dev.tessera.engine.ops.Ops;
import dev.tessera.engine.tensor.DType;
import dev.tessera.engine.tensor.Tensor;
import dev.tessera.engine.testing.Golden;
import dev.tessera.examples.fid.FeatureRows;
import dev.tessera.examples.fid.FeatureStats;
import dev.tessera.examples.fid.ImageFolder;
import dev.tessera.examples.fid.inception.FidInception;
import dev.tessera.examples.fid.inception.Preprocessing;
import dev.tessera.tokenizers.Images;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tessera fid features|stats|distance} end to end. */
class FidCliTest {
    @TempDir
    Path tmp;

    /** The random-weight FID Inception of the shared golden set (48 MB, not vendored); skips loudly when absent. */
    static Path inception() {
        Path p = Golden.sharedRoot().resolve("fid-small/pt_inception-random.pth");
        if (!Files.isRegularFile(p)) {
            String msg = "SKIPPED: " + p + " not found (set -Dtessera.golden=/path/to/shared/golden)";
            System.err.println(msg);
            Assumptions.abort(msg);
        }
        return p;
    }

    /** {@code count} random RGB PNGs of the given size in a new folder. */
    static Path images(Path dir, int count, int h, int w, long seed) {
        Random r = new Random(seed);
        for (int i = 0; i < count; i++) {
            BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.setRGB(x, y, r.nextInt(1 << 24));
            Images.writePng(img, dir.resolve(String.format("img%02d.png", i)));
        }
        return dir;
    }

    static Tensor doubles(String name, double[] v, long... shape) {
        MemorySegment seg = MemorySegment.ofArray(new byte[v.length * 8]);
        for (int i = 0; i < v.length; i++)
            seg.set(ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 8L * i, v[i]);
        return new Tensor(name, DType.F64, shape, seg);
    }

    @Test
    void distanceOfGoldenStatisticsMatchesPytorchFid() {
        try (Golden g = Golden.vendored("fid-small")) {
            // the golden samples' statistics, written as pytorch-fid .npz files by the stats code path
            for (String side : new String[] {"a", "b"}) {
                FeatureStats s = FeatureStats.of(FeatureRows.of(doubleArray(g, "frechet." + side), 300, 64));
                new NpzWriter()
                        .put("mu", doubles("mu", s.mu(), 64))
                        .put("sigma", doubles("sigma", s.sigma(), 64, 64))
                        .write(tmp.resolve(side + ".npz"));
            }
            Cli r = Cli.run(
                    "fid",
                    "distance",
                    tmp.resolve("a.npz").toString(),
                    tmp.resolve("b.npz").toString());
            assertEquals(0, r.status(), r.err());
            assertTrue(r.out().startsWith("FID: "), r.out());
            double got = Double.parseDouble(r.out().strip().substring(5));
            @SuppressWarnings("unchecked")
            double want = ((Number) ((Map<String, Object>) Json.read(g.file("golden.json"))).get("fid")).doubleValue();
            assertTrue(Math.abs(got - want) <= 1e-6 * want, "FID " + got + " vs " + want);
        }
    }

    private static double[] doubleArray(Golden g, String key) {
        try (Checkpoint c = Checkpoints.open(g.file("golden.safetensors"))) {
            return c.tensor(key).toDoubleArray();
        }
    }

    @Test
    void featuresAndStatsOfAFolder() throws IOException {
        Path inception = inception();
        Path dir = images(tmp.resolve("imgs"), 3, 40, 52, 1);
        Path npy = tmp.resolve("f.npy"), npz = tmp.resolve("s.npz");
        Cli f = Cli.run(
                "fid",
                "features",
                "--inception",
                inception.toString(),
                "--images",
                dir.toString(),
                "--out",
                npy.toString(),
                "--preprocess",
                "pytorch-fid");
        assertEquals(0, f.status(), f.err());
        assertTrue(f.out().contains("3 x 2048") && f.out().contains("pytorch-fid"), f.out());
        Tensor features = Npy.readFile(npy, "f");
        assertArrayEquals(new long[] {3, 2048}, features.shape());
        // the same numbers as the engine's API on the images in sorted order
        try (FidInception net = FidInception.load(inception, Ops.cpu())) {
            List<Path> files = ImageFolder.open(dir).files();
            assertEquals("img02.png", files.get(2).getFileName().toString());
            float[] second = net.forward(Preprocessing.PYTORCH_FID.apply(ImageFolder.read(files.get(1))))
                    .pool3();
            float[] all = features.toFloatArray();
            for (int i = 0; i < 2048; i++) assertEquals(second[i], all[2048 + i], 1e-5f);
        }
        // the same images as an ADM-style batch (arr_0, uint8 NHWC) give the same features
        byte[] hwc = new byte[3 * 40 * 52 * 3];
        List<Path> files = ImageFolder.open(dir).files();
        for (int i = 0; i < 3; i++)
            System.arraycopy(ImageFolder.read(files.get(i)).hwc(), 0, hwc, i * 40 * 52 * 3, 40 * 52 * 3);
        Path batch = tmp.resolve("batch.npz");
        new NpzWriter()
                .put("arr_0", new Tensor("arr_0", DType.U8, new long[] {3, 40, 52, 3}, MemorySegment.ofArray(hwc)))
                .write(batch);
        Path fromBatch = tmp.resolve("g.npy");
        Cli fb = Cli.run(
                "fid",
                "features",
                "--inception",
                inception.toString(),
                "--images",
                batch.toString(),
                "--out",
                fromBatch.toString(),
                "--preprocess",
                "pytorch-fid");
        assertEquals(0, fb.status(), fb.err());
        assertArrayEquals(features.toFloatArray(), Npy.readFile(fromBatch, "g").toFloatArray(), 0f);

        Cli s = Cli.run(
                "fid",
                "stats",
                "--inception",
                inception.toString(),
                "--images",
                dir.toString(),
                "--out",
                npz.toString());
        assertEquals(0, s.status(), s.err());
        try (NpzFile z = NpzFile.open(npz)) {
            assertEquals(DType.F64, z.tensor("mu", 2048).dtype());
            assertEquals(DType.F64, z.tensor("sigma", 2048, 2048).dtype());
            assertEquals("adm", z.string("preprocess"));
        }
        Cli d = Cli.run("fid", "distance", npz.toString(), npz.toString());
        assertEquals(0, d.status(), d.err());
        assertEquals(0.0, Double.parseDouble(d.out().strip().substring(5)), 1e-6);
    }

    @Test
    void helpListsTheCommands() {
        Cli r = Cli.run("fid", "--help");
        assertEquals(0, r.status());
        assertTrue(
                r.out().contains("fid distance")
                        && r.out().contains("clean-fid")
                        && r.out().contains("pt_inception-2015-12-05"),
                r.out());
        Cli e = Cli.run("eval", "--help");
        assertEquals(0, e.status());
        assertTrue(e.out().contains("--per-class") && e.out().contains("--max-new"), e.out());
        assertTrue(Cli.run("--help").out().contains("fid stats"));
    }
}
