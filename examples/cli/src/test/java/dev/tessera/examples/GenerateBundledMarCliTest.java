package dev.tessera.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.samplers.BundledModels;
import dev.tessera.samplers.Generation;
import dev.tessera.samplers.mar.MarDetails;
import dev.tessera.samplers.mar.MarPipeline;
import dev.tessera.tokenizers.Images;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tessera generate mar} without --model/--vae: the bundled Fashion-MNIST MAR target, its draft and KL VAE. */
class GenerateBundledMarCliTest {
    @Test
    void theBundledMarIsTheDefaultAndDrawsWhatTheApiDraws(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("imgs");
        Cli r = Cli.run(
                "generate", "mar", "--class", "sneaker", "--class", "0", "--seed", "3", "--out", out.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("class 7 sneaker") && r.out().contains("class 0 t-shirt/top"), r.out());
        assertTrue(r.out().contains("16 steps, 500 diffusion steps, cfg 3.00 linear"), r.out());
        // the same images as the API with the bundle's heads and its card's settings, written independently
        Path dir = BundledModels.marDirectory();
        try (MarPipeline p = MarPipeline.builder()
                .model(dir.resolve(BundledModels.MAR_MODEL))
                .vae(dir.resolve(BundledModels.MAR_VAE))
                .heads(BundledModels.MAR_HEADS, BundledModels.MAR_HEADS)
                .load()) {
            Generation<MarDetails> g = p.generate(new int[] {7, 0}, 3, BundledModels.MAR_SAMPLING);
            for (int i = 0; i < 2; i++) {
                Path cli = out.resolve(String.format("%03d.png", i)), api = tmp.resolve("api" + i + ".png");
                g.images().get(i).writePng(api);
                assertEquals(32, Images.read(cli).getWidth());
                assertArrayEquals(Files.readAllBytes(api), Files.readAllBytes(cli), "image " + i);
            }
        }
    }

    @Test
    void cspdOnTheBundledTargetDraftsWithTheBundledDraft(@TempDir Path tmp) throws IOException {
        Path stats = tmp.resolve("stats.json");
        Cli r = Cli.run(
                "generate",
                "mar",
                "--class",
                "bag",
                "--sampler",
                "cspd",
                "--gamma",
                "4",
                "--out",
                tmp.resolve("bag.png").toString(),
                "--stats-out",
                stats.toString());
        assertEquals(0, r.status(), r.err());
        String json = Files.readString(stats);
        Matcher drafted = Pattern.compile("\"draft_forwards\"\\s*:\\s*(\\d+)").matcher(json);
        assertTrue(drafted.find(), json);
        assertTrue(Integer.parseInt(drafted.group(1)) > 0, json);
        assertEquals(32, Images.read(tmp.resolve("bag.png")).getWidth());
    }

    @Test
    void aModelWithoutItsVaeIsAUsageError(@TempDir Path tmp) {
        Cli r = Cli.run(
                "generate", "mar", "--model", tmp.resolve("x.pth").toString(), "--class", "1", "--out", tmp.toString());
        assertEquals(2, r.status(), r.err());
        assertTrue(r.err().contains("--vae"), r.err());
    }
}
