"""The tokenizer's ceiling in judge space: the judge FID of VQ-VAE reconstructions of the test set.

  nice -n 19 /usr/bin/python3 recon_fid.py [--limit 10000]

Encodes the test images to their multi-scale tokens (work/vae.pt), decodes them, quantises to 8 bits as a PNG
would, and prints the judge FID of the reconstructions against the test statistics of the bundle
(examples/models/fmnist/judge-stats.safetensors) and their class accuracy. A VAR whose tokens were perfect could not
score below this FID.
"""
import argparse
import os

import numpy as np
import scipy.linalg
import torch

import common
import data
import st
from judge import Judge
from tokens import load_vae

BUNDLE = os.path.join(os.path.dirname(common.HERE), 'models', 'fmnist')


def fid(mu1, s1, mu2, s2):
    covmean, _ = scipy.linalg.sqrtm(s1.dot(s2), disp=False)
    covmean = covmean.real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--limit', type=int, default=10000)
    ap.add_argument('--threads', type=int, default=1)
    args = ap.parse_args()
    common.setup(args.threads)
    vae = load_vae().eval()
    judge = Judge()
    judge.load_state_dict(st.load(os.path.join(BUNDLE, 'judge.safetensors')))
    judge.eval()
    stats = st.load(os.path.join(BUNDLE, 'judge-stats.safetensors'))
    x, y = data.load('test')
    x, y = x[:args.limit], y[:args.limit]
    feats, ok = [], 0
    with torch.no_grad():
        for i in range(0, len(x), 500):
            rec = vae.idx_to_img(vae.img_to_idx(x[i:i + 500]))
            rec = ((rec.clamp(-1, 1) + 1) * 127.5).round() / 127.5 - 1     # 8 bits, as a PNG
            f = judge.features(rec)
            ok += (judge.fc2(f).argmax(1) == y[i:i + 500]).sum().item()
            feats.append(f.double())
    f = torch.cat(feats).numpy()
    d = fid(f.mean(0), np.cov(f, rowvar=False), stats['test.mu'].numpy(), stats['test.sigma'].numpy())
    print('reconstructions of %d test images: judge FID %.3f, class accuracy %.2f%%' % (len(x), d, 100 * ok / len(x)))


if __name__ == '__main__':
    main()
