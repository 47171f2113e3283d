package dev.tessera.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.tokenizers.Images;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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

    @Test
    void cspdOnTheBundledTargetDraftsWithTheBundledDraft(@TempDir Path tmp) throws Exception {
        Path stats = tmp.resolve("stats.json");
        Cli r = Cli.run(
                "generate",
                "flowar",
                "--class",
                "bag",
                "--sampler",
                "cspd",
                "--out",
                tmp.resolve("bag.png").toString(),
                "--stats-out",
                stats.toString());
        assertEquals(0, r.status(), r.err());
        String json = Files.readString(stats);
        // the draft made the drafted scales' trajectories: it ran, and the verifier judged its tokens
        Matcher drafted = Pattern.compile("\"drafted\"\\s*:\\s*(\\d+)").matcher(json);
        assertTrue(drafted.find(), json);
        assertTrue(Integer.parseInt(drafted.group(1)) > 0, json);
        assertEquals(32, Images.read(tmp.resolve("bag.png")).getWidth());
    }
}
