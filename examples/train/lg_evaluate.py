"""Judge accuracy of LlamaGen samples (plain AR with CFG) per cfg value, and of the tokenizer's reconstructions of
the test set (its ceiling), in PyTorch. The judge is the bundled one (examples/models/fmnist/judge.safetensors).

  nice -n 19 /usr/bin/python3 lg_evaluate.py --name lg-target --per-class 10 --cfg 1,2,3,4 --threads 1
Writes work/eval-<name>.json (and work/eval-lgvq.json with --recon).
"""
import argparse
import json
import os

import torch

import common
import st
from judge import Judge
from lg_tokens import load_vq
from train_lggpt import build

BUNDLE = os.path.join(os.path.dirname(common.HERE), 'models', 'fmnist')


def load_judge():
    j = Judge()
    j.load_state_dict(st.load(os.path.join(BUNDLE, 'judge.safetensors')))
    return j.eval()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--name', default='lg-target')
    ap.add_argument('--per-class', type=int, default=10)
    ap.add_argument('--cfg', default='1,2,3,4')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--recon', type=int, default=0, help='also judge N test reconstructions')
    ap.add_argument('--threads', type=int, default=1)
    args = ap.parse_args()
    common.setup(args.threads)
    vq, judge = load_vq(), load_judge()
    if args.recon:
        import data
        x, y = data.load('test')
        x, y = x[:args.recon], y[:args.recon]
        with torch.no_grad():
            rec = torch.cat([vq.decode_code(vq.encode_idx(x[i:i + 250]), 8) for i in range(0, len(x), 250)])
            acc = (judge(rec).argmax(1) == y).float().mean().item()
            acc_real = (judge(x).argmax(1) == y).float().mean().item()
        print('reconstructions', acc, 'real', acc_real, flush=True)
        json.dump(dict(n=len(x), recon_accuracy=acc, real_accuracy=acc_real), open(common.path('eval-lgvq.json'), 'w'))
    ck = common.load_ckpt(args.name + '.pt')
    gpt = build(ck['args'], ck['vocab'])
    gpt.load_state_dict(ck['model'])
    gpt.eval()
    labels = torch.arange(10).repeat_interleave(args.per_class)
    out = {}
    for cfg in [float(c) for c in args.cfg.split(',')]:
        g = torch.Generator().manual_seed(args.seed)
        with torch.no_grad():
            img = vq.decode_code(gpt.sample(labels, cfg, g), 8)
            pred = judge(img).argmax(1)
        acc = (pred == labels).float().mean().item()
        per = [(pred[labels == c] == c).float().mean().item() for c in range(10)]
        out[str(cfg)] = dict(accuracy=acc, per_class=[round(p, 3) for p in per])
        print('cfg', cfg, 'accuracy', round(acc, 4), [round(p, 2) for p in per], flush=True)
    json.dump(dict(name=args.name, per_class=args.per_class, seed=args.seed, step=ck['step'], results=out),
              open(common.path('eval-%s.json' % args.name), 'w'), indent=1)


if __name__ == '__main__':
    main()
