package dev.tessera.samplers.mar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.samplers.rng.TorchGenerator;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The textbook CSpD rule on known Gaussians (samplers spec 5.8): drafts x ~ q = N(0.7, 1.3²) verified against
 * p = N(0, 1) must come out distributed as p (Kolmogorov–Smirnov at a fixed seed, with a broken acceptance rule
 * as the negative control the same test rejects); the rejection phase takes 1/TV proposals on average; with the
 * draft equal to the target every token is accepted.
 */
class CspdToyTest {
    static final int N = 200_000;
    static final float MU_P = 0f, SD_P = 1f, MU_Q = 0.7f, SD_Q = 1.3f;
    /** KS critical value at α = 0.001: 1.949/√N. */
    static final double KS_CRITICAL = 1.949 / Math.sqrt(N);

    /** N drafts from q and the per-token parameters of p and q (D = 1). */
    record Toy(float[] x, float[] muQ, float[] sdQ, float[] muP, float[] sdP, float[] zeros) {
        static Toy make(long seed, float muQ, float sdQ) {
            float[] x = new float[N];
            new TorchGenerator(seed).fillNormal(x, 0, N);
            for (int i = 0; i < N; i++) x[i] = x[i] * sdQ + muQ;
            return new Toy(x, fill(muQ), fill(sdQ), fill(MU_P), fill(SD_P), new float[N]);
        }

        CspdVerifier.Outcome verify(MarRandom rnd) {
            return CspdVerifier.verify(CspdSettings.Rule.EXACT, x, muQ, sdQ, zeros, muP, sdP, zeros, N, 1, 1.0, rnd);
        }

        float[] ratios() {
            return CspdVerifier.ratios(CspdSettings.Rule.EXACT, x, muQ, sdQ, zeros, muP, sdP, zeros, N, 1, 1.0);
        }
    }

    static float[] fill(float v) {
        float[] a = new float[N];
        Arrays.fill(a, v);
        return a;
    }

    /** sup |F_n − Φ| of the samples against N(0, 1). */
    static double ks(float[] v) {
        double[] s = new double[v.length];
        for (int i = 0; i < v.length; i++) s[i] = v[i];
        Arrays.sort(s);
        double d = 0;
        for (int i = 0; i < s.length; i++) {
            double f = phi(s[i]);
            d = Math.max(d, Math.max((i + 1.0) / s.length - f, f - (double) i / s.length));
        }
        return d;
    }

    static double phi(double x) {
        return 0.5 * (1 + NaiveMar.erf(x / Math.sqrt(2)));
    }

    /** TV(p, q) by numerical integration of (p − q)₊. */
    static double tv() {
        double s = 0, h = 1e-4;
        for (double x = -15; x < 15; x += h) s += Math.max(0, pdf(x, MU_P, SD_P) - pdf(x, MU_Q, SD_Q)) * h;
        return s;
    }

    static double pdf(double x, double mu, double sd) {
        double z = (x - mu) / sd;
        return Math.exp(-0.5 * z * z) / (sd * Math.sqrt(2 * Math.PI));
    }

    @Test
    void theExactRuleReproducesTheTargetAndABrokenRuleIsCaught() {
        Toy toy = Toy.make(1, MU_Q, SD_Q);
        double before = ks(toy.x());
        CspdVerifier.Outcome o = toy.verify(MarRandom.seeded(7));
        double after = ks(o.values());
        long accepted = 0;
        for (boolean a : o.accepted()) if (a) accepted++;
        double tv = tv(), rate = (double) accepted / N;
        // negative controls, the rejection phase unchanged: the ratio inverted (q/p), and the ratio 20% low
        float[] inverted = toy.ratios(), low = toy.ratios();
        for (int i = 0; i < N; i++) {
            inverted[i] = 1f / inverted[i];
            low[i] = Math.min(1f, low[i]) * 0.8f;
        }
        double badKs = ks(brokenRun(toy, inverted)), lowKs = ks(brokenRun(toy, low));
        System.out.printf(
                "CSpD exact toy: KS drafts %.4f, verified %.4f, broken rules %.4f and %.4f (critical %.4f); "
                        + "acceptance %.4f (1 - TV = %.4f)%n",
                before, after, badKs, lowKs, KS_CRITICAL, rate, 1 - tv);
        assertTrue(before > KS_CRITICAL, "the drafts alone must fail the test, or it tells nothing");
        assertTrue(after < KS_CRITICAL, "verified tokens vs p: KS " + after + " >= " + KS_CRITICAL);
        assertTrue(badKs > KS_CRITICAL, "the inverted rule passed the KS test: " + badKs);
        assertTrue(lowKs > KS_CRITICAL, "the under-accepting rule passed the KS test: " + lowKs);
        // acceptance rate 1 − TV, within 5 binomial standard deviations
        double sd = Math.sqrt((1 - tv) * tv / N);
        assertEquals(1 - tv, rate, 5 * sd, "acceptance rate");
        for (boolean f : o.fallback()) assertTrue(!f, "a token fell back");
    }

    static float[] brokenRun(Toy toy, float[] ratios) {
        float[] z = toy.zeros();
        return CspdVerifier.verify(
                        CspdSettings.Rule.EXACT,
                        ratios,
                        toy.x(),
                        toy.muQ(),
                        toy.sdQ(),
                        z,
                        toy.muP(),
                        toy.sdP(),
                        z,
                        N,
                        1,
                        MarRandom.seeded(7))
                .values();
    }

    @Test
    void theRejectionPhaseTakesOneOverTvProposals() {
        Toy toy = Toy.make(2, MU_Q, SD_Q);
        CspdVerifier.Outcome o = toy.verify(MarRandom.seeded(8));
        long rejected = 0, proposals = 0;
        double sq = 0;
        for (int i = 0; i < N; i++) {
            if (o.accepted()[i]) continue;
            rejected++;
            proposals += o.proposals()[i];
            sq += (double) o.proposals()[i] * o.proposals()[i];
        }
        double mean = (double) proposals / rejected, var = sq / rejected - mean * mean, tv = tv();
        System.out.printf("CSpD exact toy: %d rejected, %.4f proposals each (1/TV = %.4f)%n", rejected, mean, 1 / tv);
        // geometric with success probability TV: the mean within 5 standard errors
        assertEquals(1 / tv, mean, 5 * Math.sqrt(var / rejected), "mean rejection proposals");
    }

    /**
     * The released ratio by hand (spec 5.8 test 4), two channels: Λ from three earlier steps' ½·logVar, the inner
     * temperature dividing both deviations, F = exp(Σ(Λp − Λq)) multiplying (not dividing).
     */
    @Test
    void theReleasedRatioMatchesAHandComputation() {
        float[] x = {0.3f, -0.2f}, muQ = x.clone(), sdQ = {0.5f, 0.8f}, muP = {0.1f, -0.6f}, sdP = {0.4f, 1.1f};
        // Λ = Σ over three steps of ½·logVar: per channel
        float[] lamQ = {(float) (0.5 * (Math.log(0.3) + Math.log(0.2) + Math.log(0.1))), (float) (0.5 * Math.log(0.05))
        };
        float[] lamP = {(float) (0.5 * (Math.log(0.4) + Math.log(0.2) + Math.log(0.1))), (float) (0.5 * Math.log(0.02))
        };
        for (double T : new double[] {1.0, 42.0}) {
            double sq = 0, logF = 0;
            for (int d = 0; d < 2; d++) {
                double z = (x[d] - muP[d]) / sdP[d] / T;
                sq += z * z;
                logF += lamP[d] - lamQ[d];
            }
            // exp(−½Σz²)/exp(0) · Π σq/σp · F with F = √(0.4/0.3) · √(0.02/0.05)
            double want = Math.exp(-0.5 * sq) * (0.5 * 0.8) / (0.4 * 1.1) * Math.exp(logF);
            assertEquals(Math.sqrt(0.4 / 0.3) * Math.sqrt(0.02 / 0.05), Math.exp(logF), 1e-6);
            float got = CspdVerifier.ratios(CspdSettings.Rule.RELEASED, x, muQ, sdQ, lamQ, muP, sdP, lamP, 1, 2, T)[0];
            assertEquals(want, got, 1e-6 * want, "released ratio at T_in " + T);
            // the exact rule: N(x; μp, σp)/N(x; μq, σq) with T_in ignored and no F
            double e = 0;
            for (int d = 0; d < 2; d++) {
                double zp = (x[d] - muP[d]) / sdP[d];
                e += -0.5 * zp * zp - Math.log(sdP[d]) + Math.log(sdQ[d]);
            }
            float exact = CspdVerifier.ratios(CspdSettings.Rule.EXACT, x, muQ, sdQ, lamQ, muP, sdP, lamP, 1, 2, T)[0];
            assertEquals(Math.exp(e), exact, 1e-6 * Math.exp(e), "exact ratio");
        }
    }

    @Test
    void aDraftEqualToTheTargetIsAlwaysAccepted() {
        Toy toy = Toy.make(3, MU_P, SD_P);
        for (CspdSettings.Rule rule : CspdSettings.Rule.values()) {
            float[] z = toy.zeros();
            CspdVerifier.Outcome o = CspdVerifier.verify(
                    rule, toy.x(), toy.muP(), toy.sdP(), z, toy.muP(), toy.sdP(), z, N, 1, 42.0, MarRandom.seeded(9));
            for (int i = 0; i < N; i++) assertTrue(o.accepted()[i], rule + ": token " + i + " rejected");
            assertEquals(0, Arrays.stream(o.proposals()).sum());
        }
    }
}
