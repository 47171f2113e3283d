package dev.tessera.tokenizers.var;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.ops.Ops;
import dev.tessera.engine.testing.Golden;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The multi-scale VQ-VAE against golden {@code var-small}: f_hat per scale, decode, encode. */
class MultiScaleVqVaeGoldenTest {
    private static final int[] PN = {1, 2, 3, 4, 5, 6, 8, 10, 13, 16};
    private static Golden golden;
    private static Checkpoint ckpt;
    private static MultiScaleVqVae vae;

    @BeforeAll
    static void load() {
        golden = Golden.vendored("var-small");
        ckpt = Checkpoints.open(golden.file("vae.pth"));
        vae = MultiScaleVqVae.load(ckpt, PN, 0.5f, Ops.cpu());
    }

    @AfterAll
    static void close() {
        ckpt.close();
        golden.close();
    }

    @Test
    void shapeIsReadFromTheCheckpoint() {
        assertEquals(512, vae.vocab());
        assertEquals(8, vae.cvae());
        assertEquals(16, vae.side());
        assertEquals(256, vae.imageSide());
        assertTrue(vae.hasEncoder());
        int[] phi = new int[PN.length];
        for (int si = 0; si < PN.length; si++) phi[si] = vae.phiIndex(si);
        assertArrayEquals(new int[] {0, 0, 1, 1, 1, 2, 2, 3, 3, 3}, phi);
    }

    @Test
    void fhatAfterEveryScaleMatches() {
        int B = 2;
        float[] fhat = vae.newFhat(B);
        for (int si = 0; si < PN.length; si++) {
            vae.addScale(fhat, B, si, vae.embed(golden.ints("greedy.tokens." + si), B, PN[si]));
            double err =
                    Golden.assertClose(golden.floats("greedy.fhat." + si), fhat, Golden.TOL, "f_hat after scale " + si);
            if (si == PN.length - 1) System.out.printf("f_hat after the last scale: max abs error %.3g%n", err);
        }
    }

    @Test
    void greedyImageDecodes() {
        int B = 2;
        List<int[]> tokens = new ArrayList<>();
        for (int si = 0; si < PN.length; si++) tokens.add(golden.ints("greedy.tokens." + si));
        float[] img = vae.decode(vae.tokensToFhat(tokens, B), B);
        for (int i = 0; i < img.length; i++) img[i] = (img[i] + 1f) * 0.5f;
        double err = Golden.assertClose(golden.floats("greedy.image"), img, Golden.TOL, "greedy image");
        System.out.printf("decoded greedy image: max abs error %.3g%n", err);
    }

    @Test
    void decodedTokensMatch() {
        List<int[]> tokens = new ArrayList<>();
        for (int si = 0; si < PN.length; si++) tokens.add(golden.ints("vae.tokens." + si));
        float[] img = vae.decode(vae.tokensToFhat(tokens, 1), 1);
        double err = Golden.assertClose(golden.floats("vae.decoded"), img, Golden.TOL, "idxBl_to_img");
        System.out.printf("idxBl_to_img: max abs error %.3g%n", err);
    }

    @Test
    void encoderTokensAgreeAtLeast99PercentPerScale() {
        List<int[]> tokens = vae.encode(golden.floats("vae.input"), 1, 256, 256);
        for (int si = 0; si < PN.length; si++) {
            int[] want = golden.ints("vae.tokens." + si), got = tokens.get(si);
            int same = 0;
            for (int i = 0; i < want.length; i++) if (want[i] == got[i]) same++;
            double agree = (double) same / want.length;
            System.out.printf("encoder scale %d: %d/%d tokens identical%n", si, same, want.length);
            assertTrue(agree >= 0.99, "scale " + si + ": only " + same + "/" + want.length + " encoder tokens agree");
        }
    }
}
