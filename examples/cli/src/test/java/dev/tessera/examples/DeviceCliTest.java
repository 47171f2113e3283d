package dev.tessera.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.ops.Backend;
import dev.tessera.engine.ops.Backends;
import dev.tessera.engine.testing.Golden;
import dev.tessera.tokenizers.Images;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tessera devices} and {@code --device}: VAR on the OpenCL backend through the CLI, and bad device specs. */
class DeviceCliTest {
    static final String VAR = Golden.testdata().resolve("var-small/var.pth").toString();
    static final String VAE = Golden.testdata().resolve("var-small/vae.pth").toString();

    @TempDir
    Path tmp;

    /** The OpenCL devices; the test is skipped without one (CI installs PoCL and fails on skips). */
    static List<Backend.Device> openClDevices() {
        List<Backend.Device> d = Backends.find("opencl").devices();
        Assumptions.assumeTrue(!d.isEmpty(), "no OpenCL device: install pocl-opencl-icd (as .ci/run does)");
        return d;
    }

    @Test
    void devicesListsTheCpuAndEveryOpenClDevice() {
        List<Backend.Device> devices = openClDevices();
        Cli r = Cli.run("devices");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("cpu ")), r.out());
        for (Backend.Device d : devices) assertTrue(r.out().contains(d.spec() + " "), r.out());
    }

    @Test
    void greedyVarOnOpenClWritesThePngsOfTheOfficialImages() throws IOException {
        openClDevices();
        Path dir = tmp.resolve("out");
        Cli r = Cli.run(
                "generate",
                "var",
                "--model",
                VAR,
                "--vae",
                VAE,
                "--class",
                "3",
                "--class",
                "7",
                "--cfg",
                "1.5",
                "--top-k",
                "1",
                "--device",
                "opencl",
                "--out",
                dir.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("device opencl:"), "ran on OpenCL: " + r.out());
        try (Golden g = Golden.vendored("var-small")) {
            int image = 3 * 256 * 256;
            float[] png = new float[2 * image];
            for (int b = 0; b < 2; b++) {
                System.arraycopy(
                        Images.toTensor(Images.read(dir.resolve(String.format("%03d.png", b)))),
                        0,
                        png,
                        b * image,
                        image);
            }
            PngLevels.compare(g.floats("greedy.image"), png)
                    .assertWithinHalfLevel(1e-5, 8, "VAR CLI on OpenCL vs greedy.image");
        }
    }

    @Test
    void fp16WeightsOnOpenClTakeHalfTheDeviceBytes() {
        openClDevices();
        double f32 = deviceMegabytes("f32", false), fp16 = deviceMegabytes("fp16", true);
        // the bundled VAR's linear weights halve; its VQ-VAE's convolutions stay float32
        assertTrue(fp16 < 0.9 * f32 && fp16 > 0.25 * f32, "device weights: fp16 " + fp16 + " MB, f32 " + f32 + " MB");
    }

    /** The bundled VAR on OpenCL with {@code --weights w}: the megabytes of weights the command says it put there. */
    private double deviceMegabytes(String w, boolean noted) {
        Cli r = Cli.run(
                "generate",
                "var",
                "--class",
                "1",
                "--device",
                "opencl",
                "--weights",
                w,
                "--out",
                tmp.resolve(w + ".png").toString());
        assertEquals(0, r.status(), r.err());
        assertEquals(noted, r.out().contains("linear weights in float16: results differ slightly"), r.out());
        String line = r.out()
                .lines()
                .filter(l -> l.startsWith("device opencl:"))
                .findFirst()
                .orElseThrow();
        int at = line.indexOf("; weights on it ");
        assertTrue(at > 0 && line.endsWith(" MB"), line);
        return Double.parseDouble(line.substring(at + "; weights on it ".length(), line.length() - 3));
    }

    @Test
    void aDeviceThatIsNotThereIsOneLineAndWritesNothing() {
        // a backend that does not exist is a usage error (2); a device the backend cannot open is a failure (1)
        assertTrue(fails(2, "--device", "tpu").contains("no compute backend 'tpu'"));
        assertTrue(fails(2, "--device", "").contains("--device"));
        assertTrue(fails(1, "--device", "opencl:x").contains("opencl:PLATFORM:DEVICE"));
        openClDevices();
        assertTrue(fails(1, "--device", "opencl:9:9").contains("no OpenCL device 9:9"));
    }

    private String fails(int status, String... device) {
        Path out = tmp.resolve("never.png");
        String[] args = GenerateVarCliTest.concat(
                new String[] {"generate", "var", "--model", VAR, "--vae", VAE, "--class", "1", "--out", out.toString()},
                device);
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
