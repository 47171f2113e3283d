package dev.tessera.tokenizers.var;

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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * VAR's multi-scale VQ-VAE ({@code models/vqvae.py}, {@code quant.py}): a codebook shared by all scales, the
 * residual convolutions φ (partially shared across scales), and the LDM encoder/decoder.
 *
 * <p>Token maps are row-major: token n of a scale with side pn sits at (n / pn, n % pn). The accumulated feature map
 * {@code f_hat} has the finest scale's side and {@code Cvae} channels; images are {@code [3, H, W]} in [−1, 1].
 * Instances are immutable and thread-safe.
 */
public final class MultiScaleVqVae {
    private final int vocab, cvae;
    private final float[] codebook; // [V, Cvae]
    private volatile float[] codeNorms; // ‖e‖² per row, for encoding (see codeNorms())
    private final List<Conv2d> phis; // empty = identity φ
    private final double[] phiTicks;
    private final float phiRatio;
    private final int[] patchNums;
    private final Conv2d postQuantConv, quantConv;
    private final Decoder decoder;
    private final Encoder encoder; // null when the file holds only the decoder side
    private final Ops ops;

    private MultiScaleVqVae(
            float[] codebook,
            int vocab,
            int cvae,
            List<Conv2d> phis,
            double[] phiTicks,
            float phiRatio,
            int[] patchNums,
            Conv2d postQuantConv,
            Conv2d quantConv,
            Decoder decoder,
            Encoder encoder,
            Ops ops) {
        this.codebook = codebook;
        this.vocab = vocab;
        this.cvae = cvae;
        this.phis = phis;
        this.phiTicks = phiTicks;
        this.phiRatio = phiRatio;
        this.patchNums = patchNums;
        this.postQuantConv = postQuantConv;
        this.quantConv = quantConv;
        this.decoder = decoder;
        this.encoder = encoder;
        this.ops = ops;
    }

    /**
     * Loads the VQ-VAE for the given patch schedule. The φ convolutions are found under
     * {@code quantize.quant_resi.qresi_ls.N} (partially shared, VAR's release), {@code quantize.quant_resi.qresi}
     * (one shared) or {@code quantize.quant_resi.N} (one per scale); none means φ is the identity.
     *
     * @param quantResi φ's residual ratio r in {@code φ(h) = (1−r)·h + r·conv(h)} (0.5 in the release; not stored)
     */
    public static MultiScaleVqVae load(Checkpoint ckpt, int[] patchNums, float quantResi, Ops ops) {
        if (!ckpt.contains("quantize.embedding.weight")) {
            throw new CheckpointException(ckpt.path(), "not a VAR VQ-VAE checkpoint (no 'quantize.embedding.weight')");
        }
        var emb = ckpt.tensor("quantize.embedding.weight", -1, -1);
        int V = Math.toIntExact(emb.dim(0)), cvae = Math.toIntExact(emb.dim(1));
        List<Conv2d> phis = new ArrayList<>();
        String base = "quantize.quant_resi.";
        if (ckpt.contains(base + "qresi.weight")) {
            phis.add(Conv2d.load(ckpt, base + "qresi"));
        } else {
            String list = ckpt.contains(base + "qresi_ls.0.weight") ? base + "qresi_ls." : base;
            for (int k = 0; ckpt.contains(list + k + ".weight"); k++) phis.add(Conv2d.load(ckpt, list + k));
        }
        for (Conv2d phi : phis) {
            if (phi.cin() != cvae || phi.cout() != cvae) {
                throw new CheckpointException(
                        ckpt.path(),
                        "φ convolution has " + phi.cin() + "→" + phi.cout() + " channels, the codebook has " + cvae);
            }
        }
        Decoder decoder = Decoder.load(ckpt, "decoder", Layout.TAMING);
        Encoder encoder = Encoder.present(ckpt, "encoder") ? Encoder.load(ckpt, "encoder", Layout.TAMING) : null;
        Conv2d post = Conv2d.load(ckpt, "post_quant_conv");
        Conv2d quant = ckpt.contains("quant_conv.weight") ? Conv2d.load(ckpt, "quant_conv") : null;
        if (decoder.latentChannels() != cvae) {
            throw new CheckpointException(
                    ckpt.path(), "decoder takes " + decoder.latentChannels() + " channels, codebook has " + cvae);
        }
        return new MultiScaleVqVae(
                emb.toFloatArray(),
                V,
                cvae,
                List.copyOf(phis),
                ticks(phis.size()),
                quantResi,
                patchNums.clone(),
                post,
                quant,
                decoder,
                encoder,
                ops);
    }

    /** {@code PhiPartiallyShared.ticks}: linspace(1/3K, 1−1/3K, K) for K = 4, linspace(1/2K, 1−1/2K, K) otherwise. */
    private static double[] ticks(int K) {
        if (K == 0) return new double[0];
        double lo = K == 4 ? 1.0 / 3 / K : 1.0 / 2 / K, hi = 1 - lo;
        double[] t = new double[K];
        double step = K == 1 ? 0 : (hi - lo) / (K - 1);
        for (int i = 0; i < K; i++) t[i] = lo + i * step;
        if (K > 1) t[K - 1] = hi;
        return t;
    }

    public int vocab() {
        return vocab;
    }

    public int cvae() {
        return cvae;
    }

    public int[] patchNums() {
        return patchNums.clone();
    }

    /** Side of f_hat (the finest token map). */
    public int side() {
        return patchNums[patchNums.length - 1];
    }

    /** Image side produced from f_hat. */
    public int imageSide() {
        return side() * decoder.upsampling();
    }

    public boolean hasEncoder() {
        return encoder != null && quantConv != null;
    }

    /** The φ used at scale {@code si}: the tick nearest to si/(SN−1), the first on a tie (numpy argmin). */
    public int phiIndex(int si) {
        int SN = patchNums.length;
        double at = SN == 1 ? 0 : (double) si / (SN - 1);
        int best = 0;
        for (int k = 1; k < phiTicks.length; k++) {
            if (Math.abs(phiTicks[k] - at) < Math.abs(phiTicks[best] - at)) best = k;
        }
        return best;
    }

    /** Codebook vectors of the tokens of one scale, as a map {@code [B, Cvae, pn, pn]} (current on the host). */
    public float[] embed(int[] tokens, int B, int pn) {
        float[] h = ops.allocate(B * cvae * pn * pn);
        int n = pn * pn;
        for (int b = 0; b < B; b++) {
            for (int t = 0; t < n; t++) {
                int idx = tokens[b * n + t];
                if (idx < 0 || idx >= vocab)
                    throw new TesseraException("token " + idx + " is outside the vocabulary of " + vocab);
            }
            ops.lookupCodes(codebook, cvae, tokens, b * n, n, h, b * cvae * n);
        }
        ops.toHost(h); // small, and the bicubic upsampling of the coarser scales runs on the host
        return h;
    }

    /** The same from per-token vectors {@code e [B, pn², Cvae]} (VAR's smoothed path mixes codebook rows). */
    public float[] tokensToMap(float[] e, int B, int pn) {
        int n = pn * pn;
        float[] h = new float[B * cvae * n];
        for (int b = 0; b < B; b++) {
            for (int t = 0; t < n; t++) {
                for (int c = 0; c < cvae; c++) h[(b * cvae + c) * n + t] = e[(b * n + t) * cvae + c];
            }
        }
        return h;
    }

    public float[] codebook() {
        return codebook;
    }

    /**
     * A zero f_hat for B images, {@code [B, Cvae, side, side]}, held by this tokenizer's backend: {@link #addScale}
     * leaves it there; call {@code ops().toHost(fhat)} before reading it.
     */
    public float[] newFhat(int B) {
        return ops.allocate(B * cvae * side() * side());
    }

    /** The backend this tokenizer computes on. */
    public Ops ops() {
        return ops;
    }

    /**
     * {@code get_next_autoregressive_input}: adds scale {@code si}'s embedding {@code h [B, Cvae, pn, pn]} to f_hat
     * (bicubic upsampling to the finest side, then φ; the finest scale skips the upsampling) and returns the next
     * scale's input, {@code area(f_hat)} as tokens {@code [B, pn'², Cvae]}, or null after the last scale.
     */
    public float[] addScale(float[] fhat, int B, int si, float[] h) {
        int HW = side(), pn = patchNums[si], P = HW * HW;
        float[] up = ops.allocate(cvae * P);
        float[] phiOut = ops.allocate(cvae * P);
        for (int b = 0; b < B; b++) {
            if (pn != HW) {
                ops.resizeBicubic(h, b * cvae * pn * pn, cvae, pn, pn, up, 0, HW, HW);
            } else {
                ops.toHost(h, b * cvae * P, cvae * P);
                System.arraycopy(h, b * cvae * P, up, 0, cvae * P);
                ops.hostWrote(up);
            }
            phi(si, up, phiOut);
            ops.addGated(fhat, b * cvae * P, phiOut, 0, 1, cvae * P, null, 0, 0, 1);
        }
        if (si == patchNums.length - 1) return null;
        return areaTokens(fhat, B, patchNums[si + 1]);
    }

    /** {@code φ(h) = (1−r)·h + r·conv(h)} on one map {@code [Cvae, side, side]}. */
    private void phi(int si, float[] h, float[] out) {
        if (phis.isEmpty()) {
            ops.toHost(h);
            System.arraycopy(h, 0, out, 0, h.length);
            ops.hostWrote(out);
            return;
        }
        Conv2d conv = phis.get(phiIndex(si));
        ops.conv2d(h, 0, side(), side(), conv, out, 0);
        ops.blend(h, 0, 1f - phiRatio, out, 0, phiRatio, h.length);
    }

    /** {@code area(f, pn)} flattened to tokens {@code [B, pn², Cvae]}. */
    private float[] areaTokens(float[] f, int B, int pn) {
        int HW = side(), n = pn * pn;
        float[] small = new float[cvae * n];
        float[] tokens = new float[B * n * cvae];
        for (int b = 0; b < B; b++) {
            ops.resizeArea(f, b * cvae * HW * HW, cvae, HW, HW, small, 0, pn, pn);
            for (int c = 0; c < cvae; c++) {
                for (int t = 0; t < n; t++) tokens[(b * n + t) * cvae + c] = small[c * n + t];
            }
        }
        return tokens;
    }

    /**
     * {@code fhat_to_img}: {@code clamp(decoder(post_quant_conv(f_hat)), −1, 1)} for B images, {@code [B, 3, H, W]}.
     */
    public float[] decode(float[] fhat, int B) {
        int HW = side(), n = cvae * HW * HW;
        return decoder.forwardAll(
                ops,
                B,
                (b, buf) -> {
                    FeatureMap z = buf.map(cvae, HW, HW);
                    ops.conv2d(fhat, b * n, HW, HW, postQuantConv, z.data(), 0);
                    return z;
                },
                true);
    }

    /**
     * {@code img_to_idxBl}: tokenises B images {@code [B, 3, H, W]} in [−1, 1] into one token list per scale
     * ({@code [B·pn²]} each, row-major per image), by residual quantisation from the coarsest scale up.
     */
    public List<int[]> encode(float[] images, int B, int H, int W) {
        if (!hasEncoder()) throw new TesseraException("this VQ-VAE checkpoint has no encoder (encoder.*, quant_conv)");
        int HW = side(), P = HW * HW, SN = patchNums.length;
        if (H != imageSide() || W != imageSide()) {
            throw new TesseraException("images must be " + imageSide() + "x" + imageSide()
                    + " for this patch schedule, got " + W + "x" + H);
        }
        List<int[]> tokens = new ArrayList<>();
        for (int si = 0; si < SN; si++) tokens.add(new int[B * patchNums[si] * patchNums[si]]);
        for (int b = 0; b < B; b++) {
            FeatureMap x = new FeatureMap(Arrays.copyOfRange(images, b * 3 * H * W, (b + 1) * 3 * H * W), 3, H, W);
            Buffers buf = new Buffers(ops);
            FeatureMap f = encoder.forward(ops, x, buf);
            float[] rest = new float[cvae * P];
            ops.conv2d(f.data(), 0, f.height(), f.width(), quantConv, rest, 0);
            buf.give(f);
            float[] fhat = new float[cvae * P];
            for (int si = 0; si < SN; si++) {
                int pn = patchNums[si], n = pn * pn;
                float[] z = new float[cvae * n];
                if (si != SN - 1) ops.resizeArea(rest, 0, cvae, HW, HW, z, 0, pn, pn);
                else System.arraycopy(rest, 0, z, 0, z.length);
                int[] idx = new int[n];
                ops.nearestCodes(z, 0, cvae, n, codebook, codeNorms(), vocab, idx, 0);
                System.arraycopy(idx, 0, tokens.get(si), b * n, n);
                float[] h = embed(idx, 1, pn);
                float[] hUp = new float[cvae * P];
                if (si != SN - 1) ops.resizeBicubic(h, 0, cvae, pn, pn, hUp, 0, HW, HW);
                else System.arraycopy(h, 0, hUp, 0, P * cvae);
                float[] ph = new float[cvae * P];
                phi(si, hUp, ph);
                for (int i = 0; i < ph.length; i++) {
                    fhat[i] += ph[i];
                    rest[i] -= ph[i];
                }
            }
        }
        return tokens;
    }

    /** ‖e‖² of each codebook row (summed over the channels in order), made on first use and kept. */
    private float[] codeNorms() {
        float[] ee = codeNorms;
        if (ee == null) {
            ee = new float[vocab];
            for (int v = 0; v < vocab; v++) {
                float s = 0f;
                for (int c = 0; c < cvae; c++) s += codebook[v * cvae + c] * codebook[v * cvae + c];
                ee[v] = s;
            }
            codeNorms = ee;
        }
        return ee;
    }

    /**
     * {@code embed_to_fhat(all_to_max_scale=True, last_one=True)}: the f_hat of a complete token pyramid
     * ({@code [B·pn²]} per scale), {@code [B, Cvae, side, side]}.
     */
    public float[] tokensToFhat(List<int[]> tokens, int B) {
        if (tokens.size() != patchNums.length) {
            throw new TesseraException(
                    tokens.size() + " token maps given, the schedule has " + patchNums.length + " scales");
        }
        float[] fhat = newFhat(B);
        for (int si = 0; si < patchNums.length; si++) {
            addScale(fhat, B, si, embed(tokens.get(si), B, patchNums[si]));
        }
        ops.toHost(fhat);
        return fhat;
    }
}
