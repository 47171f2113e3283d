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
