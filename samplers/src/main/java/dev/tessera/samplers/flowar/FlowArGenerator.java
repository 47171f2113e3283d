package dev.tessera.samplers.flowar;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.models.flowar.FlowArConfig;
import dev.tessera.engine.models.flowar.FlowArModel;
import dev.tessera.engine.models.flowar.FlowArTransformer;
import dev.tessera.engine.models.flowar.FlowHead;
import dev.tessera.samplers.GeneratedImage;
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
    private final FlowArModel model;
    private final KlVae vae;

    public FlowArGenerator(FlowArModel model, KlVae vae) {
        if (vae.latentChannels() != model.config().tokenDim()) {
            throw new TesseraException("the VAE has " + vae.latentChannels() + " latent channels, the FlowAR model "
                    + model.config().tokenDim());
        }
        this.model = model;
        this.vae = vae;
    }

    public FlowArModel model() {
        return model;
    }

    public KlVae vae() {
        return vae;
    }

    public FlowArResult generate(FlowArRequest req, Progress progress) {
        FlowArConfig cfg = model.config();
        FlowArTransformer ar = model.transformer();
        FlowHead head = model.flowHead();
        int[] classes = req.classes();
        int B = classes.length, S = cfg.scaleCount(), D = cfg.tokenDim();
        for (int c : classes) {
            // the null class is allowed: the official sample_tokens makes unconditional samples with it
            if (c < 0 || c > cfg.nullClass()) {
                throw new TesseraException("class " + c + " is out of range: this model has " + cfg.numClasses()
                        + " classes (0-" + (cfg.numClasses() - 1) + ", and " + cfg.nullClass() + " for unconditional samples)");
            }
        }
        boolean guided = req.cfg() != 1.0;
        int rows = guided ? 2 * B : B;
        int[] labels = Arrays.copyOf(classes, rows);
        for (int b = B; b < rows; b++) labels[b] = cfg.nullClass();
        FlowNoise noise = req.noiseSource();
        int evals = FlowOde.evaluations(req.sampler(), req.steps());

        double tAr = 0, tFlow = 0;
        FlowArTransformer.State state = ar.start(labels);
        float[] x = ar.firstInput(state);
        float[] latents = null;
        List<float[]> conditions = new ArrayList<>();
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
            double[] xs = FlowOde.integrate(req.sampler(), head, ctx, B, n, D, start, cfgScale, req.guidance(), req.steps(),
                    noise, si, i -> progress.update("flow", scale * evals + i + 1, S * evals));
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
        state = null;   // the caches are not needed for decoding

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
        List<GeneratedImage> images = new ArrayList<>();
        for (int b = 0; b < B; b++) {
            float[] img = vae.decode(Arrays.copyOfRange(scaled, b * D * N, (b + 1) * D * N), 1, side, side);
            int H = side * vae.downsampling();
            images.add(new GeneratedImage(classes[b], quantize(img), H, H));
            progress.update("decode", b + 1, B);
        }
        double tDecode = (System.nanoTime() - t3) * 1e-9;
        return new FlowArResult(List.copyOf(images), maps, side, List.copyOf(conditions), evals, tAr, tFlow, tDecode);
    }

    /**
     * {@code round(clip((x+1)/2·255, 0, 255))/255} with numpy's halves-to-even, as the official evaluation saves
     * images: the pixels then hold exactly the 8-bit values a PNG gets.
     */
    static float[] quantize(float[] img) {
        float[] p = new float[img.length];
        for (int i = 0; i < img.length; i++) {
            float v = (img[i] + 1f) / 2f * 255f;
            v = Math.max(0f, Math.min(255f, v));
            p[i] = (float) Math.rint(v) / 255f;
        }
        return p;
    }
}
