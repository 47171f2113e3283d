package dev.tessera.samplers.ar;

import dev.tessera.samplers.rng.TorchGenerator;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** LANTERN's relaxed acceptance: the worked example of the spec, budgets at their boundaries, and its effect. */
class LanternTest {
    static final float[] P = {0.30f, 0.05f, 0.20f, 0.10f, 0.25f, 0.10f};
    static final float[] Q = {0.05f, 0.40f, 0.05f, 0.30f, 0.10f, 0.10f};

    /** Neighbours of code 1 are 0, 2, 3, 4, 5 (codes on a line at 0, 0.1, -0.2, 0.3, ...). */
    static LatentNeighbours line() {
        float[] cb = {0.0f, 0.1f, 0.25f, 0.33f, 0.5f, 0.7f};   // |1-0|=0.1, |1-2|=0.15, |1-3|=0.23, |1-4|=0.4, |1-5|=0.6
        return LatentNeighbours.of(cb, 6, 1, 5);
    }

    @Test
    void neighboursAreNearestFirstAndExcludeTheCodeItself() {
        LatentNeighbours nn = line();
        int[] got = new int[5];
        for (int j = 0; j < 5; j++) got[j] = nn.neighbour(1, j);
        assertArrayEquals(new int[] {0, 2, 3, 4, 5}, got);
        for (int x = 0; x < 6; x++) for (int j = 0; j < 5; j++) assertTrue(nn.neighbour(x, j) != x);
    }

    @Test
    void relaxedTargetFollowsTheWorkedExample() {
        LatentNeighbours nn = line();
        // k = 2: cumulative neighbour mass c = [0.30, 0.50]
        assertSame(P, new LanternVerifier(nn, 2, 0.1).relaxed(P, 1), "delta 0.1: m = 0, p unchanged");
        float[] r = new LanternVerifier(nn, 2, 0.3).relaxed(P, 1);
        assertEquals(0.35f, r[1], 1e-6f);
        assertEquals(0f, r[0]);
        assertEquals(0.20f, r[2]);
        float[] r5 = new LanternVerifier(nn, 2, 0.5).relaxed(P, 1);
        assertEquals(0.55f, r5[1], 1e-6f, "c_j == delta is included (<=)");
        assertSame(P, new LanternVerifier(nn, 2, 5).relaxed(P, 1), "lambda 5: bound 0.2 < 0.30, m = 0");
        assertEquals(0.55f, new LanternVerifier(nn, 2, 11).relaxed(P, 1)[1], 1e-6f, "lambda 11: bound 0.5, m = 2");
        double sum = 0;
        for (float v : r) sum += v;
        assertEquals(1.0, sum, 1e-6);
    }

    /** The exact one-step output distribution of the chain verifier, by enumeration of the draft. */
    static double[] outputDistribution(Verifier v, float[] p, float[] q) {
        // accept with a_x = min(1, p~(x)/q(x)); reject to norm((p~ - q)+)
        double[] out = new double[p.length];
        for (int x = 0; x < p.length; x++) {
            float[] pt = v instanceof LanternVerifier lv ? lv.relaxed(p, x) : p;
            double a = Math.min(1.0, pt[x] / q[x]);
            out[x] += q[x] * a;
            double[] r = new double[p.length];
            double s = 0;
            for (int y = 0; y < p.length; y++) {
                r[y] = Math.max(0, pt[y] - q[y]);
                s += r[y];
            }
            for (int y = 0; y < p.length; y++) out[y] += q[x] * (1 - a) * (s > 0 ? r[y] / s : p[y]);
        }
        return out;
    }

    @Test
    void samplingMatchesTheRelaxedDistributionAndAcceptanceGrowsWithTheBudget() {
        LatentNeighbours nn = line();
        double previousAcceptance = -1;
        for (double delta : new double[] {0.0, 0.1, 0.3, 0.5}) {
            LanternVerifier v = new LanternVerifier(nn, 2, delta);
            TorchGenerator rng = new TorchGenerator(77);
            long[] counts = new long[6];
            int accepted = 0, n = 60_000;
            for (int i = 0; i < n; i++) {
                int x = Speculation.sample(Q, rng);
                int y = v.verify(P, Q, x, rng);
                if (y == x) accepted++;
                counts[y]++;
            }
            double[] expected = outputDistribution(v, P, Q);
            double pv = ChiSquare.pValue(counts, expected);
            assertTrue(pv > 1e-3, "delta " + delta + ": empirical output differs from LANTERN's distribution, p = " + pv);
            double acceptance = (double) accepted / n;
            assertTrue(acceptance >= previousAcceptance - 0.01, "acceptance fell from " + previousAcceptance + " to " + acceptance);
            previousAcceptance = acceptance;
            double tv = 0;
            for (int y = 0; y < 6; y++) tv += Math.abs(expected[y] - P[y]) / 2;
            if (delta == 0.0) {
                assertEquals(0.0, tv, 1e-6, "delta 0 is exact");
                assertEquals(0.45, acceptance, 0.01, "standard acceptance = sum min(p, q) = 0.45");
            } else if (delta >= 0.3) {
                // mass moves from the draft's neighbours onto drafted tokens: the output leans towards q
                assertTrue(tv > 0.01, "delta " + delta + " should change the output, TV = " + tv);
                double towardQ = 0, pq = 0;
                for (int y = 0; y < 6; y++) {
                    towardQ += expected[y] * Q[y];
                    pq += P[y] * Q[y];
                }
                assertTrue(towardQ > pq, "the relaxed output should put more mass where the drafter does");
            }
        }
    }
}
