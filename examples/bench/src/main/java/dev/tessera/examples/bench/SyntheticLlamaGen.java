package dev.tessera.examples.bench;

import java.util.Locale;

/** Random-weight LlamaGen GPTs and the VQ-16 tokenizer with the key sets and shapes of the released files. */
public final class SyntheticLlamaGen {
    private SyntheticLlamaGen() {}

    /** {@code (layers, dim)} of the released class-conditional sizes. */
    public static int[] size(String name) {
        return switch (name.toUpperCase(Locale.ROOT)) {
            case "B" -> new int[] {12, 768};
            case "L" -> new int[] {24, 1024};
            case "XL" -> new int[] {36, 1280};
            case "XXL" -> new int[] {48, 1536};
            default -> throw new IllegalArgumentException("unknown LlamaGen size '" + name + "' (B, L, XL, XXL)");
        };
    }

    /** {@code find_multiple(int(2·4·dim/3), 256)}. */
    public static int ffnHidden(int dim) {
        int h = (int) (2 * 4 * dim / 3.0);
        return (h + 255) / 256 * 256;
    }

    /** A GPT of {@code layers} blocks (plus {@code extraLayers}, for NAR) with vocabulary 16384 and 1000 classes. */
    public static RandomWeights gpt(int layers, int dim, int extraLayers, long seed) {
        int V = 16384, H = ffnHidden(dim);
        RandomWeights w = new RandomWeights(seed);
        w.add("cls_embedding.embedding_table.weight", 1.0, 1001, dim);
        w.add("tok_embeddings.weight", 1.0, V, dim);
        for (int i = 0; i < layers + extraLayers; i++) {
            String p = "layers." + i + ".";
            w.linear(p + "attention.wqkv", 3 * dim, dim, false);
            w.linear(p + "attention.wo", dim, dim, false);
            w.linear(p + "feed_forward.w1", H, dim, false);
            w.linear(p + "feed_forward.w3", H, dim, false);
            w.linear(p + "feed_forward.w2", dim, H, false);
            w.norm(p + "attention_norm", dim);
            w.norm(p + "ffn_norm", dim);
        }
        w.norm("norm", dim);
        w.linear("output", V, dim, false);
        if (extraLayers > 0) {
            w.norm("medusa_norm", dim);
            w.linear("medusa_output", V, dim, false);
        }
        return w;
    }

    /** {@code vq_ds16_c2i.pt}: codebook 16384 x 8, ch 128, ch_mult 1,1,2,2,4, z 256, encoder and decoder. */
    public static RandomWeights vq(long seed) {
        int ch = 128, z = 256, d = 8;
        int[] mult = {1, 1, 2, 2, 4};
        RandomWeights w = new RandomWeights(seed);
        w.add("quantize.embedding.weight", 1.0, 16384, d);
        w.add("quantize.codebook_used", 0, 65536);
        w.conv("quant_conv", d, z, 1);
        w.conv("post_quant_conv", z, d, 1);
        // encoder: conv_blocks fine to coarse
        w.conv("encoder.conv_in", ch, 3, 3);
        int in = ch;
        for (int l = 0; l < mult.length; l++) {
            int out = ch * mult[l];
            for (int b = 0; b < 2; b++) {
                res(w, "encoder.conv_blocks." + l + ".res." + b, in, out);
                in = out;
                if (l == mult.length - 1) attn(w, "encoder.conv_blocks." + l + ".attn." + b, out);
            }
            if (l != mult.length - 1) w.conv("encoder.conv_blocks." + l + ".downsample.conv", out, out, 3);
        }
        mid(w, "encoder", in);
        w.norm("encoder.norm_out", in);
        w.conv("encoder.conv_out", z, in, 3);
        // decoder: conv_blocks in run order (coarse first)
        int top = ch * mult[mult.length - 1];
        w.conv("decoder.conv_in", top, z, 3);
        mid(w, "decoder", top);
        in = top;
        for (int i = 0; i < mult.length; i++) {
            int level = mult.length - 1 - i, out = ch * mult[level];
            for (int b = 0; b < 3; b++) {
                res(w, "decoder.conv_blocks." + i + ".res." + b, in, out);
                in = out;
                if (level == mult.length - 1) attn(w, "decoder.conv_blocks." + i + ".attn." + b, out);
            }
            if (level != 0) w.conv("decoder.conv_blocks." + i + ".upsample.conv", out, out, 3);
        }
        w.norm("decoder.norm_out", in);
        w.conv("decoder.conv_out", 3, in, 3);
        return w;
    }

    private static void mid(RandomWeights w, String p, int c) {
        res(w, p + ".mid.0", c, c);
        attn(w, p + ".mid.1", c);
        res(w, p + ".mid.2", c, c);
    }

    private static void res(RandomWeights w, String p, int cin, int cout) {
        w.norm(p + ".norm1", cin);
        w.conv(p + ".conv1", cout, cin, 3);
        w.norm(p + ".norm2", cout);
        w.conv(p + ".conv2", cout, cout, 3);
        if (cin != cout) w.conv(p + ".nin_shortcut", cout, cin, 1);
    }

    private static void attn(RandomWeights w, String p, int c) {
        w.norm(p + ".norm", c);
        for (String m : new String[] {"q", "k", "v", "proj_out"}) w.conv(p + "." + m, c, c, 1);
    }
}
