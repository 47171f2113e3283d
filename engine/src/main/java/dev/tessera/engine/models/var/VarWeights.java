package dev.tessera.engine.models.var;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.nn.Linear;
import dev.tessera.engine.nn.WeightPanels;
import java.util.ArrayList;
import java.util.List;

/**
 * The tensors of a VAR transformer, by role. Large matrices stay views of the checkpoint mapping; the small
 * embedding tables are read into arrays, and {@code lvl_embed[lvl_1L] + pos_1LC} is precomputed.
 *
 * @param classEmb    {@code class_emb.weight}, {@code [numClasses + 1, C]} (last row: unconditional)
 * @param posStart    {@code pos_start}, {@code [first_l, C]}
 * @param lvlPos      level plus position embedding of every token, {@code [L, C]}
 * @param sharedAdaLin {@code shared_ada_lin.1} when AdaLN is shared, else null
 */
public record VarWeights(
        float[] classEmb,
        float[] posStart,
        float[] lvlPos,
        Linear wordEmbed,
        Linear sharedAdaLin,
        List<Block> blocks,
        Linear headAdaLin,
        Linear head) {

    /**
     * One {@code AdaLNSelfAttn} block.
     *
     * @param adaLin   {@code ada_lin.1} ({@code [6C, D]}), null when AdaLN is shared
     * @param adaGss   {@code ada_gss} flattened ({@code [6C]}), only when AdaLN is shared
     * @param qkv      {@code mat_qkv} with the bias {@code (q_bias, zero_k_bias, v_bias)}
     * @param scaleMul per-head query multiplier {@code exp(min(scale_mul_1H11, ln 100))}, or null without l2-norm
     */
    public record Block(
            Linear adaLin, float[] adaGss, Linear qkv, float[] scaleMul, Linear proj, Linear fc1, Linear fc2) {}

    /**
     * The query multiplier of l2-normalised attention from the learned log-scale:
     * {@code scale_mul_1H11.clamp_max(log(100)).exp()} in float32 (the clamp acts on the log, before the exp).
     */
    public static float queryScale(float logScale) {
        float maxLog = (float) Math.log(100.0);
        return (float) Math.exp(Math.min(logScale, maxLog));
    }

    /** Reads the weights; every linear layer packs its panels in {@code weights}. */
    public static VarWeights load(Checkpoint ckpt, VarConfig cfg, WeightPanels.Format weights) {
        int C = cfg.width(), L = cfg.tokens();
        float[] classEmb =
                ckpt.tensor("class_emb.weight", cfg.numClasses() + 1, C).toFloatArray();
        int firstL = cfg.tokensAt(0);
        float[] posStart = ckpt.tensor("pos_start", 1, firstL, C).toFloatArray();
        float[] pos = ckpt.tensor("pos_1LC", 1, L, C).toFloatArray();
        float[] lvl = ckpt.tensor("lvl_embed.weight", cfg.scales(), C).toFloatArray();
        float[] lvlPos = new float[L * C];
        for (int si = 0, t = 0; si < cfg.scales(); si++) {
            for (int j = 0; j < cfg.tokensAt(si); j++, t++) {
                for (int c = 0; c < C; c++) lvlPos[t * C + c] = lvl[si * C + c] + pos[t * C + c];
            }
        }
        Linear wordEmbed = Linear.load(ckpt, "word_embed", true, C, cfg.cvae(), weights);
        Linear shared = cfg.sharedAln() ? Linear.load(ckpt, "shared_ada_lin.1", true, 6 * C, C, weights) : null;

        List<Block> blocks = new ArrayList<>();
        for (int i = 0; i < cfg.depth(); i++) {
            String p = "blocks." + i + ".";
            Linear ada = cfg.sharedAln() ? null : Linear.load(ckpt, p + "ada_lin.1", true, 6 * C, C, weights);
            float[] gss =
                    cfg.sharedAln() ? ckpt.tensor(p + "ada_gss", 1, 1, 6, C).toFloatArray() : null;
            float[] qkvBias = new float[3 * C];
            System.arraycopy(ckpt.tensor(p + "attn.q_bias", C).toFloatArray(), 0, qkvBias, 0, C);
            if (ckpt.contains(p + "attn.zero_k_bias")) {
                System.arraycopy(ckpt.tensor(p + "attn.zero_k_bias", C).toFloatArray(), 0, qkvBias, C, C);
            }
            System.arraycopy(ckpt.tensor(p + "attn.v_bias", C).toFloatArray(), 0, qkvBias, 2 * C, C);
            Linear qkv = Linear.load(ckpt, p + "attn.mat_qkv.weight", qkvBias, 3 * C, C, weights);
            float[] scaleMul = null;
            if (cfg.attnL2Norm()) {
                float[] raw = ckpt.tensor(p + "attn.scale_mul_1H11", 1, cfg.heads(), 1, 1)
                        .toFloatArray();
                scaleMul = new float[raw.length];
                for (int h = 0; h < raw.length; h++) scaleMul[h] = queryScale(raw[h]);
            }
            Linear proj = Linear.load(ckpt, p + "attn.proj", true, C, C, weights);
            Linear fc1 = Linear.load(ckpt, p + "ffn.fc1", true, cfg.mlpHidden(), C, weights);
            Linear fc2 = Linear.load(ckpt, p + "ffn.fc2", true, C, cfg.mlpHidden(), weights);
            blocks.add(new Block(ada, gss, qkv, scaleMul, proj, fc1, fc2));
        }
        Linear headAda = Linear.load(ckpt, "head_nm.ada_lin.1", true, 2 * C, C, weights);
        Linear head = Linear.load(ckpt, "head", true, cfg.vocab(), C, weights);
        return new VarWeights(classEmb, posStart, lvlPos, wordEmbed, shared, List.copyOf(blocks), headAda, head);
    }
}
