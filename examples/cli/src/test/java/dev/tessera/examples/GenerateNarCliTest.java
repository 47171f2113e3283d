package dev.tessera.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.io.Json;
import dev.tessera.engine.testing.Golden;
import dev.tessera.tokenizers.Images;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tessera generate nar} on the vendored nar-small checkpoint with llamagen-small's tokenizer. */
class GenerateNarCliTest {
    static final String GPT = Golden.testdata().resolve("nar-small/gpt.pth").toString();
    static final String VQ = Golden.testdata().resolve("llamagen-small/vq.pth").toString();

    @Test
    void greedyRunWritesTheGoldenImagesAndCountsForwardPasses(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("imgs");
        Cli r = Cli.run(
                "generate",
                "nar",
                "--model",
                GPT,
                "--vq",
                VQ,
                "--heads",
                "4",
                "--class",
                "4",
                "--class",
                "8",
                "--top-k",
                "1",
                "--out",
                out.toString(),
                "--tokens-out",
                tmp.resolve("t.json").toString(),
                "--stats-out",
                tmp.resolve("s.json").toString());
        assertEquals(0, r.status(), r.err());
        try (Golden g = Golden.vendored("nar-small")) {
            float[] want = g.floats("vq.decoded");
            int image = 3 * 256 * 256;
            float[] expected = new float[2 * image], png = new float[2 * image];
            for (int b = 0; b < 2; b++) {
                System.arraycopy(
                        Images.toTensor(Images.read(out.resolve(String.format("%03d.png", b)))),
                        0,
                        png,
                        b * image,
                        image);
                for (int i = 0; i < image; i++) expected[b * image + i] = (want[b * image + i] + 1f) / 2f;
            }
            // the decode is within 2e-5 of the golden ([-1, 1]), 1e-5 in [0, 1]: a value then lands across a rounding
            // boundary with probability at most 2 x 1e-5 x 255 = 0.5%; 75-90 of 393,216 (0.02%) do, 200 are allowed
            PngLevels.compare(expected, png).assertWithinHalfLevel(2e-5, 200, "NAR CLI PNGs vs the golden decode");
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> images =
                    (List<Map<String, Object>>) ((Map<String, Object>) Json.read(tmp.resolve("t.json"))).get("images");
            @SuppressWarnings("unchecked")
            List<Number> tokens = (List<Number>) images.get(1).get("tokens");
            int[] golden = g.ints("greedy.tokens");
            for (int i = 0; i < 256; i++)
                assertEquals(golden[256 + i], tokens.get(i).intValue(), "token " + i);
            // each image's keys in one order in every run: "class" before "tokens"
            String text = Files.readString(tmp.resolve("t.json"));
            assertTrue(text.indexOf("\"class\"") < text.indexOf("\"tokens\""), text.substring(0, 40));
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> stats = (Map<String, Object>) Json.read(tmp.resolve("s.json"));
        assertEquals(31L, stats.get("forward_passes_per_image"));
    }

    @Test
    void bf16WeightsGenerateAndLastOneCommand(@TempDir Path tmp) {
        Path out = tmp.resolve("bf16.png"), tokens = tmp.resolve("tokens.json");
        Cli r = Cli.run(
                "generate",
                "nar",
                "--model",
                GPT,
                "--vq",
                VQ,
                "--heads",
                "4",
                "--class",
                "4",
                "--top-k",
                "1",
                "--weights",
                "bf16",
                "--out",
                out.toString(),
                "--tokens-out",
                tokens.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(Files.exists(out) && Files.exists(tokens));
        assertTrue(r.out().contains("linear weights in bfloat16"), r.out());
        Cli plain = Cli.run(
                "generate",
                "nar",
                "--model",
                GPT,
                "--vq",
                VQ,
                "--heads",
                "4",
                "--class",
                "4",
                "--top-k",
                "1",
                "--out",
                tmp.resolve("f32.png").toString());
        assertEquals(0, plain.status(), plain.err());
        assertFalse(plain.out().contains("bfloat16"), plain.out());
    }

    @Test
    void aLlamaGenCheckpointIsNotTakenForNar(@TempDir Path tmp) {
        Path out = tmp.resolve("x.png");
        Cli r = Cli.run(
                "generate",
                "nar",
                "--model",
                Golden.testdata().resolve("llamagen-small/gpt.pth").toString(),
                "--vq",
                VQ,
                "--class",
                "1",
                "--out",
                out.toString());
        assertNotEquals(0, r.status());
        assertTrue(r.err().contains("not a NAR checkpoint"), r.err());
        assertEquals(1, r.err().strip().lines().count());
        assertFalse(Files.exists(out));
    }
}
