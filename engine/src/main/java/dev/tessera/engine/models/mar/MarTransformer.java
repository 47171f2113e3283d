package dev.tessera.engine.models.mar;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.nn.KvCache;
import dev.tessera.engine.nn.Linear;
import dev.tessera.engine.nn.WeightPanels;
import dev.tessera.engine.ops.Activation;
import dev.tessera.engine.ops.Ops;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * MAR's bidirectional encoder/decoder ({@code forward_mae_encoder} + {@code forward_mae_decoder}): the encoder sees
 * the class-buffer slots and the known tokens only, the decoder fills the unknown places with the mask token and
 * returns the diffusion MLP's condition z for every token:
 * <pre>
 *   x = z_proj(tokens); prepend the buffer (every slot = the class embedding); z_proj_ln(x + encoder_pos)
 *   x = encoder_norm(encoder_blocks(x[known rows]))
 *   y = decoder_embed(x) scattered back, mask_token elsewhere; decoder_norm(decoder_blocks(y + decoder_pos))
 *   z = y[:, buffer:] + diffusion_pos
 * </pre>
 * Blocks are timm's ViT {@code Block} (pre-LayerNorm, qkv with bias, exact GELU, MLP ratio 4). Immutable and
 * thread-safe.
 */
public final class MarTransformer {

    /** One {@code encoder_blocks.i} / {@code decoder_blocks.i}. */
    record Block(
            float[] norm1w,
            float[] norm1b,
            Linear qkv,
            Linear proj,
            float[] norm2w,
            float[] norm2b,
            Linear fc1,
            Linear fc2) {
        static Block load(Checkpoint ckpt, String p, int W, int hidden, WeightPanels.Format f) {
            return new Block(
                    ckpt.tensor(p + "norm1.weight", W).toFloatArray(),
                    ckpt.tensor(p + "norm1.bias", W).toFloatArray(),
                    Linear.load(ckpt, p + "attn.qkv", true, 3 * W, W, f),
                    Linear.load(ckpt, p + "attn.proj", true, W, W, f),
                    ckpt.tensor(p + "norm2.weight", W).toFloatArray(),
                    ckpt.tensor(p + "norm2.bias", W).toFloatArray(),
                    Linear.load(ckpt, p + "mlp.fc1", true, hidden, W, f),
                    Linear.load(ckpt, p + "mlp.fc2", true, W, hidden, f));
        }
    }

    /** One stack of blocks with its final norm. */
    record Stack(List<Block> blocks, int width, int heads, int hidden, float[] normW, float[] normB) {}

    private final MarConfig cfg;
    private final Ops ops;
    private final float[] classEmb, fakeLatent, encPos, decPos, diffPos, maskToken, zProjLnW, zProjLnB;
    private final Linear zProj, decoderEmbed;
    private final Stack encoder, decoder;

    private MarTransformer(MarConfig cfg, Ops ops, Checkpoint ckpt, WeightPanels.Format f) {
        this.cfg = cfg;
        this.ops = ops;
        int We = cfg.encoderWidth(), Wd = cfg.decoderWidth(), total = cfg.bufferSize() + cfg.tokens();
        classEmb = ckpt.tensor("class_emb.weight", cfg.numClasses(), We).toFloatArray();
        fakeLatent = ckpt.tensor("fake_latent", 1, We).toFloatArray();
        // the tables the ops read, held by the backend (uploaded once); the host reads its copies of them too
        encPos = held(ckpt.tensor("encoder_pos_embed_learned", 1, total, We).toFloatArray());
        decPos = held(ckpt.tensor("decoder_pos_embed_learned", 1, total, Wd).toFloatArray());
        diffPos = held(
                ckpt.tensor("diffusion_pos_embed_learned", 1, cfg.tokens(), Wd).toFloatArray());
        maskToken = held(ckpt.tensor("mask_token", 1, 1, Wd).toFloatArray());
        zProj = Linear.load(ckpt, "z_proj", true, We, cfg.tokenDim(), f);
        zProjLnW = ckpt.tensor("z_proj_ln.weight", We).toFloatArray();
        zProjLnB = ckpt.tensor("z_proj_ln.bias", We).toFloatArray();
        decoderEmbed = Linear.load(ckpt, "decoder_embed", true, Wd, We, f);
        encoder = stack(ckpt, "encoder", cfg.encoderDepth(), We, cfg.encoderHeads(), cfg.encoderHidden(), f);
        decoder = stack(ckpt, "decoder", cfg.decoderDepth(), Wd, cfg.decoderHeads(), cfg.decoderHidden(), f);
    }

    private float[] held(float[] values) {
        float[] a = ops.allocate(values.length);
        System.arraycopy(values, 0, a, 0, values.length);
        ops.hostWrote(a);
        return a;
    }

    private static Stack stack(
            Checkpoint ckpt, String name, int depth, int W, int heads, int hidden, WeightPanels.Format f) {
        List<Block> blocks = new ArrayList<>();
        for (int i = 0; i < depth; i++) blocks.add(Block.load(ckpt, name + "_blocks." + i + ".", W, hidden, f));
        return new Stack(
                List.copyOf(blocks),
                W,
                heads,
                hidden,
                ckpt.tensor(name + "_norm.weight", W).toFloatArray(),
                ckpt.tensor(name + "_norm.bias", W).toFloatArray());
    }

    public static MarTransformer load(Checkpoint ckpt, MarConfig cfg, Ops ops, WeightPanels.Format weights) {
        return new MarTransformer(cfg, ops, ckpt, weights);
    }

    public MarConfig config() {
        return cfg;
    }

    public Ops ops() {
        return ops;
    }

    /** The label of the unconditional embedding ({@code fake_latent}). */
    public static final int UNCONDITIONAL = -1;

    /** The class embeddings {@code [labels.length, encoderWidth]}; {@link #UNCONDITIONAL} gives {@code fake_latent}. */
    public float[] classEmbeddings(int[] labels) {
        int We = cfg.encoderWidth();
        float[] out = new float[labels.length * We];
        for (int r = 0; r < labels.length; r++) {
            int label = labels[r];
            if (label == UNCONDITIONAL) {
                System.arraycopy(fakeLatent, 0, out, r * We, We);
            } else if (label < 0 || label >= cfg.numClasses()) {
                throw new TesseraException("class " + label + " is out of range: this model has " + cfg.numClasses()
                        + " classes (0-" + (cfg.numClasses() - 1) + ")");
            } else {
                System.arraycopy(classEmb, label * We, out, r * We, We);
            }
        }
        return out;
    }

    /** Known tokens per row of a mask ({@code true} = masked), which must be the same in every row. */
    public int knownPerRow(boolean[] masked, int B) {
        int L = cfg.tokens(), known = -1;
        for (int b = 0; b < B; b++) {
            int k = 0;
            for (int t = 0; t < L; t++) if (!masked[b * L + t]) k++;
            if (known >= 0 && k != known) {
                throw new IllegalArgumentException("rows know " + known + " and " + k
                        + " tokens: MAR's encoder needs the same count in every row");
            }
            known = k;
        }
        return known;
    }

    /**
     * The encoder: {@code tokens [B, L, D]}, {@code masked [B, L]} ({@code true} = unknown; the same count in every
     * row) and {@code cls [B, We]}; returns {@code [B, buffer + known, We]} (the buffer first, then the known tokens
     * in position order).
     */
    public float[] encode(float[] tokens, boolean[] masked, int B, float[] cls) {
        float[] x = encoded(tokens, masked, B, cls);
        ops.toHost(x); // kept: the caller of this public step reads it
        return x;
    }

    /** {@link #encode}, the result left with the backend. */
    private float[] encoded(float[] tokens, boolean[] masked, int B, float[] cls) {
        int L = cfg.tokens(), D = cfg.tokenDim(), We = cfg.encoderWidth(), buf = cfg.bufferSize();
        if (tokens.length != B * L * D || masked.length != B * L || cls.length != B * We)
            throw new IllegalArgumentException("tokens, mask or class embeddings do not match " + B + " rows");
        int known = knownPerRow(masked, B), T = buf + known;
        float[] in = new float[B * known * D];
        int[] pos = new int[B * known];
        int r = 0;
        for (int b = 0; b < B; b++) {
            for (int t = 0; t < L; t++) {
                if (masked[b * L + t]) continue;
                System.arraycopy(tokens, (b * L + t) * D, in, r * D, D);
                pos[r++] = t;
            }
        }
        float[] proj = ops.allocate(B * known * We);
        ops.linear(in, 0, B * known, zProj, proj, 0, Activation.NONE);
        float[] x = ops.allocate(B * T * We);
        // the buffer rows, class embedding + position, from the host's values
        for (int b = 0; b < B; b++) {
            for (int s = 0; s < buf; s++) {
                int o = (b * T + s) * We;
                for (int c = 0; c < We; c++) x[o + c] = cls[b * We + c] + encPos[s * We + c];
            }
            ops.hostWrote(x, b * T * We, buf * We);
        }
        // the known rows on the device: their positions' embeddings gathered, then the projections added
        int[] from = new int[B * known], to = new int[B * known];
        for (int b = 0; b < B; b++) {
            for (int k = 0; k < known; k++) {
                from[b * known + k] = buf + pos[b * known + k];
                to[b * known + k] = b * T + buf + k;
            }
        }
        ops.copyRows(encPos, 0, from, x, 0, to, B * known, We);
        for (int b = 0; b < B; b++) {
            ops.addGated(x, (b * T + buf) * We, proj, b * known * We, known, We, null, 0, 0, 1);
        }
        layerNorm(x, B * T, We, zProjLnW, zProjLnB);
        run(encoder, x, B, T);
        return x;
    }

    /**
     * The decoder on the encoder's output {@code [B, buffer + known, We]} for the same mask; returns z
     * {@code [B, L, Wd]}.
     */
    public float[] decode(float[] encoded, boolean[] masked, int B) {
        int L = cfg.tokens(), We = cfg.encoderWidth(), Wd = cfg.decoderWidth(), buf = cfg.bufferSize();
        int known = knownPerRow(masked, B), T = buf + known, S = buf + L;
        if (encoded.length != B * T * We)
            throw new IllegalArgumentException(
                    "encoder output has " + encoded.length + " values, expected " + B * T * We);
        float[] e = ops.allocate(B * T * Wd);
        ops.linear(encoded, 0, B * T, decoderEmbed, e, 0, Activation.NONE);
        float[] y = ops.allocate(B * S * Wd);
        // on the device: the known rows scattered to their positions, the mask token into the others
        int[] from = new int[B * T], to = new int[B * T], maskRows = new int[B * S];
        int nk = 0, nm = 0;
        for (int b = 0; b < B; b++) {
            int k = 0;
            for (int s = 0; s < S; s++) {
                boolean known0 = s < buf || !masked[b * L + s - buf];
                if (known0) {
                    from[nk] = b * T + k++;
                    to[nk++] = b * S + s;
                } else {
                    maskRows[nm++] = b * S + s;
                }
            }
        }
        ops.copyRows(e, 0, from, y, 0, to, nk, Wd);
        ops.copyRows(maskToken, 0, new int[nm], y, 0, maskRows, nm, Wd);
        ops.addBroadcast(y, 0, B, S, Wd, decPos, 0);
        run(decoder, y, B, S);
        float[] z = ops.allocate(B * L * Wd);
        // the final norm reads each row's last L positions (past the buffer) straight into z
        for (int b = 0; b < B; b++) {
            ops.layerNorm(y, (b * S + buf) * Wd, z, b * L * Wd, L, Wd, MarConfig.NORM_EPS, null, 0, 0, 0, 1);
        }
        ops.affine(z, 0, B * L, Wd, decoder.normW(), decoder.normB());
        ops.addBroadcast(z, 0, B, L, Wd, diffPos, 0);
        ops.toHost(z); // the sampler gathers the rows it predicts
        return z;
    }

    /** {@code decode(encode(...))}: z {@code [B, L, Wd]}. */
    public float[] forward(float[] tokens, boolean[] masked, int B, float[] cls) {
        return decode(encoded(tokens, masked, B, cls), masked, B);
    }

    /** A stack's blocks in place on {@code x [B, T, W]}; the encoder's final norm too (the decoder's comes later). */
    private void run(Stack st, float[] x, int B, int T) {
        int W = st.width(), H = st.heads(), d = W / H, rows = B * T;
        float[] h = ops.allocate(rows * W), qkv = ops.allocate(rows * 3 * W), o = ops.allocate(rows * W);
        float[] mid = ops.allocate(rows * st.hidden());
        float[] scale = new float[H];
        Arrays.fill(scale, (float) Math.pow(d, -0.5));
        try (KvCache kv = new KvCache(ops, 1, B, H, d, T)) { // one layer's keys and values, rewritten per block
            for (Block blk : st.blocks()) {
                layerNorm(x, h, rows, W, blk.norm1w(), blk.norm1b());
                ops.linear(h, 0, rows, blk.qkv(), qkv, 0, Activation.NONE);
                kv.store(0, qkv, 0, 3 * W, W, 2 * W, T);
                kv.attend(0, qkv, 0, 3 * W, T, false, scale, o, 0, W);
                ops.linear(o, 0, rows, blk.proj(), h, 0, Activation.NONE);
                ops.addGated(x, 0, h, 0, rows, W, null, 0, 0, 1);
                layerNorm(x, h, rows, W, blk.norm2w(), blk.norm2b());
                ops.linear(h, 0, rows, blk.fc1(), mid, 0, Activation.GELU_ERF);
                ops.linear(mid, 0, rows, blk.fc2(), o, 0, Activation.NONE);
                ops.addGated(x, 0, o, 0, rows, W, null, 0, 0, 1);
            }
        }
        if (st == encoder) layerNorm(x, rows, W, st.normW(), st.normB());
    }

    /** LayerNorm with affine parameters (eps 1e-6) in place over rows of width C. */
    void layerNorm(float[] x, int rows, int C, float[] w, float[] b) {
        layerNorm(x, x, rows, C, w, b);
    }

    /** The same from x into out (which may be x). */
    private void layerNorm(float[] x, float[] out, int rows, int C, float[] w, float[] b) {
        ops.layerNorm(x, 0, out, 0, rows, C, MarConfig.NORM_EPS, null, 0, 0, 0, 1);
        ops.affine(out, 0, rows, C, w, b);
    }
}
