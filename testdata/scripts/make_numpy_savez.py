"""Makes testdata/fid/numpy-savez.npz (np.savez, stored members) and testdata/fid/numpy-savez-compressed.npz
(np.savez_compressed, deflated members): one small array of every dtype the Java .npz reader supports, a 0-d
string, an empty array, a Fortran-ordered and a big-endian array.

The reference is numpy's own writer (Debian's python3-numpy 1.24.2); nothing else is involved and there is no shim.
With numpy 1.24 and Debian's zlib the two files come out byte for byte as committed (zip entries are dated
1980-01-01 by numpy, so the bytes do not depend on the clock).

Usage: python3 make_numpy_savez.py --out-dir testdata/fid [--compare-dir testdata/fid]
"""
import argparse
import os

import numpy as np


def arrays():
    return {
        "f8": np.arange(6, dtype=np.float64).reshape(2, 3) / 7,
        "f4": np.array([1.5, -2.25, 3e-8, np.inf], dtype=np.float32),
        "u1": (np.arange(12) * 20).astype(np.uint8).reshape(2, 2, 3),
        "i8": np.array([-3, 2 ** 40], dtype=np.int64),
        "mode": np.array("clean-fid"),
        "empty": np.zeros((0, 5), dtype=np.float32),
        "fortran": np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)),
        "bigendian": np.arange(3, dtype=">f4"),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--compare-dir")
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    ok = True
    for name, save in (("numpy-savez.npz", np.savez), ("numpy-savez-compressed.npz", np.savez_compressed)):
        path = os.path.join(args.out_dir, name)
        save(path, **arrays())
        print("wrote", path)
        if args.compare_dir:
            ref_path = os.path.join(args.compare_dir, name)
            with np.load(path) as mine, np.load(ref_path) as ref:
                for k in ref.files:
                    a, b = mine[k], ref[k]
                    same = (a.dtype == b.dtype and a.shape == b.shape and np.isfortran(a) == np.isfortran(b)
                            and a.tobytes(order="A") == b.tobytes(order="A"))
                    print("  %-10s %s" % (k, "identical" if same else "DIFFERS"))
                    ok &= same
                ok &= mine.files == ref.files
            with open(path, "rb") as f1, open(ref_path, "rb") as f2:
                print("  whole file: %s" % ("byte-identical" if f1.read() == f2.read() else "bytes differ"))
    if args.compare_dir:
        print("all arrays identical" if ok else "SOME ARRAYS DIFFER")
        raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
