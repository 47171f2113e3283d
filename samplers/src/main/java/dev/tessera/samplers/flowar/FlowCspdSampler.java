package dev.tessera.samplers.flowar;

import dev.tessera.engine.TesseraException;
import dev.tessera.engine.models.flowar.FlowArConfig;
import dev.tessera.engine.models.flowar.FlowArModel;
import dev.tessera.engine.models.flowar.FlowArTransformer;
import dev.tessera.engine.models.flowar.FlowHead;
import dev.tessera.samplers.Guidance;
import dev.tessera.samplers.Progress;
import dev.tessera.samplers.mar.CspdVerifier;
import dev.tessera.samplers.rng.TorchGenerator;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A CSpD-style verifier for FlowAR with the Euler–Maruyama head, after continuous speculative decoding on MAR
 * ({@code samplers/.../mar/CspdSampler}). Per scale, coarse to fine:
 * <pre>
 *   pre-filled scales (s ≤ prefill·S): the target makes the scale along its own trajectory, as alone
 *   the others: the draft's AR pass and its whole Euler–Maruyama trajectory along the shared noise (the same
 *               starting and step noise the target alone would draw) give each token's last-step mean μq and the
 *               state one step before the end; the target's AR pass (on the verified scales) and ONE evaluation
 *               of its flow head at that state give μp; both Gaussians have the step's deviation
 *               σ = sqrt(2t)·sqrt(|dt|); each token is accepted or replaced independently by MAR's CSpD rule
 *               ({@link CspdVerifier}); both models continue from the verified latents
 * </pre>
 * It is an approximation of the target: the target never follows its own trajectory on a drafted scale, only its
 * last step from the draft's state, and the drafted value is the draft's deterministic last mean, not a sample of
 * its Gaussian (as in CSpD). What it saves is the target's flow-head evaluations (all but one per drafted scale);
 * the target still runs its AR transformer on every scale. With the draft equal to the target, every token is
 * accepted and the images are the target's own with the same seed (the noise stream is the same).
 *
 * <p>Random numbers: the noise source of the settings (shared by both models, drawn in the target-alone order) and,
 * for the verifications, a CPU generator seeded with {@link #verifierSeed}.
 */
final class FlowCspdSampler {
    private final FlowArModel target, draft;
    private final FlowArSettings req;
    private final FlowCspdSettings sd;
    private final Progress progress;

    FlowCspdSampler(FlowArModel target, FlowArModel draft, FlowArSettings req, Progress progress) {
        checkPair(target.config(), draft.config());
        this.target = target;
        this.draft = draft;
        this.req = req;
        this.sd = req.cspd();
        this.progress = progress;
    }

    /** The latents {@code [B, side², D]}, the target's conditions, the seconds and the verifier's counts. */
    record Result(float[] latents, List<float[]> conditions, double arSeconds, double flowSeconds, Counts counts) {}

    static final class Counts {
        int targetForwards, draftForwards, targetEvaluations, draftEvaluations;
        long drafted, accepted, proposals, fallbacks;

        FlowArDetails.Speculation toSpeculation() {
            return new FlowArDetails.Speculation(
                    targetForwards,
                    draftForwards,
                    targetEvaluations,
                    draftEvaluations,
                    drafted,
                    accepted,
                    proposals,
                    fallbacks);
        }
    }

    /**
     * A draft must have the target's token shape, scales and classes; widths, depths and heads may differ.
     *
     * @throws TesseraException naming what differs
     */
    static void checkPair(FlowArConfig t, FlowArConfig d) {
        if (t.tokenDim() != d.tokenDim() || !Arrays.equals(t.scales(), d.scales()) || t.classRows() != d.classRows()) {
            throw new TesseraException("the draft FlowAR (" + shape(d) + ") does not match the target (" + shape(t)
                    + "): a draft needs the same latent channels, scales and classes");
        }
    }

    private static String shape(FlowArConfig c) {
        return "scales " + Arrays.toString(c.scales()).replace(" ", "") + ", " + c.tokenDim() + " latent channels, "
                + c.numClasses() + " classes";
    }

    /** The seed of the verifier's generator: {@code (seed ^ 0xC5D5EED) & 0xffffffff}. */
    static long verifierSeed(long seed) {
        return (seed ^ 0xC5D5EEDL) & 0xffffffffL;
    }

    /** The verifier's draws on PyTorch's CPU generator. */
    static CspdVerifier.Draws draws(long seed) {
        TorchGenerator g = new TorchGenerator(verifierSeed(seed));
        return new CspdVerifier.Draws() {
            @Override
            public float[] normal(int n) {
                float[] a = new float[n];
                g.fillNormal(a, 0, n);
                return a;
            }

            @Override
            public float[] uniform(int n) {
                float[] a = new float[n];
                for (int i = 0; i < n; i++) a[i] = g.nextFloat();
                return a;
            }
        };
    }

    /** @param noise the generation's noise source, shared by both models; @param seed seeds the verifier */
    Result run(int[] classes, FlowNoise noise, long seed) {
        FlowArConfig cfg = target.config();
        FlowArTransformer arT = target.transformer(), arD = draft.transformer();
        FlowHead headT = target.flowHead(), headD = draft.flowHead();
        int B = classes.length, S = cfg.scaleCount(), D = cfg.tokenDim();
        boolean guided = req.cfg() != 1.0;
        int rows = guided ? 2 * B : B, copies = guided ? 2 : 1;
        int[] labels = Guidance.labels(classes, cfg.nullClass(), guided);
        CspdVerifier.Draws rnd = draws(seed);
        FlowSampler solver = req.solver();
        int evals = FlowOde.evaluations(solver, req.steps());
        float sigma = (float) FlowOde.lastStepStd(solver, req.steps());
        Counts counts = new Counts();

        double tAr = 0, tFlow = 0;
        FlowArTransformer.State stT = arT.start(labels), stD = arD.start(labels);
        float[] xT = arT.firstInput(stT), xD = arD.firstInput(stD);
        float[] latents = null;
        List<float[]> conditions = new ArrayList<>();
        for (int si = 0; si < S; si++) {
            int n = cfg.tokensAt(si), m = B * n * D;
            double cfgScale = (req.cfg() - 1) * si / (S - 1) + 1;
            final int scale = si;
            long t0 = System.nanoTime();
            float[] zT = arT.forward(stT, si, xT);
            float[] zD = arD.forward(stD, si, xD); // the draft's cache needs every scale, pre-filled or not
            counts.targetForwards++;
            counts.draftForwards++;
            conditions.add(zT);
            long t1 = System.nanoTime();
            tAr += (t1 - t0) * 1e-9;
            float[] start = noise.initial(si, rows, n, D);
            FlowHead.Context ctxT = headT.prepare(zT, rows, n);
            FlowOde.Velocity vT = (r, x, t, v) -> headT.velocity(ctxT, r, x, t, v);
            double[] xs;
            if (sd.prefilled(si, S)) {
                xs = FlowOde.integrate(
                        solver,
                        vT,
                        rows,
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
                counts.targetEvaluations += evals;
                latents = toFloat(xs);
            } else {
                FlowHead.Context ctxD = headD.prepare(zD, rows, n);
                double[] before = new double[m];
                xs = FlowOde.integrate(
                        solver,
                        (r, x, t, v) -> headD.velocity(ctxD, r, x, t, v),
                        rows,
                        B,
                        n,
                        D,
                        start,
                        cfgScale,
                        req.guidance(),
                        req.steps(),
                        noise,
                        si,
                        i -> progress.update("flow", scale * evals + i + 1, S * evals),
                        before);
                counts.draftEvaluations += evals;
                double[] mp =
                        FlowOde.lastStep(solver, vT, rows, B, n, D, before, cfgScale, req.guidance(), req.steps());
                counts.targetEvaluations++;
                latents = count(verify(sd, toFloat(xs), toFloat(mp), sigma, B * n, D, rnd), B * n, counts);
            }
            long t2 = System.nanoTime();
            tFlow += (t2 - t1) * 1e-9;
            if (si + 1 < S) {
                xT = arT.nextInput(si + 1, latents, B, copies);
                xD = arD.nextInput(si + 1, latents, B, copies);
                tAr += (System.nanoTime() - t2) * 1e-9;
            }
        }
        return new Result(latents, conditions, tAr, tFlow, counts);
    }

    /**
     * Verifies m drafted tokens x (the draft's last means) against the target's last means μp, both Gaussians of
     * deviation σ in every channel; no earlier-step deviations (Λ = 0 on both sides, so the released rule's F is 1).
     */
    static CspdVerifier.Outcome verify(
            FlowCspdSettings sd, float[] x, float[] muP, float sigma, int m, int D, CspdVerifier.Draws rnd) {
        float[] dev = new float[m * D], lam = new float[m * D];
        Arrays.fill(dev, sigma);
        return CspdVerifier.verify(sd.rule(), x, x, dev, lam, muP, dev, lam, m, D, sd.innerTemperature(), rnd);
    }

    private static float[] count(CspdVerifier.Outcome o, int m, Counts c) {
        c.drafted += m;
        for (int i = 0; i < m; i++) {
            if (o.accepted()[i]) c.accepted++;
            c.proposals += o.proposals()[i];
            if (o.fallback()[i]) c.fallbacks++;
        }
        return o.values();
    }

    static float[] toFloat(double[] a) {
        float[] f = new float[a.length];
        for (int k = 0; k < a.length; k++) f[k] = (float) a[k];
        return f;
    }
}
