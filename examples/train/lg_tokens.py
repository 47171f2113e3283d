"""LlamaGen stage 2a: the VQ tokenizer's 8x8 codes of the training images, computed once (resumable in chunks).

  nice -n 19 /usr/bin/python3 lg_tokens.py [--limit N] --threads 1      # work/lgtokens.pt
"""
import argparse

import torch

import common
import data
from lg_vq import VQModel


def load_vq():
    st = common.load_ckpt('lgvq.pt')
    m = VQModel(**st['cfg'])
    m.load_state_dict(st['model'])
    return m.eval()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--limit', type=int, default=60000)
    ap.add_argument('--chunk', type=int, default=5000)
    ap.add_argument('--threads', type=int, default=1)
    args = ap.parse_args()
    common.setup(args.threads)
    vq = load_vq()
    x, y = data.load('train')
    n = min(args.limit, len(x))
    st = common.load_ckpt('lgtokens.pt') or dict(done=0, parts=[])
    while st['done'] < n:
        a, b = st['done'], min(st['done'] + args.chunk, n)
        st['parts'].append(torch.cat([vq.encode_idx(x[i:min(i + 250, b)]) for i in range(a, b, 250)]).to(torch.int16))
        st['done'] = b
        st['labels'] = y[:b]
        common.save_ckpt('lgtokens.pt', st)
        print('tokens', b, flush=True)


if __name__ == '__main__':
    main()
