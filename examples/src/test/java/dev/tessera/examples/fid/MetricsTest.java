package dev.tessera.examples.fid;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.io.Json;
import dev.tessera.engine.tensor.Tensor;
import dev.tessera.engine.testing.Golden;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The metrics against numpy ({@code testdata/fid/metrics.safetensors}: eigvalsh, the Fréchet distance through
 * numpy's general eigvals of Σ1Σ2, torch-fidelity's IS and KID and the ADM evaluator's precision/recall written
 * in float64 numpy) and against pytorch-fid's Fréchet distance on the fid-small golden set.
 */
class MetricsTest {
    private static Checkpoint ref;

    @BeforeAll
    static void open() {
        ref = Checkpoints.open(Golden.testdata().resolve("fid/metrics.safetensors"));
    }

    @AfterAll
    static void close() {
        ref.close();
    }

    static FeatureRows rows(Checkpoint c, String key) {
        Tensor t = c.tensor(key);
        return FeatureRows.of(t.toDoubleArray(), (int) t.dim(0), (int) t.dim(1));
    }

    @Test
    void frechetDistanceMatchesPytorchFid() {
        try (Golden g = Golden.vendored("fid-small")) {
            @SuppressWarnings("unchecked")
            double want = ((Number) ((Map<String, Object>) Json.read(g.file("golden.json"))).get("fid")).doubleValue();
            try (Checkpoint t = Checkpoints.open(g.file("golden.safetensors"))) {
                FeatureStats a = FeatureStats.of(rows(t, "frechet.a")), b = FeatureStats.of(rows(t, "frechet.b"));
                double got = FrechetDistance.of(a, b).distance();
                double rel = Math.abs(got - want) / Math.abs(want);
                System.out.printf("Frechet distance %.10f vs pytorch-fid %.10f: relative error %.2e (tolerance 1e-6)%n", got, want, rel);
                assertTrue(rel <= 1e-6, "relative error " + rel);
                // symmetric in its arguments
                assertEquals(got, FrechetDistance.of(b, a).distance(), 1e-9 * want);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"few", "many"})
    void frechetDistanceMatchesNumpyEigvals(String which) {
        double want = ref.tensor("frechet." + which + "_vs_ref").getDouble(0);
        FeatureRows x = rows(ref, "frechet." + which);
        FeatureStats y = FeatureStats.of(rows(ref, "frechet.ref"));
        double general = FrechetDistance.of(FeatureStats.of(x), y).distance();
        double fromRows = FrechetDistance.of(x, y).distance();   // the N×N path when N − 1 < D
        System.out.printf("Frechet (%s samples) %.10f, from rows %.10f, numpy %.10f%n", which, general, fromRows, want);
        // 20 samples in 64 dimensions leave 45 zero eigenvalues whose rounding noise numpy's square roots keep
        // (about 1e-8 relative); full-rank statistics agree to rounding
        double tol = which.equals("few") ? 1e-7 : 1e-10;
        assertEquals(want, general, tol * want);
        assertEquals(want, fromRows, tol * want);
        assertEquals(fromRows, general, 1e-10 * want);
    }

    @Test
    void statisticsAreNumpysMeanAndCov() {
        // np.cov divides by N − 1: for the rows (0, 0), (2, 4) the covariance is [[2, 4], [4, 8]]
        FeatureStats s = FeatureStats.of(FeatureRows.of(new float[] {0, 0, 2, 4}, 2, 2));
        assertArrayEquals(new double[] {1, 2}, s.mu(), 0);
        assertArrayEquals(new double[] {2, 4, 4, 8}, s.sigma(), 1e-15);
        assertEquals(0.0, FrechetDistance.of(s, s).distance(), 1e-12);
    }

    @ParameterizedTest
    @ValueSource(strings = {"a5", "a40", "lowrank", "repeated", "diagonal"})
    void eigenvaluesMatchNumpy(String name) {
        Tensor m = ref.tensor("eig." + name);
        int n = (int) m.dim(0);
        double[] a = m.toDoubleArray();
        double[] want = ref.tensor("eig." + name + ".values").toDoubleArray();
        SymmetricEigen.Result r = SymmetricEigen.decompose(a, n, true);
        double scale = Math.max(1, Math.abs(want[n - 1]));
        assertArrayEquals(want, r.values(), 1e-12 * scale * n, name);
        assertArrayEquals(want, SymmetricEigen.values(a, n), 1e-12 * scale * n, name + " (values only)");
        // A·v = λ·v and the vectors are orthonormal
        double worst = 0;
        for (int j = 0; j < n; j++) {
            double[] v = r.vector(j);
            for (int i = 0; i < n; i++) {
                double av = 0;
                for (int k = 0; k < n; k++) av += a[i * n + k] * v[k];
                worst = Math.max(worst, Math.abs(av - r.values()[j] * v[i]));
            }
            for (int k = 0; k < n; k++) {
                double dot = 0;
                for (int i = 0; i < n; i++) dot += v[i] * r.vectors()[k * n + i];
                worst = Math.max(worst, Math.abs(dot - (j == k ? 1 : 0)) * scale);
            }
        }
        assertTrue(worst <= 1e-11 * scale * n, name + ": residual " + worst);
    }

    @Test
    void eigenvaluesOfALargerMatrixUseTheParallelPath() {
        // n above the parallel threshold; the eigenvalues of Q·diag(λ)·Qᵀ are λ
        int n = 150;
        Random rnd = new Random(3);
        double[] g = new double[n * n];
        for (int i = 0; i < g.length; i++) g[i] = rnd.nextGaussian();
        double[] sym = DoubleMatrix.multiply(g, DoubleMatrix.transpose(g, n, n), n, n, n);   // G·Gᵀ, PSD
        DoubleMatrix.symmetrize(sym, n);
        SymmetricEigen.Result r = SymmetricEigen.decompose(sym, n, true);
        // reconstruct Vᵀ·diag(λ)·V and compare
        double[] vl = r.vectors().clone();
        for (int j = 0; j < n; j++) for (int i = 0; i < n; i++) vl[j * n + i] *= r.values()[j];
        double[] back = DoubleMatrix.multiply(DoubleMatrix.transpose(r.vectors(), n, n), vl, n, n, n);
        double err = 0, top = r.values()[n - 1];
        for (int i = 0; i < back.length; i++) err = Math.max(err, Math.abs(back[i] - sym[i]));
        assertTrue(err <= 1e-12 * top * n, "reconstruction error " + err);
        assertTrue(r.values()[0] > -1e-12 * top, "G·Gᵀ is positive semi-definite");
    }

    @Test
    void rankDeficientCovariancesConverge() {
        // 50 samples in 300 dimensions: 251 zero eigenvalues (this used to stall QL's relative convergence test)
        int n = 300, samples = 50;
        Random rnd = new Random(5);
        float[] x = new float[samples * n];
        for (int i = 0; i < x.length; i++) x[i] = (float) Math.max(0, rnd.nextGaussian());
        FeatureStats s = FeatureStats.of(FeatureRows.of(x, samples, n));
        SymmetricEigen.Result r = SymmetricEigen.decompose(s.sigma(), n, true);
        double top = r.values()[n - 1];
        int positive = 0;
        for (double v : r.values()) {
            assertTrue(v > -1e-12 * top, "eigenvalue " + v);
            if (v > 1e-10 * top) positive++;
        }
        assertEquals(samples - 1, positive, "rank of a covariance of 50 samples");
        assertEquals(0.0, FrechetDistance.of(s, s).distance(), 1e-9 * top);
    }

    @Test
    void blockedMultiplyMatchesTheTripleLoop() {
        Random rnd = new Random(4);
        for (int[] s : new int[][] {{1, 1, 1}, {5, 7, 3}, {37, 300, 530}, {64, 257, 40}}) {
            int n = s[0], k = s[1], m = s[2];
            double[] a = new double[n * k], b = new double[k * m];
            for (int i = 0; i < a.length; i++) a[i] = rnd.nextGaussian();
            for (int i = 0; i < b.length; i++) b[i] = rnd.nextGaussian();
            assertArrayEquals(DoubleMatrix.multiplyNaive(a, b, n, k, m), DoubleMatrix.multiply(a, b, n, k, m), 1e-12 * k,
                    n + "x" + k + "x" + m);
        }
    }

    @Test
    void numpyRandomStreamsAreReproduced() {
        assertArrayEquals(ref.tensor("rng.permutation_2020_250").toIntArray(), new NumpyRandom(2020).permutation(250));
        NumpyRandom r = new NumpyRandom(7);
        int[] got = new int[18];
        System.arraycopy(r.choice(100, 10), 0, got, 0, 10);
        System.arraycopy(r.choice(70000, 5), 0, got, 10, 5);
        System.arraycopy(r.choice(1000, 3), 0, got, 15, 3);
        assertArrayEquals(ref.tensor("rng.choice_7").toIntArray(), got);
    }

    @Test
    void inceptionScoreMatchesTorchFidelity() {
        Tensor logits = ref.tensor("is.logits");
        double[] want = ref.tensor("is.expected").toDoubleArray();
        InceptionScore is = InceptionScore.of(logits.toFloatArray(), (int) logits.dim(0), (int) logits.dim(1));
        System.out.printf("IS %.10f +- %.10f (numpy %.10f +- %.10f)%n", is.mean(), is.std(), want[0], want[1]);
        assertEquals(want[0], is.mean(), 1e-10 * want[0]);
        assertEquals(want[1], is.std(), 1e-9 * want[0]);
    }

    @Test
    void inceptionScoreOfOneConfidentClassPerSampleIsTheClassCount() {
        // p(y|x) one-hot over 5 classes equally often: IS = exp(entropy of the class mix of a split), at most 5 and
        // close to it with 100 samples per split; all one class: IS = 1
        int n = 1000, c = 5;
        float[] spread = new float[n * c], same = new float[n * c];
        for (int i = 0; i < n; i++) {
            spread[i * c + i % c] = 60f;
            same[i * c] = 60f;
        }
        assertEquals(1.0, InceptionScore.of(same, n, c).mean(), 1e-12);
        double is = InceptionScore.of(spread, n, c).mean();
        assertTrue(is > 4.9 && is <= 5.0, "IS " + is);
    }

    @Test
    void kidMatchesTorchFidelity() {
        Tensor a = ref.tensor("kid.a"), b = ref.tensor("kid.b");
        double[] want = ref.tensor("kid.expected").toDoubleArray();
        KernelInceptionDistance kid = KernelInceptionDistance.of(a.toFloatArray(), (int) a.dim(0), b.toFloatArray(), (int) b.dim(0),
                (int) a.dim(1), 10, 50, 2020);
        System.out.printf("KID %.10f +- %.10f (numpy %.10f +- %.10f)%n", kid.mean(), kid.std(), want[0], want[1]);
        assertEquals(want[0], kid.mean(), 1e-5 * Math.abs(want[0]));
        assertEquals(want[1], kid.std(), 1e-4 * want[1]);
    }

    @Test
    void precisionRecallMatchTheAdmDefinition() {
        Tensor r = ref.tensor("pr.ref"), s = ref.tensor("pr.samples");
        double[] want = ref.tensor("pr.expected").toDoubleArray();
        PrecisionRecall pr = PrecisionRecall.of(r.toFloatArray(), (int) r.dim(0), s.toFloatArray(), (int) s.dim(0), (int) r.dim(1));
        System.out.printf("precision %.6f recall %.6f (numpy %.6f %.6f)%n", pr.precision(), pr.recall(), want[0], want[1]);
        assertEquals(want[0], pr.precision(), 0);
        assertEquals(want[1], pr.recall(), 0);
        // a set against itself: every point lies within its own radius
        PrecisionRecall self = PrecisionRecall.of(r.toFloatArray(), (int) r.dim(0), r.toFloatArray(), (int) r.dim(0), (int) r.dim(1));
        assertEquals(1.0, self.precision());
        assertEquals(1.0, self.recall());
    }
}
