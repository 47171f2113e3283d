package dev.tessera.examples.fid.inception;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.CheckpointException;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.ops.Ops;
import dev.tessera.engine.ops.Parallel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The FID Inception-v3: Google's 2015-12-05 graph (1008 classes) that FID, IS, sFID, KID and precision/recall are
 * defined on, loaded from pytorch-fid's export {@code pt_inception-2015-12-05-6726825d.pth} (torch-fidelity's
 * {@code weights-inception-2015-12-05-6726825d.pth} holds the same tensors) as it is. It differs from torchvision's
 * Inception3 in its weights, its padding-excluding average pools and Mixed_7c's max pool.
 *
 * <p>Input: one image {@code [3, 299, 299]} already resized and normalised to about [−1, 1] (see
 * {@link Preprocessing}). Output: {@link InceptionFeatures}. Thread-safe; {@link #forward(List)} runs a batch with
 * one image per core.
 */
public final class FidInception implements AutoCloseable {
    public static final int SIDE = 299;
    public static final int CLASSES = 1008;

    private final Checkpoint file;
    private final Ops ops;
    private final ConvBn conv1a, conv2a, conv2b, conv3b, conv4a;
    private final List<Block> mixed5, mixed6, mixed7;
    private final float[] fc;

    private FidInception(Checkpoint file, Ops ops, Units u, float[] fc) {
        this.file = file;
        this.ops = ops;
        conv1a = u.reduce("Conv2d_1a_3x3", 32, 3, 3);
        conv2a = u.unit("Conv2d_2a_3x3", 32, 32, 3, 3, 1, 0, 0);
        conv2b = u.same("Conv2d_2b_3x3", 64, 32, 3, 3);
        conv3b = u.same("Conv2d_3b_1x1", 80, 64, 1, 1);
        conv4a = u.unit("Conv2d_4a_3x3", 192, 80, 3, 3, 1, 0, 0);
        mixed5 = List.of(
                new InceptionA(u, "Mixed_5b", 192, 32),
                new InceptionA(u, "Mixed_5c", 256, 64),
                new InceptionA(u, "Mixed_5d", 288, 64));
        mixed6 = List.of(
                new InceptionB(u, "Mixed_6a", 288),
                new InceptionC(u, "Mixed_6b", 128),
                new InceptionC(u, "Mixed_6c", 160),
                new InceptionC(u, "Mixed_6d", 160),
                new InceptionC(u, "Mixed_6e", 192));
        mixed7 = List.of(
                new InceptionD(u, "Mixed_7a", 768),
                new InceptionE(u, "Mixed_7b", 1280, false),
                new InceptionE(u, "Mixed_7c", 2048, true));
        this.fc = fc;
    }

    /** Opens and loads a weights file ({@code .pth} or {@code .safetensors} with the pytorch-fid keys). */
    public static FidInception load(Path weights, Ops ops) {
        Checkpoint ckpt = Checkpoints.open(weights);
        try {
            return load(ckpt, ops);
        } catch (RuntimeException e) {
            ckpt.close();
            throw e;
        }
    }

    /**
     * Loads from an open checkpoint (closed with the network). A file whose keys are not exactly the FID
     * Inception's (472 tensors; {@code num_batches_tracked} entries are ignored) is refused with one message that
     * says what is missing or extra, before any weight is read.
     */
    public static FidInception load(Checkpoint ckpt, Ops ops) {
        checkKeys(ckpt);
        float[] fc = ckpt.tensor("fc.weight", CLASSES, InceptionFeatures.POOL3).toFloatArray();
        ckpt.tensor("fc.bias", CLASSES); // part of the file; IS uses the logits without it
        return new FidInception(
                ckpt,
                ops,
                (name, cout, cin, kh, kw, stride, ph, pw) -> ConvBn.load(ckpt, name, cout, cin, kh, kw, stride, ph, pw),
                fc);
    }

    /** The state-dict keys the network reads, in order. */
    public static Set<String> expectedKeys() {
        Set<String> keys = new LinkedHashSet<>();
        new FidInception(
                null,
                null,
                (name, cout, cin, kh, kw, stride, ph, pw) -> {
                    keys.add(name + ".conv.weight");
                    for (String s : new String[] {"weight", "bias", "running_mean", "running_var"})
                        keys.add(name + ".bn." + s);
                    return null;
                },
                null);
        keys.add("fc.weight");
        keys.add("fc.bias");
        return keys;
    }

    private static void checkKeys(Checkpoint ckpt) {
        Set<String> expected = expectedKeys();
        Set<String> missing = new TreeSet<>(expected);
        missing.removeAll(ckpt.keys());
        Set<String> extra = new TreeSet<>();
        for (String k : ckpt.keys()) {
            if (!expected.contains(k) && !k.endsWith(".bn.num_batches_tracked")) extra.add(k);
        }
        if (missing.isEmpty() && extra.isEmpty()) return;
        StringBuilder why = new StringBuilder("not the FID Inception weights (pt_inception-2015-12-05-6726825d.pth): ");
        if (!missing.isEmpty())
            why.append(missing.size())
                    .append(" of its ")
                    .append(expected.size())
                    .append(" keys are missing (")
                    .append(sample(missing))
                    .append(")");
        if (!missing.isEmpty() && !extra.isEmpty()) why.append(" and ");
        if (!extra.isEmpty())
            why.append(extra.size())
                    .append(" keys are not part of it (")
                    .append(sample(extra))
                    .append(")");
        if (extra.stream().anyMatch(k -> k.startsWith("AuxLogits.")))
            why.append("; this looks like torchvision's inception_v3, which gives other features");
        throw new CheckpointException(ckpt.path(), why.toString());
    }

    private static String sample(Set<String> keys) {
        List<String> first = new ArrayList<>(keys).subList(0, Math.min(3, keys.size()));
        return String.join(", ", first) + (keys.size() > 3 ? ", ..." : "");
    }

    /** One image {@code [3, 299, 299]} (normalised) to its features, using all cores. */
    public InceptionFeatures forward(float[] image) {
        if (image.length != 3 * SIDE * SIDE)
            throw new IllegalArgumentException("expected a [3, 299, 299] image, got " + image.length + " values");
        FeatureMap x = new FeatureMap(image, 3, SIDE, SIDE);
        x = conv2b.apply(ops, conv2a.apply(ops, conv1a.apply(ops, x)));
        x = Pooling.max3x3(ops, x, 2, 0);
        x = conv4a.apply(ops, conv3b.apply(ops, x));
        x = Pooling.max3x3(ops, x, 2, 0);
        for (Block b : mixed5) x = b.forward(ops, x);
        float[] spatial = null;
        for (int i = 0; i < mixed6.size(); i++) {
            x = mixed6.get(i).forward(ops, x);
            if (i == 3) spatial = spatialTap(ops, x); // Mixed_6d
        }
        for (Block b : mixed7) x = b.forward(ops, x);
        float[] pool3 = Pooling.globalAverage(ops, x);
        return new InceptionFeatures(pool3, logits(pool3), spatial);
    }

    /**
     * A batch: one image per core at a time (each image's kernels then run on its core alone, which keeps every
     * core busy through the small late layers); a single image uses all cores itself.
     */
    public List<InceptionFeatures> forward(List<float[]> images) {
        InceptionFeatures[] out = new InceptionFeatures[images.size()];
        if (images.size() == 1) {
            out[0] = forward(images.get(0));
        } else {
            Parallel.forEach(images.size(), i -> out[i] = forward(images.get(i)));
        }
        return List.of(out);
    }

    /** Channels 0..6 of Mixed_6d's output (its 1×1 branch), as (h, w, c). */
    private static float[] spatialTap(Ops ops, FeatureMap m) {
        int P = m.plane(), C = 7;
        ops.toHost(m.data(), 0, C * P);
        float[] s = new float[P * C];
        for (int p = 0; p < P; p++) {
            for (int c = 0; c < C; c++) s[p * C + c] = m.data()[c * P + p];
        }
        return s;
    }

    /** {@code pool3 · fcᵀ}, without the bias (float64 sums). */
    private float[] logits(float[] pool3) {
        int D = pool3.length;
        float[] out = new float[CLASSES];
        for (int k = 0; k < CLASSES; k++) {
            double s = 0;
            for (int i = 0; i < D; i++) s += (double) fc[k * D + i] * pool3[i];
            out[k] = (float) s;
        }
        return out;
    }

    @Override
    public void close() {
        if (file != null) file.close();
    }
}
