package dev.tessera.samplers.var;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.TesseraException;
import dev.tessera.samplers.BundledModels;
import dev.tessera.samplers.GeneratedImage;
import dev.tessera.samplers.Generation;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link VarPipeline#loadDefault()}: the bundled Fashion-MNIST VAR without any path. */
class LoadDefaultTest {

    @Test
    void theBundledVarLoadsWithoutPaths() {
        try (VarPipeline var = VarPipeline.loadDefault()) {
            assertEquals(10, var.numClasses());
            assertEquals(BundledModels.VAR_SAMPLING, var.defaults());
            assertEquals(3, var.config().depth());
            Generation<VarDetails> g = var.generate(new int[] {7, 1}, 0);
            assertEquals(2, g.images().size());
            for (GeneratedImage img : g.images()) {
                assertEquals(32, img.height());
                assertEquals(32, img.width());
            }
            // the same request through an explicitly loaded pipeline with the same settings: the same pixels
            Path dir = BundledModels.directory();
            try (VarPipeline explicit =
                    VarPipeline.load(dir.resolve(BundledModels.VAR_MODEL), dir.resolve(BundledModels.VAR_VAE))) {
                Generation<VarDetails> h = explicit.generate(new int[] {7, 1}, 0, BundledModels.VAR_SAMPLING);
                for (int i = 0; i < 2; i++) {
                    assertTrue(
                            Arrays.equals(
                                    h.images().get(i).pixels(),
                                    g.images().get(i).pixels()),
                            "image " + i);
                }
            }
        }
    }

    @Test
    void aMissingBundleIsOneReadableError(@TempDir Path empty) {
        String before = System.getProperty("tessera.home");
        System.setProperty("tessera.home", empty.toString());
        try {
            TesseraException e = assertThrows(TesseraException.class, VarPipeline::loadDefault);
            assertTrue(
                    e.getMessage().contains("examples/models/fmnist")
                            && e.getMessage().contains(empty.toString()),
                    e.getMessage());
        } finally {
            if (before == null) System.clearProperty("tessera.home");
            else System.setProperty("tessera.home", before);
        }
    }
}
