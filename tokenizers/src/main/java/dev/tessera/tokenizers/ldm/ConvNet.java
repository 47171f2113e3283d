package dev.tessera.tokenizers.ldm;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.nn.Conv2d;
import dev.tessera.engine.nn.GroupNorm;
import dev.tessera.engine.ops.Ops;

/** The convolution helpers the LDM-style encoders and decoders share. */
final class ConvNet {
    /** GroupNorm in these autoencoders: 32 groups, eps 1e-6, affine. */
    static final int GROUPS = 32;

    static final float EPS = 1e-6f;

    private ConvNet() {}

    static GroupNorm norm(Checkpoint ckpt, String prefix) {
        return GroupNorm.load(ckpt, prefix, GROUPS, EPS);
    }

    static FeatureMap conv(Ops ops, Conv2d conv, FeatureMap x, Buffers buf) {
        int oh = conv.outHeight(x.height()), ow = conv.outWidth(x.width());
        FeatureMap y = buf.map(conv.cout(), oh, ow);
        ops.conv2d(x.data(), 0, x.height(), x.width(), conv, y.data(), 0);
        return y;
    }

    static FeatureMap groupNorm(Ops ops, GroupNorm gn, FeatureMap x, boolean silu, Buffers buf) {
        FeatureMap y = buf.map(x.channels(), x.height(), x.width());
        ops.groupNorm(x.data(), 0, x.channels(), x.pixels(), gn, silu, y.data(), 0);
        return y;
    }

    /** {@code y = GN(x) → SiLU → conv}, the temporary returned to the pool. */
    static FeatureMap normActConv(Ops ops, GroupNorm gn, Conv2d conv, FeatureMap x, Buffers buf) {
        FeatureMap t = groupNorm(ops, gn, x, true, buf);
        FeatureMap y = conv(ops, conv, t, buf);
        buf.give(t);
        return y;
    }

    /** {@code a += b}, element-wise, for maps of the same shape (a backend op: one row per channel). */
    static void addInPlace(Ops ops, FeatureMap a, FeatureMap b) {
        ops.addGated(a.data(), 0, b.data(), 0, a.channels(), a.pixels(), null, 0, 0, 1);
    }
}
