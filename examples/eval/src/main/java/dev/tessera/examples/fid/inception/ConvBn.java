package dev.tessera.examples.fid.inception;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.nn.Conv2d;
import dev.tessera.engine.ops.Activation;
import dev.tessera.engine.ops.Ops;
import java.lang.foreign.MemorySegment;

/**
 * The network's {@code BasicConv2d}: a bias-free convolution, inference-mode BatchNorm (eps 0.001) and ReLU. The
 * BatchNorm is folded into the convolution when loading, {@code w' = w·γ/s} and {@code b' = β − μ·γ/s} with
 * {@code s = sqrt(σ² + 0.001)} (computed in float64; about 1e-7 relative difference from applying it separately).
 */
final class ConvBn {
    static final double BN_EPS = 0.001;

    private final Conv2d conv;

    ConvBn(Conv2d conv) {
        this.conv = conv;
    }

    /**
     * Reads {@code prefix.conv.weight} and {@code prefix.bn.{weight, bias, running_mean, running_var}}, shapes checked.
     */
    static ConvBn load(
            Checkpoint ckpt, String prefix, int cout, int cin, int kh, int kw, int stride, int padH, int padW) {
        float[] w = ckpt.tensor(prefix + ".conv.weight", cout, cin, kh, kw).toFloatArray();
        float[] gamma = ckpt.tensor(prefix + ".bn.weight", cout).toFloatArray();
        float[] beta = ckpt.tensor(prefix + ".bn.bias", cout).toFloatArray();
        float[] mean = ckpt.tensor(prefix + ".bn.running_mean", cout).toFloatArray();
        float[] var = ckpt.tensor(prefix + ".bn.running_var", cout).toFloatArray();
        int per = cin * kh * kw;
        float[] bias = new float[cout];
        for (int o = 0; o < cout; o++) {
            double scale = gamma[o] / Math.sqrt((double) var[o] + BN_EPS);
            for (int i = o * per; i < (o + 1) * per; i++) w[i] = (float) (w[i] * scale);
            bias[o] = (float) (beta[o] - mean[o] * scale);
        }
        return new ConvBn(
                new Conv2d(MemorySegment.ofArray(w), bias, cout, cin, kh, kw, stride, padH, padW, padH, padW));
    }

    Conv2d conv() {
        return conv;
    }

    int outChannels() {
        return conv.cout();
    }

    /** Applies the unit to {@code in}, writing its channels into {@code out} from channel {@code channelOffset} on. */
    void apply(Ops ops, FeatureMap in, FeatureMap out, int channelOffset) {
        if (in.channels() != conv.cin())
            throw new IllegalStateException("unit expects " + conv.cin() + " channels, got " + in.channels());
        int oh = conv.outHeight(in.height()), ow = conv.outWidth(in.width());
        if (oh != out.height() || ow != out.width()) throw new IllegalStateException("output map size mismatch");
        int off = channelOffset * oh * ow;
        ops.conv2d(in.data(), 0, in.height(), in.width(), conv, out.data(), off);
        ops.activate(out.data(), off, conv.cout() * oh * ow, Activation.RELU);
    }

    /** Applies the unit to {@code in}, into a new map. */
    FeatureMap apply(Ops ops, FeatureMap in) {
        FeatureMap out = FeatureMap.allocate(ops, conv.cout(), conv.outHeight(in.height()), conv.outWidth(in.width()));
        apply(ops, in, out, 0);
        return out;
    }
}
