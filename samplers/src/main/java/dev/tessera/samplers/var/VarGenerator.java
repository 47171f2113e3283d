package dev.tessera.samplers.var;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.models.var.VarConfig;
import dev.tessera.engine.models.var.VarTransformer;
import dev.tessera.engine.ops.Parallel;
import dev.tessera.samplers.Decoding;
import dev.tessera.samplers.GeneratedImage;
import dev.tessera.samplers.Generation;
import dev.tessera.samplers.Guidance;
import dev.tessera.samplers.Progress;
import dev.tessera.samplers.rng.TorchGenerator;
import dev.tessera.tokenizers.var.MultiScaleVqVae;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * VAR's {@code autoregressive_infer_cfg}: coarse-to-fine token maps with classifier-free guidance (the batch is
 * always doubled: conditional rows, then unconditional ones), top-k/top-p sampling, the f_hat accumulation of the
 * multi-scale VQ-VAE, and the final decode to an image in [0, 1].
 *
 * <p>Results depend only on the weights, the classes, the seed and the settings. Thread-safe: every call has its own
 * state.
 */
public final class VarGenerator {
    private final VarTransformer model;
    private final MultiScaleVqVae vae;

    public VarGenerator(VarTransformer model, MultiScaleVqVae vae) {
        VarConfig c = model.config();
        if (c.cvae() != vae.cvae() || c.vocab() != vae.vocab()) {
            throw new TesseraException("the VAR model (vocab " + c.vocab() + ", Cvae " + c.cvae()
                    + ") does not fit this VQ-VAE (vocab " + vae.vocab() + ", Cvae " + vae.cvae() + ")");
        }
        if (!Arrays.equals(c.patchNums(), vae.patchNums())) {
            throw new TesseraException("the VAR model and the VQ-VAE use different patch schedules");
        }
        this.model = model;
        this.vae = vae;
    }

    public VarTransformer model() {
        return model;
    }

    public MultiScaleVqVae vae() {
        return vae;
    }

    /** One image per class; {@code progress} sees every scale ("scale") and every decoded image ("decode"). */
    public Generation<VarDetails> generate(int[] classes, long seed, VarSettings settings, Progress progress) {
        VarConfig cfg = model.config();
        int B = classes.length, SN = cfg.scales(), V = cfg.vocab();
        if (B == 0) throw new IllegalArgumentException("at least one class is needed");
        for (int c : classes) {
            if (c < 0 || c >= cfg.numClasses()) {
                throw new TesseraException("class " + c + " is out of range: this model has " + cfg.numClasses()
                        + " classes (0-" + (cfg.numClasses() - 1) + ")");
            }
        }
        int[] labels = Guidance.labels(classes, cfg.numClasses(), true); // VAR always runs the unconditional half
        TorchGenerator rng = new TorchGenerator(seed);
        VarTransformer.State state = model.start(labels);
        float[] x = model.firstInput(state);
        float[] fhat = vae.newFhat(B);
        List<int[]> tokens = new ArrayList<>();
        double[] tTransformer = new double[SN];
        double tSampling = 0, tVq = 0;

        for (int si = 0; si < SN; si++) {
            int pn = cfg.patchNums()[si], l = pn * pn;
            long t0 = System.nanoTime();
            float[] logits = model.forward(state, si, x);
            long t1 = System.nanoTime();
            tTransformer[si] = (t1 - t0) * 1e-9;

            double ratio = SN == 1 ? 0 : (double) si / (SN - 1);
            float[] guided = guide(logits, B, l, V, (float) (settings.cfg() * ratio));
            int[] idx = choose(guided, B * l, V, settings, rng);
            tokens.add(idx);
            float[] h = settings.moreSmooth() ? smoothEmbedding(guided, B, l, V, ratio, rng) : vae.embed(idx, B, pn);
            long t2 = System.nanoTime();
            tSampling += (t2 - t1) * 1e-9;

            float[] next = vae.addScale(fhat, B, si, h);
            if (next != null) x = model.nextInput(si + 1, next, B, 2);
            tVq += (System.nanoTime() - t2) * 1e-9;
            progress.update("scale", si + 1, SN);
        }

        state = null; // the key/value cache is not needed for decoding: let it go before the decoder's buffers come
        long t3 = System.nanoTime();
        int per = fhat.length / B;
        List<GeneratedImage> images = Decoding.images(
                classes,
                vae.imageSide(),
                b -> vae.decode(Arrays.copyOfRange(fhat, b * per, (b + 1) * per), 1),
                Decoding.Pixels.UNIT,
                progress);
        double tDecode = (System.nanoTime() - t3) * 1e-9;
        return new Generation<>(
                images,
                new VarDetails(
                        List.copyOf(tokens),
                        cfg.patchNums(),
                        fhat,
                        new VarDetails.Timings(tTransformer, tSampling, tVq, tDecode)));
    }

    /** {@code (1+t)·cond − t·uncond} for the B conditional rows. */
    static float[] guide(float[] logits, int B, int l, int V, float t) {
        int half = B * l * V;
        float[] g = new float[half];
        float a = 1f + t;
        for (int i = 0; i < half; i++) g[i] = a * logits[i] - t * logits[half + i];
        return g;
    }

    /**
     * Filters every row in place (top-k, top-p), then draws one token per row, rows in order, with V exponential
     * draws each (PyTorch's multinomial). Filtering runs in parallel; the draws are sequential, so the result does
     * not depend on the thread count.
     */
    static int[] choose(float[] guided, int rows, int V, VarSettings req, TorchGenerator rng) {
        float[] probs = new float[rows * V];
        Parallel.forRange(rows, 4, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                VarSampling.filter(guided, r * V, V, req.topK(), req.topP());
                System.arraycopy(guided, r * V, probs, r * V, V);
                VarSampling.softmax(probs, r * V, V);
            }
        });
        int[] idx = new int[rows];
        for (int r = 0; r < rows; r++) idx[r] = VarSampling.multinomial(probs, r * V, V, rng);
        return idx;
    }

    /**
     * The {@code more_smooth} path: {@code softmax((logits·(1+ratio) + G)/τ) @ codebook} with Gumbel noise
     * {@code G = −log(Exp(1))} drawn after the multinomial draws, τ = max(0.27·(1 − 0.95·ratio), 0.005).
     */
    private float[] smoothEmbedding(float[] masked, int B, int l, int V, double ratio, TorchGenerator rng) {
        int rows = B * l, cvae = vae.cvae();
        float tau = (float) Math.max(0.27 * (1 - ratio * 0.95), 0.005);
        float mul = (float) (1 + ratio);
        float[] soft = new float[rows * V];
        for (int i = 0; i < rows * V; i++) {
            float g = (float) -Math.log(rng.nextExponential());
            soft[i] = (masked[i] * mul + g) / tau;
        }
        float[] codebook = vae.codebook();
        float[] e = new float[rows * cvae];
        Parallel.forRange(rows, 4, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                VarSampling.softmax(soft, r * V, V);
                for (int v = 0; v < V; v++) {
                    float p = soft[r * V + v];
                    if (p == 0f) continue;
                    for (int c = 0; c < cvae; c++) e[r * cvae + c] += p * codebook[v * cvae + c];
                }
            }
        });
        return vae.tokensToMap(e, B, (int) Math.round(Math.sqrt(l)));
    }
}
