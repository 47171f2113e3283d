package dev.tessera.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.testing.Golden;
import dev.tessera.tokenizers.Images;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tessera generate flowar} on the vendored flowar-small checkpoint, with the golden noise injected. */
class GenerateFlowArCliTest {
    static final Path DIR = Golden.testdata().resolve("flowar-small");
    static final String MODEL = DIR.resolve("flowar.pth").toString(),
            VAE = DIR.resolve("vae.pth").toString();

    @Test
    void injectedNoiseWritesTheGoldenImagesAndLatents(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("imgs"), npy = tmp.resolve("latents.npy");
        Cli r = Cli.run(
                "generate",
                "flowar",
                "--model",
                MODEL,
                "--vae",
                VAE,
                "--class",
                "3",
                "--class",
                "7",
                "--cfg",
                "2.0",
                "--guidance",
                "0.9",
                "--steps",
                "25",
                "--noise-from",
                DIR.resolve("golden.safetensors").toString(),
                "--out",
                out.toString(),
                "--latents-out",
                npy.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("24 steps x 5 scales"), r.out());
        try (Golden g = Golden.vendored("flowar-small")) {
            float[] want = g.floats("vae.decoded");
            int plane = 3 * 256 * 256, off = 0;
            double worst = 0;
            for (int b = 0; b < 2; b++) {
                float[] got = Images.toTensor(Images.read(out.resolve(String.format("%03d.png", b))));
                for (int i = 0; i < plane; i++) {
                    // the official evaluation: round(clip((x+1)/2*255)), halves to even
                    double v = Math.rint(Math.max(0, Math.min(255, (want[b * plane + i] + 1f) / 2f * 255f)));
                    worst = Math.max(worst, Math.abs(got[i] * 255 - v));
                    if (Math.abs(got[i] * 255 - v) > 0.5) off++;
                }
            }
            System.out.printf("FlowAR CLI PNGs vs golden: %d of %d values differ by one level%n", off, 2 * plane);
            // README: equal to the official round(clip((x+1)/2*255)) but for 123-125 of 393,216 values one level apart
            // (24 Euler steps per scale leave the decoded images within 3.2e-5 of the golden)
            assertTrue(worst <= 1.0 + 1e-3, "PNG vs golden decode: " + worst + "/255");
            assertTrue(off <= 200, off + " values one level off the official PNG values, at most 200");

            byte[] bytes = Files.readAllBytes(npy);
            int headerLen =
                    ByteBuffer.wrap(bytes, 8, 2).order(ByteOrder.LITTLE_ENDIAN).getShort();
            String header = new String(bytes, 10, headerLen, StandardCharsets.US_ASCII);
            assertTrue(header.contains("'descr': '<f4'") && header.contains("'shape': (2, 16, 16, 16)"), header);
            assertEquals(0, (10 + headerLen) % 64, "npy header is padded to 64 bytes");
            ByteBuffer data = ByteBuffer.wrap(bytes, 10 + headerLen, bytes.length - 10 - headerLen)
                    .order(ByteOrder.LITTLE_ENDIAN);
            float[] lat = new float[2 * 16 * 16 * 16];
            for (int i = 0; i < lat.length; i++) lat[i] = data.getFloat();
            Golden.assertClose(g.floats("sampled.latents"), lat, 2e-3, "latents written by --latents-out");
        }
    }

    @Test
    void wrongFilesAndOptionsGiveOneLine(@TempDir Path tmp) {
        Path out = tmp.resolve("x.png");
        Cli r = Cli.run(
                "generate",
                "flowar",
                "--model",
                Golden.testdata().resolve("var-small/var.pth").toString(),
                "--vae",
                VAE,
                "--class",
                "1",
                "--out",
                out.toString());
        assertNotEquals(0, r.status());
        assertTrue(r.err().contains("not a FlowAR checkpoint"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());

        r = Cli.run(
                "generate",
                "flowar",
                "--model",
                MODEL,
                "--vae",
                Golden.testdata().resolve("var-small/vae.pth").toString(),
                "--class",
                "1",
                "--out",
                out.toString());
        assertNotEquals(0, r.status());
        assertTrue(r.err().contains("not a KL autoencoder"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());

        for (String[] bad : new String[][] {
            {"--heads", "-3"}, {"--steps", "1"}, {"--cfg", "0.5"}, {"--noise-from", "/no/such.safetensors"}
        }) {
            r = Cli.run(
                    "generate",
                    "flowar",
                    "--model",
                    MODEL,
                    "--vae",
                    VAE,
                    "--class",
                    "1",
                    bad[0],
                    bad[1],
                    "--out",
                    out.toString());
            assertEquals(2, r.status(), String.join(" ", bad) + ": " + r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
        }

        r = Cli.run(
                "generate",
                "flowar",
                "--model",
                MODEL,
                "--vae",
                VAE,
                "--class",
                "1",
                "--sampler",
                "heun",
                "--out",
                out.toString());
        assertEquals(2, r.status());
        assertTrue(r.err().contains("unknown FlowAR sampler"), r.err());

        // a noise file without the tensors of this run
        r = Cli.run(
                "generate",
                "flowar",
                "--model",
                MODEL,
                "--vae",
                VAE,
                "--class",
                "1",
                "--steps",
                "2",
                "--noise-from",
                Golden.testdata().resolve("var-sampled/golden.safetensors").toString(),
                "--out",
                out.toString());
        assertNotEquals(0, r.status());
        assertTrue(r.err().contains("noise.0"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertFalse(Files.exists(out));
    }

    @Test
    void helpExplainsTheOptions() {
        Cli r = Cli.run("generate", "flowar", "--help");
        assertEquals(0, r.status());
        assertTrue(r.out().contains("--noise-from")
                && r.out().contains("euler-maruyama")
                && r.out().contains("--latents-out"));
    }
}
