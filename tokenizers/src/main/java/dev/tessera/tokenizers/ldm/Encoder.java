package dev.tessera.tokenizers.ldm;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.CheckpointException;
import dev.tessera.engine.nn.Conv2d;
import dev.tessera.engine.nn.GroupNorm;
import dev.tessera.engine.ops.Ops;
import java.util.ArrayList;
import java.util.List;

/**
 * The latent-diffusion style encoder ({@code conv_in → down levels, fine to coarse, with stride-2 downsamplers →
 * mid (res, attn, res) → GN, SiLU, conv_out}), shape read from the checkpoint keys.
 */
public final class Encoder {
    private final Conv2d convIn;
    private final List<Level> down;
    private final ResnetBlock mid1, mid2;
    private final AttnBlock midAttn;
    private final GroupNorm normOut;
    private final Conv2d convOut;

    private Encoder(
            Conv2d convIn,
            List<Level> down,
            ResnetBlock mid1,
            AttnBlock midAttn,
            ResnetBlock mid2,
            GroupNorm normOut,
            Conv2d convOut) {
        this.convIn = convIn;
        this.down = down;
        this.mid1 = mid1;
        this.midAttn = midAttn;
        this.mid2 = mid2;
        this.normOut = normOut;
        this.convOut = convOut;
    }

    public static boolean present(Checkpoint ckpt, String prefix) {
        return ckpt.contains(prefix + ".conv_in.weight");
    }

    public static Encoder load(Checkpoint ckpt, String prefix, Layout layout) {
        if (!present(ckpt, prefix)) {
            throw new CheckpointException(
                    ckpt.path(), "missing tensor '" + prefix + ".conv_in.weight' (this file has no encoder)");
        }
        List<Level> levels = new ArrayList<>();
        String lp = prefix + "." + layout.downLevels() + ".";
        for (int l = 0; ckpt.contains(lp + l + "." + layout.block() + ".0.conv1.weight"); l++) {
            levels.add(Level.load(ckpt, lp + l, layout.block(), false));
        }
        String mid = prefix + "." + layout.midAttn();
        AttnBlock attn = ckpt.contains(mid + ".norm.weight") ? AttnBlock.load(ckpt, mid) : null;
        return new Encoder(
                Conv2d.load(ckpt, prefix + ".conv_in"),
                List.copyOf(levels),
                ResnetBlock.load(ckpt, prefix + "." + layout.mid1()),
                attn,
                ResnetBlock.load(ckpt, prefix + "." + layout.mid2()),
                ConvNet.norm(ckpt, prefix + ".norm_out"),
                Conv2d.load(ckpt, prefix + ".conv_out"));
    }

    /** Spatial downsampling factor (2 per level with a downsampler). */
    public int downsampling() {
        int f = 1;
        for (Level l : down) if (l.resample() != null) f *= 2;
        return f;
    }

    /** Encodes {@code x}; the result's array comes from {@code buf} and belongs to the caller. */
    public FeatureMap forward(Ops ops, FeatureMap x, Buffers buf) {
        FeatureMap h = ConvNet.conv(ops, convIn, x, buf);
        for (Level l : down) h = l.forward(ops, h, buf);
        h = Level.replace(h, mid1.forward(ops, h, buf), buf);
        if (midAttn != null) h = Level.replace(h, midAttn.forward(ops, h, buf), buf);
        h = Level.replace(h, mid2.forward(ops, h, buf), buf);
        FeatureMap out = ConvNet.normActConv(ops, normOut, convOut, h, buf);
        buf.give(h);
        return out;
    }
}
