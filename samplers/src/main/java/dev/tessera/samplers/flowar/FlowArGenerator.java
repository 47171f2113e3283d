package dev.tessera.samplers.flowar;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.models.flowar.FlowArConfig;
import dev.tessera.engine.models.flowar.FlowArModel;
import dev.tessera.engine.models.flowar.FlowArTransformer;
import dev.tessera.engine.models.flowar.FlowHead;
import dev.tessera.samplers.Decoding;
import dev.tessera.samplers.GeneratedImage;
import dev.tessera.samplers.Generation;
import dev.tessera.samplers.Guidance;
import dev.tessera.samplers.Progress;
import dev.tessera.tokenizers.kl.KlVae;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * FlowAR's {@code sample_tokens} followed by the KL-16 decode: for every scale, the AR transformer turns the
 * scale's input into a condition, the flow head integrates fresh noise into the scale's latents, and those latents
 * (bicubic to the full side, area to the next side) become the next scale's input. Thread-safe: each call has its
 * own state.
 */
public final class FlowArGenerator {
    private final FlowArModel model, draft;
    private final KlVae vae;

    public FlowArGenerator(FlowArModel model, KlVae vae) {
        this(model, null, vae);
    }

    /**
     * @param draft the draft of the CSpD-style verifier (null: none): the target's latent channels, scales and
     *              classes, any width and depth
     */
    public FlowArGenerator(FlowArModel model, FlowArModel draft, KlVae vae) {
        if (vae.latentChannels() != model.config().tokenDim()) {
            throw new TesseraException("the VAE has " + vae.latentChannels() + " latent channels, the FlowAR model "
                    + model.config().tokenDim());
        }
        if (draft != null) FlowCspdSampler.checkPair(model.config(), draft.config());
        this.model = model;
        this.draft = draft;
        this.vae = vae;
    }

    /** The CSpD-style verifier's draft (null: none). */
    public FlowArModel draft() {
        return draft;
    }

    public FlowArModel model() {
        return model;
    }

    public KlVae vae() {
        return vae;
    }

    /** One image per class, reporting every flow-head evaluation ("flow") and decoded image ("decode"). */
    public Generation<FlowArDetails> generate(int[] classes, long seed, FlowArSettings req, Progress progress) {
        FlowArConfig cfg = model.config();
        FlowArTransformer ar = model.transformer();
        FlowHead head = model.flowHead();
        int B = classes.length, S = cfg.scaleCount(), D = cfg.tokenDim();
        for (int c : classes) {
            // the null class is allowed: the official sample_tokens makes unconditional samples with it
            if (c < 0 || c > cfg.nullClass()) {
                throw new TesseraException(
                        "class " + c + " is out of range: this model has " + cfg.numClasses() + " classes (0-"
                                + (cfg.numClasses() - 1) + ", and " + cfg.nullClass() + " for unconditional samples)");
            }
        }
        if (B == 0) throw new IllegalArgumentException("at least one class is needed");
        boolean guided = req.cfg() != 1.0;
        int rows = guided ? 2 * B : B;
        int[] labels = Guidance.labels(classes, cfg.nullClass(), guided);
        FlowNoise noise = req.noiseSource(seed);
        int evals = FlowOde.evaluations(req.solver(), req.steps());

        double tAr = 0, tFlow = 0;
        float[] latents = null;
        List<float[]> conditions = new ArrayList<>();
        FlowArDetails.Speculation spec = null;
        if (req.cspd() != null) {
            if (draft == null) throw new TesseraException("the CSpD-style verifier needs a draft model (--draft)");
            FlowCspdSampler.Result r = new FlowCspdSampler(model, draft, req, progress).run(classes, noise, seed);
            latents = r.latents();
            conditions.addAll(r.conditions());
            tAr = r.arSeconds();
            tFlow = r.flowSeconds();
            spec = r.counts().toSpeculation();
        } else {
            FlowArTransformer.State state = ar.start(labels);
            float[] x = ar.firstInput(state);
            for (int si = 0; si < S; si++) {
                int n = cfg.tokensAt(si);
                long t0 = System.nanoTime();
                float[] z = ar.forward(state, si, x);
                conditions.add(z);
                long t1 = System.nanoTime();
                double cfgScale = (req.cfg() - 1) * si / (S - 1) + 1;
                float[] start = noise.initial(si, rows, n, D);
                FlowHead.Context ctx = head.prepare(z, rows, n);
                final int scale = si;
                double[] xs = FlowOde.integrate(
                        req.solver(),
                        head,
                        ctx,
                        B,
                        n,
                        D,
                        start,
                        cfgScale,
                        req.guidance(),
                        req.steps(),
                        noise,
                        si,
                        i -> progress.update("flow", scale * evals + i + 1, S * evals));
                latents = new float[xs.length];
                for (int k = 0; k < xs.length; k++) latents[k] = (float) xs[k];
                tAr += (t1 - t0) * 1e-9;
                long t2 = System.nanoTime();
                tFlow += (t2 - t1) * 1e-9;
                if (si + 1 < S) {
                    x = ar.nextInput(si + 1, latents, B, guided ? 2 : 1);
                    tAr += (System.nanoTime() - t2) * 1e-9;
                }
            }
            state = null; // the caches are not needed for decoding
        }

        // unpatchify: tokens [B, side², D] -> maps [B, D, side, side]
        int side = cfg.latentSide(), N = side * side;
        float[] maps = new float[B * D * N], scaled = new float[B * D * N];
        for (int b = 0; b < B; b++) {
            for (int t = 0; t < N; t++) {
                for (int c = 0; c < D; c++) {
                    float v = latents[(b * N + t) * D + c];
                    maps[(b * D + c) * N + t] = v;
                    scaled[(b * D + c) * N + t] = v / KlVae.MAR_SCALE;
                }
            }
        }
        long t3 = System.nanoTime();
        List<GeneratedImage> images = Decoding.images(
                classes,
                side * vae.downsampling(),
                b -> vae.decode(Arrays.copyOfRange(scaled, b * D * N, (b + 1) * D * N), 1, side, side),
                Decoding.Pixels.RGB8,
                progress);
        double tDecode = (System.nanoTime() - t3) * 1e-9;
        return new Generation<>(
                images, new FlowArDetails(maps, side, List.copyOf(conditions), evals, tAr, tFlow, tDecode, spec));
    }
}
