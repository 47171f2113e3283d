"""The judge's reference outputs for Tessera's Java judge test: PyTorch (this recipe's Judge) on the bundled weights.

  /usr/bin/python3 make_judge_reference.py            # writes testdata/fmnist-judge/expected.safetensors
  /usr/bin/python3 make_judge_reference.py --check    # remakes it in memory and compares bit for bit

Reads examples/models/fmnist/judge.safetensors and fmnist-test-500.safetensors; for the first 10 images of each
class (100) it stores the input as the Java side builds it (u8/127.5-1 in three channels), the penultimate features
and the logits, float32, and the PyTorch accuracy on all 500 images. Re-run after the bundled judge changes.
"""
import argparse
import os
import sys

import numpy as np
import torch

import common
import st
from judge import Judge

ROOT = os.path.dirname(os.path.dirname(common.HERE))
BUNDLE = os.path.join(ROOT, 'examples', 'models', 'fmnist')
OUT = os.path.join(ROOT, 'testdata', 'fmnist-judge', 'expected.safetensors')


def make():
    torch.set_num_threads(1)
    judge = Judge()
    judge.load_state_dict(st.load(os.path.join(BUNDLE, 'judge.safetensors')))
    judge.eval()
    real = st.load(os.path.join(BUNDLE, 'fmnist-test-500.safetensors'))
    u8, labels = real['images'], real['labels']
    x = (u8.float() / 127.5 - 1.0).unsqueeze(1).expand(-1, 3, -1, -1).contiguous()
    with torch.no_grad():
        feats = judge.features(x)
        logits = judge.fc2(feats)
    acc = (logits.argmax(1) == labels).double().mean()
    pick = torch.cat([torch.nonzero(labels == c)[:10, 0] for c in range(10)])
    return {'index': pick.to(torch.int64), 'features': feats[pick].contiguous(), 'logits': logits[pick].contiguous(),
            'accuracy_500': acc.reshape(1)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--check', action='store_true')
    args = ap.parse_args()
    t = make()
    print('torch', torch.__version__, 'accuracy on the 500 bundled test images', float(t['accuracy_500']))
    if args.check:
        old = st.load(OUT)
        bad = [k for k in t if not torch.equal(t[k], old[k])]
        print('differs:' if bad else 'identical', ' '.join(bad))
        sys.exit(1 if bad else 0)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    st.save(t, OUT, metadata={'what': 'judge features and logits of bundled test images (PyTorch)', 'made_by': 'examples/train/make_judge_reference.py'})
    print('wrote', OUT)


if __name__ == '__main__':
    main()
