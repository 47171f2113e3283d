"""Checks that the NAR the recipe trains (lg_gpt.Transformer with extra_layers=1, teacher-forced on the full grid
under the proximity mask) is the model Tessera's NAR decoder runs: greedy next-neighbour decoding done here by
full recomputation (no KV cache) must choose the tokens `tessera generate nar --top-k 1` chooses. Tessera's decoder
is held to the official NAR code by the nar-small golden, so agreement ties the recipe's module to the release's.

  /usr/bin/python3 lg_nar_check.py [--cfg 3] [--out tokens.json]          # then compare with:
  ./tessera generate nar --class 0 ... --class 9 --top-k 1 --cfg 3 --tokens-out java.json --out /tmp/nar/
Decoding as the release's `generate` (specs/models.md 4.3): step 0 averages both heads at the class position;
step k feeds diagonal k-1 and mixes right-head logits of the left neighbour with below-head logits of the upper
neighbour; guidance l_u + (l_c - l_u) * cfg on the mixed logits.
"""
import argparse
import json

import torch

import common
from train_lggpt import build


def greedy(model, labels, cfg):
    g, B = model.grid, labels.shape[0]
    lab = torch.cat([labels, torch.full_like(labels, model.num_classes)])
    grid = torch.zeros(B, g, g, dtype=torch.long)
    for d in range(2 * g - 1):
        with torch.no_grad():
            right, below = model.forward_nar(lab, torch.cat([grid, grid]).view(2 * B, -1))
        for h in range(max(0, d - g + 1), min(d, g - 1) + 1):
            w = d - h
            if d == 0:
                lg = (right[:, 0] + below[:, 0]) / 2
            else:
                parts = []
                if w > 0:
                    parts.append(right[:, 1 + h * g + w - 1])     # the left neighbour's right head
                if h > 0:
                    parts.append(below[:, 1 + (h - 1) * g + w])   # the upper neighbour's below head
                lg = sum(parts) / len(parts)
            c, u = lg[:B], lg[B:]
            grid[:, h, w] = (u + (c - u) * cfg).argmax(-1)
    return grid.view(B, -1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--cfg', type=float, default=3.0)
    ap.add_argument('--out', default=None)
    a = ap.parse_args()
    common.setup(1)
    s = common.load_ckpt('nar.pt')
    model = build(s['args'], s['vocab'])
    model.load_state_dict(s['model'])
    model.eval()
    tokens = greedy(model, torch.arange(10), a.cfg)
    doc = {'images': [{'class': c, 'tokens': tokens[c].tolist()} for c in range(10)]}
    if a.out:
        json.dump(doc, open(a.out, 'w'))
    print(json.dumps(doc)[:200])


if __name__ == '__main__':
    main()
