package dev.tessera.samplers.mar;

/**
 * The verification of continuous speculative decoding on a block of m drafted tokens of D channels, each with the
 * draft's last-step Gaussian {@code q = N(μq, σq²)} and the target's {@code p = N(μp, σp²)} (per channel), and the
 * sums Λ of the earlier steps' log standard deviations. Vectorised as the released runner is: one uniform per token
 * for the acceptance test; then, unless every token was accepted, rounds of one proposal per token
 * ({@code y = randn·σp + μp}) and one uniform per token until every token has had a proposal accepted or
 * {@link CspdSettings#MAX_REJECTION_ROUNDS} rounds have passed. A token whose proposals were never accepted
 * keeps its last proposal, a sample of p (the released code leaves it at zero).
 */
public final class CspdVerifier {
    private CspdVerifier() {}

    /**
     * The random numbers a verification draws, in call order: one uniform per token for the test, then per
     * rejection round the proposals' Gaussians and one uniform per token. {@link MarRandom} is one; FlowAR's
     * verifier has its own.
     */
    public interface Draws {
        /** The next {@code n} standard Gaussians. */
        float[] normal(int n);

        /** The next {@code n} uniforms in [0, 1). */
        float[] uniform(int n);
    }

    /**
     * The outcome for each token: its value (the draft where accepted), whether the draft was accepted, the
     * proposals it took in the rejection phase (0 when accepted), whether it fell back to the last proposal, and
     * the acceptance ratio of the test.
     */
    public record Outcome(float[] values, boolean[] accepted, int[] proposals, boolean[] fallback, float[] ratio) {}

    /** The acceptance ratio of each drafted token x ({@code [m, D]}) under {@code rule}. */
    public static float[] ratios(
            CspdSettings.Rule rule,
            float[] x,
            float[] muQ,
            float[] sdQ,
            float[] lamQ,
            float[] muP,
            float[] sdP,
            float[] lamP,
            int m,
            int D,
            double innerTemperature) {
        float[] r = new float[m];
        float T = (float) innerTemperature;
        for (int i = 0; i < m; i++) {
            int o = i * D;
            if (rule == CspdSettings.Rule.RELEASED) {
                // float32, in the released code's order of operations
                float lam = 0, sq = 0, sp = 0, prodQ = 1, prodP = 1;
                for (int d = 0; d < D; d++) {
                    lam += lamP[o + d] - lamQ[o + d];
                    float a = (x[o + d] - muQ[o + d]) / sdQ[o + d] / T, b = (x[o + d] - muP[o + d]) / sdP[o + d] / T;
                    sq += a * a;
                    sp += b * b;
                    prodQ *= sdQ[o + d];
                    prodP *= sdP[o + d];
                }
                float F = (float) Math.exp(lam);
                float qx = (float) Math.exp(-0.5f * sq), px = (float) Math.exp(-0.5f * sp);
                r[i] = px * F * prodQ / (qx * prodP);
            } else {
                r[i] = (float) Math.exp(logDensity(x, o, muP, sdP, D) - logDensity(x, o, muQ, sdQ, D));
            }
        }
        return r;
    }

    /** {@code log N(x; μ, σ²)} over D channels without the {@code (2π)^{D/2}} constant, in float64. */
    static double logDensity(float[] x, int o, float[] mu, float[] sd, int D) {
        double s = 0;
        for (int d = 0; d < D; d++) {
            double z = ((double) x[o + d] - mu[o + d]) / sd[o + d];
            s += -0.5 * z * z - Math.log(sd[o + d]);
        }
        return s;
    }

    /**
     * Verifies m drafted tokens {@code x} (which the draft sampled as its last step's mean), drawing from
     * {@code rnd} in the released runner's order.
     */
    public static Outcome verify(
            CspdSettings.Rule rule,
            float[] x,
            float[] muQ,
            float[] sdQ,
            float[] lamQ,
            float[] muP,
            float[] sdP,
            float[] lamP,
            int m,
            int D,
            double innerTemperature,
            Draws rnd) {
        float[] ratio = ratios(rule, x, muQ, sdQ, lamQ, muP, sdP, lamP, m, D, innerTemperature);
        return verify(rule, ratio, x, muQ, sdQ, lamQ, muP, sdP, lamP, m, D, rnd);
    }

    /** {@link #verify} with the acceptance ratios given (tests feed broken ones as negative controls). */
    static Outcome verify(
            CspdSettings.Rule rule,
            float[] ratio,
            float[] x,
            float[] muQ,
            float[] sdQ,
            float[] lamQ,
            float[] muP,
            float[] sdP,
            float[] lamP,
            int m,
            int D,
            Draws rnd) {
        float[] u = rnd.uniform(m);
        boolean[] accepted = new boolean[m];
        boolean all = true;
        for (int i = 0; i < m; i++) {
            accepted[i] = ratio[i] > u[i];
            all &= accepted[i];
        }
        float[] values = x.clone();
        int[] proposals = new int[m];
        boolean[] fallback = new boolean[m];
        if (all) return new Outcome(values, accepted, proposals, fallback, ratio);

        float[] sample = new float[m * D];
        boolean[] done = new boolean[m], everAccepted = new boolean[m];
        float[] lastProposal = new float[m * D];
        for (int round = 0; round < CspdSettings.MAX_REJECTION_ROUNDS; round++) {
            float[] y = rnd.normal(m * D);
            for (int k = 0; k < m * D; k++) y[k] = y[k] * sdP[k] + muP[k];
            float[] alpha = residualAcceptance(rule, y, muQ, sdQ, lamQ, muP, sdP, lamP, m, D);
            float[] e = rnd.uniform(m);
            boolean allDone = true;
            for (int i = 0; i < m; i++) {
                if (!done[i]) proposals[i]++;
                System.arraycopy(y, i * D, lastProposal, i * D, D);
                if (e[i] < alpha[i]) {
                    // the released code overwrites a token's sample with every later accepted proposal too
                    System.arraycopy(y, i * D, sample, i * D, D);
                    everAccepted[i] = true;
                    done[i] = true;
                }
                allDone &= done[i];
            }
            if (allDone) break;
        }
        for (int i = 0; i < m; i++) {
            if (accepted[i]) {
                proposals[i] = 0;
                continue;
            }
            if (!everAccepted[i]) {
                fallback[i] = true;
                System.arraycopy(lastProposal, i * D, values, i * D, D);
            } else {
                System.arraycopy(sample, i * D, values, i * D, D);
            }
        }
        return new Outcome(values, accepted, proposals, fallback, ratio);
    }

    /**
     * The probability of accepting a proposal y ~ p in the rejection phase: released, {@code max(0, p(y) − q(y)/F)
     * / p(y)} with normalised float32 densities; exact, {@code max(0, 1 − q(y)/p(y))} in float64.
     */
    static float[] residualAcceptance(
            CspdSettings.Rule rule,
            float[] y,
            float[] muQ,
            float[] sdQ,
            float[] lamQ,
            float[] muP,
            float[] sdP,
            float[] lamP,
            int m,
            int D) {
        float[] a = new float[m];
        float norm = (float) Math.pow(2 * Math.PI, D / 2.0);
        for (int i = 0; i < m; i++) {
            int o = i * D;
            if (rule == CspdSettings.Rule.RELEASED) {
                float lam = 0, sq = 0, sp = 0, prodQ = 1, prodP = 1;
                for (int d = 0; d < D; d++) {
                    lam += lamP[o + d] - lamQ[o + d];
                    float qa = (y[o + d] - muQ[o + d]) / sdQ[o + d], pb = (y[o + d] - muP[o + d]) / sdP[o + d];
                    sq += qa * qa;
                    sp += pb * pb;
                    prodQ *= sdQ[o + d];
                    prodP *= sdP[o + d];
                }
                float F = (float) Math.exp(lam);
                float p = (float) Math.exp(-0.5f * sp) / (norm * prodP);
                float q = (float) Math.exp(-0.5f * sq) / (norm * prodQ);
                float ret = p - q / F;
                a[i] = Math.max(ret, 0f) / p;
                if (Float.isNaN(ret)) a[i] = Float.NaN;
            } else {
                double lr = logDensity(y, o, muQ, sdQ, D) - logDensity(y, o, muP, sdP, D);
                a[i] = (float) Math.max(0.0, 1.0 - Math.exp(lr));
            }
        }
        return a;
    }
}
