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
        checkClasses(classes, false);
        Run run = new Run(classes, new TorchGenerator(seed), settings, progress);
        run.scales(0, model.config().scales(), null);
        return run.finish();
    }

    /**
     * A zero-shot edit of one image (the notebook's {@code autoregressive_infer_cfg_with_mask}): the scales are
     * generated as by {@link #generate}, with the same random stream, but at every scale the positions the mask keeps
     * take the input's tokens before they enter f_hat (under {@code more_smooth}, the input's codebook vectors replace
     * the smoothed ones there). The result's tokens are the composite maps: the input's where kept, the chosen ones
     * elsewhere.
     */
    public Generation<VarDetails> edit(VarEdit edit, long seed, VarSettings settings, Progress progress) {
        VarConfig cfg = model.config();
        int[] pn = cfg.patchNums();
        if (edit.input().size() != pn.length) {
            throw new TesseraException("the image to edit has " + edit.input().size() + " token maps, the model has "
                    + pn.length + " scales");
        }
        for (int si = 0; si < pn.length; si++) {
            int[] t = edit.input().get(si);
            if (t.length != pn[si] * pn[si]) {
                throw new TesseraException("the image to edit has " + t.length + " tokens at scale " + si
                        + ", expected " + pn[si] * pn[si]);
            }
            for (int v : t) {
                if (v < 0 || v >= cfg.vocab())
                    throw new TesseraException("token " + v + " is outside the vocabulary of " + cfg.vocab());
            }
        }
        if (edit.mask().side() != vae.side()) {
            throw new TesseraException(
                    "the edit mask has side " + edit.mask().side() + ", the finest token map has " + vae.side());
        }
        int[] classes = {edit.label()};
        checkClasses(classes, true);
        Run run = new Run(classes, new TorchGenerator(seed), settings, progress);
        run.scales(0, cfg.scales(), edit);
        return run.finish();
    }

    /** Classes in range; {@code nullAllowed}: the null class (the class count) too. */
    void checkClasses(int[] classes, boolean nullAllowed) {
        VarConfig cfg = model.config();
        if (classes.length == 0) throw new IllegalArgumentException("at least one class is needed");
        int top = nullAllowed ? cfg.numClasses() : cfg.numClasses() - 1;
        for (int c : classes) {
            if (c < 0 || c > top) {
                throw new TesseraException("class " + c + " is out of range: this model has " + cfg.numClasses()
                        + " classes (0-" + (cfg.numClasses() - 1) + ")"
                        + (nullAllowed ? ", and " + cfg.numClasses() + " is the null class" : ""));
            }
        }
    }

    /**
     * One decoding run's state: the transformer's cache, f_hat, the tokens chosen so far, the inputs each scale
     * produced for the next, and the time spent. {@link #scales} runs scales with sampling; {@link #prefill} feeds
     * scales another model drafted (CoDe); {@link #finish} decodes.
     */
    final class Run {
        final int[] classes;
        final int B;
        final TorchGenerator rng;
        final VarSettings settings;
        final Progress progress;
        VarTransformer.State state;
        float[] x, fhat;
        final List<int[]> tokens = new ArrayList<>();
        /** The area-downsampled f_hat after scale si, as tokens {@code [B, pn_{si+1}², Cvae]} (null after the last). */
        final List<float[]> nextFeatures = new ArrayList<>();

        final double[] tTransformer;
        double tSampling, tVq;

        Run(int[] classes, TorchGenerator rng, VarSettings settings, Progress progress) {
            VarConfig cfg = model.config();
            this.classes = classes.clone();
            this.B = classes.length;
            this.rng = rng;
            this.settings = settings;
            this.progress = progress;
            // VAR always runs the unconditional half
            this.state = model.start(Guidance.labels(classes, cfg.numClasses(), true));
            this.x = model.firstInput(state);
            this.fhat = vae.newFhat(B);
            this.tTransformer = new double[cfg.scales()];
        }

        /** Samples scales {@code from .. to−1}; with an edit (one image), the mask's positions keep its tokens. */
        void scales(int from, int to, VarEdit edit) {
            VarConfig cfg = model.config();
            int SN = cfg.scales(), V = cfg.vocab();
            for (int si = from; si < to; si++) {
                int pn = cfg.patchNums()[si], l = pn * pn;
                long t0 = System.nanoTime();
                float[] logits = model.forward(state, si, x);
                long t1 = System.nanoTime();
                tTransformer[si] += (t1 - t0) * 1e-9;

                double ratio = SN == 1 ? 0 : (double) si / (SN - 1);
                float[] guided = guide(logits, B, l, V, (float) (settings.cfg() * ratio));
                int[] idx = choose(guided, B * l, V, settings, rng);
                boolean[] kept = edit == null ? null : edit.mask().kept(pn);
                int[] input = edit == null ? null : edit.input().get(si);
                if (kept != null) {
                    for (int t = 0; t < l; t++) if (kept[t]) idx[t] = input[t];
                }
                tokens.add(idx);
                float[] h;
                if (settings.moreSmooth()) {
                    h = smoothEmbedding(guided, B, l, V, ratio, rng);
                    if (kept != null) keepInput(h, kept, input, l);
                } else {
                    h = vae.embed(idx, B, pn);
                }
                long t2 = System.nanoTime();
                tSampling += (t2 - t1) * 1e-9;
                add(si, h);
                tVq += (System.nanoTime() - t2) * 1e-9;
                progress.update("scale", si + 1, SN);
            }
        }

        /** Adds scale si's embedding to f_hat and prepares the next scale's input. */
        private void add(int si, float[] h) {
            float[] next = vae.addScale(fhat, B, si, h);
            nextFeatures.add(next);
            if (next != null) x = model.nextInput(si + 1, next, B, 2);
        }

        /** The input's codebook vectors at the kept positions of a map {@code [1, Cvae, l]}. */
        private void keepInput(float[] h, boolean[] kept, int[] input, int l) {
            float[] codebook = vae.codebook();
            int cvae = vae.cvae();
            for (int t = 0; t < l; t++) {
                if (!kept[t]) continue;
                for (int c = 0; c < cvae; c++) h[c * l + t] = codebook[input[t] * cvae + c];
            }
        }

        /**
         * CoDe's refiner entry: takes the drafter's scales {@code 0 .. N−1} (tokens, f_hat) and runs this model on the
         * drafted maps scale by scale, which fills its key/value cache exactly as one block-causal pass over them
         * would; the logits of those scales are not needed. The next {@link #scales} call continues at scale N.
         */
        void prefill(Run draft) {
            int N = draft.tokens.size();
            for (int si = 0; si < N; si++) {
                long t0 = System.nanoTime();
                model.forward(state, si, x);
                x = model.nextInput(si + 1, draft.nextFeatures.get(si), B, 2);
                tTransformer[si] += draft.tTransformer[si] + (System.nanoTime() - t0) * 1e-9;
            }
            tokens.addAll(draft.tokens);
            nextFeatures.addAll(draft.nextFeatures);
            fhat = draft.fhat;
            tSampling += draft.tSampling;
            tVq += draft.tVq;
        }

        /** Decodes f_hat into the images. */
        /** Lets the key/value cache go (a drafter's, once the refiner has taken over; anyone's before decoding). */
        void release() {
            state = null;
            x = null;
        }

        Generation<VarDetails> finish() {
            release(); // the key/value cache is not needed for decoding: let it go before the decoder's buffers come
            long t3 = System.nanoTime();
            vae.ops().toHost(fhat); // f_hat stays with the tokenizer's backend while the scales add up
            int per = fhat.length / B;
            float[] f = fhat;
            List<GeneratedImage> images = Decoding.images(
                    classes,
                    vae.imageSide(),
                    b -> vae.decode(Arrays.copyOfRange(f, b * per, (b + 1) * per), 1),
                    Decoding.Pixels.UNIT,
                    progress);
            double tDecode = (System.nanoTime() - t3) * 1e-9;
            return new Generation<>(
                    images,
                    new VarDetails(
                            List.copyOf(tokens),
                            model.config().patchNums(),
                            fhat,
                            new VarDetails.Timings(tTransformer, tSampling, tVq, tDecode)));
        }
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
