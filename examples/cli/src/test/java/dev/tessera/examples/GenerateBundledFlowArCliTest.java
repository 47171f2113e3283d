package dev.tessera.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.tokenizers.Images;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tessera generate flowar} without --model/--vae: the bundled Fashion-MNIST FlowAR target and KL VAE. */
class GenerateBundledFlowArCliTest {
    @Test
    void theBundledFlowArIsTheDefault(@TempDir Path tmp) {
        Path out = tmp.resolve("imgs");
        Cli r = Cli.run("generate", "flowar", "--class", "trouser", "--class", "9", "--out", out.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("class 1 trouser") && r.out().contains("class 9 ankle boot"), r.out());
        assertTrue(r.out().contains("scales=[1, 2, 4, 8]") && r.out().contains("cfg 4.00"), r.out());
        for (int i = 0; i < 2; i++) {
            BufferedImage img = Images.read(out.resolve(String.format("%03d.png", i)));
            assertEquals(32, img.getWidth());
            assertEquals(32, img.getHeight());
        }
    }

    @Test
    void aModelWithoutItsVaeIsAUsageError(@TempDir Path tmp) {
        Cli r = Cli.run(
                "generate",
                "flowar",
                "--model",
                tmp.resolve("x.pth").toString(),
                "--class",
                "1",
                "--out",
                tmp.toString());
        assertEquals(2, r.status(), r.err());
        assertTrue(r.err().contains("--vae"), r.err());
    }
}
