package dev.tessera.samplers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.engine.testing.Golden;
import dev.tessera.samplers.var.VarDetails;
import dev.tessera.samplers.var.VarPipeline;
import dev.tessera.samplers.var.VarSettings;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The weight format is an option of loading, not process state: a float32 and a bfloat16 VAR pipeline open in one
 * JVM at the same time each give exactly what it gives alone, and the two differ (so the format really reached the
 * layers of each).
 */
class TwoWeightFormatsTest {
    static final Path VAR = Golden.testdata().resolve("var-small/var.pth"),
            VAE = Golden.testdata().resolve("var-small/vae.pth");
    static final int[] CLASSES = {3, 7};
    static final VarSettings SETTINGS = new VarSettings(1.5, 50, 0.9, false);

    static VarPipeline load(WeightPanels.Format f) {
        return VarPipeline.builder().model(VAR).vae(VAE).weights(f).load();
    }

    @Test
    void f32AndBf16PipelinesLiveSideBySide() {
        Generation<VarDetails> f32Alone, bf16Alone;
        try (VarPipeline p = load(WeightPanels.Format.F32)) {
            f32Alone = p.generate(CLASSES, 5, SETTINGS);
        }
        try (VarPipeline p = load(WeightPanels.Format.BF16)) {
            bf16Alone = p.generate(CLASSES, 5, SETTINGS);
        }
        // both open at once, loaded in the other order, generating in turn
        try (VarPipeline bf16 = load(WeightPanels.Format.BF16);
                VarPipeline f32 = load(WeightPanels.Format.F32)) {
            Generation<VarDetails> a = f32.generate(CLASSES, 5, SETTINGS), b = bf16.generate(CLASSES, 5, SETTINGS);
            assertSame(f32Alone, a, "f32 beside bf16");
            assertSame(bf16Alone, b, "bf16 beside f32");
        }
        assertFalse(
                Arrays.equals(f32Alone.details().fhat(), bf16Alone.details().fhat()),
                "bfloat16 weights must change the result (else the format never reached the layers)");
    }

    static void assertSame(Generation<VarDetails> want, Generation<VarDetails> got, String what) {
        for (int si = 0; si < want.details().tokens().size(); si++) {
            assertArrayEquals(
                    want.details().tokens().get(si), got.details().tokens().get(si), what + ": tokens of scale " + si);
        }
        assertArrayEquals(want.details().fhat(), got.details().fhat(), what + ": f_hat");
        for (int b = 0; b < want.images().size(); b++) {
            assertArrayEquals(want.images().get(b).pixels(), got.images().get(b).pixels(), what + ": image " + b);
        }
    }
}
