package dev.tessera.samplers.mar;

import dev.tessera.engine.models.mar.MarConfig;
import dev.tessera.engine.models.mar.MarModel;
import dev.tessera.engine.models.mar.MarTransformer;
import dev.tessera.samplers.Progress;
import java.util.Arrays;

/**
 * Continuous speculative decoding on MAR, with the released runner's control flow ({@code SpecDecodeRunner.run}):
 * <pre>
 *   shared noises: x_T and every diffusion step's noise per token position (draft and target use the same)
 *   for step s: if s ≤ prefill·numIter: the target does the MAR step itself (token pre-filling)
 *               else: the draft does it, keeping each new token's last-step mean/std and Λ;
 *                     every gamma steps (and at the last): ONE target pass that sees the verified tokens only
 *                     predicts all tokens drafted since the last check along the same noises, and each of them
 *                     is accepted or replaced independently ({@link CspdVerifier})
 * </pre>
 * Random numbers in the runner's order: the shared noises (B·L·D, then B·L·K·D), the orders, then per
 * verification the acceptance uniforms and the rejection rounds.
 */
final class CspdSampler {
    private final MarModel target, draft;
    private final Ddpm ddpm;
    private final MarSettings req;
    private final CspdSettings sd;
    private final Progress progress;

    CspdSampler(MarModel target, MarModel draft, Ddpm ddpm, MarSettings req, Progress progress) {
        this.target = target;
        this.draft = draft;
        this.ddpm = ddpm;
        this.req = req;
        this.sd = req.cspd();
        this.progress = progress;
    }

    /** What one MAR step of a model sampled: values, and for CSpD the last-step std and Λ, per predicted token. */
    private record Sampled(float[] tokens, float[] std, float[] lam, int n) {}

    MarGenerator.Run run(int[] classes, MarRandom rnd) {
        MarConfig cfg = target.config();
        int B = classes.length, L = cfg.tokens(), D = cfg.tokenDim(), K = ddpm.steps();
        boolean guided = req.cfg() != 1.0;
        MarGenerator.Run run = new MarGenerator.Run();
        float[] noise = rnd.normal(B * L * D), inter = rnd.normal(B * L * K * D);
        run.orders = new int[B][];
        for (int b = 0; b < B; b++) run.orders[b] = rnd.order(L);
        int[] labels = MarGenerator.rowLabels(classes, guided);
        float[] clsT = target.transformer().classEmbeddings(labels),
                clsD = draft.transformer().classEmbeddings(labels);

        float[] tokens = new float[B * L * D], muQ = new float[B * L * D], sdQ = new float[B * L * D];
        float[] lamQ = new float[B * L * D];
        boolean[] maskDraft = new boolean[B * L], maskTarget;
        Arrays.fill(maskDraft, true);
        maskTarget = maskDraft.clone();
        double milestone = req.numIter() * sd.prefill();
        for (int step = 0; step < req.numIter(); step++) {
            MarGenerator.Step plan = MarGenerator.plan(step, req.numIter(), maskDraft, run.orders, L);
            float cfgIter = MarGenerator.cfgAt(req, plan.maskLen(), L);
            if (step <= milestone) {
                sampleStep(target, clsT, tokens, maskDraft, plan.toPredict(), cfgIter, noise, inter, run, true, true);
                maskDraft = plan.maskNext();
                maskTarget = maskDraft.clone();
            } else {
                Sampled s = sampleStep(
                        draft, clsD, tokens, maskDraft, plan.toPredict(), cfgIter, noise, inter, run, false, true);
                scatter(s.tokens, plan.toPredict(), muQ, D);
                scatter(s.std, plan.toPredict(), sdQ, D);
                scatter(s.lam, plan.toPredict(), lamQ, D);
                maskDraft = plan.maskNext();
                if ((step % sd.gamma() == 0 && step != 0) || step == req.numIter() - 1) {
                    boolean[] toVerify = new boolean[B * L];
                    for (int i = 0; i < B * L; i++)
                        toVerify[i] = step >= req.numIter() - 1 ? maskTarget[i] : maskTarget[i] ^ maskDraft[i];
                    Sampled p = sampleStep(
                            target, clsT, tokens, maskTarget, toVerify, cfgIter, noise, inter, run, true, false);
                    verify(tokens, muQ, sdQ, lamQ, p, toVerify, D, rnd, run);
                    maskTarget = maskDraft.clone();
                }
            }
            progress.update("step", step + 1, req.numIter());
        }
        run.tokens = tokens;
        return run;
    }

    /** Gathers the m tokens under {@code at} and verifies them against the target's statistics. */
    private void verify(
            float[] tokens,
            float[] muQ,
            float[] sdQ,
            float[] lamQ,
            Sampled p,
            boolean[] at,
            int D,
            MarRandom rnd,
            MarGenerator.Run run) {
        int m = p.n();
        float[] x = gather(tokens, at, m, D), mq = gather(muQ, at, m, D), sq = gather(sdQ, at, m, D);
        float[] lq = gather(lamQ, at, m, D);
        long t0 = System.nanoTime();
        CspdVerifier.Outcome o = CspdVerifier.verify(
                sd.rule(), x, mq, sq, lq, p.tokens(), p.std(), p.lam(), m, D, sd.innerTemperature(), rnd);
        run.diffusionSeconds += (System.nanoTime() - t0) * 1e-9;
        scatter(o.values(), at, tokens, D);
        run.drafted += m;
        for (int i = 0; i < m; i++) {
            if (o.accepted()[i]) run.accepted++;
            run.proposals += o.proposals()[i];
            if (o.fallback()[i]) run.fallbacks++;
        }
        run.ratios.add(o.ratio());
    }

    static float[] gather(float[] src, boolean[] at, int m, int D) {
        float[] out = new float[m * D];
        int r = 0;
        for (int i = 0; i < at.length; i++) if (at[i]) System.arraycopy(src, i * D, out, r++ * D, D);
        return out;
    }

    static void scatter(float[] src, boolean[] at, float[] dst, int D) {
        int r = 0;
        for (int i = 0; i < at.length; i++) if (at[i]) System.arraycopy(src, r++ * D, dst, i * D, D);
    }

    /**
     * One MAR pass of model m on the tokens known under {@code masked}, sampling the positions {@code toPredict}
     * along the shared noises; with {@code place}, the sampled values go into {@code tokens} (a pre-filling target
     * step and every draft step; a verification pass only reports its statistics).
     */
    private Sampled sampleStep(
            MarModel m,
            float[] cls,
            float[] tokens,
            boolean[] masked,
            boolean[] toPredict,
            float cfgIter,
            float[] noise,
            float[] inter,
            MarGenerator.Run run,
            boolean isTarget,
            boolean place) {
        MarConfig cfg = m.config();
        MarTransformer tr = m.transformer();
        int B = masked.length / cfg.tokens(), L = cfg.tokens(), D = cfg.tokenDim(), K = ddpm.steps();
        boolean guided = req.cfg() != 1.0;
        long t0 = System.nanoTime();
        float[] z = tr.forward(
                MarGenerator.twice(tokens, guided), MarGenerator.twice(masked, guided), guided ? 2 * B : B, cls);
        if (isTarget) run.targetForwards++;
        else run.draftForwards++;
        long t1 = System.nanoTime();
        int[] count = new int[1];
        float[] zs = MarGenerator.gather(z, toPredict, B, L, cfg.decoderWidth(), guided, count);
        int n = count[0];
        int[] pos = new int[n];
        for (int i = 0, r = 0; i < B * L; i++) if (toPredict[i]) pos[r++] = i;
        boolean headGuided = guided && cfgIter != 1f;
        int rowsIn = guided && !headGuided ? 2 * n : n;
        TokenDiffusion.Noise shared = new TokenDiffusion.Noise() {
            @Override
            public float[] start(int k, int dim) {
                float[] a = new float[k * dim];
                for (int r = 0; r < k; r++) System.arraycopy(noise, pos[r % n] * dim, a, r * dim, dim);
                return a;
            }

            @Override
            public float[] step(int i, int rows, int k, int dim) {
                float[] a = new float[k * dim];
                for (int r = 0; r < k; r++) System.arraycopy(inter, (pos[r % n] * K + i) * dim, a, r * dim, dim);
                return a;
            }
        };
        TokenDiffusion.Result res = TokenDiffusion.sample(
                m.head(), ddpm, zs, rowsIn, headGuided, cfgIter, (float) req.temperature(), shared, true);
        float[] vals = Arrays.copyOf(res.tokens(), n * D);
        float[] std = Arrays.copyOf(res.lastStd(), n * D), lam = Arrays.copyOf(res.logSigmaSum(), n * D);
        if (place) scatter(vals, toPredict, tokens, D);
        run.marSeconds += (t1 - t0) * 1e-9;
        run.diffusionSeconds += (System.nanoTime() - t1) * 1e-9;
        return new Sampled(vals, std, lam, n);
    }
}
