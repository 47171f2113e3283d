package dev.tessera.examples.bench;

import dev.tessera.engine.io.InMemoryCheckpoint;
import dev.tessera.engine.tensor.Tensor;

/** Random-weight VAR transformers and VQ-VAEs with the key set and shapes of the official release files. */
public final class SyntheticVar {
    private SyntheticVar() {
    }

    /** {@code var_d{depth}.pth}: width 64·depth, heads = depth, 1000 classes, V 4096, Cvae 32. */
    public static RandomWeights transformer(int depth, int[] patchNums, long seed) {
        int C = 64 * depth, H = depth, V = 4096, cvae = 32, classes = 1000;
        int L = 0;
        for (int p : patchNums) L += p * p;
        RandomWeights w = new RandomWeights(seed);
        w.add("pos_start", 0.02, 1, 1, C);
        w.add("pos_1LC", 0.02, 1, L, C);
        long[] lvl = new long[L];
        for (int si = 0, t = 0; si < patchNums.length; si++) for (int j = 0; j < patchNums[si] * patchNums[si]; j++) lvl[t++] = si;
        w.put(Tensor.ofLongs("lvl_1L", lvl, 1, L));
        w.linear("word_embed", C, cvae, true);
        w.add("class_emb.weight", 0.5, classes + 1, C);
        w.add("lvl_embed.weight", 0.02, patchNums.length, C);
        for (int i = 0; i < depth; i++) {
            String p = "blocks." + i + ".";
            w.add(p + "attn.scale_mul_1H11", 0.3, 1, H, 1, 1);
            w.add(p + "attn.q_bias", 0.02, C);
            w.add(p + "attn.v_bias", 0.02, C);
            w.add(p + "attn.zero_k_bias", 0, C);
            w.linear(p + "attn.mat_qkv", 3 * C, C, false);
            w.linear(p + "attn.proj", C, C, true);
            w.linear(p + "ffn.fc1", 4 * C, C, true);
            w.linear(p + "ffn.fc2", C, 4 * C, true);
            w.add(p + "ada_lin.1.weight", 0.1 / Math.sqrt(C), 6 * C, C);
            w.add(p + "ada_lin.1.bias", 0.02, 6 * C);
        }
        w.add("head_nm.ada_lin.1.weight", 0.1 / Math.sqrt(C), 2 * C, C);
        w.add("head_nm.ada_lin.1.bias", 0.02, 2 * C);
        w.linear("head", V, C, true);
        return w;
    }

    /**
     * {@code vae_ch160v4096z32.pth}: ch 160, ch_mult 1,1,2,2,4, 2 res blocks, attention at 16², encoder and
     * decoder (generation touches only the decoder side, as with the released file).
     */
    public static RandomWeights vqvae(long seed) {
        int ch = 160, cvae = 32, V = 4096;
        int[] mult = {1, 1, 2, 2, 4};
        RandomWeights w = new RandomWeights(seed);
        w.add("quantize.embedding.weight", 1.0, V, cvae);
        for (int k = 0; k < 4; k++) w.conv("quantize.quant_resi.qresi_ls." + k, cvae, cvae, 3);
        w.add("quantize.ema_vocab_hit_SV", 0, 10, V);
        encoder(w, ch, mult, cvae);
        w.conv("quant_conv", cvae, cvae, 3);
        w.conv("post_quant_conv", cvae, cvae, 3);
        int top = ch * mult[mult.length - 1];
        w.conv("decoder.conv_in", top, cvae, 3);
        resBlock(w, "decoder.mid.block_1", top, top);
        attn(w, "decoder.mid.attn_1", top);
        resBlock(w, "decoder.mid.block_2", top, top);
        int in = top;
        for (int l = mult.length - 1; l >= 0; l--) {
            int out = ch * mult[l];
            for (int b = 0; b < 3; b++) {
                resBlock(w, "decoder.up." + l + ".block." + b, in, out);
                in = out;
                if (l == mult.length - 1) attn(w, "decoder.up." + l + ".attn." + b, out);
            }
            if (l != 0) w.conv("decoder.up." + l + ".upsample.conv", out, out, 3);
        }
        w.norm("decoder.norm_out", in);
        w.conv("decoder.conv_out", 3, in, 3);
        return w;
    }

    private static void encoder(RandomWeights w, int ch, int[] mult, int cvae) {
        w.conv("encoder.conv_in", ch, 3, 3);
        int in = ch;
        for (int l = 0; l < mult.length; l++) {
            int out = ch * mult[l];
            for (int b = 0; b < 2; b++) {
                resBlock(w, "encoder.down." + l + ".block." + b, in, out);
                in = out;
                if (l == mult.length - 1) attn(w, "encoder.down." + l + ".attn." + b, out);
            }
            if (l != mult.length - 1) w.conv("encoder.down." + l + ".downsample.conv", out, out, 3);
        }
        resBlock(w, "encoder.mid.block_1", in, in);
        attn(w, "encoder.mid.attn_1", in);
        resBlock(w, "encoder.mid.block_2", in, in);
        w.norm("encoder.norm_out", in);
        w.conv("encoder.conv_out", cvae, in, 3);
    }

    private static void resBlock(RandomWeights w, String p, int cin, int cout) {
        w.norm(p + ".norm1", cin);
        w.conv(p + ".conv1", cout, cin, 3);
        w.norm(p + ".norm2", cout);
        w.conv(p + ".conv2", cout, cout, 3);
        if (cin != cout) w.conv(p + ".nin_shortcut", cout, cin, 1);
    }

    private static void attn(RandomWeights w, String p, int c) {
        w.norm(p + ".norm", c);
        w.conv(p + ".qkv", 3 * c, c, 1);
        w.conv(p + ".proj_out", c, c, 1);
    }

    public static InMemoryCheckpoint build(RandomWeights w, String name) {
        return w.build(name);
    }
}
