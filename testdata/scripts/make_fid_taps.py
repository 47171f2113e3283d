"""Makes testdata/fid/taps.safetensors: the two FID Inception taps besides pool3, for the fid-small golden inputs
and random weights, from pytorch-fid's own network.

  spatial          (6, 2023)  the output of Mixed_6d.branch1x1 (conv, BN, ReLU), captured by a forward hook on
                              pytorch-fid's InceptionV3([3]), moved to NHWC, channels 0..6, flattened: the sFID
                              feature of the ADM evaluator (its mixed_6/conv:0);
  logits_unbiased  (6, 1008)  pool3 (InceptionV3's own output) times the transposed fc weight of the model
                              fid_inception_v3() built, without the bias (torch-fidelity's 'logits_unbiased':
                              x.mm(fc.weight.T)); pytorch-fid's InceptionV3 never runs its fc.

The input is `inception.input` of testdata/fid-small/golden.safetensors (6 images, 3x64x80, k/255), fed as is:
InceptionV3 resizes it (bilinear to 299, align_corners=False) and maps it to 2x - 1 itself. The script also
checks that pool3 equals the golden `inception.pool3` bit for bit.

Official code, imported from the checkout given on the command line (never committed):
  mseitzer/pytorch-fid b9c18118d082cbd263c1b8963fc4221dc1cbb659 (src/pytorch_fid/inception.py)
with Debian's PyTorch 1.13.1 and torchvision 0.14.1, CPU, float32, 4 threads (with 2 or more, pool3 equals the
golden one bit for bit; with 1, oneDNN's convolutions sum in another order and pool3 moves by about 1e-6).

Shims (every one):
  1. fid_inception_v3 fetches the real weights with load_state_dict_from_url; that name in pytorch_fid.inception
     is replaced by a function returning torch.load(--weights) (pt_inception-random.pth of ../shared/golden/
     fid-small: the keys and container of pt_inception-2015-12-05-6726825d.pth, random float16 values that
     load_state_dict copies into the float32 network).
  2. pytorch_fid.inception.fid_inception_v3 is wrapped to keep a reference to the model it returns, so that its
     fc weight can be read (InceptionV3 keeps only the blocks it runs).

Usage:
  python3 make_fid_taps.py --pytorch-fid DIR --weights ../shared/golden/fid-small/pt_inception-random.pth \
      --golden testdata/fid-small/golden.safetensors --out testdata/fid/taps.safetensors [--compare FILE]
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.dont_write_bytecode = True   # no __pycache__ next to the scripts
import fidref_io  # noqa: E402

PYTORCH_FID = ("b9c18118d082cbd263c1b8963fc4221dc1cbb659", {
    "src/pytorch_fid/inception.py": "a6fb4652a774acaf3daf348b38acce706cbd3198",
})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pytorch-fid", required=True)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--golden", required=True, help="testdata/fid-small/golden.safetensors")
    ap.add_argument("--out", required=True)
    ap.add_argument("--compare")
    ap.add_argument("--threads", type=int, default=4,
                    help="torch threads; with 1, oneDNN convolves in another order and pool3 moves by ~1e-6")
    args = ap.parse_args()
    fidref_io.require_blobs(args.pytorch_fid, PYTORCH_FID[1], PYTORCH_FID[0])
    sys.path.insert(0, os.path.join(args.pytorch_fid, "src"))
    import pytorch_fid.inception as pfid
    torch.set_num_threads(args.threads)

    pfid.load_state_dict_from_url = lambda *a, **k: torch.load(args.weights)    # shim 1
    built = {}
    official_fid_inception_v3 = pfid.fid_inception_v3

    def keep(*a, **k):                                                             # shim 2
        built["inception"] = official_fid_inception_v3(*a, **k)
        return built["inception"]

    pfid.fid_inception_v3 = keep
    net = pfid.InceptionV3([3]).eval()
    mixed_6d = built["inception"].Mixed_6d
    assert any(m is mixed_6d for m in net.blocks[2]), "Mixed_6d is not among the blocks InceptionV3 runs"
    taps = {}
    mixed_6d.branch1x1.register_forward_hook(lambda m, i, o: taps.__setitem__("spatial", o.detach().clone()))

    _, golden = fidref_io.read_safetensors(args.golden)
    x = torch.from_numpy(golden["inception.input"].copy())
    with torch.no_grad():
        pool3 = net(x)[0].flatten(1)
        logits = pool3.mm(built["inception"].fc.weight.T)
    same = np.array_equal(pool3.numpy(), golden["inception.pool3"])
    print("pool3 vs golden inception.pool3: %s (max abs diff %.3g)" % (
        "identical" if same else "DIFFERS", float(np.abs(pool3.numpy() - golden["inception.pool3"]).max())))
    if not same:
        print("warning: this PyTorch build does not reproduce the golden pool3; the taps will not be the committed ones")
    spatial = taps["spatial"].permute(0, 2, 3, 1)[..., :7].reshape(x.shape[0], -1)
    out = {"spatial": spatial.numpy(), "logits_unbiased": logits.numpy()}
    meta = {"source": "mseitzer/pytorch-fid b9c1811 InceptionV3([3]) on PyTorch 1.13 CPU, random weights "
                      "pt_inception-random.pth, fid-small golden inputs; spatial = forward hook on "
                      "Mixed_6d.branch1x1 (ReLU output), NHWC, channels 0..6, flattened; logits_unbiased = "
                      "pool3.mm(fc.weight.T) (no bias); made by testdata/scripts/make_fid_taps.py"}
    fidref_io.write_safetensors(args.out, out, meta)
    print("wrote", args.out)
    if args.compare:
        ok = fidref_io.compare(args.out, args.compare)
        _, a = fidref_io.read_safetensors(args.out)
        _, b = fidref_io.read_safetensors(args.compare)
        for k in b:
            d = np.abs(a[k].astype(np.float64) - b[k]).max()
            rel = d / np.abs(b[k]).max()
            ulp = d / np.spacing(np.abs(b[k]).max().astype(np.float32))
            print("%-16s max abs diff %.3g: %.3g of the largest |value|, %.1f float32 ulps of it" % (k, d, rel, ulp))
        print("all tensors identical" if ok else "SOME TENSORS DIFFER")
        raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
