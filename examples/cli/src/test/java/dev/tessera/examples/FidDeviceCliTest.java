package dev.tessera.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.io.Npy;
import dev.tessera.engine.io.NpzFile;
import dev.tessera.engine.io.NpzWriter;
import dev.tessera.engine.ops.Ops;
import dev.tessera.engine.tensor.DType;
import dev.tessera.engine.tensor.Tensor;
import dev.tessera.engine.testing.Golden;
import dev.tessera.examples.fid.inception.FidInception;
import dev.tessera.examples.fid.inception.InceptionFeatures;
import dev.tessera.examples.fid.inception.Preprocessing;
import dev.tessera.examples.fid.inception.Rgb8Image;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code fid features|stats --device}: the FID Inception on an OpenCL device through the CLI, and bad devices. */
class FidDeviceCliTest {
    @TempDir
    Path tmp;

    private Cli features(Path inception, Path images, Path out, String device) {
        return Cli.run(with(
                new String[] {
                    "fid",
                    "features",
                    "--inception",
                    inception.toString(),
                    "--images",
                    images.toString(),
                    "--out",
                    out.toString()
                },
                device));
    }

    @Test
    void featuresOnOpenClAreTheCpusWithinTheGoldenTolerance() {
        DeviceCliTest.openClDevices();
        Path inception = FidCliTest.inception();
        Path dir = FidCliTest.images(tmp.resolve("imgs"), 3, 40, 52, 7);
        Path onCpu = tmp.resolve("cpu.npy"), onDevice = tmp.resolve("opencl.npy");
        Cli c = features(inception, dir, onCpu, "cpu");
        assertEquals(0, c.status(), c.err());
        Cli d = features(inception, dir, onDevice, "opencl");
        assertEquals(0, d.status(), d.err());
        assertTrue(d.out().contains("3 x 2048") && d.out().contains("device opencl:"), "ran on OpenCL: " + d.out());
        // the Inception's convolutions ran there: their weights (87 MB in float32, BatchNorm folded) went up
        assertTrue(deviceMegabytes(d) > 80, "the Inception's weights: " + d.out());
        Tensor cpu = Npy.readFile(onCpu, "cpu"), device = Npy.readFile(onDevice, "opencl");
        assertArrayEquals(new long[] {3, 2048}, device.shape());
        double err = Golden.assertClose(
                cpu.toFloatArray(), device.toFloatArray(), Golden.TOL, "pool3 features, OpenCL vs CPU");
        System.out.printf("fid features --device opencl vs cpu: max abs error %.3g%n", err);
    }

    /** The megabytes of weights a command's {@code device ...; weights on it N MB} line says went to the device. */
    static double deviceMegabytes(Cli r) {
        String line = r.out()
                .lines()
                .filter(l -> l.startsWith("device opencl:"))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no device line: " + r.out()));
        int at = line.indexOf("; weights on it ");
        assertTrue(at > 0 && line.endsWith(" MB"), "no device weights: " + line);
        return Double.parseDouble(line.substring(at + "; weights on it ".length(), line.length() - 3));
    }

    @Test
    void evalRunsTheInceptionOnItsDevice() {
        DeviceCliTest.openClDevices();
        Path inception = FidCliTest.inception();
        // the samples and their features on the CPU; then another reference on OpenCL: only its features are new
        Path out = tmp.resolve("eval");
        Cli c = EvalCliTest.eval(out, batch("a.npz", 3), "--top-k", "1");
        assertEquals(0, c.status(), c.err());
        Path ref = batch("b.npz", 2);
        Cli d = EvalCliTest.eval(out, ref, "--top-k", "1", "--device", "opencl");
        assertEquals(0, d.status(), d.err());
        assertTrue(deviceMegabytes(d) > 80, "the Inception's 87 MB of weights: " + d.out());
        float[] got = Npy.readFile(out.resolve("reference/pool3.npy"), "r").toFloatArray();
        try (NpzFile z = NpzFile.open(ref);
                FidInception net = FidInception.load(inception, Ops.cpu())) {
            byte[] hwc = z.tensor("arr_0").data().toArray(ValueLayout.JAVA_BYTE);
            int image = 40 * 48 * 3;
            float[] want = new float[2 * InceptionFeatures.POOL3];
            for (int b = 0; b < 2; b++) {
                byte[] one = Arrays.copyOfRange(hwc, b * image, (b + 1) * image);
                float[] f = net.forward(Preprocessing.ADM.apply(new Rgb8Image(40, 48, one)))
                        .pool3();
                System.arraycopy(f, 0, want, b * InceptionFeatures.POOL3, InceptionFeatures.POOL3);
            }
            double err = Golden.assertClose(want, got, Golden.TOL, "eval --device opencl reference features vs CPU");
            System.out.printf("eval --device opencl: reference features vs CPU max abs error %.3g%n", err);
        }
    }

    /** {@code n} random 40x48 images as an ADM-style reference batch (arr_0, uint8 NHWC). */
    private Path batch(String name, int n) {
        byte[] px = new byte[n * 40 * 48 * 3];
        new Random(name.hashCode()).nextBytes(px);
        Path p = tmp.resolve(name);
        new NpzWriter()
                .put("arr_0", new Tensor("arr_0", DType.U8, new long[] {n, 40, 48, 3}, MemorySegment.ofArray(px)))
                .write(p);
        return p;
    }

    @Test
    void aDeviceThatIsNotThereIsOneLineAndWritesNothing() {
        // before the weights are read: this file is never opened
        Path inception = tmp.resolve("never-read.pth"), dir = FidCliTest.images(tmp.resolve("imgs"), 2, 8, 8, 1);
        for (String command : new String[] {"features", "stats"}) {
            Path out = tmp.resolve(command.equals("stats") ? "s.npz" : "f.npy");
            String[] base = {
                "fid", command, "--inception", inception.toString(), "--images", dir.toString(), "--out", out.toString()
            };
            assertTrue(fails(2, out, with(base, "tpu")).contains("no compute backend 'tpu'"));
            assertTrue(fails(1, out, with(base, "opencl:x")).contains("opencl:PLATFORM:DEVICE"));
            DeviceCliTest.openClDevices();
            assertTrue(fails(1, out, with(base, "opencl:9:9")).contains("no OpenCL device 9:9"));
        }
    }

    private static String[] with(String[] base, String device) {
        return GenerateVarCliTest.concat(base, new String[] {"--device", device});
    }

    private static String fails(int status, Path out, String... args) {
        Cli r = Cli.run(args);
        assertEquals(status, r.status(), "exit status; out: " + r.out() + ", err: " + r.err());
        String err = r.err().strip();
        assertEquals(1, err.lines().count(), "error must be one line, got:\n" + err);
        assertTrue(err.startsWith("tessera: "), err);
        assertFalse(err.contains("Exception") || err.contains("\tat "), "no stack traces for users: " + err);
        assertFalse(Files.exists(out), "nothing may be written on failure");
        return err;
    }
}
