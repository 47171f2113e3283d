package dev.tessera.samplers.llamagen;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.samplers.BundledModels;
import dev.tessera.samplers.GeneratedImage;
import dev.tessera.samplers.Generation;
import dev.tessera.samplers.Progress;
import dev.tessera.samplers.TokenDetails;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The bundled Fashion-MNIST LlamaGen pair ({@link LlamaGenPipeline#loadDefault()}: target, draft, VQ tokenizer,
 * examples/models/fmnist) through the same loaders as the official checkpoints: it loads without paths at 32 px
 * (8x8 codes), and LANTERN with δ = 0 is speculative sampling token for token on models that learned something.
 */
class BundledLlamaGenTest {
    static LlamaGenPipeline pipe;

    @BeforeAll
    static void load() {
        pipe = LlamaGenPipeline.loadDefault();
    }

    @AfterAll
    static void close() {
        pipe.close();
    }

    @Test
    void theBundledPairLoadsWithoutPaths() {
        assertEquals(BundledModels.LLAMAGEN_SAMPLING, pipe.defaults());
        assertEquals(10, pipe.numClasses());
        assertEquals(8, pipe.config().grid());
        assertTrue(pipe.hasDraft());
        Generation<TokenDetails> g = pipe.generate(new int[] {7}, 0);
        GeneratedImage img = g.images().get(0);
        assertEquals(32, img.width());
        assertEquals(32, img.height());
        assertEquals(64, g.details().tokens().get(0).length);
    }

    /** The same seeds, classes and γ: LANTERN at δ = 0 accepts exactly what speculative sampling accepts. */
    @Test
    void lanternWithDeltaZeroIsSpeculativeSampling() {
        LlamaGenSettings spec = LlamaGenSettings.builder()
                .cfg(BundledModels.LLAMAGEN_CFG)
                .sampler(Sampler.SPECULATIVE)
                .gamma(4)
                .build();
        LlamaGenSettings lantern = LlamaGenSettings.builder()
                .cfg(BundledModels.LLAMAGEN_CFG)
                .sampler(Sampler.LANTERN)
                .gamma(4)
                .lanternDelta(0)
                .lanternK(LlamaGenSettings.LANTERN_K)
                .build();
        int accepted = 0, proposed = 0;
        for (int seed = 0; seed < 4; seed++) {
            int[] classes = {seed, seed + 5};
            TokenDetails s = pipe.generate(classes, seed, spec, Progress.NONE).details();
            TokenDetails l =
                    pipe.generate(classes, seed, lantern, Progress.NONE).details();
            for (int b = 0; b < classes.length; b++) {
                assertArrayEquals(
                        s.tokens().get(b),
                        l.tokens().get(b),
                        "seed " + seed + ", image " + b + ": LANTERN(delta 0) "
                                + Arrays.toString(l.tokens().get(b)) + " vs speculative "
                                + Arrays.toString(s.tokens().get(b)));
                assertEquals(
                        s.stats().get(b).accepted(),
                        l.stats().get(b).accepted(),
                        "accepted drafts, seed " + seed + ", image " + b);
                accepted += s.stats().get(b).accepted();
                proposed += s.stats().get(b).proposed();
            }
        }
        // the draft learned the same distribution: a real share of its proposals survive (random weights: near 0)
        assertTrue(
                accepted > 0.2 * proposed, "speculative acceptance on the bundled pair: " + accepted + "/" + proposed);
    }
}
