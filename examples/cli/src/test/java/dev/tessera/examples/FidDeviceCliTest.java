package dev.tessera.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.io.Npy;
import dev.tessera.engine.tensor.Tensor;
import dev.tessera.engine.testing.Golden;
import java.nio.file.Files;
import java.nio.file.Path;
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
        // the Inception's convolutions ran there: their weights (95 MB in float32, BatchNorm folded) went up
        String line = d.out()
                .lines()
                .filter(l -> l.startsWith("device opencl:"))
                .findFirst()
                .orElseThrow();
        int at = line.indexOf("; weights on it ");
        assertTrue(at > 0 && line.endsWith(" MB"), "no device weights: " + line);
        double megabytes = Double.parseDouble(line.substring(at + "; weights on it ".length(), line.length() - 3));
        assertTrue(megabytes > 80, line);
        Tensor cpu = Npy.readFile(onCpu, "cpu"), device = Npy.readFile(onDevice, "opencl");
        assertArrayEquals(new long[] {3, 2048}, device.shape());
        double err = Golden.assertClose(
                cpu.toFloatArray(), device.toFloatArray(), Golden.TOL, "pool3 features, OpenCL vs CPU");
        System.out.printf("fid features --device opencl vs cpu: max abs error %.3g (%s)%n", err, line);
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
