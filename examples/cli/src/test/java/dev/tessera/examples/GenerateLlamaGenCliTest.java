package dev.tessera.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.io.Json;
import dev.tessera.engine.testing.Golden;
import dev.tessera.engine.testing.PerturbedCopy;
import dev.tessera.tokenizers.Images;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tessera generate llamagen} on the vendored llamagen-small checkpoints. */
class GenerateLlamaGenCliTest {
    static final String GPT =
            Golden.testdata().resolve("llamagen-small/gpt.pth").toString();
    static final String VQ = Golden.testdata().resolve("llamagen-small/vq.pth").toString();

    @Test
    void greedyRunWritesTheGoldenImagesTokensAndStats(@TempDir Path tmp) {
        Path out = tmp.resolve("imgs");
        Cli r = Cli.run(
                "generate",
                "llamagen",
                "--model",
                GPT,
                "--vq",
                VQ,
                "--heads",
                "4",
                "--class",
                "2",
                "--class",
                "9",
                "--cfg",
                "2",
                "--top-k",
                "1",
                "--out",
                out.toString(),
                "--tokens-out",
                tmp.resolve("t.json").toString(),
                "--stats-out",
                tmp.resolve("s.json").toString());
        assertEquals(0, r.status(), r.err());
        try (Golden g = Golden.vendored("llamagen-small")) {
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
            PngLevels.compare(expected, png).assertWithinHalfLevel(2e-5, 200, "LlamaGen CLI PNGs vs the golden decode");
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> images =
                    (List<Map<String, Object>>) ((Map<String, Object>) Json.read(tmp.resolve("t.json"))).get("images");
            assertEquals(9L, images.get(1).get("class"));
            @SuppressWarnings("unchecked")
            List<Number> tokens = (List<Number>) images.get(0).get("tokens");
            int[] golden = g.ints("greedy.tokens");
            for (int i = 0; i < 256; i++) assertEquals(golden[i], tokens.get(i).intValue(), "token " + i);
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> stats = (Map<String, Object>) Json.read(tmp.resolve("s.json"));
        assertEquals("ar", stats.get("sampler"));
        assertEquals(256.0, ((Number) stats.get("target_forwards_per_image")).doubleValue());
        assertEquals(1.0, ((Number) stats.get("mean_accepted_tokens_per_target_forward")).doubleValue(), 1e-9);
    }

    @Test
    void acceleratedSamplersRunFromTheCommandLine(@TempDir Path tmp) {
        // the draft is a close sibling of the target, not the target itself (which would accept every proposal)
        String draft = PerturbedCopy.write(Path.of(GPT), tmp.resolve("draft.safetensors"), 0.03, 5)
                .toString();
        for (String sampler : new String[] {"sjd", "speculative", "lantern"}) {
            Path stats = tmp.resolve(sampler + ".json");
            Cli r = Cli.run(
                    "generate",
                    "llamagen",
                    "--model",
                    GPT,
                    "--vq",
                    VQ,
                    "--heads",
                    "4",
                    "--class",
                    "tench",
                    "--seed",
                    "3",
                    "--sampler",
                    sampler,
                    "--draft",
                    draft,
                    "--draft-heads",
                    "4",
                    "--gamma",
                    "3",
                    "--sjd-window",
                    "6",
                    "--lantern-k",
                    "20",
                    "--out",
                    tmp.resolve(sampler + ".png").toString(),
                    "--stats-out",
                    stats.toString());
            assertEquals(0, r.status(), sampler + ": " + r.err());
            @SuppressWarnings("unchecked")
            Map<String, Object> s = (Map<String, Object>) Json.read(stats);
            double forwards = ((Number) s.get("target_forwards")).doubleValue();
            assertTrue(
                    forwards < (sampler.equals("sjd") ? 256 : 180), sampler + " used " + forwards + " target forwards");
            if (!sampler.equals("sjd")) {
                double acceptance = ((Number) s.get("acceptance_rate")).doubleValue();
                assertTrue(
                        acceptance > 0.3 && acceptance < 1,
                        sampler + " acceptance " + acceptance + ": a close draft, not the target");
            }
            assertTrue(Files.exists(tmp.resolve(sampler + ".png")));
        }
    }

    @Test
    void badInputsAreOneLineErrors(@TempDir Path tmp) {
        String[][] cases = {
            {"--sampler", "speculative"}, // no draft
            {"--sampler", "beam"}, // unknown sampler
            {"--class", "42"}, // out of range (second --class)
            {"--image-size", "250"}, // not a multiple of 16
            {"--top-p", "0"},
        };
        for (String[] extra : cases) {
            Path out = tmp.resolve("never.png");
            String[] base = {
                "generate",
                "llamagen",
                "--model",
                GPT,
                "--vq",
                VQ,
                "--heads",
                "4",
                "--class",
                "1",
                "--out",
                out.toString()
            };
            Cli r = Cli.run(GenerateVarCliTest.concat(base, extra));
            assertNotEquals(0, r.status(), String.join(" ", extra));
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertTrue(r.err().startsWith("tessera: "), r.err());
            assertFalse(Files.exists(out));
        }
    }
}
