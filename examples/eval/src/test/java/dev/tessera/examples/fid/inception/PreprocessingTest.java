package dev.tessera.examples.fid.inception;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.ops.Interpolation;
import dev.tessera.engine.tensor.Tensor;
import dev.tessera.engine.testing.Golden;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Each preprocessing mode against the tool it reproduces ({@code testdata/fid/preprocessing.safetensors}):
 * PyTorch's {@code F.interpolate} bilinear, torch-fidelity's TF1-exact bilinear, Pillow's bicubic in "F" mode; an
 * upsampling, an antialiased downsampling and a smooth image, then the full 299×299 inputs of each mode.
 */
class PreprocessingTest {
    private static Checkpoint ref;

    @BeforeAll
    static void open() {
        ref = Checkpoints.open(Golden.testdata().resolve("fid/preprocessing.safetensors"));
    }

    @AfterAll
    static void close() {
        ref.close();
    }

    static Rgb8Image image(String name) {
        Tensor t = ref.tensor("image." + name);
        long[] s = t.shape();
        byte[] hwc = new byte[(int) t.numel()];
        for (int i = 0; i < hwc.length; i++) hwc[i] = (byte) t.getLong(i);
        return new Rgb8Image((int) s[0], (int) s[1], hwc);
    }

    /** Resizes every channel of an image with {@code resizer} to the reference's size. */
    interface PlaneResizer {
        void resize(float[] in, int inOff, int H, int W, float[] out, int outOff, int oh, int ow);
    }

    static double resizeError(String key, String image, float div, PlaneResizer resizer) {
        Rgb8Image img = image(image);
        Tensor want = ref.tensor(key + "." + image);
        int oh = (int) want.dim(1), ow = (int) want.dim(2);
        float[] got = new float[3 * oh * ow];
        for (int c = 0; c < 3; c++)
            resizer.resize(img.plane(c, div), 0, img.height(), img.width(), got, c * oh * ow, oh, ow);
        return Golden.maxAbsError(want.toFloatArray(), got);
    }

    @ParameterizedTest
    @ValueSource(strings = {"up", "down", "smooth"})
    void tfLegacyBilinearIsBitExactWithTorchFidelity(String image) {
        double err = resizeError("tf_bilinear", image, 1f, TfLegacyBilinear::resizePlane);
        System.out.printf("TF1 bilinear (%s) vs torch-fidelity: max abs error %.3g (0..255 scale)%n", image, err);
        assertEquals(0.0, err, "TF1 legacy bilinear must be bit-exact");
    }

    @ParameterizedTest
    @ValueSource(strings = {"up", "down", "smooth"})
    void torchBilinearMatchesInterpolate(String image) {
        double err = resizeError("torch_bilinear", image, 255f, Interpolation::bilinearPlane);
        System.out.printf("half-pixel bilinear (%s) vs F.interpolate: max abs error %.3g ([0, 1] scale)%n", image, err);
        assertTrue(err <= 1.2e-7, "bilinear error " + err); // one float32 ulp at 1
    }

    @ParameterizedTest
    @ValueSource(strings = {"up", "down", "smooth"})
    void pilBicubicMatchesPillow(String image) {
        double err = resizeError("pil_bicubic", image, 1f, PilBicubic::resizePlane);
        System.out.printf("PIL bicubic (%s) vs Pillow: max abs error %.3g (0..255 scale)%n", image, err);
        assertTrue(err <= 1e-5, "bicubic error " + err);
    }

    @ParameterizedTest
    @ValueSource(strings = {"adm", "pytorch-fid", "clean-fid"})
    void fullInputMatchesTheTool(String mode) {
        Preprocessing p = Preprocessing.byId(mode);
        assertNotNull(p);
        assertEquals(mode, p.id());
        long[] rows = ref.tensor("rows").toLongArray();
        for (String image : new String[] {"down", "smooth"}) {
            float[] input = p.apply(image(image));
            assertEquals(3 * 299 * 299, input.length);
            float[] got = new float[3 * rows.length * 299];
            for (int c = 0; c < 3; c++) {
                for (int r = 0; r < rows.length; r++) {
                    System.arraycopy(input, (c * 299 + (int) rows[r]) * 299, got, (c * rows.length + r) * 299, 299);
                }
            }
            double err = Golden.maxAbsError(ref.tensor(mode + "." + image).toFloatArray(), got);
            System.out.printf("%s preprocessing (%s, 299x299) max abs error %.3g%n", mode, image, err);
            assertTrue(err <= 5e-7, mode + " error " + err);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"adm", "pytorch-fid", "clean-fid"})
    void modesDifferFromEachOther(String mode) {
        // a test that the three are not accidentally the same code path
        Preprocessing p = Preprocessing.byId(mode);
        float[] mine = p.apply(image("smooth"));
        for (Preprocessing other : Preprocessing.values()) {
            if (other == p) continue;
            assertTrue(Golden.maxAbsError(mine, other.apply(image("smooth"))) > 1e-3, mode + " vs " + other.id());
        }
    }
}
