"""PyTorch (the official FoundationVision/VAR code) vs Tessera on the exported bundle.

  /usr/bin/python3 parity.py /path/to/FoundationVision/VAR --model ../models/fmnist/var-d4.safetensors --tokens t.json \
      --class 7 --seed 0 --cfg 2 --top-k 0 --top-p 0
Loads the exported safetensors into the official VQVAE / VAR classes, runs autoregressive_infer_cfg (all classes as
one batch) with a CPU generator seeded like Tessera's, and compares its tokens with the ones
`tessera generate var --tokens-out` wrote for the same classes, and the first decoded image with Tessera's PNG.
"""
import argparse
import json
import sys
import types

import torch

import st


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('root')
    ap.add_argument('--model', required=True)
    ap.add_argument('--vae', default=None)
    ap.add_argument('--tokens', required=True)
    ap.add_argument('--class', dest='cls', type=int, action='append', required=True)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--cfg', type=float, default=1.5)
    ap.add_argument('--top-k', type=int, default=0)
    ap.add_argument('--top-p', type=float, default=0.0)
    ap.add_argument('--png', default=None, help="Tessera's PNG of the first class, to compare pixels")
    a = ap.parse_args()
    torch.set_num_threads(2)
    sys.path.insert(0, a.root)
    sys.modules.setdefault('huggingface_hub', types.SimpleNamespace(PyTorchModelHubMixin=object))
    import models.basic_vae as bv
    from models.var import VAR as OVAR
    from models.vqvae import VQVAE as OVQVAE
    from train_vae import CFG
    vae_sd = st.load(a.vae or a.model.rsplit('/', 1)[0] + '/vae.safetensors')
    vae = OVQVAE(vocab_size=CFG['vocab_size'], z_channels=CFG['z_channels'], ch=CFG['ch'], v_patch_nums=CFG['v_patch_nums'],
                 share_quant_resi=4, test_mode=True)
    dd = dict(ch=CFG['ch'], ch_mult=CFG['ch_mult'], num_res_blocks=CFG['num_res_blocks'], z_channels=CFG['z_channels'],
              dropout=0.0, in_channels=3, using_sa=True, using_mid_sa=True)
    vae.encoder, vae.decoder = bv.Encoder(double_z=False, **dd), bv.Decoder(**dd)   # the 32 px level list
    torch.nn.Module.load_state_dict(vae, vae_sd)   # (the official override passes assign=, unknown to torch 1.13)
    vae.eval()
    sd = st.load(a.model)
    depth = sum(1 for k in sd if k.endswith('attn.mat_qkv.weight'))
    var = OVAR(vae, num_classes=10, depth=depth, embed_dim=depth * 64, num_heads=depth, attn_l2_norm=True,
               patch_nums=CFG['v_patch_nums'], flash_if_available=False, fused_if_available=False)
    var.load_state_dict(sd)
    var.eval()
    tess = json.load(open(a.tokens))['images']
    labels = torch.tensor(a.cls)
    toks, img = record_tokens(var, labels, a)     # the whole call as one batch, one generator
    same = total = 0
    for i, c in enumerate(a.cls):
        eq = [toks[si][i].tolist() == [int(v) for v in tess[i]['scales'][si]] for si in range(len(toks))]
        print('class', c, 'tokens equal per scale', eq)
        same += sum(eq); total += len(eq)
    if a.png:
        from PIL import Image
        import numpy as np
        ours = np.asarray(Image.open(a.png).convert('RGB')).astype(np.float32)
        ref = img[0].permute(1, 2, 0).mul(255).add(0.5).clamp(0, 255).to(torch.uint8).numpy().astype(np.float32)
        print('first image: PNG max abs difference vs official (0..255):', np.abs(ours - ref).max())
    print('scales equal: %d / %d' % (same, total))


def record_tokens(var, labels, a):
    import models.var as mv
    got = []
    orig = mv.sample_with_top_k_top_p_

    def spy(*args, **kw):
        r = orig(*args, **kw)
        got.append(r[:, :, 0].clone())
        return r
    mv.sample_with_top_k_top_p_ = spy
    try:
        img = var.autoregressive_infer_cfg(B=len(labels), label_B=labels, g_seed=a.seed, cfg=a.cfg, top_k=a.top_k, top_p=a.top_p)
    finally:
        mv.sample_with_top_k_top_p_ = orig
    return got, img


if __name__ == '__main__':
    main()
