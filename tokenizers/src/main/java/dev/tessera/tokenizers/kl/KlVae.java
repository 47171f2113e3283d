package dev.tessera.tokenizers.kl;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.CheckpointException;
import dev.tessera.engine.nn.Conv2d;
import dev.tessera.engine.ops.Ops;
import dev.tessera.tokenizers.ldm.Buffers;
import dev.tessera.tokenizers.ldm.Decoder;
import dev.tessera.tokenizers.ldm.Encoder;
import dev.tessera.tokenizers.ldm.FeatureMap;
import dev.tessera.tokenizers.ldm.Layout;
import java.util.Arrays;

/**
 * MAR's KL-regularised autoencoder ({@code models/vae.py}, {@code kl16.ckpt}, as FlowAR uses it): the LDM encoder
 * and decoder, a 1×1 {@code quant_conv} to the posterior's mean and log-variance, a 1×1 {@code post_quant_conv}.
 * Latents are {@code [D, h, w]} per image (D = 16, h = w = H/16 for kl16.ckpt; channels and levels, hence the
 * downsampling, are read from the tensors: the bundled 32 px autoencoder has 3 levels, h = H/4); images are
 * {@code [3, H, W]} in about [−1, 1].
 * Generative models work on latents multiplied by {@link #MAR_SCALE}. Immutable and thread-safe.
 */
public final class KlVae {
    /** MAR's latent scaling factor: models see {@code latent · 0.2325}, the decoder {@code latent / 0.2325}. */
    public static final float MAR_SCALE = 0.2325f;

    private final Conv2d postQuantConv, quantConv;
    private final Decoder decoder;
    private final Encoder encoder;
    private final Ops ops;

    private KlVae(Conv2d postQuantConv, Conv2d quantConv, Decoder decoder, Encoder encoder, Ops ops) {
        this.postQuantConv = postQuantConv;
        this.quantConv = quantConv;
        this.decoder = decoder;
        this.encoder = encoder;
        this.ops = ops;
    }

    /** Loads the state dict ({@code {'model': ...}} as released is found by the checkpoint reader). */
    public static KlVae load(Checkpoint ckpt, Ops ops) {
        if (!ckpt.contains("post_quant_conv.weight")
                || !ckpt.contains("decoder.conv_in.weight")
                || ckpt.contains("quantize.embedding.weight")) {
            throw new CheckpointException(
                    ckpt.path(),
                    "not a KL autoencoder checkpoint (expected post_quant_conv and decoder.* "
                            + "tensors as in MAR's kl16.ckpt)");
        }
        Conv2d post = Conv2d.load(ckpt, "post_quant_conv");
        Decoder dec = Decoder.load(ckpt, "decoder", Layout.TAMING);
        dec.keepBuffersBetweenCalls(true); // images are decoded one batch after another (see the method)
        if (dec.latentChannels() != post.cout()) {
            throw new CheckpointException(
                    ckpt.path(),
                    "post_quant_conv gives " + post.cout() + " channels, the decoder takes " + dec.latentChannels());
        }
        Encoder enc = Encoder.present(ckpt, "encoder") && ckpt.contains("quant_conv.weight")
                ? Encoder.load(ckpt, "encoder", Layout.TAMING)
                : null;
        Conv2d quant = enc == null ? null : Conv2d.load(ckpt, "quant_conv");
        return new KlVae(post, quant, dec, enc, ops);
    }

    /** Latent channels D. */
    public int latentChannels() {
        return postQuantConv.cin();
    }

    /** Image pixels per latent pixel (16 for KL-16). */
    public int downsampling() {
        return decoder.upsampling();
    }

    /**
     * {@code decode}: B latent maps {@code [B, D, h, w]} (unscaled, i.e. already divided by the model's scale) to
     * images {@code [B, 3, f·h, f·w]} ({@code f = downsampling()}), not clamped.
     */
    public float[] decode(float[] latents, int B, int h, int w) {
        int D = latentChannels(), n = D * h * w;
        if (latents.length != B * n)
            throw new IllegalArgumentException(latents.length + " values for " + B + " latents of " + n);
        return decoder.forwardAll(ops, B, (b, buf) -> {
            FeatureMap z = buf.map(D, h, w);
            ops.conv2d(latents, b * n, h, w, postQuantConv, z.data(), 0);
            return z;
        });
    }

    public boolean hasEncoder() {
        return encoder != null;
    }

    /**
     * {@code encode(x).mode()}: the posterior mean of B images {@code [B, 3, H, W]} in [−1, 1], as latents
     * {@code [B, D, H/f, W/f]} (unscaled: multiply by {@link #MAR_SCALE} for FlowAR).
     */
    public float[] encode(float[] images, int B, int H, int W) {
        if (!hasEncoder())
            throw new TesseraException("this KL autoencoder checkpoint has no encoder (encoder.*, quant_conv)");
        int plane = 3 * H * W, D = latentChannels();
        Buffers buf = new Buffers(ops);
        float[] out = null;
        for (int b = 0; b < B; b++) {
            FeatureMap x = new FeatureMap(Arrays.copyOfRange(images, b * plane, (b + 1) * plane), 3, H, W);
            FeatureMap f = encoder.forward(ops, x, buf);
            int n = f.height() * f.width();
            float[] moments = new float[quantConv.cout() * n];
            ops.conv2d(f.data(), 0, f.height(), f.width(), quantConv, moments, 0);
            buf.give(f);
            if (out == null) out = new float[B * D * n];
            System.arraycopy(moments, 0, out, b * D * n, D * n); // the first D channels are the mean
        }
        return out;
    }
}
