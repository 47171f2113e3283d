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
        Conv2d nin =
                ckpt.contains(prefix + ".nin_shortcut.weight") ? Conv2d.load(ckpt, prefix + ".nin_shortcut") : null;
        return new ResnetBlock(
                ConvNet.norm(ckpt, prefix + ".norm1"),
                Conv2d.load(ckpt, prefix + ".conv1"),
                ConvNet.norm(ckpt, prefix + ".norm2"),
                Conv2d.load(ckpt, prefix + ".conv2"),
                nin);
    }

    public int outChannels() {
        return conv2.cout();
    }

    /** Returns a new map; {@code x} stays the caller's. */
    public FeatureMap forward(Ops ops, FeatureMap x, Buffers buf) {
        FeatureMap h1 = ConvNet.normActConv(ops, norm1, conv1, x, buf);
        // GN2 + SiLU in place: h1 is not needed afterwards (at most three maps of a level are alive at once)
        ops.groupNorm(h1.data(), 0, h1.channels(), h1.pixels(), norm2, true, h1.data(), 0);
        FeatureMap h = ConvNet.conv(ops, conv2, h1, buf);
        buf.give(h1);
        if (ninShortcut == null) {
            ConvNet.addInPlace(ops, h, x);
        } else {
            FeatureMap s = ConvNet.conv(ops, ninShortcut, x, buf);
            ConvNet.addInPlace(ops, h, s);
            buf.give(s);
        }
        return h;
    }
}
