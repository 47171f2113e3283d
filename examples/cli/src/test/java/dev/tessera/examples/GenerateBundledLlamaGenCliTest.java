package dev.tessera.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.io.Json;
import dev.tessera.tokenizers.Images;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tessera generate llamagen} without --model/--vq: the bundled Fashion-MNIST LlamaGen target and tokenizer,
 * and its draft by default for speculative sampling.
 */
class GenerateBundledLlamaGenCliTest {

    @Test
    void theBundledPairIsTheDefault(@TempDir Path tmp) {
        Path out = tmp.resolve("imgs"), stats = tmp.resolve("stats.json");
        Cli r = Cli.run(
                "generate",
                "llamagen",
                "--class",
                "sneaker",
                "--class",
                "1",
                "--sampler",
                "speculative",
                "--out",
                out.toString(),
                "--stats-out",
                stats.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("class 7 sneaker") && r.out().contains("class 1 trouser"), r.out());
        assertTrue(r.out().contains("8x8 tokens"), r.out());
        for (int i = 0; i < 2; i++) {
            BufferedImage img = Images.read(out.resolve(String.format("%03d.png", i)));
            assertEquals(32, img.getWidth());
            assertEquals(32, img.getHeight());
        }
        Map<?, ?> s = (Map<?, ?>) Json.read(stats);
        assertEquals("speculative", s.get("sampler"));
        assertTrue(((Number) s.get("draft_forwards")).intValue() > 0, "the bundled draft ran: " + s);
    }

    /** The bundled NAR is the default of generate nar: class names, 32 px, the 8x8 grid in 15 passes. */
    @Test
    void theBundledNarIsTheDefault(@TempDir Path tmp) {
        Path out = tmp.resolve("nar"), stats = tmp.resolve("stats.json");
        Cli r = Cli.run(
                "generate",
                "nar",
                "--class",
                "bag",
                "--class",
                "3",
                "--out",
                out.toString(),
                "--stats-out",
                stats.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("class 8 bag") && r.out().contains("class 3 dress"), r.out());
        assertTrue(r.out().contains("8x8 tokens") && r.out().contains("15 forward passes"), r.out());
        for (int i = 0; i < 2; i++) {
            BufferedImage img = Images.read(out.resolve(String.format("%03d.png", i)));
            assertEquals(32, img.getWidth());
            assertEquals(32, img.getHeight());
        }
    }
}
