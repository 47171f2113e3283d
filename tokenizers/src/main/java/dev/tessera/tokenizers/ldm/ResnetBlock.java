package dev.tessera.tokenizers.ldm;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.nn.Conv2d;
import dev.tessera.engine.nn.GroupNorm;
import dev.tessera.engine.ops.Ops;

/**
 * {@code h = conv1(SiLU(GN1(x)))}, {@code h = conv2(SiLU(GN2(h)))}, {@code out = shortcut(x) + h}; the shortcut is
 * a 1×1 {@code nin_shortcut} when the channel count changes.
 */
public record ResnetBlock(GroupNorm norm1, Conv2d conv1, GroupNorm norm2, Conv2d conv2, Conv2d ninShortcut) {

    public static ResnetBlock load(Checkpoint ckpt, String prefix) {
        Conv2d nin = ckpt.contains(prefix + ".nin_shortcut.weight") ? Conv2d.load(ckpt, prefix + ".nin_shortcut") : null;
        return new ResnetBlock(ConvNet.norm(ckpt, prefix + ".norm1"), Conv2d.load(ckpt, prefix + ".conv1"),
                ConvNet.norm(ckpt, prefix + ".norm2"), Conv2d.load(ckpt, prefix + ".conv2"), nin);
    }

    public int outChannels() {
        return conv2.cout();
    }

    public FeatureMap forward(Ops ops, FeatureMap x) {
        FeatureMap h = ConvNet.conv(ops, conv1, ConvNet.groupNorm(ops, norm1, x, true));
        h = ConvNet.conv(ops, conv2, ConvNet.groupNorm(ops, norm2, h, true));
        FeatureMap shortcut = ninShortcut == null ? x : ConvNet.conv(ops, ninShortcut, x);
        float[] out = h.data(), s = shortcut.data();
        for (int i = 0, n = h.size(); i < n; i++) out[i] += s[i];
        return h;
    }
}
