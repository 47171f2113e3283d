package dev.tessera.examples.fid.inception;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.CheckpointException;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.io.InMemoryCheckpoint;
import dev.tessera.engine.ops.Backend;
import dev.tessera.engine.ops.Backends;
import dev.tessera.engine.ops.Ops;
import dev.tessera.engine.tensor.Tensor;
import dev.tessera.engine.testing.DeferredHostOps;
import dev.tessera.engine.testing.Golden;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * pool3 features against pytorch-fid's {@code InceptionV3([3])} on random weights in the official container
 * ({@code ../shared/golden/fid-small}, not vendored: 48 MB), with pytorch-fid's own preprocessing.
 */
class FidInceptionGoldenTest {

    /** The golden input images (k/255 floats, NCHW) as 8-bit images. */
    static List<Rgb8Image> goldenImages(Golden g) {
        long[] shape = g.shape("inception.input");
        int B = (int) shape[0], H = (int) shape[2], W = (int) shape[3], plane = H * W;
        float[] x = g.floats("inception.input");
        List<Rgb8Image> images = new ArrayList<>();
        for (int b = 0; b < B; b++) {
            byte[] hwc = new byte[3 * plane];
            for (int c = 0; c < 3; c++) {
                for (int i = 0; i < plane; i++) {
                    float v = x[(b * 3 + c) * plane + i];
                    int k = Math.round(v * 255f);
                    assertEquals(k / 255f, v, 0f, "golden input must be 8-bit values k/255");
                    hwc[3 * i + c] = (byte) k;
                }
            }
            images.add(new Rgb8Image(H, W, hwc));
        }
        return images;
    }

    /**
     * The backend a run uses: the CPU; the CPU through {@link DeferredHostOps}, which makes a missing
     * {@code toHost}/{@code hostWrote} around the host-side pools and taps fail the comparison; the first OpenCL
     * device (PoCL in CI, which installs it and fails on skipped tests).
     */
    static Ops backend(String name) {
        return switch (name) {
            case "cpu" -> Ops.cpu();
            case "deferred" -> new DeferredHostOps();
            case "opencl" -> {
                List<Backend.Device> d = Backends.find("opencl").devices();
                Assumptions.assumeTrue(!d.isEmpty(), "no OpenCL device: install pocl-opencl-icd (as .ci/run does)");
                yield Backends.open(d.getFirst().spec());
            }
            default -> throw new IllegalArgumentException(name);
        };
    }

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "deferred", "opencl"})
    void pool3MatchesPytorchFid(String device) throws Exception {
        Ops ops = backend(device);
        try (Golden g = Golden.shared("fid-small");
                FidInception net = FidInception.load(g.file("pt_inception-random.pth"), ops)) {
            List<Rgb8Image> images = goldenImages(g);
            List<float[]> inputs =
                    images.stream().map(Preprocessing.PYTORCH_FID::apply).toList();
            long t0 = System.nanoTime();
            List<InceptionFeatures> features = net.forward(inputs);
            double seconds = (System.nanoTime() - t0) * 1e-9;
            float[] got = new float[images.size() * InceptionFeatures.POOL3];
            for (int b = 0; b < images.size(); b++) {
                System.arraycopy(features.get(b).pool3(), 0, got, b * InceptionFeatures.POOL3, InceptionFeatures.POOL3);
            }
            double err = Golden.assertClose(g.floats("inception.pool3"), got, Golden.TOL, "pool3");
            System.out.printf(
                    "FID Inception on %s, pool3 vs pytorch-fid: max abs error %.3g (tolerance %.0e); %.3f s per image "
                            + "(batch of %d)%n",
                    ops.name(), err, Golden.TOL, seconds / images.size(), images.size());
            // the IS and sFID taps, from pytorch-fid's own network with forward hooks (testdata/fid/taps.safetensors,
            // testdata/scripts/make_fid_taps.py)
            try (Checkpoint taps = Checkpoints.open(Golden.testdata().resolve("fid/taps.safetensors"))) {
                float[] logits = new float[images.size() * InceptionFeatures.LOGITS];
                float[] spatial = new float[images.size() * InceptionFeatures.SPATIAL];
                for (int b = 0; b < images.size(); b++) {
                    System.arraycopy(
                            features.get(b).logits(),
                            0,
                            logits,
                            b * InceptionFeatures.LOGITS,
                            InceptionFeatures.LOGITS);
                    System.arraycopy(
                            features.get(b).spatial(),
                            0,
                            spatial,
                            b * InceptionFeatures.SPATIAL,
                            InceptionFeatures.SPATIAL);
                }
                double errLogits =
                        Golden.assertClose(taps.tensor("logits_unbiased").toFloatArray(), logits, Golden.TOL, "logits");
                double errSpatial =
                        Golden.assertClose(taps.tensor("spatial").toFloatArray(), spatial, Golden.TOL, "spatial");
                System.out.printf(
                        "bias-free logits max abs error %.3g, Mixed_6d spatial (NHWC, 7 channels) %.3g%n",
                        errLogits, errSpatial);
            }
        } finally {
            if (ops instanceof AutoCloseable c) c.close();
        }
    }

    @Test
    void expectsThe472KeysOfPytorchFidsFile() {
        assertEquals(472, FidInception.expectedKeys().size());
        assertTrue(FidInception.expectedKeys().contains("Mixed_7c.branch3x3dbl_3b.bn.running_var"));
    }

    /** A checkpoint with every expected key (1-element placeholders) plus {@code extra}, minus {@code drop}. */
    private static Checkpoint fake(List<String> extra, String drop) {
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (String k : FidInception.expectedKeys())
            if (!k.equals(drop)) t.put(k, Tensor.ofFloats(k, new float[] {1f}, 1));
        for (String k : extra) t.put(k, Tensor.ofFloats(k, new float[] {1f}, 1));
        return new InMemoryCheckpoint("fake.pth", t);
    }

    @Test
    void refusesFilesWithOtherKeysInOneMessage() {
        String torchvision = assertThrows(
                        CheckpointException.class,
                        () -> FidInception.load(
                                fake(List.of("AuxLogits.conv0.conv.weight", "AuxLogits.fc.weight"), null), Ops.cpu()))
                .getMessage();
        assertTrue(
                torchvision.contains("not the FID Inception")
                        && torchvision.contains("2 keys are not part of it")
                        && torchvision.contains("AuxLogits.conv0.conv.weight")
                        && torchvision.contains("torchvision"),
                torchvision);
        String missing = assertThrows(
                        CheckpointException.class, () -> FidInception.load(fake(List.of(), "fc.bias"), Ops.cpu()))
                .getMessage();
        assertTrue(missing.contains("1 of its 472 keys are missing (fc.bias)"), missing);
        String other = assertThrows(
                        CheckpointException.class,
                        () -> FidInception.load(
                                new InMemoryCheckpoint(
                                        "var.pth",
                                        Map.of("word_embed.weight", Tensor.ofFloats("w", new float[] {1f}, 1))),
                                Ops.cpu()))
                .getMessage();
        assertTrue(other.contains("472 of its 472 keys are missing") && other.contains("word_embed.weight"), other);
        // the right keys with a wrong shape: the shape error names the key
        String shape = assertThrows(
                        CheckpointException.class, () -> FidInception.load(fake(List.of(), null), Ops.cpu()))
                .getMessage();
        assertTrue(shape.contains("fc.weight") && shape.contains("[1008, 2048]"), shape);
    }

    @Test
    void ignoresNumBatchesTracked() {
        // pytorch-fid's file carries bn.num_batches_tracked for every unit; only the shape error may remain
        String msg = assertThrows(
                        CheckpointException.class,
                        () -> FidInception.load(fake(List.of("Conv2d_1a_3x3.bn.num_batches_tracked"), null), Ops.cpu()))
                .getMessage();
        assertTrue(msg.contains("fc.weight"), msg);
    }
}
