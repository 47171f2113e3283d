package dev.tessera.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.io.Json;
import dev.tessera.engine.io.Npy;
import dev.tessera.engine.testing.Golden;
import dev.tessera.tokenizers.Images;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tessera generate mar} on the vendored mar-small and cspd-small checkpoints. */
class GenerateMarCliTest {
    static final Path DIR = Golden.testdata().resolve("mar-small"),
            CSPD = Golden.testdata().resolve("cspd-small");
    static final String MODEL = DIR.resolve("mar.pth").toString(),
            VAE = Golden.testdata().resolve("flowar-small/vae.pth").toString();

    static List<String> golden(Path out, Path npy, String... more) {
        List<String> a = new ArrayList<>(List.of(
                "generate",
                "mar",
                "--model",
                MODEL,
                "--vae",
                VAE,
                "--heads",
                "2,2",
                "--class",
                "3",
                "--class",
                "7",
                "--seed",
                "777",
                "--num-iter",
                "8",
                "--cfg",
                "3.0",
                "--cfg-schedule",
                "linear",
                "--temperature",
                "1.0",
                "--diffusion-steps",
                "20",
                "--out",
                out.toString(),
                "--latents-out",
                npy.toString()));
        a.addAll(List.of(more));
        return a;
    }

    @Test
    void seededRunWritesTheGoldenLatentsAndImages(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("imgs"), npy = tmp.resolve("latents.npy");
        Cli r = Cli.run(golden(out, npy).toArray(String[]::new));
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("8 steps, 20 diffusion steps"), r.out());
        try (Golden g = Golden.vendored("mar-small")) {
            float[] want = g.floats("sample.latents");
            var lat = Npy.readFile(npy, "latents");
            assertEquals("[2, 16, 16, 16]", Arrays.toString(lat.shape()));
            double max = 0;
            for (float v : want) max = Math.max(max, Math.abs(v));
            Golden.assertClose(want, lat.toFloatArray(), 1e-4 * max, "CLI latents");
            float[] img = g.floats("sample.image");
            int plane = 3 * 256 * 256, off = 0;
            for (int b = 0; b < 2; b++) {
                float[] got = Images.toTensor(Images.read(out.resolve(String.format("%03d.png", b))));
                for (int i = 0; i < plane; i++) {
                    double v = Math.rint(Math.max(0, Math.min(255, (img[b * plane + i] + 1f) / 2f * 255f)));
                    double d = Math.abs(got[i] * 255 - v);
                    assertTrue(d <= 1.0 + 1e-3, "PNG value " + i + " of image " + b + " is " + d + " levels off");
                    if (d > 0.5) off++;
                }
            }
            System.out.printf("MAR CLI PNGs vs golden: %d of %d values one level apart%n", off, 2 * plane);
            assertTrue(off <= 100, off + " values one level off the official PNG values");
        }
    }

    @Test
    void injectedDrawsGiveTheSameLatentsAsTheSeed(@TempDir Path tmp) throws IOException {
        Path a = tmp.resolve("a.npy"), b = tmp.resolve("b.npy");
        assertEquals(
                0, Cli.run(golden(tmp.resolve("a"), a).toArray(String[]::new)).status());
        List<String> args = golden(
                tmp.resolve("b"),
                b,
                "--noise-from",
                DIR.resolve("golden.safetensors").toString());
        args.set(args.indexOf("777"), "5"); // the seed no longer matters
        Cli r = Cli.run(args.toArray(String[]::new));
        assertEquals(0, r.status(), r.err());
        float[] x = Npy.readFile(a, "a").toFloatArray(),
                y = Npy.readFile(b, "b").toFloatArray();
        double max = 0;
        for (float v : x) max = Math.max(max, Math.abs(v));
        Golden.assertClose(x, y, 1e-6 * max, "seeded vs injected latents");
    }

    @Test
    void cspdWritesItsStatistics(@TempDir Path tmp) throws IOException {
        Path stats = tmp.resolve("stats.json");
        Cli r = Cli.run(
                "generate",
                "mar",
                "--model",
                CSPD.resolve("target.pth").toString(),
                "--draft",
                CSPD.resolve("draft.pth").toString(),
                "--heads",
                "2,2",
                "--draft-heads",
                "2,2",
                "--vae",
                VAE,
                "--sampler",
                "cspd",
                "--gamma",
                "2",
                "--prefill",
                "0.15",
                "--inner-temperature",
                "42",
                "--class",
                "3",
                "--class",
                "7",
                "--seed",
                "2024",
                "--num-iter",
                "8",
                "--cfg",
                "3",
                "--diffusion-steps",
                "20",
                "--out",
                tmp.resolve("img").toString(),
                "--stats-out",
                stats.toString());
        assertEquals(0, r.status(), r.err());
        @SuppressWarnings("unchecked")
        Map<String, Object> s = (Map<String, Object>) Json.read(stats);
        assertEquals("cspd", s.get("sampler"));
        assertEquals(472L, ((Number) s.get("drafted")).longValue()); // 48 + 140 + 186 + 98, as the golden run
        assertEquals(6L, ((Number) s.get("target_forwards")).longValue()); // 2 pre-filling steps + 4 verifications
        assertEquals(6L, ((Number) s.get("draft_forwards")).longValue());
        assertTrue(r.out().contains("CSpD released gamma 2"), r.out());
    }

    @Test
    void badOptionsGiveOneReadableLine(@TempDir Path tmp) {
        String out = tmp.resolve("x.png").toString();
        String[][] usage = {
            {"--heads", "2,2,2"}, {"--heads", "two"}, {"--cfg-schedule", "cosine"}, {"--sampler", "fast"},
            {"--sampler", "cspd"}, {"--num-iter", "0"}, {"--cfg", "0.5"}, {"--diffusion-steps", "1001"},
            {"--seed", "-1"}, {"--gamma", "2"}, {"--cspd-rule", "maybe"}
        };
        for (String[] bad : usage) {
            List<String> a = new ArrayList<>(
                    List.of("generate", "mar", "--model", MODEL, "--vae", VAE, "--class", "1", "--out", out));
            a.addAll(List.of(bad));
            Cli r = Cli.run(a.toArray(String[]::new));
            assertEquals(2, r.status(), String.join(" ", bad) + ": " + r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
        }
        // width 128 is no released size: the heads must be given
        Cli r = Cli.run("generate", "mar", "--model", MODEL, "--vae", VAE, "--class", "1", "--out", out);
        assertEquals(1, r.status(), r.err());
        assertTrue(r.err().contains("--heads"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertFalse(Files.exists(tmp.resolve("x.png")));
        r = Cli.run("generate", "mar", "--help");
        assertEquals(0, r.status());
        assertTrue(r.out().contains("--cspd-rule") && r.out().contains("released (default"), r.out());
    }
}
