"""Judge accuracy of MAR samples (the release's sample_tokens: cosine schedule, linear CFG, DDPM head) per cfg value,
in PyTorch, with the bundled judge and the recipe's KL autoencoder (work/marvae-scaled.pt).

  nice -n 19 /usr/bin/python3 mar_evaluate.py --name mar-target --per-class 10 --cfg 1,2,3,4 --threads 1
Samples use the EMA weights (what the export writes), --num-iter MAR steps (16 for the 64 tokens) and
--diffusion-steps DDPM steps (500: the release's 100 diverge on these small heads, see BundledModels). Writes work/eval-<name>.json.
"""
import argparse
import json

import numpy as np
import torch

import common
from flowar_evaluate import SCALE, load_vae
from lg_evaluate import load_judge
from mar_model import unpatchify
from train_mar import build


def load_mar(name, ema=True):
    ck = common.load_ckpt(name + '.pt')
    m = build(ck['args'])
    m.load_state_dict(ck['ema'] if ema else ck['model'])
    return m.eval(), ck


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--name', default='mar-target')
    ap.add_argument('--per-class', type=int, default=10)
    ap.add_argument('--cfg', default='1,2,3,4')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--num-iter', type=int, default=16)
    ap.add_argument('--diffusion-steps', type=int, default=500)
    ap.add_argument('--temperature', type=float, default=1.0)
    ap.add_argument('--threads', type=int, default=1)
    args = ap.parse_args()
    common.setup(args.threads)
    vae, judge = load_vae(), load_judge()
    model, ck = load_mar(args.name)
    labels = torch.arange(10).repeat_interleave(args.per_class)
    out = {}
    for cfg in [float(c) for c in args.cfg.split(',')]:
        np.random.seed(args.seed)
        torch.manual_seed(args.seed)
        with torch.no_grad():
            tok = model.sample_tokens(labels, num_iter=args.num_iter, cfg=cfg, temperature=args.temperature,
                                      diffusion_steps=args.diffusion_steps)
            img = vae.decode(unpatchify(tok) / SCALE)
            pred = judge(img.clamp(-1, 1)).argmax(1)
        acc = (pred == labels).float().mean().item()
        per = [(pred[labels == c] == c).float().mean().item() for c in range(10)]
        out[str(cfg)] = dict(accuracy=acc, per_class=[round(p, 3) for p in per])
        print('cfg', cfg, 'accuracy', round(acc, 4), [round(p, 2) for p in per], flush=True)
    json.dump(dict(name=args.name, per_class=args.per_class, seed=args.seed, step=ck['step'],
                   num_iter=args.num_iter, diffusion_steps=args.diffusion_steps, temperature=args.temperature,
                   results=out), open(common.path('eval-%s.json' % args.name), 'w'), indent=1)


if __name__ == '__main__':
    main()
