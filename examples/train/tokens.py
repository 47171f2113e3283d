"""Stage 2a: the tokenizer's multi-scale tokens of the training images, computed once (resumable in chunks).

  nice -n 19 /usr/bin/python3 tokens.py [--limit N]
"""
import argparse

import torch

import common
import data
from train_vae import CFG
from vqvae import VQVAE


def load_vae():
    st = common.load_ckpt('vae.pt')
    m = VQVAE(**st['cfg'])
    m.load_state_dict(st['model'])
    return m.eval()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--limit', type=int, default=60000)
    ap.add_argument('--chunk', type=int, default=2000)
    ap.add_argument('--threads', type=int, default=2)
    args = ap.parse_args()
    common.setup(args.threads)
    vae = load_vae()
    x, y = data.load('train')
    n = min(args.limit, len(x))
    st = common.load_ckpt('tokens.pt') or dict(done=0, parts=[])
    while st['done'] < n:
        a, b = st['done'], min(st['done'] + args.chunk, n)
        parts = []
        for i in range(a, b, 250):
            parts.append(torch.cat(vae.img_to_idx(x[i:min(i + 250, b)]), 1).to(torch.int16))
        st['parts'].append(torch.cat(parts))
        st['done'] = b
        st['labels'] = y[:b]
        common.save_ckpt('tokens.pt', st)
        print('tokens', b, flush=True)


if __name__ == '__main__':
    main()
