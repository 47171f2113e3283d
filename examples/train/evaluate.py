"""Judge accuracy of VAR samples (the requested class vs the judge's label) at several cfg values, in PyTorch.

  nice -n 19 /usr/bin/python3 evaluate.py --depth 4 --per-class 20 --cfg 0,1,2,3,4
Writes work/eval-var-d<depth>.json.
"""
import argparse
import json

import torch

import common
from judge import Judge
from tokens import load_vae
from var_model import VAR


def load_var(depth, vae):
    st = common.load_ckpt('var-d%d.pt' % depth)
    m = VAR(vae.Cvae, vae.V, 10, depth, patch_nums=vae.quantize.v_patch_nums)
    m.load_state_dict(st['model'])
    return m.eval(), st


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--depth', type=int, required=True)
    ap.add_argument('--per-class', type=int, default=20)
    ap.add_argument('--cfg', default='0,1,2,3,4')
    ap.add_argument('--top-k', type=int, default=0)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--threads', type=int, default=2)
    args = ap.parse_args()
    common.setup(args.threads)
    vae = load_vae()
    var, _ = load_var(args.depth, vae)
    judge = Judge()
    judge.load_state_dict(common.load_ckpt('judge.pt')['model'])
    judge.eval()
    labels = torch.arange(10).repeat_interleave(args.per_class)
    out = {}
    for cfg in [float(c) for c in args.cfg.split(',')]:
        with torch.no_grad():
            img = vae.idx_to_img(var.generate(vae, labels, cfg=cfg, top_k=args.top_k, seed=args.seed))
            pred = judge(img).argmax(1)
        acc = (pred == labels).float().mean().item()
        per = [(pred[labels == c] == c).float().mean().item() for c in range(10)]
        out[str(cfg)] = dict(accuracy=acc, per_class=[round(p, 3) for p in per])
        print('cfg', cfg, 'accuracy', round(acc, 4), [round(p, 2) for p in per], flush=True)
    json.dump(dict(depth=args.depth, per_class=args.per_class, top_k=args.top_k, seed=args.seed, results=out),
              open(common.path('eval-var-d%d.json' % args.depth), 'w'), indent=1)


if __name__ == '__main__':
    main()
