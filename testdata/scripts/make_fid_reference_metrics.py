"""Makes testdata/fid/reference-metrics.safetensors: IS, KID, sFID and precision/recall computed by the reference
tools' own metric functions on feature arrays (issue 13, item 8), for MetricsTest.

Inputs (all from numpy RandomState(2613), drawn in this order, float32):
  is.logits      400x100   3 g (bias-free logits)
  kid.a, kid.b   300x64, 260x64   max(g, 0) and max(1.1 g + 0.05, 0) (pool3-like: non-negative, half zeros)
  sfid.ref       300x56    max(g + 0.3, 0)     (7 channels x 8 positions, the shape of the ADM spatial feature
  sfid.samples   250x56    max(1.2 g + 0.2, 0)  at a smaller size)
  pr.ref         1100x16   clip(round(1.5 g), -5, 5)        (integers: every squared distance and every partial
  pr.samples     1300x16   clip(round(1.8 g + 0.5), -5, 5)  sum is an integer below 2048, exact in float16, 32
                                                             and 64, so ADM's float16 distances, its float32
                                                             fallback and Tessera's all agree, ties included;
                                                             both sets above Tessera's 1024-row block)
  sfid.few       40x56     max(1.2 g + 0.2, 0)  (fewer samples than dimensions: a rank-deficient covariance)

References:
  tf.defaults         torch-fidelity's DEFAULTS: isc_splits, kid_subsets, kid_subset_size, kid_kernel_poly_degree,
                      kid_kernel_poly_coef0, rng_seed (kid_kernel_poly_gamma is None there, i.e. 1/D)
  tf.is               torch_fidelity.metric_isc.isc_features_to_metric(logits, splits=10, shuffle=True,
                      rng_seed=2020): [mean, std]
  tf.is.permutation   the permutation that call drew (recorded, see below)
  tf.is.s7            the same function with splits=7, rng_seed=5
  tf.kid              torch_fidelity.metric_kid.kid_features_to_metric(a, b, kid_subsets=20, kid_subset_size=150,
                      kid_kernel="poly", degree 3, gamma None (1/D), coef0 1, rng_seed=2020): [mean, std], on the
                      float32 features as the tool gets them (it then computes the kernels and sums in float32)
  tf.kid.subsets      the row indices that call drew, [subset, set (a then b), 150] (recorded)
  tf.kid.float64      the same call on float64 copies of the same features (the tool's own float32 rounding is
                      tf.kid - tf.kid.float64; MetricsTest derives its tolerance from it)
  tf.kid.s5           kid_subsets=5, kid_subset_size=260, rng_seed=7 (every row of b in every subset);
  tf.kid.s5.float64   the same on float64 copies
  tf.fid.sfid         torch_fidelity.metric_fid: fid_statistics_to_metric(fid_features_to_statistics(samples),
                      fid_features_to_statistics(ref)) on the sFID features (eigvals of s1 s2)
  adm.sfid            guided-diffusion evaluations/evaluator.py: Evaluator.compute_statistics of each set (np.mean,
                      np.cov; float32 features give a float32 mean, as in the evaluator) and
                      FIDStatistics.frechet_distance (scipy sqrtm) of samples against ref
  adm.sfid.float64    the same on float64 copies (separates the float32-mean rounding from the rest)
  adm.sfid.few, adm.sfid.few.float64   the same for sfid.few against sfid.ref (sqrtm of a singular product)
  adm.is              Evaluator.compute_inception_score(logits[tf.is.permutation], split_size=40): the ADM
                      evaluator's IS over 10 consecutive splits of the rows in torch-fidelity's shuffled order,
                      which is torch-fidelity's (and Tessera's) IS mean computed by the ADM code, with its float32
                      softmax
  adm.pr              Evaluator.compute_prec_recall(pr.ref, pr.samples) with ManifoldEstimator's defaults (k = 3,
                      10000-row batches): [precision, recall]

Official code, imported from the checkouts given on the command line (never committed):
  toshas/torch-fidelity     5e211a950a7b45206bd4976813ffd6aed6cf4ccc
  openai/guided-diffusion   22e0df8183507e13a7813f8d38d51b072ca1e67c
with Debian's numpy 1.24.2, scipy 1.10.1, PyTorch 1.13.1.

Shims (every one; none touches torch-fidelity):
  1. The ADM evaluator imports tensorflow.compat.v1 at module level: empty stand-in modules "tensorflow",
     "tensorflow.compat" and "tensorflow.compat.v1" are put in sys.modules before the import. Nothing used below
     calls them except through shims 2 and 3.
  2. evaluator.DistanceBlock (a TF graph) is replaced by a numpy class with the same two methods and the graph's
     float32 formula, max(|u|^2 - 2 u.v + |v|^2, 0) with `<=` against the radii. The TF graph first tries the
     distances in float16 and keeps them when finite; the script computes precision/recall with float16,
     float32 and float64 distances and refuses data on which they disagree, so the reference does not depend on
     that choice.
  3. Evaluator.compute_inception_score runs its softmax graph (pool3 times the graph's softmax weight, then
     tf.nn.softmax) through the session: a stand-in session returns a float32 numpy softmax (max subtracted) of
     the fed rows, which are the bias-free logits themselves (the weight product is already in them).
  4. numpy 1.24 no longer has np.bool, which evaluate_pr uses: np.bool = bool (LlamaGen's copy of the evaluator
     makes the same change).
  5. Evaluator and ManifoldEstimator objects are made without their TF constructors: Evaluator.__new__, then the
     attributes the methods read (manifold_estimator, softmax_batch_size = 512, the session of shim 3);
     ManifoldEstimator(session) runs its own constructor, with shim 2's DistanceBlock.
Instrumentation (changes nothing): numpy.random.RandomState is wrapped during the torch-fidelity calls to record
the permutation and the choice() draws they make.

Usage:
  python3 make_fid_reference_metrics.py --torch-fidelity DIR --guided-diffusion DIR \
      --out testdata/fid/reference-metrics.safetensors [--compare FILE]
"""
import argparse
import sys
import types

import numpy as np
import torch

sys.dont_write_bytecode = True   # no __pycache__ next to the scripts
import fidref_io  # noqa: E402

TORCH_FIDELITY = ("5e211a950a7b45206bd4976813ffd6aed6cf4ccc", {
    "torch_fidelity/metric_isc.py": "ad2810c2fee7122b79d7198b43e800c06e38ca41",
    "torch_fidelity/metric_kid.py": "f39d40ec01ca401911538000a89f49d3f7e07175",
    "torch_fidelity/metric_fid.py": "2d164ce1106d33b3f0d56b3fd063fa0c302e834d",
    "torch_fidelity/defaults.py": "b5888eb80e28524b225bbba9c2cce6bb28acac92",
    "torch_fidelity/helpers.py": "8b4b0d84de3c763cce20e56294367d0839cca636",
})
GUIDED_DIFFUSION = ("22e0df8183507e13a7813f8d38d51b072ca1e67c", {
    "evaluations/evaluator.py": "9590855d564dc94b9b779027a7eae3e3659dd215",
})


def inputs():
    rs = np.random.RandomState(2613)
    f32 = np.float32
    return {
        "is.logits": (3 * rs.randn(400, 100)).astype(f32),
        "kid.a": np.maximum(rs.randn(300, 64), 0).astype(f32),
        "kid.b": np.maximum(1.1 * rs.randn(260, 64) + 0.05, 0).astype(f32),
        "sfid.ref": np.maximum(rs.randn(300, 56) + 0.3, 0).astype(f32),
        "sfid.samples": np.maximum(1.2 * rs.randn(250, 56) + 0.2, 0).astype(f32),
        "pr.ref": np.clip(np.round(1.5 * rs.randn(1100, 16)), -5, 5).astype(f32),
        "pr.samples": np.clip(np.round(1.8 * rs.randn(1300, 16) + 0.5), -5, 5).astype(f32),
        "sfid.few": np.maximum(1.2 * rs.randn(40, 56) + 0.2, 0).astype(f32),
    }


class Recorder:
    """Wraps numpy.random.RandomState while active, keeping what permutation() and choice() return."""

    def __init__(self):
        self.draws = []

    def __enter__(self):
        rec, self.saved = self, np.random.RandomState

        class Recording(self.saved):
            def permutation(self, *a, **k):
                r = super().permutation(*a, **k)
                rec.draws.append(np.array(r))
                return r

            def choice(self, *a, **k):
                mark = len(rec.draws)
                r = super().choice(*a, **k)
                del rec.draws[mark:]          # choice without replacement calls permutation itself
                rec.draws.append(np.array(r))
                return r

        np.random.RandomState = Recording
        return self

    def __exit__(self, *exc):
        np.random.RandomState = self.saved


def torch_fidelity_refs(x, out):
    from torch_fidelity.defaults import DEFAULTS
    from torch_fidelity.metric_isc import isc_features_to_metric, KEY_METRIC_ISC_MEAN, KEY_METRIC_ISC_STD
    from torch_fidelity.metric_kid import kid_features_to_metric, KEY_METRIC_KID_MEAN, KEY_METRIC_KID_STD
    from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric, KEY_METRIC_FID

    keys = ("isc_splits", "kid_subsets", "kid_subset_size", "kid_kernel_poly_degree", "kid_kernel_poly_coef0", "rng_seed")
    out["tf.defaults"] = np.array([DEFAULTS[k] for k in keys], dtype=np.int64)
    assert DEFAULTS["kid_kernel_poly_gamma"] is None and DEFAULTS["kid_kernel"] == "poly" and DEFAULTS["samples_shuffle"]

    logits = torch.from_numpy(x["is.logits"].copy())
    with Recorder() as rec:
        r = isc_features_to_metric(logits, splits=DEFAULTS["isc_splits"], shuffle=True, rng_seed=DEFAULTS["rng_seed"])
    out["tf.is"] = np.array([r[KEY_METRIC_ISC_MEAN], r[KEY_METRIC_ISC_STD]])
    (perm,) = rec.draws
    out["tf.is.permutation"] = perm.astype(np.int64)
    r = isc_features_to_metric(logits, splits=7, shuffle=True, rng_seed=5)
    out["tf.is.s7"] = np.array([r[KEY_METRIC_ISC_MEAN], r[KEY_METRIC_ISC_STD]])

    def kid(a, b, **kw):
        kw = dict(dict(kid_kernel="poly", kid_kernel_poly_degree=DEFAULTS["kid_kernel_poly_degree"],
                       kid_kernel_poly_gamma=None, kid_kernel_poly_coef0=DEFAULTS["kid_kernel_poly_coef0"],
                       verbose=False), **kw)
        r = kid_features_to_metric(torch.from_numpy(a.copy()), torch.from_numpy(b.copy()), **kw)
        return np.array([r[KEY_METRIC_KID_MEAN], r[KEY_METRIC_KID_STD]])

    a, b = x["kid.a"], x["kid.b"]
    with Recorder() as rec:
        out["tf.kid"] = kid(a, b, kid_subsets=20, kid_subset_size=150, rng_seed=2020)
    out["tf.kid.subsets"] = np.array(rec.draws, dtype=np.int64).reshape(20, 2, 150)
    out["tf.kid.float64"] = kid(a.astype(np.float64), b.astype(np.float64), kid_subsets=20, kid_subset_size=150, rng_seed=2020)
    out["tf.kid.s5"] = kid(a, b, kid_subsets=5, kid_subset_size=260, rng_seed=7)
    out["tf.kid.s5.float64"] = kid(a.astype(np.float64), b.astype(np.float64), kid_subsets=5, kid_subset_size=260, rng_seed=7)

    s = fid_features_to_statistics(torch.from_numpy(x["sfid.samples"].copy()))
    r = fid_features_to_statistics(torch.from_numpy(x["sfid.ref"].copy()))
    out["tf.fid.sfid"] = np.array([fid_statistics_to_metric(s, r, verbose=False)[KEY_METRIC_FID]])


def load_adm_evaluator(root):
    tf = types.ModuleType("tensorflow")                                              # shim 1
    tf.compat = types.ModuleType("tensorflow.compat")
    tf.compat.v1 = types.ModuleType("tensorflow.compat.v1")
    sys.modules.update({"tensorflow": tf, "tensorflow.compat": tf.compat, "tensorflow.compat.v1": tf.compat.v1})
    sys.path.insert(0, root + "/evaluations")
    import evaluator
    if "bool" not in np.__dict__:
        np.bool = bool                                                               # shim 4
    return evaluator


def make_distance_block(dtype):
    class NumpyDistanceBlock:                                                        # shim 2
        """The DistanceBlock graph's formula in numpy, distances in `dtype` and returned as float32."""

        def __init__(self, session):
            self.session = session

        def pairwise_distances(self, U, V):
            u, v = np.asarray(U).astype(dtype), np.asarray(V).astype(dtype)
            nu = np.sum(np.square(u), axis=1).reshape(-1, 1)
            nv = np.sum(np.square(v), axis=1).reshape(1, -1)
            return np.maximum(nu - 2 * np.matmul(u, v.T) + nv, dtype(0)).astype(np.float32)

        def less_thans(self, batch_1, radii_1, batch_2, radii_2):
            d = self.pairwise_distances(batch_1, batch_2)[..., None]
            return np.any(d <= radii_2, axis=1), np.any(d <= radii_1[:, None], axis=0)

    return NumpyDistanceBlock


class SoftmaxSession:                                                                # shim 3
    def run(self, fetch, feed_dict):
        assert fetch == "softmax"
        x = np.asarray(feed_dict["softmax_input"], dtype=np.float32)
        e = np.exp(x - x.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)


def adm_refs(ev, x, out):
    def bare_evaluator(distance_dtype):                                              # shim 5
        e = ev.Evaluator.__new__(ev.Evaluator)
        e.sess = SoftmaxSession()
        e.softmax_batch_size = 512
        e.softmax, e.softmax_input = "softmax", "softmax_input"
        ev.DistanceBlock = make_distance_block(distance_dtype)
        e.manifold_estimator = ev.ManifoldEstimator(e.sess)
        return e

    e = bare_evaluator(np.float32)
    s, r = e.compute_statistics(x["sfid.samples"]), e.compute_statistics(x["sfid.ref"])
    assert s.mu.dtype == np.float32 and s.sigma.dtype == np.float64
    out["adm.sfid"] = np.array([s.frechet_distance(r)])
    s64 = e.compute_statistics(x["sfid.samples"].astype(np.float64))
    r64 = e.compute_statistics(x["sfid.ref"].astype(np.float64))
    out["adm.sfid.float64"] = np.array([s64.frechet_distance(r64)])
    out["adm.sfid.few"] = np.array([e.compute_statistics(x["sfid.few"]).frechet_distance(r)])
    out["adm.sfid.few.float64"] = np.array([e.compute_statistics(x["sfid.few"].astype(np.float64)).frechet_distance(r64)])

    n = len(x["is.logits"])
    out["adm.is"] = np.array([e.compute_inception_score(x["is.logits"][out["tf.is.permutation"]], split_size=n // 10)])

    results = {}
    for dt in (np.float16, np.float32, np.float64):
        results[dt.__name__] = bare_evaluator(dt).compute_prec_recall(x["pr.ref"], x["pr.samples"])
    print("ADM precision/recall with float16/32/64 distances:", results)
    if len(set(results.values())) != 1:
        sys.exit("precision/recall depend on the distance precision for these inputs; choose other inputs")
    out["adm.pr"] = np.array(results["float32"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--torch-fidelity", required=True)
    ap.add_argument("--guided-diffusion", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--compare")
    args = ap.parse_args()
    fidref_io.require_blobs(args.torch_fidelity, TORCH_FIDELITY[1], TORCH_FIDELITY[0])
    fidref_io.require_blobs(args.guided_diffusion, GUIDED_DIFFUSION[1], GUIDED_DIFFUSION[0])
    sys.path.insert(0, args.torch_fidelity)
    torch.set_num_threads(1)

    x = inputs()
    out = dict(x)
    torch_fidelity_refs(x, out)
    adm_refs(load_adm_evaluator(args.guided_diffusion), x, out)
    for k, v in out.items():
        if k not in x:
            print("%-18s %s" % (k, " ".join(repr(float(e)) if v.dtype.kind == "f" else str(e) for e in v.ravel())
                                if v.size <= 6 else "%s %s" % (v.dtype, v.shape)))
    meta = {"source": "toshas/torch-fidelity 5e211a9 (isc_features_to_metric, kid_features_to_metric, "
                      "fid_statistics_to_metric) and openai/guided-diffusion 22e0df8 evaluations/evaluator.py "
                      "(compute_statistics, FIDStatistics.frechet_distance, compute_inception_score, "
                      "compute_prec_recall) on numpy 1.24.2 / scipy 1.10.1 / PyTorch 1.13.1; shims and inputs in "
                      "testdata/scripts/make_fid_reference_metrics.py"}
    fidref_io.write_and_check(args.out, out, meta, args.compare)


if __name__ == "__main__":
    main()
