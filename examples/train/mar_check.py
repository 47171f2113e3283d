"""Reference outputs of the bundled MAR pair, computed by this recipe's PyTorch modules (mar_model.py) from the
exported files (examples/models/fmnist/mar-target, mar-draft, kl-vae .safetensors), for Tessera's
FashionMnistMarZooTest: the same weights and random stream must give the same latents and images in Java.

  /usr/bin/python3 mar_check.py            # writes testdata/fmnist-mar/expected.safetensors
  /usr/bin/python3 mar_check.py --check    # recomputes in memory and compares with the committed file
What it records (float32):
- {target,draft}.latents (4, 16, 8, 8): sample_tokens for classes 0..3 after np.random.seed(7) (the orders) and
  torch.manual_seed(7) (the Gaussians, CPU generator): 16 MAR steps, cfg 3 linear, temperature 1, 500 DDPM steps
  (the bundle's setting, BundledModels.MAR_SAMPLING);
  the seeded stream Tessera's generate(classes, 7, ...) draws;
- {target,draft}.net.{x,t,c,out}: the diffusion MLP alone on inputs drawn after torch.manual_seed(11);
- {target,draft}.mae.{tokens,mask,z}: the encoder and decoder on tokens and a mask (24 of 64 known) from seed 12,
  classes 3 and 7;
- vae.decoded (4, 3, 32, 32): the autoencoder's decode(target latents / 0.2325), not clamped.
One thread, so that the result does not depend on the thread count.
"""
import argparse
import os

import numpy as np
import torch

import st
from mar_model import MAR, unpatchify
from mar_vae import AutoencoderKL

HERE = os.path.dirname(os.path.abspath(__file__))
BUNDLE = os.environ.get('FMNIST_OUT', os.path.join(os.path.dirname(HERE), 'models', 'fmnist'))
OUT = os.path.join(os.path.dirname(os.path.dirname(HERE)), 'testdata', 'fmnist-mar', 'expected.safetensors')
SCALE = 0.2325
SETTINGS = dict(num_iter=16, cfg=3.0, cfg_schedule='linear', temperature=1.0, diffusion_steps=500)


def load_mar(name):
    sd = st.load(os.path.join(BUNDLE, name + '.safetensors'))
    W = sd['class_emb.weight'].shape[1]
    Wd = sd['mask_token'].shape[2]
    L = sd['diffusion_pos_embed_learned'].shape[1]
    enc = len({k.split('.')[1] for k in sd if k.startswith('encoder_blocks.')})
    dec = len({k.split('.')[1] for k in sd if k.startswith('decoder_blocks.')})
    m = MAR(seq_side=int(round(L ** 0.5)), token_dim=sd['z_proj.weight'].shape[1], enc_width=W, enc_depth=enc,
            enc_heads=max(1, W // 64), dec_width=Wd, dec_depth=dec, dec_heads=max(1, Wd // 64),
            buffer_size=sd['encoder_pos_embed_learned'].shape[1] - L, class_num=sd['class_emb.weight'].shape[0],
            diffloss_w=sd['diffloss.net.input_proj.weight'].shape[0],
            diffloss_d=len({k.split('.')[3] for k in sd if k.startswith('diffloss.net.res_blocks.')}))
    m.load_state_dict(sd)
    return m.eval()


def compute():
    torch.set_num_threads(1)
    out = {}
    vae = AutoencoderKL()
    vae.load_state_dict(st.load(os.path.join(BUNDLE, 'kl-vae.safetensors')))
    vae.eval()
    labels = torch.arange(4)
    with torch.no_grad():
        for name in ('target', 'draft'):
            m = load_mar('mar-' + name)
            np.random.seed(7)
            torch.manual_seed(7)
            lat = unpatchify(m.sample_tokens(labels, **SETTINGS))
            out[name + '.latents'] = lat.float().contiguous()
            torch.manual_seed(11)
            x = torch.randn(6, 16)
            t = torch.tensor([999, 990, 500, 123, 10, 0])
            c = torch.randn(6, m.mask_token.shape[2])
            out[name + '.net.x'], out[name + '.net.t'], out[name + '.net.c'] = x, t.float(), c
            out[name + '.net.out'] = m.diffloss.net(x, t, c).contiguous()
            torch.manual_seed(12)
            tokens = torch.randn(2, 64, 16)
            mask = torch.zeros(2, 64)
            for b in range(2):
                mask[b, torch.randperm(64)[:40]] = 1
            z = m.decode(m.encode(tokens, mask, m.class_emb(torch.tensor([3, 7]))), mask)
            out[name + '.mae.tokens'], out[name + '.mae.mask'], out[name + '.mae.z'] = tokens, mask, z.contiguous()
            if name == 'target':
                out['vae.decoded'] = vae.decode(lat / SCALE).contiguous()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--check', action='store_true')
    a = ap.parse_args()
    out = compute()
    if a.check:
        old = st.load(OUT)
        bad = [k for k in out if k not in old or not torch.equal(out[k], old[k])]
        print('differs:', bad if bad else 'nothing')
        raise SystemExit(1 if bad else 0)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    st.save(out, OUT, metadata={'made_by': 'examples/train/mar_check.py', 'seed': '7',
                                **{k: str(v) for k, v in SETTINGS.items()}})
    print('wrote', OUT, {k: tuple(v.shape) for k, v in out.items()})


if __name__ == '__main__':
    main()
