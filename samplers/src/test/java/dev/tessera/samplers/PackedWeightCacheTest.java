package dev.tessera.samplers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.io.PackedWeightCache;
import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.samplers.var.VarDetails;
import dev.tessera.samplers.var.VarPipeline;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A pipeline that stores its packed weights and one that maps them from there generate exactly what a pipeline
 * packing in memory generates (the golden VAR, every layer cached: the size limit is lifted), in both formats.
 */
class PackedWeightCacheTest {
    @TempDir
    Path dir;

    @Test
    void storedAndMappedWeightsGiveTheSameImages() {
        for (WeightPanels.Format f : WeightPanels.Format.values()) {
            Generation<VarDetails> plain, stored, mapped;
            try (VarPipeline p = TwoWeightFormatsTest.load(f)) {
                plain = p.generate(TwoWeightFormatsTest.CLASSES, 5, TwoWeightFormatsTest.SETTINGS);
            }
            PackedWeightCache first = PackedWeightCache.at(dir, 0), second = PackedWeightCache.at(dir, 0);
            try (VarPipeline p = load(f, first)) {
                stored = p.generate(TwoWeightFormatsTest.CLASSES, 5, TwoWeightFormatsTest.SETTINGS);
            }
            try (VarPipeline p = load(f, second)) {
                mapped = p.generate(TwoWeightFormatsTest.CLASSES, 5, TwoWeightFormatsTest.SETTINGS);
            }
            TwoWeightFormatsTest.assertSame(plain, stored, f + ", packed into the cache");
            TwoWeightFormatsTest.assertSame(plain, mapped, f + ", mapped from the cache");
            assertTrue(first.bytesWritten() > 0, f + ": the first pipeline stores its layers");
            assertEquals(0, second.bytesWritten(), f + ": the second one packs nothing");
            assertEquals(first.bytesWritten(), second.bytesMapped(), f + ": and maps every layer the first stored");
        }
    }

    private static VarPipeline load(WeightPanels.Format f, PackedWeightCache cache) {
        return VarPipeline.builder()
                .model(TwoWeightFormatsTest.VAR)
                .vae(TwoWeightFormatsTest.VAE)
                .weights(f)
                .packedWeights(cache)
                .load();
    }
}
