package dev.tessera.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.io.Json;
import dev.tessera.engine.testing.Golden;
import dev.tessera.tokenizers.Images;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tessera generate var} and {@code tessera convert} end to end on the vendored var-small checkpoints. */
class GenerateVarCliTest {
    static final Path VAR = Golden.testdata().resolve("var-small/var.pth");
    static final Path VAE = Golden.testdata().resolve("var-small/vae.pth");

    @Test
    void greedyRunWritesThePngsOfTheOfficialImages(@TempDir Path tmp) throws IOException {
        Path dir = tmp.resolve("out");
        Cli r = Cli.run(
                "generate",
                "var",
                "--model",
                VAR.toString(),
                "--vae",
                VAE.toString(),
                "--class",
                "3",
                "--class",
                "7",
                "--cfg",
                "1.5",
                "--top-k",
                "1",
                "--out",
                dir.toString(),
                "--tokens-out",
                dir.resolve("tokens.json").toString());
        assertEquals(0, r.status(), r.err());
        try (Golden g = Golden.vendored("var-small")) {
            float[] want = g.floats("greedy.image");
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
            // README: PNGs within 0.5/255 of greedy.image (decoded within 5.1e-7 of it)
            PngLevels.compare(want, png).assertWithinHalfLevel(1e-5, 8, "VAR CLI greedy PNGs vs greedy.image");

            @SuppressWarnings("unchecked")
            List<Map<String, Object>> images = (List<Map<String, Object>>)
                    ((Map<String, Object>) Json.read(dir.resolve("tokens.json"))).get("images");
            assertEquals(2, images.size());
            assertEquals(7L, images.get(1).get("class"));
            for (int si = 0; si < 10; si++) {
                int[] golden = g.ints("greedy.tokens." + si);
                int n = golden.length / 2;
                for (int b = 0; b < 2; b++) {
                    @SuppressWarnings("unchecked")
                    List<Number> scale = ((List<List<Number>>) images.get(b).get("scales")).get(si);
                    int[] got = scale.stream().mapToInt(Number::intValue).toArray();
                    int[] exp = new int[n];
                    System.arraycopy(golden, b * n, exp, 0, n);
                    assertArrayEquals(exp, got, "tokens of image " + b + " scale " + si);
                }
            }
        }
    }

    @Test
    void safetensorsCopiesGiveIdenticalImages(@TempDir Path tmp) throws IOException {
        Path varSt = tmp.resolve("var.safetensors"), vaeSt = tmp.resolve("vae.safetensors");
        assertEquals(0, Cli.run("convert", VAR.toString(), varSt.toString()).status());
        assertEquals(0, Cli.run("convert", VAE.toString(), vaeSt.toString()).status());
        Path a = tmp.resolve("a.png"), b = tmp.resolve("b.png");
        String[] common = {"--class", "tench", "--seed", "11", "--top-k", "40", "--top-p", "0.9", "--cfg", "3"};
        Cli ra = Cli.run(concat(
                new String[] {
                    "generate", "var", "--model", VAR.toString(), "--vae", VAE.toString(), "--out", a.toString()
                },
                common));
        Cli rb = Cli.run(concat(
                new String[] {
                    "generate", "var", "--model", varSt.toString(), "--vae", vaeSt.toString(), "--out", b.toString()
                },
                common));
        assertEquals(0, ra.status(), ra.err());
        assertEquals(0, rb.status(), rb.err());
        BufferedImage ia = Images.read(a), ib = Images.read(b);
        assertArrayEquals(ia.getRGB(0, 0, 256, 256, null, 0, 256), ib.getRGB(0, 0, 256, 256, null, 0, 256));
        assertTrue(ra.out().contains("class 0"), ra.out());
    }

    static String[] concat(String[] a, String[] b) {
        String[] r = new String[a.length + b.length];
        System.arraycopy(a, 0, r, 0, a.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    @Test
    void helpExplainsTheCommand() {
        Cli r = Cli.run("generate", "var", "--help");
        assertEquals(0, r.status());
        assertTrue(
                r.out().contains("--patch-nums")
                        && r.out().contains("--tokens-out")
                        && r.out().contains("golden retriever"),
                r.out());
        Cli top = Cli.run("--help");
        assertEquals(0, top.status());
        assertTrue(top.out().contains("generate var"));
    }
}
