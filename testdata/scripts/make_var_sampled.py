"""Remakes testdata/var-sampled/golden.safetensors with the official VAR code.

The tokens the official ``VAR.autoregressive_infer_cfg`` samples (top-k/top-p, optionally ``more_smooth``'s Gumbel
path) for the random var-small weights (testdata/var-small/var.pth, vae.pth), labels [3, 7], on CPU with the
model's own ``torch.Generator('cpu')`` seeded by ``g_seed``, for the four settings below.

Official code: FoundationVision/VAR at 78b95394fc5896192e3a003e4b295f8ea743c48f, passed as --repo (never
committed). Run with PyTorch 1.13 on CPU (Debian's python3-torch); one thread is enough.

Shims (in memory only; nothing in the checkout is changed):
  * ``huggingface_hub`` is not installed: a stand-in module whose ``PyTorchModelHubMixin`` is an empty class
    (it is only a base of ``VARHF``, which is not used).
  * none for attention: PyTorch 1.13 has no ``F.scaled_dot_product_attention``, so models/basic_var.py takes its
    own ``slow_attn`` fallback (an official code path); flash-attn and xformers are absent and are also turned off
    (``flash_if_available=False, fused_if_available=False``).
  * ``VQVAE.load_state_dict`` forwards ``assign=``, which PyTorch 1.13's ``nn.Module.load_state_dict`` lacks: the
    VAE's weights are loaded with ``nn.Module.load_state_dict`` directly (the override only resizes
    ``quantize.ema_vocab_hit_SV``, a training statistic whose shape already matches here).
  * the tokens are recorded by wrapping ``models.var.sample_with_top_k_top_p_`` (the official function is called
    unchanged; the wrapper keeps a copy of the indices it returns). ``autoregressive_infer_cfg`` itself only
    returns the image.

Usage:
  python3 testdata/scripts/make_var_sampled.py --repo /path/to/VAR            # rewrites the file
  python3 testdata/scripts/make_var_sampled.py --repo /path/to/VAR --check    # compares, bit for bit
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import refkit  # noqa: E402

COMMIT = '78b95394fc5896192e3a003e4b295f8ea743c48f'
BLOBS = {
    'dist.py': '7e28322fe831eba55769184d5c7f9573099fad33',
    'models/__init__.py': '7ff2e3b8889e5995654c7235f38371f0ac2742d1',
    'models/basic_vae.py': 'bda09e4e6969c504f4684dda9ae68ece7bd66f82',
    'models/basic_var.py': '84afa3e7edbfc8f69bf9d6208d95ac25aebef79a',
    'models/helpers.py': '91a4b5c65a4531e9a2125bb7e17fa72b73f761b3',
    'models/quant.py': '3b153959b56a0b02a23ea593009f210e739ce884',
    'models/var.py': 'afa5f02d5d854ac46d8ee3d58f666dcb96f7cf52',
    'models/vqvae.py': 'ddc3079aa13c904044e6d9954616a7f3b20ba069',
}
LABELS = [3, 7]
CASES = [
    {'seed': 42, 'cfg': 1.5, 'top_k': 50, 'top_p': 0.9, 'smooth': False},
    {'seed': 7, 'cfg': 4.0, 'top_k': 0, 'top_p': 0.96, 'smooth': False},
    {'seed': 5, 'cfg': 2.0, 'top_k': 20, 'top_p': 0.0, 'smooth': True},
    {'seed': 0, 'cfg': 1.5, 'top_k': 500, 'top_p': 0.96, 'smooth': False},   # the FID recipe
]
PATCH_NUMS = (1, 2, 3, 4, 5, 6, 8, 10, 13, 16)


def main():
    args = refkit.parser(__doc__, refkit.testdata('var-sampled', 'golden.safetensors')).parse_args()
    repo = refkit.pin_checkout(args.repo, COMMIT, BLOBS, args.any_commit)
    torch.set_num_threads(1)
    refkit.check_environment()

    class PyTorchModelHubMixin:  # stand-in: only a base class of VARHF
        pass
    refkit.stub_module('huggingface_hub', PyTorchModelHubMixin=PyTorchModelHubMixin)
    sys.path.insert(0, repo)
    import models
    import models.var as var_module

    # var-small: VQVAE vocab 512, Cvae 8, ch 32; VAR depth 2 (width 128, 2 heads), 10 classes
    vae, var = models.build_vae_var(device='cpu', patch_nums=PATCH_NUMS, V=512, Cvae=8, ch=32, share_quant_resi=4,
                                    num_classes=10, depth=2, shared_aln=False, attn_l2_norm=True,
                                    flash_if_available=False, fused_if_available=False)
    torch.nn.Module.load_state_dict(vae, torch.load(refkit.testdata('var-small', 'vae.pth'), map_location='cpu'),
                                    strict=True)
    var.load_state_dict(torch.load(refkit.testdata('var-small', 'var.pth'), map_location='cpu'), strict=True)
    vae.eval()
    var.eval()

    recorded = []
    official_sample = var_module.sample_with_top_k_top_p_

    def recording_sample(*a, **k):
        idx = official_sample(*a, **k)
        recorded.append(idx[:, :, 0].clone())
        return idx
    var_module.sample_with_top_k_top_p_ = recording_sample

    tensors = {}
    with torch.inference_mode():
        for c, s in enumerate(CASES):
            recorded.clear()
            var.autoregressive_infer_cfg(B=len(LABELS), label_B=torch.tensor(LABELS), g_seed=s['seed'], cfg=s['cfg'],
                                         top_k=s['top_k'], top_p=s['top_p'], more_smooth=s['smooth'])
            assert len(recorded) == len(PATCH_NUMS)
            for si, idx in enumerate(recorded):
                tensors[f'case{c}.tokens.{si}'] = idx.to(torch.int64)
            print(f'case {c} {s}: first tokens {recorded[-1][0, :8].tolist()}')

    meta = {'cases': json.dumps(CASES), 'labels': json.dumps(LABELS),
            'made_by': 'FoundationVision/VAR@78b9539 autoregressive_infer_cfg on CPU, torch 1.13, torch.Generator(cpu)'}
    ok = refkit.finish(args, refkit.safetensors_bytes(tensors, meta), refkit.compare_safetensors)
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
