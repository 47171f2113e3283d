package dev.tessera.tokenizers.ldm;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.nn.Conv2d;
import dev.tessera.engine.ops.Ops;
import java.util.ArrayList;
import java.util.List;

/**
 * One resolution level of an LDM encoder or decoder: residual blocks, each optionally followed by an attention
 * block, then an optional resampling convolution (stride-2 down, or nearest-×2 up then conv).
 */
record Level(List<ResnetBlock> blocks, List<AttnBlock> attns, Conv2d resample, boolean up) {

    /** Reads {@code prefix.<block>.N}, {@code prefix.attn.N} and {@code prefix.upsample}/{@code downsample}. */
    static Level load(Checkpoint ckpt, String prefix, String block, boolean up) {
        List<ResnetBlock> blocks = new ArrayList<>();
        for (int b = 0; ckpt.contains(prefix + "." + block + "." + b + ".conv1.weight"); b++) {
            blocks.add(ResnetBlock.load(ckpt, prefix + "." + block + "." + b));
        }
        List<AttnBlock> attns = new ArrayList<>();
        for (int a = 0; ckpt.contains(prefix + ".attn." + a + ".norm.weight"); a++) {
            attns.add(AttnBlock.load(ckpt, prefix + ".attn." + a));
        }
        Conv2d resample = null;
        if (up && ckpt.contains(prefix + ".upsample.conv.weight")) {
            resample = Conv2d.load(ckpt, prefix + ".upsample.conv");
        } else if (!up && ckpt.contains(prefix + ".downsample.conv.weight")) {
            // Downsample2x: pad (left 0, right 1, top 0, bottom 1), then 3×3 stride 2
            resample = Conv2d.load(ckpt, prefix + ".downsample.conv", 2, 0, 0, 1, 1);
        }
        return new Level(List.copyOf(blocks), List.copyOf(attns), resample, up);
    }

    /** Runs the level; {@code h} is consumed (its array goes back to the pool), the result is new. */
    FeatureMap forward(Ops ops, FeatureMap h, Buffers buf) {
        for (int b = 0; b < blocks.size(); b++) {
            h = replace(h, blocks.get(b).forward(ops, h, buf), buf);
            if (b < attns.size()) h = replace(h, attns.get(b).forward(ops, h, buf), buf);
        }
        if (resample != null) {
            if (up) {
                FeatureMap u = buf.map(h.channels(), 2 * h.height(), 2 * h.width());
                ops.upsampleNearest2x(h.data(), 0, h.channels(), h.height(), h.width(), u.data(), 0);
                h = replace(h, u, buf);
            }
            h = replace(h, ConvNet.conv(ops, resample, h, buf), buf);
            if (up) buf.dropBelow(h.size()); // the coarser levels' arrays are not needed by the finer ones
        }
        return h;
    }

    /** Gives {@code old} back and returns {@code next}. */
    static FeatureMap replace(FeatureMap old, FeatureMap next, Buffers buf) {
        buf.give(old);
        return next;
    }
}
