package dev.tessera.samplers.mar;

import dev.tessera.engine.io.InMemoryCheckpoint;
import dev.tessera.engine.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * A random-weight MAR checkpoint of any shape, in the official key layout, for configurations no released or golden
 * file has. Weights: linear {@code N(0, 1/fan_in)}, biases and embeddings {@code 0.3·N(0, 1)}, LayerNorm gains
 * {@code 1 + 0.2·N(0, 1)}; the diffusion MLP's output layer damped ×{@code outScale}.
 */
final class SyntheticMar {
    private SyntheticMar() {}

    record Shape(
            int encWidth,
            int encDepth,
            int decWidth,
            int decDepth,
            int tokenDim,
            int side,
            int buffer,
            int classes,
            int headWidth,
            int headDepth) {}

    static InMemoryCheckpoint checkpoint(String name, Shape s, long seed, double outScale) {
        Random r = new Random(seed);
        Map<String, Tensor> t = new LinkedHashMap<>();
        int We = s.encWidth(), Wd = s.decWidth(), D = s.tokenDim(), L = s.side() * s.side(), S = s.buffer() + L;
        int W = s.headWidth();
        emb(t, r, "class_emb.weight", s.classes(), We);
        emb(t, r, "fake_latent", 1, We);
        linear(t, r, "z_proj", We, D, 1);
        norm(t, r, "z_proj_ln", We);
        t.put("encoder_pos_embed_learned", rand(r, "encoder_pos_embed_learned", 0.3, 1, S, We));
        for (int i = 0; i < s.encDepth(); i++) block(t, r, "encoder_blocks." + i + ".", We);
        norm(t, r, "encoder_norm", We);
        linear(t, r, "decoder_embed", Wd, We, 1);
        t.put("mask_token", rand(r, "mask_token", 0.3, 1, 1, Wd));
        t.put("decoder_pos_embed_learned", rand(r, "decoder_pos_embed_learned", 0.3, 1, S, Wd));
        for (int i = 0; i < s.decDepth(); i++) block(t, r, "decoder_blocks." + i + ".", Wd);
        norm(t, r, "decoder_norm", Wd);
        t.put("diffusion_pos_embed_learned", rand(r, "diffusion_pos_embed_learned", 0.3, 1, L, Wd));
        String p = "diffloss.net.";
        linear(t, r, p + "time_embed.mlp.0", W, 256, 1);
        linear(t, r, p + "time_embed.mlp.2", W, W, 1);
        linear(t, r, p + "cond_embed", W, Wd, 1);
        linear(t, r, p + "input_proj", W, D, 1);
        for (int i = 0; i < s.headDepth(); i++) {
            String b = p + "res_blocks." + i + ".";
            norm(t, r, b + "in_ln", W);
            linear(t, r, b + "mlp.0", W, W, 1);
            linear(t, r, b + "mlp.2", W, W, 1);
            linear(t, r, b + "adaLN_modulation.1", 3 * W, W, 1);
        }
        linear(t, r, p + "final_layer.linear", 2 * D, W, outScale);
        linear(t, r, p + "final_layer.adaLN_modulation.1", 2 * W, W, 1);
        return new InMemoryCheckpoint(name, t);
    }

    private static void block(Map<String, Tensor> t, Random r, String p, int W) {
        norm(t, r, p + "norm1", W);
        linear(t, r, p + "attn.qkv", 3 * W, W, 1);
        linear(t, r, p + "attn.proj", W, W, 1);
        norm(t, r, p + "norm2", W);
        linear(t, r, p + "mlp.fc1", 4 * W, W, 1);
        linear(t, r, p + "mlp.fc2", W, 4 * W, 1);
    }

    private static void linear(Map<String, Tensor> t, Random r, String p, int out, int in, double scale) {
        t.put(p + ".weight", rand(r, p + ".weight", scale / Math.sqrt(in), out, in));
        t.put(p + ".bias", rand(r, p + ".bias", 0.3 * scale, out));
    }

    private static void norm(Map<String, Tensor> t, Random r, String p, int W) {
        float[] g = new float[W];
        for (int i = 0; i < W; i++) g[i] = (float) (1 + 0.2 * r.nextGaussian());
        t.put(p + ".weight", Tensor.ofFloats(p + ".weight", g, W));
        t.put(p + ".bias", rand(r, p + ".bias", 0.3, W));
    }

    private static void emb(Map<String, Tensor> t, Random r, String k, int rows, int W) {
        t.put(k, rand(r, k, 0.3, rows, W));
    }

    private static Tensor rand(Random r, String k, double scale, long... shape) {
        float[] a = new float[(int) Tensor.numel(shape)];
        for (int i = 0; i < a.length; i++) a[i] = (float) (scale * r.nextGaussian());
        return Tensor.ofFloats(k, a, shape);
    }
}
