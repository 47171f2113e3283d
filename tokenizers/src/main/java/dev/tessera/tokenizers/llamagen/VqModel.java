package dev.tessera.tokenizers.llamagen;

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
import java.util.Arrays;

/**
 * LlamaGen's VQ tokenizer ({@code tokenizer/tokenizer_image/vq_model.py}, e.g. {@code vq_ds16_c2i.pt}): a codebook
 * whose rows are l2-normalised at use, 1×1 {@code quant_conv}/{@code post_quant_conv}, and the LDM encoder and
 * decoder in LlamaGen's naming. Token maps are row-major; images are {@code [3, H, W]} in about [−1, 1].
 * Immutable and thread-safe.
 */
public final class VqModel {
    private final int codebookSize, dim;
    private final float[] codebook; // l2-normalised rows [N, d] (or raw when l2Norm is off)
    private final float[] rawCodebook;
    private final Conv2d postQuantConv, quantConv;
    private final Decoder decoder;
    private final Encoder encoder;
    private final Ops ops;
    private final float[] codeNorms; // ‖e‖² of each (normalised) codebook row, for the encoder's nearest-code search

    private VqModel(
            float[] raw,
            float[] codebook,
            int n,
            int d,
            Conv2d post,
            Conv2d quant,
            Decoder decoder,
            Encoder encoder,
            Ops ops) {
        this.rawCodebook = raw;
        this.codebook = codebook;
        this.codebookSize = n;
        this.dim = d;
        this.postQuantConv = post;
        this.quantConv = quant;
        this.decoder = decoder;
        this.encoder = encoder;
        this.ops = ops;
        this.codeNorms = new float[n];
        for (int i = 0; i < n; i++) {
            float ee = 0f;
            for (int c = 0; c < d; c++) ee += codebook[i * d + c] * codebook[i * d + c];
            codeNorms[i] = ee;
        }
    }

    /** Loads the tokenizer; {@code l2Norm} is the codebook normalisation of the release (true for VQ-16). */
    public static VqModel load(Checkpoint ckpt, boolean l2Norm, Ops ops) {
        if (!ckpt.contains("quantize.embedding.weight") || !ckpt.contains("decoder.conv_blocks.0.res.0.conv1.weight")) {
            throw new CheckpointException(
                    ckpt.path(),
                    "not a LlamaGen VQ tokenizer checkpoint (no quantize.embedding / decoder.conv_blocks tensors)");
        }
        var emb = ckpt.tensor("quantize.embedding.weight", -1, -1);
        int n = Math.toIntExact(emb.dim(0)), d = Math.toIntExact(emb.dim(1));
        float[] raw = emb.toFloatArray();
        float[] cb = raw.clone();
        if (l2Norm) {
            for (int i = 0; i < n; i++) normalize(cb, i * d, d);
        }
        Conv2d post = Conv2d.load(ckpt, "post_quant_conv");
        if (post.cin() != d)
            throw new CheckpointException(
                    ckpt.path(), "post_quant_conv takes " + post.cin() + " channels, the codebook has " + d);
        Conv2d quant = ckpt.contains("quant_conv.weight") ? Conv2d.load(ckpt, "quant_conv") : null;
        Encoder enc = Encoder.present(ckpt, "encoder") ? Encoder.load(ckpt, "encoder", Layout.LLAMAGEN) : null;
        Decoder decoder = Decoder.load(ckpt, "decoder", Layout.LLAMAGEN);
        decoder.keepBuffersBetweenCalls(true); // images are decoded one batch after another (see the method)
        return new VqModel(raw, cb, n, d, post, quant, decoder, enc, ops);
    }

    /** {@code x / max(‖x‖₂, 1e-12)} in float32, as {@code F.normalize}. */
    private static void normalize(float[] a, int off, int n) {
        float ss = 0f;
        for (int j = 0; j < n; j++) ss += a[off + j] * a[off + j];
        float norm = Math.max((float) Math.sqrt(ss), 1e-12f);
        for (int j = 0; j < n; j++) a[off + j] /= norm;
    }

    public int codebookSize() {
        return codebookSize;
    }

    public int codeDim() {
        return dim;
    }

    /** The stored codebook rows, not normalised (LANTERN's latent neighbourhoods are measured on these). */
    public float[] rawCodebook() {
        return rawCodebook.clone();
    }

    /** Image pixels per token side (16 for VQ-16). */
    public int downsampling() {
        return decoder.upsampling();
    }

    /** The token grid side for images of {@code imageSize} pixels (a positive multiple of the downsampling). */
    public int tokenGrid(int imageSize) {
        int f = downsampling();
        if (imageSize <= 0 || imageSize % f != 0) {
            throw new TesseraException("--image-size must be a positive multiple of " + f
                    + " (the tokenizer's downsampling), got " + imageSize);
        }
        return imageSize / f;
    }

    /** A model predicting {@code vocab} tokens must predict this tokenizer's codes. */
    public void requireVocabulary(int vocab) {
        if (vocab != codebookSize) {
            throw new TesseraException("the model's vocabulary (" + vocab
                    + ") does not match the tokenizer's codebook (" + codebookSize + ")");
        }
    }

    /**
     * {@code decode_code}: B token maps of {@code side × side} (row-major) to images {@code [B, 3, H, W]}, not
     * clamped.
     */
    public float[] decode(int[] tokens, int B, int side) {
        int n = side * side;
        if (tokens.length != B * n)
            throw new IllegalArgumentException(tokens.length + " tokens for " + B + " maps of " + n);
        return decoder.forwardAll(ops, B, (b, buf) -> {
            FeatureMap q = buf.map(dim, side, side);
            for (int t = 0; t < n; t++) {
                int idx = tokens[b * n + t];
                if (idx < 0 || idx >= codebookSize)
                    throw new TesseraException("token " + idx + " is outside the codebook of " + codebookSize);
            }
            ops.lookupCodes(codebook, dim, tokens, b * n, n, q.data(), 0);
            FeatureMap z = buf.map(postQuantConv.cout(), side, side);
            ops.conv2d(q.data(), 0, side, side, postQuantConv, z.data(), 0);
            buf.give(q);
            return z;
        });
    }

    public boolean hasEncoder() {
        return encoder != null && quantConv != null;
    }

    /** {@code encode}: B images {@code [B, 3, H, W]} in [−1, 1] to their codes, {@code [B · (H/16) · (W/16)]}. */
    public int[] encode(float[] images, int B, int H, int W) {
        if (!hasEncoder()) throw new TesseraException("this VQ checkpoint has no encoder (encoder.*, quant_conv)");
        int plane = 3 * H * W;
        int[] codes = null;
        Buffers buf = new Buffers(ops);
        for (int b = 0; b < B; b++) {
            FeatureMap x = new FeatureMap(Arrays.copyOfRange(images, b * plane, (b + 1) * plane), 3, H, W);
            FeatureMap f = encoder.forward(ops, x, buf);
            int h = f.height(), w = f.width(), n = h * w;
            float[] z = new float[dim * n];
            ops.conv2d(f.data(), 0, h, w, quantConv, z, 0);
            buf.give(f);
            if (codes == null) codes = new int[B * n];
            float[] zt = new float[dim];
            for (int t = 0; t < n; t++) {
                for (int c = 0; c < dim; c++) zt[c] = z[c * n + t];
                normalize(zt, 0, dim);
                for (int c = 0; c < dim; c++) z[c * n + t] = zt[c];
            }
            ops.nearestCodes(z, 0, dim, n, codebook, codeNorms, codebookSize, codes, b * n);
        }
        return codes;
    }
}
