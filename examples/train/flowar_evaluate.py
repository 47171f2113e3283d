"""Judge accuracy of FlowAR samples (the release's Euler sampler, 25 steps, guidance 0.9) per cfg value, and of the
KL autoencoder's reconstructions of the test set (its ceiling), in PyTorch, with the bundled judge.

  nice -n 19 /usr/bin/python3 flowar_evaluate.py --name flowar-target --per-class 10 --cfg 1,2,3,4 --threads 1
  nice -n 19 /usr/bin/python3 flowar_evaluate.py --recon 2000 --cfg ''       # the autoencoder only
Samples use the EMA weights (what the export writes). Writes work/eval-<name>.json (work/eval-klvae.json).
"""
import argparse
import json

import torch

import common
from lg_evaluate import load_judge
from mar_vae import AutoencoderKL
from train_flowar import build

SCALE = 0.2325


def load_vae():
    s = common.load_ckpt('marvae-scaled.pt')
    vae = AutoencoderKL(**s['cfg'])
    vae.load_state_dict(s['model'])
    return vae.eval()


def load_flowar(name, ema=True):
    ck = common.load_ckpt(name + '.pt')
    m = build(ck['args'])
    m.load_state_dict(ck['ema'] if ema else ck['model'])
    return m.eval(), ck


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--name', default='flowar-target')
    ap.add_argument('--per-class', type=int, default=10)
    ap.add_argument('--cfg', default='1,2,3,4')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--steps', type=int, default=25)
    ap.add_argument('--guidance', type=float, default=0.9)
    ap.add_argument('--recon', type=int, default=0, help='also judge N test reconstructions')
    ap.add_argument('--threads', type=int, default=1)
    args = ap.parse_args()
    common.setup(args.threads)
    vae, judge = load_vae(), load_judge()
    if args.recon:
        import data
        x, y = data.load('test')
        x, y = x[:args.recon], y[:args.recon]
        with torch.no_grad():
            rec = torch.cat([vae.decode(vae.encode_moments(x[i:i + 250])[0]) for i in range(0, len(x), 250)])
            acc = (judge(rec).argmax(1) == y).float().mean().item()
            acc_real = (judge(x).argmax(1) == y).float().mean().item()
            psnr = ((rec - x) / 2).pow(2).mean(dim=(1, 2, 3)).log10().mul(-10).mean().item()
        print('reconstructions', acc, 'real', acc_real, 'psnr', psnr, flush=True)
        json.dump(dict(n=len(x), recon_accuracy=acc, real_accuracy=acc_real, psnr=psnr),
                  open(common.path('eval-klvae.json'), 'w'))
    if not args.cfg:
        return
    model, ck = load_flowar(args.name)
    labels = torch.arange(10).repeat_interleave(args.per_class)
    out = {}
    for cfg in [float(c) for c in args.cfg.split(',')]:
        torch.manual_seed(args.seed)
        with torch.no_grad():
            lat = model.sample(labels, num_steps=args.steps, cfg=cfg, guidance=args.guidance)
            img = vae.decode(lat / SCALE)
            pred = judge(img.clamp(-1, 1)).argmax(1)
        acc = (pred == labels).float().mean().item()
        per = [(pred[labels == c] == c).float().mean().item() for c in range(10)]
        out[str(cfg)] = dict(accuracy=acc, per_class=[round(p, 3) for p in per])
        print('cfg', cfg, 'accuracy', round(acc, 4), [round(p, 2) for p in per], flush=True)
    json.dump(dict(name=args.name, per_class=args.per_class, seed=args.seed, step=ck['step'], steps=args.steps,
                   guidance=args.guidance, results=out), open(common.path('eval-%s.json' % args.name), 'w'), indent=1)


if __name__ == '__main__':
    main()
