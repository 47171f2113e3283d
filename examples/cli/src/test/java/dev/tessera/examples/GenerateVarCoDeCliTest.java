package dev.tessera.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.io.Json;
import dev.tessera.engine.testing.Golden;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tessera generate var --drafter D --draft-scales N}: collaborative decoding from the command line. */
class GenerateVarCoDeCliTest {

    @Test
    @SuppressWarnings("unchecked")
    void theWholePyramidMatchesTheReference(@TempDir Path tmp) {
        try (Golden g = Golden.shared("code-small")) {
            Path dir = tmp.resolve("out"), tokens = tmp.resolve("tokens.json");
            Cli r = Cli.run(
                    "generate",
                    "var",
                    "--model",
                    GenerateVarCliTest.VAR.toString(),
                    "--vae",
                    GenerateVarCliTest.VAE.toString(),
                    "--drafter",
                    g.file("drafter.pth").toString(),
                    "--draft-scales",
                    "7",
                    "--class",
                    "3",
                    "--class",
                    "7",
                    "--cfg",
                    "1.5",
                    "--top-k",
                    "1",
                    "--top-p",
                    "0.95",
                    "--out",
                    dir.toString(),
                    "--tokens-out",
                    tokens.toString());
            assertEquals(0, r.status(), r.err());
            assertTrue(r.out().contains("drafted by VAR depth 3") && r.out().contains("for 7 scales"), r.out());
            List<Map<String, Object>> images =
                    (List<Map<String, Object>>) ((Map<String, Object>) Json.read(tokens)).get("images");
            for (int si = 0; si < 10; si++) {
                int[] want = g.ints("N7.tokens." + si);
                int n = want.length / 2;
                for (int b = 0; b < 2; b++) {
                    List<Number> scale = ((List<List<Number>>) images.get(b).get("scales")).get(si);
                    int[] exp = new int[n];
                    System.arraycopy(want, b * n, exp, 0, n);
                    assertArrayEquals(
                            exp, scale.stream().mapToInt(Number::intValue).toArray(), "scale " + si);
                }
            }
        }
    }

    @Test
    void badCoDeOptionsAreOneLine(@TempDir Path tmp) {
        Path out = tmp.resolve("o.png");
        String var = GenerateVarCliTest.VAR.toString(), vae = GenerateVarCliTest.VAE.toString();
        String[][] cases = {
            {"--model", var, "--vae", vae, "--drafter", var, "--class", "1"},
            {"--model", var, "--vae", vae, "--draft-scales", "3", "--class", "1"},
            {"--model", var, "--vae", vae, "--drafter", var, "--draft-scales", "0", "--class", "1"},
            {"--model", var, "--vae", vae, "--drafter", var, "--draft-scales", "10", "--class", "1"},
        };
        String[] expect = {
            "--drafter and --draft-scales go together",
            "--drafter and --draft-scales go together",
            "--draft-scales must be at least 1",
            "between 1 and 9 of the 10 scales"
        };
        for (int i = 0; i < cases.length; i++) {
            Cli r = Cli.run(GenerateVarCliTest.concat(
                    GenerateVarCliTest.concat(new String[] {"generate", "var"}, cases[i]),
                    new String[] {"--out", out.toString()}));
            assertTrue(r.status() == 1 || r.status() == 2, "case " + i + ": status " + r.status());
            assertEquals(1, r.err().strip().lines().count(), "case " + i + ": " + r.err());
            assertTrue(r.err().contains(expect[i]), "case " + i + ": " + r.err());
            assertFalse(Files.exists(out), "case " + i);
        }
    }
}
