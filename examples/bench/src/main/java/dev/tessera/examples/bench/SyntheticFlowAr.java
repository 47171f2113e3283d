package dev.tessera.examples.bench;

import java.util.Locale;

/** Random-weight FlowAR models and MAR's KL-16 VAE with the key sets and shapes of the released files. */
public final class SyntheticFlowAr {
    private SyntheticFlowAr() {}

    /**
     * A released size: AR width, encoder (= decoder) depth, AR head size, flow head width, flow depth, cross.
     * S: 768, 6, 64, 1024, 2, no; L: 1024, 8, 64, 1024, 12, yes; H: 1536, 15, 96, 1536, 12, yes.
     */
    public record Size(String name, int width, int depth, int headDim, int flowWidth, int flowDepth, boolean cross) {
        public static Size of(String name) {
            return switch (name.toUpperCase(Locale.ROOT)) {
                case "S" -> new Size("S", 768, 6, 64, 1024, 2, false);
                case "L" -> new Size("L", 1024, 8, 64, 1024, 12, true);
                case "H" -> new Size("H", 1536, 15, 96, 1536, 12, true);
                default -> throw new IllegalArgumentException("unknown FlowAR size '" + name + "' (S, L, H)");
            };
        }
    }

    /** {@code FlowAR-<size>.pth}: scales 1, 2, 4, 8, 16 (341 tokens), 16 latent channels, 1001 class rows. */
    public static RandomWeights model(Size s, long seed) {
        int C = s.width(), W = s.flowWidth(), L = 341, D = 16, M = C * 8 / 3, Mw = W * 8 / 3;
        RandomWeights w = new RandomWeights(seed);
        for (String p :
                new String[] {"encoder_pos_embed_learned", "decoder_pos_embed_learned", "diffusion_pos_embed_learned"
                }) {
            w.add(p, 0.02, 1, L, C);
        }
        w.add("mask", 0, 1, 1, L, L);
        w.add("class_emb.weight", 1.0, 1001, C);
        w.linear("z_proj", C, D, true);
        w.ones("z_proj_ln.weight", C);
        for (String stack : new String[] {"encoder_blocks", "decoder_blocks"}) {
            for (int i = 0; i < s.depth(); i++) {
                String p = stack + "." + i + ".";
                w.linear(p + "attn.qkv", 3 * C, C, true);
                w.linear(p + "attn.proj", C, C, true);
                w.ropeFreqs(p + "attn.rope.freqs", s.headDim());
                w.linear(p + "mlp.fc1_g", M, C, true);
                w.linear(p + "mlp.fc1_x", M, C, true);
                w.linear(p + "mlp.fc2", C, M, true);
                w.linear(p + "ada_lin.1", 6 * C, C, true);
            }
        }
        w.ones("encoder_norm.weight", C);
        w.linear("decoder_embed", C, C, true);
        w.ones("decoder_norm.weight", C);
        w.linear("flownet.time_embed.mlp.0", W, 256, true);
        w.linear("flownet.time_embed.mlp.2", W, W, true);
        w.linear("flownet.cond_embed", W, C, true);
        w.linear("flownet.input_proj", W, D, true);
        for (int j = 0; j < s.flowDepth(); j++) {
            String p = "flownet.res_blocks." + j + ".";
            w.linear(p + "attn.qkv", 3 * W, W, false);
            w.linear(p + "attn.proj", W, W, true);
            w.ropeFreqs(p + "attn.rope.freqs", 64);
            w.linear(p + "mlp.fc1_g", Mw, W, true);
            w.linear(p + "mlp.fc1_x", Mw, W, true);
            w.linear(p + "mlp.fc2", W, Mw, true);
            if (s.cross()) {
                w.linear(p + "crossattn.q", W, W, false);
                w.linear(p + "crossattn.kv", 2 * W, C, false);
                w.linear(p + "crossattn.proj", W, W, true);
                w.ropeFreqs(p + "crossattn.rope.freqs", 64);
                w.ones(p + "norm2_1.weight", W);
                w.ones(p + "norm2_2.weight", C);
                w.linear(p + "ada_lin_attn", 3 * W, W, true);
                w.linear(p + "ada_lin_mlp", 3 * W, W, true);
            } else {
                w.linear(p + "ada_lin", 6 * W, W, true);
            }
        }
        w.linear("flownet.final_layer.linear", D, W, true);
        w.linear("flownet.final_layer.adaLN_modulation.1", 2 * W, W, true);
        return w;
    }

    /** MAR's {@code kl16.ckpt}: ch 128, ch_mult 1,1,2,2,4, 16 latent channels, attention only in the middle. */
    public static RandomWeights kl16(long seed) {
        int D = 16;
        RandomWeights w = new RandomWeights(seed);
        SyntheticLdm ldm = new SyntheticLdm(128, new int[] {1, 1, 2, 2, 4}, false, false);
        ldm.encoder(w, 2 * D);
        w.conv("quant_conv", 2 * D, 2 * D, 1);
        w.conv("post_quant_conv", D, D, 1);
        ldm.decoder(w, D);
        return w;
    }
}
