package dev.tessera.tokenizers.kl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.CheckpointException;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.ops.Ops;
import dev.tessera.engine.testing.Golden;
import org.junit.jupiter.api.Test;

/** MAR's KL-16 VAE against the official {@code AutoencoderKL} ({@code flowar-small/vae.pth}, ch 32). */
class KlVaeTest {

    @Test
    void decodeMatchesTheGoldenImages() {
        try (Golden g = Golden.vendored("flowar-small");
                Checkpoint ckpt = Checkpoints.open(g.file("vae.pth"))) {
            KlVae vae = KlVae.load(ckpt, Ops.cpu());
            assertEquals(16, vae.latentChannels());
            assertEquals(16, vae.downsampling());
            float[] lat = g.floats("sampled.latents");
            for (int i = 0; i < lat.length; i++) lat[i] /= KlVae.MAR_SCALE;
            double err =
                    Golden.assertClose(g.floats("vae.decoded"), vae.decode(lat, 2, 16, 16), Golden.TOL, "KL-16 decode");
            System.out.printf("KL-16 decode: max abs error %.3g%n", err);
        }
    }

    @Test
    void encodeGivesThePosteriorMean() {
        try (Golden g = Golden.vendored("flowar-small");
                Checkpoint ckpt = Checkpoints.open(g.file("vae.pth"));
                Checkpoint want = Checkpoints.open(Golden.testdata().resolve("flowar-sampled/encoder.safetensors"))) {
            KlVae vae = KlVae.load(ckpt, Ops.cpu());
            assertTrue(vae.hasEncoder());
            float[] x = new float[3 * 256 * 256];
            for (int c = 0; c < 3; c++) {
                for (int h = 0; h < 256; h++) {
                    for (int w = 0; w < 256; w++) {
                        x[(c * 256 + h) * 256 + w] =
                                (float) (0.9 * Math.sin(0.05 * h * (c + 1)) * Math.cos(0.07 * w + c));
                    }
                }
            }
            double err = Golden.assertClose(
                    want.tensor("vae.encoded").toFloatArray(),
                    vae.encode(x, 1, 256, 256),
                    Golden.TOL,
                    "KL-16 encode (posterior mean)");
            System.out.printf("KL-16 encode: max abs error %.3g%n", err);
        }
    }

    @Test
    void otherAutoencodersAreRefused() {
        try (Checkpoint vq = Checkpoints.open(Golden.testdata().resolve("llamagen-small/vq.pth"))) {
            TesseraException e = assertThrows(CheckpointException.class, () -> KlVae.load(vq, Ops.cpu()));
            assertTrue(e.getMessage().contains("not a KL autoencoder"), e.getMessage());
        }
    }
}
