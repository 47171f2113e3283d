package dev.tessera.tokenizers;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.testing.DeferredHostOps;
import dev.tessera.engine.testing.Golden;
import dev.tessera.tokenizers.kl.KlVae;
import dev.tessera.tokenizers.llamagen.VqModel;
import dev.tessera.tokenizers.var.MultiScaleVqVae;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The tokenizers' encoders (their decoders run in the samplers' pipeline tests) through {@link DeferredHostOps}, a
 * backend that keeps every result of an op off the host (NaN there) until {@code toHost}, and ignores host writes not
 * announced by {@code hostWrote}: a missing sync call gives NaN or stale values and fails the goldens.
 */
class DeferredHostTokenizersTest {

    @Test
    void llamaGenVqEncoder() {
        try (Golden g = Golden.vendored("llamagen-small");
                Checkpoint ckpt = Checkpoints.open(g.file("vq.pth"))) {
            VqModel vq = VqModel.load(ckpt, true, new DeferredHostOps());
            int[] codes = vq.encode(g.floats("vq.input"), 1, 256, 256);
            int[] want = g.ints("vq.codes");
            int same = 0;
            for (int i = 0; i < want.length; i++) if (codes[i] == want[i]) same++;
            assertTrue(same >= 0.99 * want.length, same + "/" + want.length + " codes agree");
        }
    }

    @Test
    void varMultiScaleEncoderAndFhat() {
        int[] pn = {1, 2, 3, 4, 5, 6, 8, 10, 13, 16};
        try (Golden g = Golden.vendored("var-small");
                Checkpoint ckpt = Checkpoints.open(g.file("vae.pth"))) {
            MultiScaleVqVae vae = MultiScaleVqVae.load(ckpt, pn, 0.5f, new DeferredHostOps());
            List<int[]> tokens = vae.encode(g.floats("vae.input"), 1, 256, 256);
            for (int si = 0; si < pn.length; si++) {
                int[] want = g.ints("vae.tokens." + si), got = tokens.get(si);
                int same = 0;
                for (int i = 0; i < want.length; i++) if (want[i] == got[i]) same++;
                assertTrue(same >= 0.99 * want.length, "scale " + si + ": " + same + "/" + want.length + " agree");
            }
            float[] fhat = vae.newFhat(2);
            for (int si = 0; si < pn.length; si++) {
                vae.addScale(fhat, 2, si, vae.embed(g.ints("greedy.tokens." + si), 2, pn[si]));
                vae.ops().toHost(fhat);
                Golden.assertClose(g.floats("greedy.fhat." + si), fhat, Golden.TOL, "f_hat after scale " + si);
            }
        }
    }

    @Test
    void klEncoder() {
        try (Golden g = Golden.vendored("flowar-small");
                Checkpoint ckpt = Checkpoints.open(g.file("vae.pth"));
                Checkpoint want = Checkpoints.open(Golden.testdata().resolve("flowar-sampled/encoder.safetensors"))) {
            KlVae vae = KlVae.load(ckpt, new DeferredHostOps());
            float[] x = new float[3 * 256 * 256];
            for (int c = 0; c < 3; c++) {
                for (int h = 0; h < 256; h++) {
                    for (int w = 0; w < 256; w++) {
                        x[(c * 256 + h) * 256 + w] =
                                (float) (0.9 * Math.sin(0.05 * h * (c + 1)) * Math.cos(0.07 * w + c));
                    }
                }
            }
            Golden.assertClose(
                    want.tensor("vae.encoded").toFloatArray(), vae.encode(x, 1, 256, 256), Golden.TOL, "KL-16 encode");
        }
    }
}
