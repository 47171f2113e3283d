"""Makes testdata/fid/metrics.safetensors: the linear-algebra, random-stream and metric references of MetricsTest,
computed with numpy (float64) in one seeded stream. It is kept as committed; the official IS/KID/P-R/sFID
references are testdata/fid/reference-metrics.safetensors (make_fid_reference_metrics.py).

What each entry is (all random arrays from one numpy RandomState(11), drawn in this order):
  eig.a5, eig.a40          (G + G^T) / 2 of standard normal G (5x5, 40x40); .values = np.linalg.eigvalsh
  eig.lowrank              B B^T, B 30x7 standard normal (rank 7)
  eig.repeated             Q diag(3 x6, 1 x6, -2 x4, 0 x4) Q^T symmetrised, Q from np.linalg.qr of a 20x20 normal
  eig.diagonal             diag(4, 3, ..., -3)
  frechet.ref/few/many     max(1.5 g + 0.3, 0) 300x64, max(1.2 g + 0.5, 0) 20x64, max(g + 0.4, 0) 150x64;
  frechet.*_vs_ref         the Frechet distance as torch-fidelity >= 0.4 computes it (np.mean, np.cov, the real
                           part of the complex square roots of np.linalg.eigvals(s1 s2)), written out in numpy
  rng.permutation_2020_250 RandomState(2020).permutation(250)
  rng.choice_7             RandomState(7): choice(100, 10), choice(70000, 5), choice(1000, 3), without replacement
  is.logits                float32(2.5 g), 250x30; is.expected = [mean, std] of torch-fidelity's IS definition
                           (RandomState(2020) permutation, 10 splits, float64) re-implemented in numpy
  kid.a, kid.b             float32(g + 0.2) 120x32, float32(1.1 g) 90x32; kid.expected = [mean, std] of the
                           unbiased MMD^2 with (x.y/32 + 1)^3 over 10 subsets of 50 (RandomState(2020) choice,
                           first set then second) in float64 numpy
  pr.ref, pr.samples       float32(g) 200x16, float32(1.3 g + 0.4) 150x16 (after 350x16 normals that the
                           original run drew and did not use: skipped here to stay on the same stream);
                           pr.expected = [precision, recall] of the ADM definition (k = 3, squared distances,
                           <=) in float64 numpy

No official repository is imported (this file predates item 8 of issue 13 and its metric entries are numpy
re-implementations; reference-metrics.safetensors has the official ones); numpy 1.24.2 with Debian's OpenBLAS
0.3.21. The results depend on OpenBLAS's kernels: the committed file comes out bit for bit with
OPENBLAS_CORETYPE=SkylakeX; the kernels OpenBLAS picks on an AMD EPYC (Haswell/Zen) move the B B^T product and the
eigenvalues by up to 3e-14 and frechet.few_vs_ref (20 samples, rank-deficient) by 3e-9. No shim.

Usage: OPENBLAS_CORETYPE=SkylakeX python3 make_fid_metrics.py --out testdata/fid/metrics.safetensors [--compare FILE]
"""
import argparse
import sys

import numpy as np

sys.dont_write_bytecode = True   # no __pycache__ next to the scripts
import fidref_io  # noqa: E402


def frechet(a, b):
    m1, m2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    d = m1 - m2
    return d.dot(d) + np.trace(s1) + np.trace(s2) - 2 * np.sum(np.sqrt(np.linalg.eigvals(s1.dot(s2)).astype("complex128")).real)


def inception_score(logits, splits=10, seed=2020):
    x = logits.astype(np.float64)[np.random.RandomState(seed).permutation(len(logits))]
    m = x.max(1, keepdims=True)
    logp = x - m - np.log(np.exp(x - m).sum(1, keepdims=True))
    p = np.exp(logp)
    n, scores = len(x), []
    for i in range(splits):
        a, b = i * n // splits, (i + 1) * n // splits
        kl = p[a:b] * (logp[a:b] - np.log(p[a:b].mean(0, keepdims=True)))
        scores.append(np.exp(kl.sum(1).mean()))
    return np.array([np.mean(scores), np.std(scores)])


def kid(a, b, subsets=10, m=50, seed=2020):
    a, b = a.astype(np.float64), b.astype(np.float64)
    d, rng, mmd = a.shape[1], np.random.RandomState(seed), []
    for _ in range(subsets):
        x = a[rng.choice(len(a), m, replace=False)]
        y = b[rng.choice(len(b), m, replace=False)]
        kxx, kyy, kxy = (x @ x.T / d + 1) ** 3, (y @ y.T / d + 1) ** 3, (x @ y.T / d + 1) ** 3
        mmd.append((kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1)) - 2 * kxy.sum() / (m * m))
    return np.array([np.mean(mmd), np.std(mmd)])


def precision_recall(ref, samples, k=3):
    def d2(u, v):
        u, v = u.astype(np.float64), v.astype(np.float64)
        return np.maximum((u * u).sum(1)[:, None] - 2 * u @ v.T + (v * v).sum(1)[None, :], 0)
    r_ref = np.partition(d2(ref, ref), k, axis=1)[:, k]
    r_sam = np.partition(d2(samples, samples), k, axis=1)[:, k]
    d = d2(samples, ref)
    return np.array([(d <= r_ref[None, :]).any(1).mean(), (d <= r_sam[:, None]).any(0).mean()])


def make():
    rs = np.random.RandomState(11)
    out = {}
    g = rs.randn(5, 5)
    out["eig.a5"] = (g + g.T) / 2
    g = rs.randn(40, 40)
    out["eig.a40"] = (g + g.T) / 2
    b = rs.randn(30, 7)
    out["eig.lowrank"] = b @ b.T
    q, _ = np.linalg.qr(rs.randn(20, 20))
    c = (q * np.array([3.] * 6 + [1.] * 6 + [-2.] * 4 + [0.] * 4)) @ q.T
    out["eig.repeated"] = (c + c.T) / 2
    out["eig.diagonal"] = np.diag(np.arange(4, -4, -1).astype(np.float64))
    ordered = {}
    for name in ("a5", "a40", "lowrank", "repeated", "diagonal"):
        ordered["eig." + name] = out["eig." + name]
        ordered["eig." + name + ".values"] = np.linalg.eigvalsh(out["eig." + name])
    out = ordered
    out["frechet.ref"] = np.maximum(rs.randn(300, 64) * 1.5 + 0.3, 0)
    out["frechet.few"] = np.maximum(rs.randn(20, 64) * 1.2 + 0.5, 0)
    out["frechet.many"] = np.maximum(rs.randn(150, 64) * 1.0 + 0.4, 0)
    out["frechet.few_vs_ref"] = np.array([frechet(out["frechet.few"], out["frechet.ref"])])
    out["frechet.many_vs_ref"] = np.array([frechet(out["frechet.many"], out["frechet.ref"])])
    out["rng.permutation_2020_250"] = np.random.RandomState(2020).permutation(250).astype(np.int64)
    r7 = np.random.RandomState(7)
    out["rng.choice_7"] = np.concatenate([r7.choice(100, 10, replace=False), r7.choice(70000, 5, replace=False),
                                          r7.choice(1000, 3, replace=False)]).astype(np.int64)
    out["is.logits"] = (rs.randn(250, 30) * 2.5).astype(np.float32)
    out["is.expected"] = inception_score(out["is.logits"])
    out["kid.a"] = (rs.randn(120, 32) + 0.2).astype(np.float32)
    out["kid.b"] = (rs.randn(90, 32) * 1.1).astype(np.float32)
    out["kid.expected"] = kid(out["kid.a"], out["kid.b"])
    rs.randn(350, 16)   # drawn and not used by the original run
    out["pr.ref"] = rs.randn(200, 16).astype(np.float32)
    out["pr.samples"] = (rs.randn(150, 16) * 1.3 + 0.4).astype(np.float32)
    out["pr.expected"] = precision_recall(out["pr.ref"], out["pr.samples"])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--compare")
    args = ap.parse_args()
    meta = {"source": "numpy 1.24 (float64): eigvalsh; Frechet distance via eigvals(s1@s2); torch-fidelity IS/KID "
                      "and ADM precision/recall definitions re-implemented in numpy"}
    fidref_io.write_and_check(args.out, make(), meta, args.compare)


if __name__ == "__main__":
    main()
