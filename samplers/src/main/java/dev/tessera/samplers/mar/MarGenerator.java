package dev.tessera.samplers.mar;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.models.mar.MarConfig;
import dev.tessera.engine.models.mar.MarModel;
import dev.tessera.engine.models.mar.MarTransformer;
import dev.tessera.samplers.Decoding;
import dev.tessera.samplers.GeneratedImage;
import dev.tessera.samplers.Generation;
import dev.tessera.samplers.Progress;
import dev.tessera.tokenizers.kl.KlVae;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * MAR's {@code sample_tokens} followed by the KL-16 decode: a random order per image, then {@code numIter} steps
 * that each run the encoder/decoder on the tokens known so far and sample the tokens due this step with the
 * diffusion MLP; or, with {@link MarSettings#cspd()}, continuous speculative decoding with a draft model
 * ({@link CspdSampler}). Thread-safe: each call has its own state.
 */
public final class MarGenerator {
    private final MarModel model, draft;
    private final KlVae vae;
    private final Map<Integer, Ddpm> schedules = new ConcurrentHashMap<>();

    /** @param draft the CSpD draft model (null: none); @param vae the decoder (null: tokens only, for tests) */
    public MarGenerator(MarModel model, MarModel draft, KlVae vae) {
        MarConfig c = model.config();
        if (vae != null && vae.latentChannels() != c.tokenDim()) {
            throw new TesseraException(
                    "the VAE has " + vae.latentChannels() + " latent channels, the MAR model " + c.tokenDim());
        }
        if (draft != null) {
            MarConfig d = draft.config();
            if (d.tokenDim() != c.tokenDim() || d.side() != c.side() || d.numClasses() != c.numClasses()) {
                throw new TesseraException("the draft model (" + d.side() + "x" + d.side() + " tokens of "
                        + d.tokenDim()
                        + ", " + d.numClasses() + " classes) does not match the target (" + c.side() + "x" + c.side()
                        + " tokens of " + c.tokenDim() + ", " + c.numClasses() + " classes)");
            }
        }
        this.model = model;
        this.draft = draft;
        this.vae = vae;
    }

    public MarModel model() {
        return model;
    }

    public MarModel draft() {
        return draft;
    }

    public KlVae vae() {
        return vae;
    }

    Ddpm schedule(int steps) {
        return schedules.computeIfAbsent(steps, Ddpm::new);
    }

    /** One image per class, reporting every MAR step ("step") and decoded image ("decode"). */
    public Generation<MarDetails> generate(int[] classes, long seed, MarSettings req, Progress progress) {
        MarConfig cfg = model.config();
        int B = classes.length;
        if (B == 0) throw new IllegalArgumentException("at least one class is needed");
        for (int c : classes) {
            if (c < 0 || c >= cfg.numClasses()) {
                throw new TesseraException("class " + c + " is out of range: this model has " + cfg.numClasses()
                        + " classes (0-" + (cfg.numClasses() - 1) + ")");
            }
        }
        MarRandom rnd = req.randomFor(seed);
        Run run;
        if (req.cspd() != null) {
            if (draft == null) throw new TesseraException("CSpD needs a draft model (--draft)");
            run = new CspdSampler(model, draft, schedule(req.diffusionSteps()), req, progress).run(classes, rnd);
        } else {
            run = sampleTokens(classes, req, rnd, progress);
        }

        // unpatchify: tokens [B, L, D] -> maps [B, D, side, side]
        int side = cfg.side(), N = cfg.tokens(), D = cfg.tokenDim();
        float[] maps = new float[B * D * N], scaled = new float[B * D * N];
        for (int b = 0; b < B; b++) {
            for (int t = 0; t < N; t++) {
                for (int c = 0; c < D; c++) {
                    float v = run.tokens[(b * N + t) * D + c];
                    maps[(b * D + c) * N + t] = v;
                    scaled[(b * D + c) * N + t] = v / KlVae.MAR_SCALE;
                }
            }
        }
        long t0 = System.nanoTime();
        List<GeneratedImage> images = Decoding.images(
                classes,
                side * vae.downsampling(),
                b -> vae.decode(Arrays.copyOfRange(scaled, b * D * N, (b + 1) * D * N), 1, side, side),
                Decoding.Pixels.RGB8,
                progress);
        double decode = (System.nanoTime() - t0) * 1e-9;
        return new Generation<>(
                images,
                new MarDetails(
                        maps,
                        side,
                        run.orders,
                        run.targetForwards,
                        run.draftForwards,
                        run.drafted,
                        run.accepted,
                        run.proposals,
                        run.fallbacks,
                        run.marSeconds,
                        run.diffusionSeconds,
                        decode));
    }

    /** The sampled tokens {@code [B, L, D]} and the counts of a run. */
    static final class Run {
        float[] tokens;
        int[][] orders;
        int targetForwards, draftForwards;
        long drafted, accepted, proposals, fallbacks;
        double marSeconds, diffusionSeconds;
        /** CSpD: the acceptance ratios of each verification, in order. */
        final List<float[]> ratios = new ArrayList<>();
    }

    /** The plan of one MAR step: what stays masked after it, and what it predicts. */
    record Step(boolean[] maskNext, boolean[] toPredict, int maskLen) {}

    /**
     * {@code mask_len = max(1, min(masked − 1, floor(L·cos(π/2·(s+1)/numIter))))} (masked counted in the first
     * row); the next mask is the first mask_len positions of each order; the last step predicts all still masked.
     */
    static Step plan(int step, int numIter, boolean[] masked, int[][] orders, int L) {
        int B = orders.length, maskedNow = 0;
        for (int t = 0; t < L; t++) if (masked[t]) maskedNow++;
        double ratio = Math.cos(Math.PI / 2. * (step + 1) / numIter);
        int maskLen = (int) Math.max(1, Math.min(maskedNow - 1, Math.floor(L * ratio)));
        boolean[] next = new boolean[B * L], pred = new boolean[B * L];
        for (int b = 0; b < B; b++) {
            for (int k = 0; k < maskLen; k++) next[b * L + orders[b][k]] = true;
        }
        for (int i = 0; i < B * L; i++) pred[i] = step >= numIter - 1 ? masked[i] : masked[i] ^ next[i];
        return new Step(next, pred, maskLen);
    }

    /** The guidance scale of a step in float32, as {@code cfg_iter} is computed. */
    static float cfgAt(MarSettings req, int maskLen, int L) {
        return switch (req.schedule()) {
            case LINEAR -> 1f + (float) (req.cfg() - 1) * (float) (L - maskLen) / (float) L;
            case CONSTANT -> (float) req.cfg();
        };
    }

    /** {@code x} repeated twice along the batch when guided. */
    static float[] twice(float[] x, boolean guided) {
        if (!guided) return x;
        float[] y = Arrays.copyOf(x, 2 * x.length);
        System.arraycopy(x, 0, y, x.length, x.length);
        return y;
    }

    static boolean[] twice(boolean[] x, boolean guided) {
        if (!guided) return x;
        boolean[] y = Arrays.copyOf(x, 2 * x.length);
        System.arraycopy(x, 0, y, x.length, x.length);
        return y;
    }

    /** The labels of the rows: the classes, then {@code fake_latent} for each under guidance. */
    static int[] rowLabels(int[] classes, boolean guided) {
        int B = classes.length;
        int[] labels = Arrays.copyOf(classes, guided ? 2 * B : B);
        if (guided) Arrays.fill(labels, B, 2 * B, MarTransformer.UNCONDITIONAL);
        return labels;
    }

    /**
     * The rows of z {@code [rows, L, W]} at the positions to predict, in (row, position) order over the doubled
     * batch (the conditional rows, then the unconditional ones); returns the count per half in {@code count[0]}.
     */
    static float[] gather(float[] z, boolean[] toPredict, int B, int L, int W, boolean guided, int[] count) {
        int n = 0;
        for (boolean p : toPredict) if (p) n++;
        int halves = guided ? 2 : 1;
        float[] out = new float[halves * n * W];
        int r = 0;
        for (int h = 0; h < halves; h++) {
            for (int b = 0; b < B; b++) {
                for (int t = 0; t < L; t++) {
                    if (toPredict[b * L + t]) System.arraycopy(z, ((h * B + b) * L + t) * W, out, r++ * W, W);
                }
            }
        }
        count[0] = n;
        return out;
    }

    /** The target alone: the official {@code sample_tokens}. */
    Run sampleTokens(int[] classes, MarSettings req, MarRandom rnd, Progress progress) {
        MarConfig cfg = model.config();
        MarTransformer tr = model.transformer();
        Ddpm ddpm = schedule(req.diffusionSteps());
        int B = classes.length, L = cfg.tokens(), D = cfg.tokenDim(), W = cfg.decoderWidth();
        boolean guided = req.cfg() != 1.0;
        Run run = new Run();
        run.orders = new int[B][];
        for (int b = 0; b < B; b++) run.orders[b] = rnd.order(L);
        float[] tokens = new float[B * L * D];
        boolean[] masked = new boolean[B * L];
        Arrays.fill(masked, true);
        float[] cls = tr.classEmbeddings(rowLabels(classes, guided));
        for (int step = 0; step < req.numIter(); step++) {
            long t0 = System.nanoTime();
            float[] z = tr.forward(twice(tokens, guided), twice(masked, guided), guided ? 2 * B : B, cls);
            run.targetForwards++;
            long t1 = System.nanoTime();
            Step plan = plan(step, req.numIter(), masked, run.orders, L);
            int[] count = new int[1];
            float[] zs = gather(z, plan.toPredict(), B, L, W, guided, count);
            int n = count[0];
            float[] sampled = diffuse(model, ddpm, zs, n, guided, cfgAt(req, plan.maskLen(), L), req, rnd);
            int r = 0;
            for (int i = 0; i < B * L; i++) {
                if (plan.toPredict()[i]) System.arraycopy(sampled, r++ * D, tokens, i * D, D);
            }
            masked = plan.maskNext();
            run.marSeconds += (t1 - t0) * 1e-9;
            run.diffusionSeconds += (System.nanoTime() - t1) * 1e-9;
            progress.update("step", step + 1, req.numIter());
        }
        run.tokens = tokens;
        return run;
    }

    /**
     * {@code DiffLoss.sample} on the gathered conditions with fresh draws: {@code randn(n, D)} to start, then one
     * {@code randn_like} over all the rows per step. A guidance scale that rounds to exactly 1 runs the network
     * unguided on all rows, as the official {@code cfg == 1.0} test does.
     */
    static float[] diffuse(
            MarModel m, Ddpm ddpm, float[] zs, int n, boolean guided, float cfgIter, MarSettings req, MarRandom rnd) {
        boolean headGuided = guided && cfgIter != 1f;
        int rowsIn = guided && !headGuided ? 2 * n : n;
        TokenDiffusion.Noise noise = new TokenDiffusion.Noise() {
            @Override
            public float[] start(int k, int D) {
                return rnd.normal(k * D);
            }

            @Override
            public float[] step(int i, int rows, int k, int D) {
                return rnd.normal(rows * D);
            }
        };
        TokenDiffusion.Result res = TokenDiffusion.sample(
                m.head(), ddpm, zs, rowsIn, headGuided, cfgIter, (float) req.temperature(), noise, false);
        return res.tokens();
    }
}
