package dev.tessera.examples.fid;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tessera.engine.io.Checkpoint;
import dev.tessera.engine.io.Checkpoints;
import dev.tessera.engine.io.Json;
import dev.tessera.engine.tensor.Tensor;
import dev.tessera.engine.testing.Golden;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The metrics against the reference tools' own code ({@code testdata/fid/reference-metrics.safetensors}:
 * torch-fidelity's
 * {@code isc_features_to_metric}, {@code kid_features_to_metric} and {@code fid_statistics_to_metric}, the ADM
 * evaluator's {@code compute_inception_score}, {@code FIDStatistics.frechet_distance} for sFID and
 * {@code compute_prec_recall}, run on feature arrays by {@code testdata/scripts/make_fid_reference_metrics.py}),
 * against
 * numpy ({@code testdata/fid/metrics.safetensors}: eigvalsh, the Fréchet distance through numpy's general eigvals of
 * Σ1Σ2, and the same metrics re-implemented in float64 numpy, made by {@code make_fid_metrics.py}) and against
 * pytorch-fid's Fréchet distance on the fid-small golden set.
 */
class MetricsTest {
    private static Checkpoint ref, tools;

    @BeforeAll
    static void open() {
        ref = Checkpoints.open(Golden.testdata().resolve("fid/metrics.safetensors"));
        tools = Checkpoints.open(Golden.testdata().resolve("fid/reference-metrics.safetensors"));
    }

    @AfterAll
    static void close() {
        ref.close();
        tools.close();
    }

    static void assertRelative(double want, double got, double tol, String what) {
        double rel = Math.abs(got - want) / Math.abs(want);
        System.out.printf(
                "%s: %.15g vs reference %.15g, relative error %.2e (tolerance %.0e)%n", what, got, want, rel, tol);
        assertTrue(rel <= tol, what + ": " + got + " vs reference " + want + ", relative error " + rel + " > " + tol);
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
                System.out.printf(
                        "Frechet distance %.10f vs pytorch-fid %.10f: relative error %.2e (tolerance 1e-6)%n",
                        got, want, rel);
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
        double fromRows = FrechetDistance.of(x, y).distance(); // the N×N path when N − 1 < D
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
        double[] sym = DoubleMatrix.multiply(g, DoubleMatrix.transpose(g, n, n), n, n, n); // G·Gᵀ, PSD
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
            assertArrayEquals(
                    DoubleMatrix.multiplyNaive(a, b, n, k, m),
                    DoubleMatrix.multiply(a, b, n, k, m),
                    1e-12 * k,
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
        KernelInceptionDistance kid = KernelInceptionDistance.of(
                a.toFloatArray(), (int) a.dim(0), b.toFloatArray(), (int) b.dim(0), (int) a.dim(1), 10, 50, 2020);
        System.out.printf("KID %.10f +- %.10f (numpy %.10f +- %.10f)%n", kid.mean(), kid.std(), want[0], want[1]);
        assertEquals(want[0], kid.mean(), 1e-5 * Math.abs(want[0]));
        assertEquals(want[1], kid.std(), 1e-4 * want[1]);
    }

    @Test
    void precisionRecallMatchTheAdmDefinition() {
        Tensor r = ref.tensor("pr.ref"), s = ref.tensor("pr.samples");
        double[] want = ref.tensor("pr.expected").toDoubleArray();
        PrecisionRecall pr =
                PrecisionRecall.of(r.toFloatArray(), (int) r.dim(0), s.toFloatArray(), (int) s.dim(0), (int) r.dim(1));
        System.out.printf(
                "precision %.6f recall %.6f (numpy %.6f %.6f)%n", pr.precision(), pr.recall(), want[0], want[1]);
        assertEquals(want[0], pr.precision(), 0);
        assertEquals(want[1], pr.recall(), 0);
        // a set against itself: every point lies within its own radius
        PrecisionRecall self =
                PrecisionRecall.of(r.toFloatArray(), (int) r.dim(0), r.toFloatArray(), (int) r.dim(0), (int) r.dim(1));
        assertEquals(1.0, self.precision());
        assertEquals(1.0, self.recall());
    }

    // ---- against the reference tools themselves (reference-metrics.safetensors) ----

    @Test
    void defaultsAreTorchFidelitys() {
        // torch-fidelity's DEFAULTS: isc_splits, kid_subsets, kid_subset_size, poly degree, coef0, rng_seed
        // (gamma None = 1/D); Tessera's KID kernel is (x·y/D + 1)^3 in code
        long[] d = tools.tensor("tf.defaults").toLongArray();
        assertEquals(InceptionScore.SPLITS, d[0], "isc_splits");
        assertEquals(KernelInceptionDistance.SUBSETS, d[1], "kid_subsets");
        assertEquals(KernelInceptionDistance.SUBSET_SIZE, d[2], "kid_subset_size");
        assertEquals(3, d[3], "kid_kernel_poly_degree");
        assertEquals(1, d[4], "kid_kernel_poly_coef0");
        assertEquals(InceptionScore.SEED, d[5], "rng_seed (IS)");
        assertEquals(KernelInceptionDistance.SEED, d[5], "rng_seed (KID)");
    }

    @Test
    void randomDrawsAreTorchFidelitys() {
        // the permutation isc_features_to_metric drew and the subsets kid_features_to_metric drew (recorded)
        Tensor logits = tools.tensor("is.logits");
        assertArrayEquals(
                tools.tensor("tf.is.permutation").toIntArray(),
                new NumpyRandom(InceptionScore.SEED).permutation((int) logits.dim(0)));
        Tensor subsets = tools.tensor("tf.kid.subsets");
        int s = (int) subsets.dim(0), m = (int) subsets.dim(2);
        int[] want = subsets.toIntArray(), got = new int[want.length];
        NumpyRandom rng = new NumpyRandom(KernelInceptionDistance.SEED);
        for (int i = 0; i < s; i++) {
            System.arraycopy(rng.choice((int) tools.tensor("kid.a").dim(0), m), 0, got, (2 * i) * m, m);
            System.arraycopy(rng.choice((int) tools.tensor("kid.b").dim(0), m), 0, got, (2 * i + 1) * m, m);
        }
        assertArrayEquals(want, got);
    }

    @Test
    void inceptionScoreMatchesTorchFidelitysCode() {
        // both in float64: agreement to rounding
        Tensor logits = tools.tensor("is.logits");
        int n = (int) logits.dim(0), c = (int) logits.dim(1);
        double[] want = tools.tensor("tf.is").toDoubleArray();
        InceptionScore is = InceptionScore.of(logits.toFloatArray(), n, c);
        assertRelative(want[0], is.mean(), 1e-12, "IS mean vs isc_features_to_metric");
        assertRelative(want[1], is.std(), 1e-10, "IS std vs isc_features_to_metric");
        double[] want7 = tools.tensor("tf.is.s7").toDoubleArray();
        InceptionScore is7 = InceptionScore.of(logits.toFloatArray(), n, c, 7, 5);
        assertRelative(want7[0], is7.mean(), 1e-12, "IS mean, 7 splits, seed 5");
        assertRelative(want7[1], is7.std(), 1e-10, "IS std, 7 splits, seed 5");
    }

    @Test
    void inceptionScoreMatchesTheAdmEvaluatorsCode() {
        // compute_inception_score over 10 consecutive splits of the rows in torch-fidelity's shuffled order: the same
        // mean, computed by the ADM code with its float32 softmax, returned in float32 (measured 1.5e-7 relative)
        Tensor logits = tools.tensor("is.logits");
        InceptionScore is = InceptionScore.of(logits.toFloatArray(), (int) logits.dim(0), (int) logits.dim(1));
        assertRelative(tools.tensor("adm.is").getDouble(0), is.mean(), 1e-6, "IS mean vs ADM compute_inception_score");
    }

    @Test
    void kidMatchesTorchFidelitysCode() {
        // kid_features_to_metric computes kernels and sums in float32 when given float32 features (its own rounding:
        // 1.7e-6 of the mean, 1.2e-5 of the std here); on float64 copies of the same features it is exact to
        // rounding, and Tessera (float32 dot products, float64 kernels and sums) follows that one closely
        Tensor a = tools.tensor("kid.a"), b = tools.tensor("kid.b");
        int na = (int) a.dim(0), nb = (int) b.dim(0), dim = (int) a.dim(1);
        KernelInceptionDistance kid =
                KernelInceptionDistance.of(a.toFloatArray(), na, b.toFloatArray(), nb, dim, 20, 150, 2020);
        double[] exact = tools.tensor("tf.kid.float64").toDoubleArray(),
                asRun = tools.tensor("tf.kid").toDoubleArray();
        assertRelative(exact[0], kid.mean(), 1e-6, "KID mean vs kid_features_to_metric (float64 features)");
        assertRelative(exact[1], kid.std(), 1e-6, "KID std vs kid_features_to_metric (float64 features)");
        assertRelative(asRun[0], kid.mean(), 1e-5, "KID mean vs kid_features_to_metric (float32 features)");
        assertRelative(asRun[1], kid.std(), 1e-4, "KID std vs kid_features_to_metric (float32 features)");
        KernelInceptionDistance all =
                KernelInceptionDistance.of(a.toFloatArray(), na, b.toFloatArray(), nb, dim, 5, nb, 7);
        double[] exact5 = tools.tensor("tf.kid.s5.float64").toDoubleArray(),
                asRun5 = tools.tensor("tf.kid.s5").toDoubleArray();
        assertRelative(exact5[0], all.mean(), 1e-6, "KID mean, 5 subsets of 260, seed 7 (float64 features)");
        assertRelative(exact5[1], all.std(), 1e-6, "KID std, 5 subsets of 260, seed 7 (float64 features)");
        assertRelative(asRun5[0], all.mean(), 1e-5, "KID mean, 5 subsets of 260, seed 7 (float32 features)");
        assertRelative(asRun5[1], all.std(), 1e-4, "KID std, 5 subsets of 260, seed 7 (float32 features)");
    }

    @Test
    void sfidMatchesTheAdmEvaluatorsCode() {
        // FIDStatistics.frechet_distance (scipy sqrtm) of compute_statistics; the evaluator's mean of float32 features
        // is float32 (5e-8 of the distance here), so the float64 run is the tight check
        FeatureRows samples = rows(tools, "sfid.samples"), refRows = rows(tools, "sfid.ref");
        FeatureStats ref = FeatureStats.of(refRows);
        double general = FrechetDistance.of(FeatureStats.of(samples), ref).distance();
        double fromRows = FrechetDistance.of(samples, ref).distance();
        double exact = tools.tensor("adm.sfid.float64").getDouble(0),
                asRun = tools.tensor("adm.sfid").getDouble(0);
        assertRelative(exact, general, 1e-10, "sFID vs ADM frechet_distance (float64 features)");
        assertRelative(exact, fromRows, 1e-10, "sFID from rows vs ADM frechet_distance (float64 features)");
        assertRelative(asRun, general, 2e-7, "sFID vs ADM frechet_distance (float32 features, float32 mean)");
        assertRelative(
                tools.tensor("tf.fid.sfid").getDouble(0),
                general,
                2e-7,
                "sFID features vs torch-fidelity fid_statistics_to_metric");
        // 40 samples in 56 dimensions: Tessera's N×N path against scipy's sqrtm of a singular product. The 17 zero
        // eigenvalues come out as rounding noise whose square roots every full-size method keeps: sqrtm, eigvals,
        // eigh and svd evaluations in float64 spread over 1.3e-8 of the distance here, while Tessera drops them
        // (an N×N evaluation in numpy agrees with it to 1e-15); hence 5e-8
        FeatureRows few = rows(tools, "sfid.few");
        double lowRank = FrechetDistance.of(few, ref).distance(),
                generalFew = FrechetDistance.of(FeatureStats.of(few), ref).distance();
        double fewExact = tools.tensor("adm.sfid.few.float64").getDouble(0);
        assertRelative(
                fewExact, lowRank, 5e-8, "sFID, 40 samples, N x N path vs ADM frechet_distance (float64 features)");
        assertRelative(
                fewExact,
                generalFew,
                5e-8,
                "sFID, 40 samples, general path vs ADM frechet_distance (float64 features)");
        assertRelative(
                tools.tensor("adm.sfid.few").getDouble(0),
                lowRank,
                2e-7,
                "sFID, 40 samples vs ADM frechet_distance (float32 features)");
    }

    @Test
    void precisionRecallMatchTheAdmEvaluatorsCode() {
        // integer features: every squared distance is exact in float16, 32 and 64, so ADM's float16 distances give
        // these very fractions (ties included); both sets span more than one of Tessera's 1024-row blocks
        Tensor r = tools.tensor("pr.ref"), s = tools.tensor("pr.samples");
        double[] want = tools.tensor("adm.pr").toDoubleArray();
        PrecisionRecall pr =
                PrecisionRecall.of(r.toFloatArray(), (int) r.dim(0), s.toFloatArray(), (int) s.dim(0), (int) r.dim(1));
        System.out.printf(
                "precision %.10f recall %.10f (ADM compute_prec_recall %.10f %.10f)%n",
                pr.precision(), pr.recall(), want[0], want[1]);
        assertEquals(want[0], pr.precision(), 0, "precision vs ADM compute_prec_recall");
        assertEquals(want[1], pr.recall(), 0, "recall vs ADM compute_prec_recall");
    }
}
