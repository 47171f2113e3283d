package dev.tessera.tokenizers.ldm;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.CheckpointException;
import dev.tessera.engine.nn.Conv2d;
import dev.tessera.engine.nn.GroupNorm;
import dev.tessera.engine.ops.Ops;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The latent-diffusion style decoder ({@code conv_in → mid (res, attn, res) → up levels from coarse to fine →
 * GN, SiLU, conv_out}). Levels, blocks, attention and channel widths are all read from the checkpoint keys.
 */
public final class Decoder {
    private final Conv2d convIn;
    private final ResnetBlock mid1, mid2;
    private final AttnBlock midAttn;
    private final List<Level> up; // in the order they run
    private final GroupNorm normOut;
    private final Conv2d convOut;
    private volatile boolean keepBuffers;
    /** The arrays kept from the last call, taken by the next (a concurrent call makes its own). */
    private final AtomicReference<Buffers> spare = new AtomicReference<>();

    private Decoder(
            Conv2d convIn,
            ResnetBlock mid1,
            AttnBlock midAttn,
            ResnetBlock mid2,
            List<Level> up,
            GroupNorm normOut,
            Conv2d convOut) {
        this.convIn = convIn;
        this.mid1 = mid1;
        this.midAttn = midAttn;
        this.mid2 = mid2;
        this.up = up;
        this.normOut = normOut;
        this.convOut = convOut;
    }

    /**
     * Loads {@code prefix.conv_in}, the middle blocks, the levels, {@code prefix.norm_out}, {@code prefix.conv_out}.
     */
    public static Decoder load(Checkpoint ckpt, String prefix, Layout layout) {
        if (!ckpt.contains(prefix + ".conv_in.weight")) {
            throw new CheckpointException(
                    ckpt.path(), "missing tensor '" + prefix + ".conv_in.weight' (no decoder in this file?)");
        }
        List<Level> levels = new ArrayList<>();
        String lp = prefix + "." + layout.upLevels() + ".";
        for (int l = 0; ckpt.contains(lp + l + "." + layout.block() + ".0.conv1.weight"); l++) {
            levels.add(Level.load(ckpt, lp + l, layout.block(), true));
        }
        if (layout.decoderReversed()) Collections.reverse(levels);
        String mid = prefix + "." + layout.midAttn();
        AttnBlock attn = ckpt.contains(mid + ".norm.weight") ? AttnBlock.load(ckpt, mid) : null;
        return new Decoder(
                Conv2d.load(ckpt, prefix + ".conv_in"),
                ResnetBlock.load(ckpt, prefix + "." + layout.mid1()),
                attn,
                ResnetBlock.load(ckpt, prefix + "." + layout.mid2()),
                List.copyOf(levels),
                ConvNet.norm(ckpt, prefix + ".norm_out"),
                Conv2d.load(ckpt, prefix + ".conv_out"));
    }

    public int latentChannels() {
        return convIn.cin();
    }

    /** Spatial upsampling factor (2 per level with an upsampler). */
    public int upsampling() {
        int f = 1;
        for (Level l : up) if (l.resample() != null) f *= 2;
        return f;
    }

    /** The b-th latent of a batch as a map from {@code buf} (which the decoder gives back when done with it). */
    @FunctionalInterface
    public interface Latents {
        FeatureMap latent(int b, Buffers buf);
    }

    /**
     * Keeps the activation arrays of one {@link #forwardAll} call for the next (every level's maps, the coarser ones
     * too: 185 MB for LlamaGen's VQ-16 at 256 px), so that repeated decoding neither allocates nor zeroes them
     * and gives the collector less to do (NAR-B decode 0.75-0.83 -> 0.70-0.73 s). Off by default: the memory stays
     * taken
     * between calls (VAR's tokenizer leaves it off: VAR-d16's peak memory is held to 1.3x its weights).
     */
    public void keepBuffersBetweenCalls(boolean keep) {
        keepBuffers = keep;
        if (!keep) spare.set(null);
    }

    /**
     * Decodes B latents one after the other into one array of B images {@code [B, 3, H, W]}; the buffers are per
     * call (unless {@link #keepBuffersBetweenCalls kept}), so their memory is free again once the images are out.
     */
    public float[] forwardAll(Ops ops, int B, Latents latents) {
        return forwardAll(ops, B, latents, false);
    }

    /**
     * As {@link #forwardAll(Ops, int, Latents)}, the images clamped to [−1, 1] (by the backend, before they come to
     * the host) when {@code clamp} is set. The activation arrays come from {@link Ops#allocate}; the result is a host
     * array.
     */
    public float[] forwardAll(Ops ops, int B, Latents latents, boolean clamp) {
        Buffers kept = spare.getAndSet(null);
        Buffers buf = kept != null && kept.ops() == ops ? kept : new Buffers(ops);
        buf.keepAll(keepBuffers);
        float[] out = null;
        for (int b = 0; b < B; b++) {
            FeatureMap z = latents.latent(b, buf);
            FeatureMap img = forward(ops, z, buf);
            buf.give(z);
            if (clamp) ops.clamp(img.data(), 0, img.size(), -1f, 1f);
            if (out == null) out = new float[B * img.size()];
            ops.toHost(img.data(), 0, img.size());
            System.arraycopy(img.data(), 0, out, b * img.size(), img.size());
            buf.give(img);
        }
        if (keepBuffers) {
            buf.dropUntaken();
            spare.set(buf);
            if (!keepBuffers) spare.compareAndSet(buf, null); // turned off meanwhile
        }
        return out;
    }

    /** Decodes {@code z}; the result's array comes from {@code buf} and belongs to the caller. */
    public FeatureMap forward(Ops ops, FeatureMap z, Buffers buf) {
        FeatureMap h = ConvNet.conv(ops, convIn, z, buf);
        h = Level.replace(h, mid1.forward(ops, h, buf), buf);
        if (midAttn != null) h = Level.replace(h, midAttn.forward(ops, h, buf), buf);
        h = Level.replace(h, mid2.forward(ops, h, buf), buf);
        for (Level level : up) h = level.forward(ops, h, buf);
        FeatureMap out = ConvNet.normActConv(ops, normOut, convOut, h, buf);
        buf.give(h);
        return out;
    }
}
