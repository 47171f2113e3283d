"""Shared bits of the recipe: paths, seeding, checkpoints that survive an interruption, logging."""
import json
import os
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.environ.get('FMNIST_WORK', os.path.join(HERE, 'work'))   # checkpoints, tokens, logs (not committed)


def setup(threads=2):
    torch.set_num_threads(threads)
    os.makedirs(WORK, exist_ok=True)


def path(name):
    return os.path.join(WORK, name)


def save_ckpt(name, obj):
    """Atomic save: an interruption never leaves half a checkpoint (work files only; the bundle is safetensors)."""
    tmp = path(name + '.tmp')
    torch.save(obj, tmp)
    os.replace(tmp, path(name))


def load_ckpt(name):
    p = path(name)
    return torch.load(p) if os.path.exists(p) else None


class Log:
    def __init__(self, name):
        self.f = open(path(name), 'a')

    def __call__(self, **kv):
        kv['time'] = round(time.time(), 1)
        self.f.write(json.dumps(kv) + '\n')
        self.f.flush()
