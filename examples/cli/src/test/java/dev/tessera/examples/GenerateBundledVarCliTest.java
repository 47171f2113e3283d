package dev.tessera.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.tokenizers.Images;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tessera generate var} without --model/--vae: the bundled Fashion-MNIST VAR (examples/models/fmnist). */
class GenerateBundledVarCliTest {

    @Test
    void theBundledModelIsTheDefault(@TempDir Path tmp) {
        Path out = tmp.resolve("imgs");
        Cli r = Cli.run(
                "generate",
                "var",
                "--class",
                "sneaker",
                "--class",
                "Ankle-Boot",
                "--class",
                "1",
                "--out",
                out.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(
                r.out().contains("class 7 sneaker")
                        && r.out().contains("class 9 ankle boot")
                        && r.out().contains("class 1 trouser"),
                r.out());
        assertTrue(r.out().contains("patch_nums 1,2,3,4"), r.out());
        for (int i = 0; i < 3; i++) {
            BufferedImage img = Images.read(out.resolve(String.format("%03d.png", i)));
            assertEquals(32, img.getWidth());
            assertEquals(32, img.getHeight());
            // Fashion-MNIST: a grey object on a black border
            float[] px = Images.toTensor(img);
            double border = 0, centre = 0;
            for (int x = 0; x < 32; x++) border += px[x] + px[31 * 32 + x];
            for (int y = 12; y < 20; y++) for (int x = 12; x < 20; x++) centre += px[y * 32 + x];
            assertTrue(border / 64 < 0.1, "image " + i + ": border mean " + border / 64);
            assertTrue(centre / 64 > 0.2, "image " + i + ": centre mean " + centre / 64);
        }
    }

    @Test
    void anUnknownNameListsTheClasses(@TempDir Path tmp) {
        Path out = tmp.resolve("x.png");
        Cli r = Cli.run("generate", "var", "--class", "shoe", "--out", out.toString());
        assertEquals(2, r.status());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("unknown class 'shoe'") && r.err().contains("ankle boot"), r.err());
        assertFalse(Files.exists(out));
        Cli half = Cli.run("generate", "var", "--model", "m.pth", "--class", "1", "--out", out.toString());
        assertEquals(2, half.status(), half.err());
        assertTrue(half.err().contains("--vae"), half.err());
    }
}
