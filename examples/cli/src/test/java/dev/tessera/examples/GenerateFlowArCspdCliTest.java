package dev.tessera.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.io.Json;
import dev.tessera.engine.testing.Golden;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tessera generate flowar --sampler cspd} on the vendored flowar-small checkpoint. */
class GenerateFlowArCspdCliTest {
    static final Path DIR = Golden.testdata().resolve("flowar-small");
    static final String MODEL = DIR.resolve("flowar.pth").toString(),
            VAE = DIR.resolve("vae.pth").toString();

    private static Cli generate(Path out, String... more) {
        List<String> a = new ArrayList<>(List.of(
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
                "--seed",
                "9",
                "--steps",
                "4",
                "--cfg",
                "2",
                "--out",
                out.toString()));
        a.addAll(List.of(more));
        return Cli.run(a.toArray(String[]::new));
    }

    @Test
    void theModelAsItsOwnDraftAcceptsEverythingAndWritesTheEulerMaruyamaImages(@TempDir Path tmp) throws IOException {
        Path stats = tmp.resolve("stats.json");
        Cli alone = generate(tmp.resolve("alone"), "--sampler", "euler-maruyama");
        assertEquals(0, alone.status(), alone.err());
        Cli r = generate(
                tmp.resolve("cspd"),
                "--sampler",
                "cspd",
                "--draft",
                MODEL,
                "--prefill",
                "0",
                "--stats-out",
                stats.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("CSpD-style exact"), r.out());
        @SuppressWarnings("unchecked")
        Map<String, Object> s = (Map<String, Object>) Json.read(stats);
        assertEquals("cspd", s.get("sampler"));
        assertEquals(2L * (4 + 16 + 64 + 256), ((Number) s.get("drafted")).longValue()); // scales 1..4
        assertEquals(1.0, ((Number) s.get("acceptance_rate")).doubleValue());
        assertEquals(0L, ((Number) s.get("rejection_proposals")).longValue());
        assertEquals(5L, ((Number) s.get("target_forwards")).longValue());
        assertEquals(5L, ((Number) s.get("draft_forwards")).longValue());
        assertEquals(4L + 4, ((Number) s.get("target_head_evaluations")).longValue()); // scale 0, then 1 per scale
        assertTrue(((Number) s.get("seconds")).doubleValue() > 0);
        for (String png : new String[] {"000.png", "001.png"}) {
            assertArrayEquals(
                    Files.readAllBytes(tmp.resolve("alone").resolve(png)),
                    Files.readAllBytes(tmp.resolve("cspd").resolve(png)),
                    png);
        }
    }

    @Test
    void badOptionsGiveOneReadableLine(@TempDir Path tmp) {
        Path out = tmp.resolve("x");
        String[][] usage = {
            {"--sampler", "cspd"},
            {"--draft", MODEL},
            {"--prefill", "0.5"},
            {"--cspd-rule", "exact"},
            {"--sampler", "fast"},
            {"--sampler", "cspd", "--draft", MODEL, "--cspd-rule", "maybe"},
            {"--sampler", "cspd", "--draft", MODEL, "--prefill", "2"},
            {"--sampler", "cspd", "--draft", MODEL, "--inner-temperature", "0"},
            {"--sampler", "cspd", "--draft", MODEL, "--draft-heads", "0"},
            {"--sampler", "cspd", "--draft", tmp.resolve("missing.pth").toString()}
        };
        for (String[] bad : usage) {
            Cli r = generate(out, bad);
            assertEquals(2, r.status(), String.join(" ", bad) + ": " + r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
        }
        // a draft that is no FlowAR checkpoint: a failure, one line, nothing written
        Cli r = generate(out, "--sampler", "cspd", "--draft", VAE);
        assertEquals(1, r.status(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertFalse(Files.exists(out));
        r = Cli.run("generate", "flowar", "--help");
        assertEquals(0, r.status());
        assertTrue(r.out().contains("APPROXIMATION") && r.out().contains("--cspd-rule"), r.out());
    }
}
