package dev.tessera.examples.bench;

import java.util.Locale;

/** Random-weight MAR models with the key set and shapes of the released files (MAR-B, MAR-L, MAR-H). */
public final class SyntheticMar {
    private SyntheticMar() {}

    /**
     * A released size: width and depth of the encoder (= decoder), diffusion MLP depth and width. B: 768, 12, 6,
     * 1024; L: 1024, 16, 8, 1280; H: 1280, 20, 12, 1536.
     */
    public record Size(String name, int width, int depth, int headDepth, int headWidth) {
        public static Size of(String name) {
            return switch (name.toUpperCase(Locale.ROOT)) {
                case "B" -> new Size("B", 768, 12, 6, 1024);
                case "L" -> new Size("L", 1024, 16, 8, 1280);
                case "H" -> new Size("H", 1280, 20, 12, 1536);
                default -> throw new IllegalArgumentException("unknown MAR size '" + name + "' (B, L, H)");
            };
        }
    }

    /** {@code mar-<size>.pth}'s weights: 16x16 tokens of 16 channels, a 64-slot buffer, 1000 classes. */
    public static RandomWeights model(Size s, long seed) {
        int C = s.width(), W = s.headWidth(), L = 256, S = 64 + L, D = 16;
        RandomWeights w = new RandomWeights(seed);
        w.add("class_emb.weight", 0.02, 1000, C);
        w.add("fake_latent", 0.02, 1, C);
        w.linear("z_proj", C, D, true);
        w.norm("z_proj_ln", C);
        w.add("encoder_pos_embed_learned", 0.02, 1, S, C);
        w.add("decoder_pos_embed_learned", 0.02, 1, S, C);
        w.add("diffusion_pos_embed_learned", 0.02, 1, L, C);
        w.add("mask_token", 0.02, 1, 1, C);
        for (String stack : new String[] {"encoder_blocks", "decoder_blocks"}) {
            for (int i = 0; i < s.depth(); i++) {
                String p = stack + "." + i + ".";
                w.norm(p + "norm1", C);
                w.linear(p + "attn.qkv", 3 * C, C, true);
                w.linear(p + "attn.proj", C, C, true);
                w.norm(p + "norm2", C);
                w.linear(p + "mlp.fc1", 4 * C, C, true);
                w.linear(p + "mlp.fc2", C, 4 * C, true);
            }
        }
        w.norm("encoder_norm", C);
        w.linear("decoder_embed", C, C, true);
        w.norm("decoder_norm", C);
        String p = "diffloss.net.";
        w.linear(p + "time_embed.mlp.0", W, 256, true);
        w.linear(p + "time_embed.mlp.2", W, W, true);
        w.linear(p + "cond_embed", W, C, true);
        w.linear(p + "input_proj", W, D, true);
        for (int i = 0; i < s.headDepth(); i++) {
            String b = p + "res_blocks." + i + ".";
            w.norm(b + "in_ln", W);
            w.linear(b + "mlp.0", W, W, true);
            w.linear(b + "mlp.2", W, W, true);
            w.linear(b + "adaLN_modulation.1", 3 * W, W, true);
        }
        w.linear(p + "final_layer.linear", 2 * D, W, true);
        w.linear(p + "final_layer.adaLN_modulation.1", 2 * W, W, true);
        return w;
    }
}
