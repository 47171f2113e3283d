"""Fashion-MNIST as 32x32 RGB tensors in [-1, 1].

Reads the IDX files of Debian's dataset-fashion-mnist package. Each 28x28 grey picture is placed in the middle of
a 32x32 black canvas (2 pixels on every side) and its grey value is copied to the three channels.
"""
import gzip
import os

import numpy as np
import torch

ROOT = os.environ.get('FMNIST_DIR', '/usr/share/datasets/fashion-mnist')
CLASSES = ['t-shirt/top', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'ankle boot']


def _idx(path):
    with gzip.open(path, 'rb') as f:
        raw = f.read()
    magic = int.from_bytes(raw[0:4], 'big')
    ndim = magic & 0xFF
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_uint8(split):
    """(images [N, 32, 32] uint8 with the 2-pixel border, labels [N] int64) for split 'train' or 't10k'/'test'."""
    pre = 'train' if split == 'train' else 't10k'
    imgs = _idx(os.path.join(ROOT, pre + '-images-idx3-ubyte.gz'))
    labels = _idx(os.path.join(ROOT, pre + '-labels-idx1-ubyte.gz')).astype(np.int64)
    canvas = np.zeros((imgs.shape[0], 32, 32), dtype=np.uint8)
    canvas[:, 2:30, 2:30] = imgs
    return canvas, labels


def load(split):
    """(images [N, 3, 32, 32] float32 in [-1, 1], labels [N] int64) as torch tensors."""
    u8, labels = load_uint8(split)
    x = torch.from_numpy(u8).float().div_(127.5).sub_(1.0)
    return x.unsqueeze(1).expand(-1, 3, -1, -1).contiguous(), torch.from_numpy(labels)


def class_index(name_or_index):
    s = str(name_or_index).strip().lower()
    if s.isdigit():
        return int(s)
    return CLASSES.index(s)
