package dev.tessera.examples.bench;

import dev.tessera.engine.io.InMemoryCheckpoint;
import dev.tessera.engine.tensor.Tensor;

/** Random-weight VAR transformers and VQ-VAEs with the key set and shapes of the official release files. */
public final class SyntheticVar {
    private SyntheticVar() {}

    /** {@code var_d{depth}.pth}: width 64·depth, heads = depth, 1000 classes, V 4096, Cvae 32. */
    public static RandomWeights transformer(int depth, int[] patchNums, long seed) {
        int C = 64 * depth, H = depth, V = 4096, cvae = 32, classes = 1000;
        int L = 0;
        for (int p : patchNums) L += p * p;
        RandomWeights w = new RandomWeights(seed);
        w.add("pos_start", 0.02, 1, 1, C);
        w.add("pos_1LC", 0.02, 1, L, C);
        long[] lvl = new long[L];
        for (int si = 0, t = 0; si < patchNums.length; si++)
            for (int j = 0; j < patchNums[si] * patchNums[si]; j++) lvl[t++] = si;
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
        SyntheticLdm ldm = new SyntheticLdm(ch, mult, true, true);
        ldm.encoder(w, cvae);
        w.conv("quant_conv", cvae, cvae, 3);
        w.conv("post_quant_conv", cvae, cvae, 3);
        ldm.decoder(w, cvae);
        return w;
    }

    public static InMemoryCheckpoint build(RandomWeights w, String name) {
        return w.build(name);
    }
}
