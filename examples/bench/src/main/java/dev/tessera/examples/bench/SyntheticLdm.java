package dev.tessera.examples.bench;

/**
 * Random weights for the latent-diffusion style autoencoders in the "taming" naming ({@code encoder.down.L.block.B},
 * {@code decoder.up.L.block.B}, {@code mid.block_1/attn_1/block_2}), as VAR's VQ-VAE and MAR's KL-16 use it.
 *
 * @param ch          base channels
 * @param mult        channel multiplier per level, fine to coarse
 * @param attnTop     attention blocks after the coarsest level's residual blocks (VAR) or only in the middle (MAR)
 * @param fusedQkv    one {@code qkv} 1×1 convolution (VAR) or separate {@code q}, {@code k}, {@code v} (LDM, MAR)
 */
record SyntheticLdm(int ch, int[] mult, boolean attnTop, boolean fusedQkv) {

    /** Encoder from 3 image channels to {@code zOut} channels (2 residual blocks per level). */
    void encoder(RandomWeights w, int zOut) {
        w.conv("encoder.conv_in", ch, 3, 3);
        int in = ch;
        for (int l = 0; l < mult.length; l++) {
            int out = ch * mult[l];
            for (int b = 0; b < 2; b++) {
                resBlock(w, "encoder.down." + l + ".block." + b, in, out);
                in = out;
                if (attnTop && l == mult.length - 1) attn(w, "encoder.down." + l + ".attn." + b, out);
            }
            if (l != mult.length - 1) w.conv("encoder.down." + l + ".downsample.conv", out, out, 3);
        }
        mid(w, "encoder", in);
        w.norm("encoder.norm_out", in);
        w.conv("encoder.conv_out", zOut, in, 3);
    }

    /** Decoder from {@code zIn} latent channels to 3 (3 residual blocks per level). */
    void decoder(RandomWeights w, int zIn) {
        int top = ch * mult[mult.length - 1];
        w.conv("decoder.conv_in", top, zIn, 3);
        mid(w, "decoder", top);
        int in = top;
        for (int l = mult.length - 1; l >= 0; l--) {
            int out = ch * mult[l];
            for (int b = 0; b < 3; b++) {
                resBlock(w, "decoder.up." + l + ".block." + b, in, out);
                in = out;
                if (attnTop && l == mult.length - 1) attn(w, "decoder.up." + l + ".attn." + b, out);
            }
            if (l != 0) w.conv("decoder.up." + l + ".upsample.conv", out, out, 3);
        }
        w.norm("decoder.norm_out", in);
        w.conv("decoder.conv_out", 3, in, 3);
    }

    private void mid(RandomWeights w, String p, int c) {
        resBlock(w, p + ".mid.block_1", c, c);
        attn(w, p + ".mid.attn_1", c);
        resBlock(w, p + ".mid.block_2", c, c);
    }

    static void resBlock(RandomWeights w, String p, int cin, int cout) {
        w.norm(p + ".norm1", cin);
        w.conv(p + ".conv1", cout, cin, 3);
        w.norm(p + ".norm2", cout);
        w.conv(p + ".conv2", cout, cout, 3);
        if (cin != cout) w.conv(p + ".nin_shortcut", cout, cin, 1);
    }

    private void attn(RandomWeights w, String p, int c) {
        w.norm(p + ".norm", c);
        if (fusedQkv) {
            w.conv(p + ".qkv", 3 * c, c, 1);
        } else {
            for (String k : new String[] {"q", "k", "v"}) w.conv(p + "." + k, c, c, 1);
        }
        w.conv(p + ".proj_out", c, c, 1);
    }
}
