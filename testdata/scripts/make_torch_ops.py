"""Makes testdata/torch-ops/pooling.safetensors and testdata/torch-ops/interpolation.safetensors.

The reference computation is PyTorch itself (torch.nn.functional, Debian's python3-torch 1.13.1, CPU, float32); no
other repository is involved, so there is nothing to pin but the PyTorch version, and no shim.

pooling: a 3x9x8 float32 input of standard normals from numpy's RandomState(5), drawn after the two 8-bit random
images of fid/preprocessing.safetensors (both files were made in one run; the draws are replayed here), through
F.max_pool2d(3, 2), F.max_pool2d(3, 1, 1), F.avg_pool2d(3, 1, 1, count_include_pad=False) and
F.adaptive_avg_pool2d(1).

interpolation: inputs x[i] = float32(sin(0.37 i + 0.11)) * float32(3) over the flat index of a C x H x W block
(sin in float64, rounded to float32, then the product in float32, as InterpolationTest builds them), through
F.interpolate(mode="bicubic", align_corners=False) from every VAR patch side pn to 16 and 32 and mode="area" back,
for the 256 px schedule (1 2 3 4 5 6 8 10 13 -> 16) and the 512 px one (1 2 3 4 6 9 13 18 24 -> 32), and a
non-square 3x5x7 case (bicubic to 11x16, area to 3x4).

Usage: python3 make_torch_ops.py --out-dir testdata/torch-ops [--compare-dir testdata/torch-ops]
"""
import argparse
import sys
import os

import numpy as np
import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True   # no __pycache__ next to the scripts
import fidref_io  # noqa: E402

TORCH = "1.13"


def pooling():
    rs = np.random.RandomState(5)
    rs.randint(0, 256, (37, 53, 3), dtype=np.uint8)    # fid/preprocessing.safetensors image.up
    rs.randint(0, 256, (120, 90, 3), dtype=np.uint8)   # fid/preprocessing.safetensors image.down
    x = rs.randn(3, 9, 8).astype(np.float32)
    t = torch.from_numpy(x)[None]
    with torch.no_grad():
        out = {
            "input": x,
            "max_s2": F.max_pool2d(t, 3, 2)[0].numpy(),
            "max_s1p1": F.max_pool2d(t, 3, 1, 1)[0].numpy(),
            "avg_exclude_pad": F.avg_pool2d(t, 3, 1, 1, count_include_pad=False)[0].numpy(),
            "global_avg": F.adaptive_avg_pool2d(t, 1)[0].reshape(3).numpy(),
        }
    meta = {"source": "torch 1.13 F.max_pool2d / F.avg_pool2d(count_include_pad=False) / F.adaptive_avg_pool2d"}
    return out, meta


def wave(c, h, w):
    i = np.arange(c * h * w, dtype=np.float64)
    x = np.sin(0.37 * i + 0.11).astype(np.float32) * np.float32(3)
    return torch.from_numpy(x.reshape(1, c, h, w))


def interpolation():
    out = {}
    with torch.no_grad():
        for side, pns in ((16, (1, 2, 3, 4, 5, 6, 8, 10, 13)), (32, (1, 2, 3, 4, 6, 9, 13, 18, 24))):
            for pn in pns:
                out["bicubic.%d.%d" % (pn, side)] = F.interpolate(wave(2, pn, pn), size=(side, side), mode="bicubic",
                                                                  align_corners=False)[0].numpy()
                out["area.%d.%d" % (side, pn)] = F.interpolate(wave(2, side, side), size=(pn, pn), mode="area")[0].numpy()
        out["bicubic.5x7.11x16"] = F.interpolate(wave(3, 5, 7), size=(11, 16), mode="bicubic", align_corners=False)[0].numpy()
        out["area.5x7.3x4"] = F.interpolate(wave(3, 5, 7), size=(3, 4), mode="area")[0].numpy()
    return {k: out[k] for k in sorted(out)}, None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--compare-dir", help="a folder holding the committed files to check the new ones against")
    args = ap.parse_args()
    if not torch.__version__.startswith(TORCH):
        print("warning: made with PyTorch %s, this is %s" % (TORCH, torch.__version__))
    torch.set_num_threads(1)
    ok = True
    for name, make in (("pooling", pooling), ("interpolation", interpolation)):
        tensors, meta = make()
        path = os.path.join(args.out_dir, name + ".safetensors")
        fidref_io.write_safetensors(path, tensors, meta)
        print("wrote", path)
        if args.compare_dir:
            ok &= fidref_io.compare(path, os.path.join(args.compare_dir, name + ".safetensors"))
    if args.compare_dir:
        print("all tensors identical" if ok else "SOME TENSORS DIFFER")
        raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
