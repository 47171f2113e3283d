"""Makes testdata/fid/preprocessing.safetensors: three 8-bit RGB images resized by each tool Tessera's FID
preprocessing modes reproduce, and rows of the full 299x299 network inputs of those modes.

Images (HxWx3 uint8):
  up      37x53, numpy RandomState(5).randint(0, 256, dtype=uint8), resized to 61x47 (upsampling);
  down    120x90, the next draw of the same RandomState, resized to 29x41 (downsampling);
  smooth  64x48, round(127.5 + 127.5 sin(0.13 x + 0.21 y + c)) for channel c, resized to 101x77.
(The same RandomState then draws the input of torch-ops/pooling.safetensors: see make_torch_ops.py.)

Per image, the three resizers, every channel on its own:
  torch_bilinear  F.interpolate(mode="bilinear", align_corners=False) of the [0, 1] image (uint8 / 255 in float32);
  tf_bilinear     torch-fidelity's interpolate_bilinear_2d_like_tensorflow1x(align_corners=False, method="slow")
                  of the 0..255 image in float32;
  pil_bicubic     Pillow's Image.resize(BICUBIC) of the channel as an "F" (float32) image, unclipped.
Full inputs ("down" and "smooth", rows 0 1 37 149 297 298 of every channel):
  pytorch-fid  the input of block 0 of pytorch-fid's InceptionV3 (a forward pre-hook), fed torchvision's ToTensor
               of the image: its own resize_input/normalize_input (bilinear to 299, then 2x - 1);
  adm          the input of Conv2d_1a_3x3 of torch-fidelity's FeatureExtractorInceptionV3 (a forward pre-hook), fed
               the uint8 image: TF1 bilinear to 299, then (x - 128) / 128;
  clean-fid    clean-fid's build_resizer("clean") (Pillow bicubic in "F" mode, clipped to [0, 255]), then the
               normalisation of its InceptionV3W.forward, x - 128 then / 128, in float32.

Official code, imported from the checkouts given on the command line (never committed):
  toshas/torch-fidelity  5e211a950a7b45206bd4976813ffd6aed6cf4ccc
  mseitzer/pytorch-fid   b9c18118d082cbd263c1b8963fc4221dc1cbb659
  GaParmar/clean-fid     e88c4d6269a4bbf04c04deeb578475b57719acee
with Debian's PyTorch 1.13.1, torchvision 0.14.1 and Pillow 9.4.

Shims (every one):
  1. pytorch-fid's fid_inception_v3 fetches its weights with load_state_dict_from_url; that name in
     pytorch_fid.inception is replaced by a function returning torch.load(--weights). The weights do not touch
     the network input this file records; the random-weight file only lets the model be built offline.
  2. torch-fidelity's extractor gets the same file through its own feature_extractor_weights_path argument (no
     patch needed).
  3. clean-fid's normalisation lives in InceptionV3W.forward, which needs NVIDIA's TorchScript network (not
     available offline): its two lines (x - 128, then / 128) are applied here to clean-fid's own resizer output.

Usage:
  python3 make_fid_preprocessing.py --torch-fidelity DIR --pytorch-fid DIR --clean-fid DIR \
      --weights ../shared/golden/fid-small/pt_inception-random.pth --out testdata/fid/preprocessing.safetensors \
      [--compare testdata/fid/preprocessing.safetensors]
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.dont_write_bytecode = True   # no __pycache__ next to the scripts
import fidref_io  # noqa: E402

TORCH_FIDELITY = ("5e211a950a7b45206bd4976813ffd6aed6cf4ccc", {
    "torch_fidelity/interpolate_compat_tensorflow.py": "b22197e62eb2b9beb7b89f910e39235a66294fc2",
    "torch_fidelity/feature_extractor_inceptionv3.py": "498cdf1e9dc920c5434fae2fcb473bf21bb43258",
})
PYTORCH_FID = ("b9c18118d082cbd263c1b8963fc4221dc1cbb659", {
    "src/pytorch_fid/inception.py": "a6fb4652a774acaf3daf348b38acce706cbd3198",
})
CLEAN_FID = ("e88c4d6269a4bbf04c04deeb578475b57719acee", {
    "cleanfid/resize.py": "39b88bd0b1d68c719a538c93b7c0bd6e160dee30",
    "cleanfid/inception_torchscript.py": "44fe35e9129c994da34442c40ba886065faab923",
})
ROWS = np.array([0, 1, 37, 149, 297, 298], dtype=np.int64)
SIZES = {"up": (61, 47), "down": (29, 41), "smooth": (101, 77)}


def images():
    rs = np.random.RandomState(5)
    up = rs.randint(0, 256, (37, 53, 3), dtype=np.uint8)
    down = rs.randint(0, 256, (120, 90, 3), dtype=np.uint8)
    y, x = np.mgrid[0:64, 0:48]
    smooth = np.stack([np.round(127.5 + 127.5 * np.sin(0.13 * x + 0.21 * y + c)) for c in range(3)], -1).astype(np.uint8)
    return {"up": up, "down": down, "smooth": smooth}


def capture_input(module):
    """Runs the caller's forward; returns what `module` received (a forward pre-hook)."""
    seen = {}

    def hook(_, args):
        seen["x"] = args[0].detach().clone()

    return seen, module.register_forward_pre_hook(hook)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--torch-fidelity", required=True)
    ap.add_argument("--pytorch-fid", required=True)
    ap.add_argument("--clean-fid", required=True)
    ap.add_argument("--weights", required=True, help="pt_inception-random.pth (the fid-small random weights)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--compare")
    args = ap.parse_args()
    fidref_io.require_blobs(args.torch_fidelity, TORCH_FIDELITY[1], TORCH_FIDELITY[0])
    fidref_io.require_blobs(args.pytorch_fid, PYTORCH_FID[1], PYTORCH_FID[0])
    fidref_io.require_blobs(args.clean_fid, CLEAN_FID[1], CLEAN_FID[0])
    sys.path[:0] = [args.torch_fidelity, os.path.join(args.pytorch_fid, "src"), args.clean_fid]
    from torch_fidelity.interpolate_compat_tensorflow import interpolate_bilinear_2d_like_tensorflow1x
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
    import pytorch_fid.inception as pfid
    from cleanfid.resize import build_resizer
    import torchvision.transforms as T
    torch.set_num_threads(1)

    pfid.load_state_dict_from_url = lambda *a, **k: torch.load(args.weights)   # shim 1
    pytorch_fid_net = pfid.InceptionV3([0]).eval()
    adm_net = FeatureExtractorInceptionV3("inception-v3-compat", ["64"], feature_extractor_weights_path=args.weights)
    clean_resize = build_resizer("clean")

    out = {}
    imgs = images()
    with torch.no_grad():
        for name, img in imgs.items():
            out["image." + name] = img
            oh, ow = SIZES[name]
            chw = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1))).float()[None]
            out["torch_bilinear." + name] = F.interpolate(chw / 255, size=(oh, ow), mode="bilinear", align_corners=False)[0].numpy()
            out["tf_bilinear." + name] = interpolate_bilinear_2d_like_tensorflow1x(chw, size=(oh, ow), align_corners=False,
                                                                                 method="slow")[0].numpy()
            out["pil_bicubic." + name] = np.stack([
                np.asarray(Image.fromarray(img[:, :, c].astype(np.float32), mode="F").resize((ow, oh), resample=Image.BICUBIC))
                for c in range(3)])
        out["rows"] = ROWS
        for name in ("down", "smooth"):
            img = imgs[name]
            seen, h = capture_input(pytorch_fid_net.blocks[0])
            pytorch_fid_net(T.ToTensor()(Image.fromarray(img))[None])
            h.remove()
            out["pytorch-fid." + name] = seen["x"][0][:, ROWS].numpy()
            seen, h = capture_input(adm_net.Conv2d_1a_3x3)
            adm_net(torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))[None])
            h.remove()
            out["adm." + name] = seen["x"][0][:, ROWS].numpy()
            x = torch.tensor(clean_resize(img).transpose((2, 0, 1)))                 # as clean-fid's get_model_features
            x = (x - 128) / 128                                                         # shim 3 (InceptionV3W.forward)
            out["clean-fid." + name] = x[:, ROWS].numpy()

    order = []
    for name in ("up", "down", "smooth"):
        order += ["image." + name, "torch_bilinear." + name, "tf_bilinear." + name, "pil_bicubic." + name]
    order.append("rows")
    for name in ("down", "smooth"):
        order += ["pytorch-fid." + name, "adm." + name, "clean-fid." + name]
    meta = {"source": "torch 1.13 F.interpolate; torch-fidelity 5e211a9 interpolate_bilinear_2d_like_tensorflow1x; "
                      "Pillow 9.4 Image.resize BICUBIC in F mode"}
    fidref_io.write_and_check(args.out, {k: out[k] for k in order}, meta, args.compare)


if __name__ == "__main__":
    main()
