"""Reference outputs of the bundled FlowAR pair and KL autoencoder, computed by this recipe's PyTorch modules from the
exported files (examples/models/fmnist/flowar-target, flowar-draft, kl-vae .safetensors), for Tessera's
FlowArZooParityTest: the same weights must give the same latents and images in Java.

  /usr/bin/python3 flowar_check.py            # writes testdata/fmnist-flowar/expected.safetensors
  /usr/bin/python3 flowar_check.py --check    # recomputes in memory and compares with the committed file
What it records (float32):
- {target,draft}.labels (10): classes 0..9; {target,draft}.latents (10, 16, 8, 8): FlowARs sample_tokens with the
  release's Euler sampler (25 steps), cfg 3, guidance 0.9, after torch.manual_seed(7) (the starting noise of every
  scale is torch.randn(2B, n, 16) on the CPU generator, which Tessera's seeded noise reproduces);
- {target,draft}.flow.{x,t,cond,v}: the flow head alone on inputs drawn from torch.manual_seed(11);
- vae.decoded (10, 3, 32, 32): the autoencoder's decode(target latents / 0.2325), not clamped;
- vae.images (4, 3, 32, 32), vae.encoded (4, 16, 8, 8): the first test image of classes 0..3 and their posterior
  means (unscaled).
One thread, so that the result does not depend on the thread count.
"""
import argparse
import os

import torch

import data
import st
from flowar_model import FlowAR
from mar_vae import AutoencoderKL

HERE = os.path.dirname(os.path.abspath(__file__))
BUNDLE = os.environ.get('FMNIST_OUT', os.path.join(os.path.dirname(HERE), 'models', 'fmnist'))
OUT = os.path.join(os.path.dirname(os.path.dirname(HERE)), 'testdata', 'fmnist-flowar', 'expected.safetensors')
SCALE = 0.2325


def load_flowar(name):
    sd = st.load(os.path.join(BUNDLE, name + '.safetensors'))
    width = sd['class_emb.weight'].shape[1]
    enc = len({k.split('.')[1] for k in sd if k.startswith('encoder_blocks.')})
    dec = len({k.split('.')[1] for k in sd if k.startswith('decoder_blocks.')})
    fw = sd['flownet.input_proj.weight'].shape[0]
    fd = len({k.split('.')[2] for k in sd if k.startswith('flownet.res_blocks.')})
    m = FlowAR(width=width, enc_depth=enc, dec_depth=dec, heads=max(1, width // 64), flow_width=fw, flow_depth=fd)
    m.load_state_dict(sd)
    return m.eval()


def compute():
    torch.set_num_threads(1)
    out = {}
    vae = AutoencoderKL()
    vae.load_state_dict(st.load(os.path.join(BUNDLE, 'kl-vae.safetensors')))
    vae.eval()
    labels = torch.arange(10)
    with torch.no_grad():
        for name in ('target', 'draft'):
            m = load_flowar('flowar-' + name)
            torch.manual_seed(7)
            lat = m.sample(labels, num_steps=25, cfg=3.0, guidance=0.9)
            out[name + '.labels'] = labels.float()
            out[name + '.latents'] = lat.float().contiguous()
            torch.manual_seed(11)
            x = torch.randn(4, 16, 16)
            t = torch.tensor([1.0, 0.8727, 0.3, 0.0417])
            cond = torch.randn(4, 16, m.class_emb.weight.shape[1])
            out[name + '.flow.x'], out[name + '.flow.t'], out[name + '.flow.cond'] = x, t, cond
            out[name + '.flow.v'] = m.flownet(x, t, cond).contiguous()
            if name == 'target':
                out['vae.decoded'] = vae.decode(lat / SCALE).contiguous()
        xt, yt = data.load('test')
        idx = [int((yt == c).nonzero()[0]) for c in range(4)]
        imgs = xt[idx].contiguous()
        out['vae.images'] = imgs
        out['vae.encoded'] = vae.encode_moments(imgs)[0].contiguous()
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
    st.save(out, OUT, metadata={'made_by': 'examples/train/flowar_check.py', 'seed': '7', 'cfg': '3.0',
                                'guidance': '0.9', 'steps': '25'})
    print('wrote', OUT, {k: tuple(v.shape) for k, v in out.items()})


if __name__ == '__main__':
    main()
