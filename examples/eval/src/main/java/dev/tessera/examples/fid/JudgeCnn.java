package dev.tessera.examples.fid;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.CheckpointException;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.nn.Conv2d;
import dev.tessera.engine.nn.Linear;
import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.engine.ops.Activation;
import dev.tessera.engine.ops.Ops;
import dev.tessera.engine.ops.Parallel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The quality judge of the Fashion-MNIST zoo ({@code examples/train/judge.py}): {@code conv1..convN} (3x3, padding 1)
 * each followed by ReLU and a 2x2 max pool, then {@code fc1} + ReLU (the penultimate features, the space of the
 * judge FID) and {@code fc2} (the class logits). The number of stages, the widths, the feature size, the classes
 * and the input side are read from the checkpoint; the flatten is PyTorch's (channel, row, column) order.
 *
 * <p>Input: one image {@code [3, side, side]} in [-1, 1]. Thread-safe; a batch runs one image per core.
 */
public final class JudgeCnn implements AutoCloseable {
    /** What the judge says of one image. */
    public record Verdict(float[] features, float[] logits) {
        public int label() {
            int best = 0;
            for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
            return best;
        }
    }

    private final Checkpoint file;
    private final Ops ops;
    private final List<Conv2d> convs;
    private final Linear fc1, fc2;
    private final int side;

    private JudgeCnn(Checkpoint file, Ops ops, List<Conv2d> convs, Linear fc1, Linear fc2, int side) {
        this.file = file;
        this.ops = ops;
        this.convs = convs;
        this.fc1 = fc1;
        this.fc2 = fc2;
        this.side = side;
    }

    public static JudgeCnn load(Path weights, Ops ops) {
        Checkpoint ckpt = Checkpoints.open(weights);
        try {
            return load(ckpt, ops);
        } catch (RuntimeException e) {
            ckpt.close();
            throw e;
        }
    }

    /** Loads from an open checkpoint (closed with the judge). */
    public static JudgeCnn load(Checkpoint ckpt, Ops ops) {
        List<Conv2d> convs = new ArrayList<>();
        for (int i = 1; ckpt.contains("conv" + i + ".weight"); i++) {
            Conv2d c = Conv2d.load(ckpt, "conv" + i);
            int cin = convs.isEmpty() ? 3 : convs.getLast().cout();
            if (c.kh() != 3 || c.kw() != 3 || c.cin() != cin || c.bias() == null) {
                throw new CheckpointException(
                        ckpt.path(), "conv" + i + " is not a 3x3 convolution with bias from " + cin + " channels");
            }
            convs.add(c);
        }
        if (convs.isEmpty() || !ckpt.contains("fc1.weight") || !ckpt.contains("fc2.weight")) {
            throw new CheckpointException(
                    ckpt.path(), "not a judge checkpoint (expected conv1.weight ..., fc1.weight, fc2.weight)");
        }
        Linear fc1 = Linear.load(ckpt, "fc1", true, WeightPanels.Format.F32),
                fc2 = Linear.load(ckpt, "fc2", true, WeightPanels.Format.F32);
        int channels = convs.getLast().cout();
        int cells = fc1.in() / channels, last = (int) Math.round(Math.sqrt(cells));
        if (last * last * channels != fc1.in() || fc2.in() != fc1.out()) {
            throw new CheckpointException(
                    ckpt.path(),
                    "fc1 takes " + fc1.in() + " inputs, not a square map of " + channels
                            + " channels, or fc2 does not take fc1's " + fc1.out() + " features");
        }
        return new JudgeCnn(ckpt, ops, List.copyOf(convs), fc1, fc2, last << convs.size());
    }

    /** The input side in pixels. */
    public int side() {
        return side;
    }

    public int numClasses() {
        return fc2.out();
    }

    public int featureSize() {
        return fc1.out();
    }

    /** One image {@code [3, side, side]} in [-1, 1]. */
    public Verdict judge(float[] image) {
        if (image.length != 3 * side * side) {
            throw new IllegalArgumentException(
                    "expected a [3, " + side + ", " + side + "] image, got " + image.length + " values");
        }
        float[] x = image;
        int s = side;
        for (Conv2d c : convs) {
            float[] y = new float[c.cout() * s * s];
            ops.conv2d(x, 0, s, s, c, y, 0);
            ops.activate(y, 0, y.length, Activation.RELU);
            x = maxPool2x2(y, c.cout(), s);
            s /= 2;
        }
        float[] features = new float[fc1.out()], logits = new float[fc2.out()];
        ops.linear(x, 0, 1, fc1, features, 0, Activation.RELU);
        ops.linear(features, 0, 1, fc2, logits, 0, Activation.NONE);
        return new Verdict(features, logits);
    }

    /** A batch, one image per core. */
    public List<Verdict> judge(List<float[]> images) {
        Verdict[] out = new Verdict[images.size()];
        Parallel.forEach(images.size(), i -> out[i] = judge(images.get(i)));
        return List.of(out);
    }

    /** 2x2 max pool, stride 2, of {@code channels} planes of {@code s x s} (s even). */
    static float[] maxPool2x2(float[] x, int channels, int s) {
        int h = s / 2;
        float[] y = new float[channels * h * h];
        for (int c = 0; c < channels; c++) {
            for (int i = 0; i < h; i++) {
                for (int j = 0; j < h; j++) {
                    int p = c * s * s + 2 * i * s + 2 * j;
                    float m = Math.max(Math.max(x[p], x[p + 1]), Math.max(x[p + s], x[p + s + 1]));
                    if (x[p] != x[p] || x[p + 1] != x[p + 1] || x[p + s] != x[p + s] || x[p + s + 1] != x[p + s + 1])
                        m = Float.NaN;
                    y[c * h * h + i * h + j] = m;
                }
            }
        }
        return y;
    }

    /**
     * A grey image (one byte a pixel, row-major {@code side x side}) as the judge's input: grey/127.5 - 1 in R, G, B.
     */
    public static float[] fromGrey(byte[] grey, int side) {
        float[] x = new float[3 * side * side];
        for (int i = 0; i < side * side; i++) {
            float v = (grey[i] & 0xFF) / 127.5f - 1f;
            x[i] = v;
            x[side * side + i] = v;
            x[2 * side * side + i] = v;
        }
        return x;
    }

    @Override
    public void close() {
        file.close();
    }
}
