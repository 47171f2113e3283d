"""Times the official MAR sampler (LTH14/mar) on the CPU, batch 1, random weights of a released size: the
counterpart of `./tessera bench mar --size B|L|H`, for measuring the two back to back on one machine.

  /usr/bin/python3 examples/bench/mar_time_official.py /path/to/mar --size B --num-iter 64

The path is a checkout or `git archive` export of LTH14/mar at the pinned commit (fe470ac2); the script only
imports from it and writes nothing there. Nothing of the official code is copied here.

What runs: the official `mar_base` / `mar_large` / `mar_huge` (models/mar.py, with its DiffLoss and respaced DDPM
from models/diffloss.py and diffusion/) in eval mode under torch.no_grad, `sample_tokens(bsz=1, num_iter, cfg,
cfg_schedule='linear', labels, temperature)` with the settings of the official README's evaluation commands
(`--num_sampling_steps 100`, cfg 2.9 / 3.0 / 3.2 for B / L / H, linear schedule, temperature 1.0; the README's
`--num_iter 256` is what --num-iter defaults to, and it names 64 as the faster choice), then the official
`AutoencoderKL(embed_dim=16, ch_mult=(1, 1, 2, 2, 4))` decoding `tokens / 0.2325`, as engine_mar.evaluate does.
The official evaluation wraps this in torch.cuda.amp.autocast, which leaves CPU tensors in float32: so does this.

Random weights: seeded (--seed), the distributions Tessera's bench uses (examples/bench RandomWeights): linear and
convolution weights uniform in +-1/sqrt(fan_in), their biases and the embeddings / learned positions uniform in
+-0.02, norm weights 1 with biases uniform in +-0.02. The values differ from Tessera's; only the shapes and the
scale matter for timing. With random weights the DDPM chain runs away (latents of 1e4 and more), as in Tessera.

Stand-ins (in memory only; nothing on disk is changed):
- `timm.models.vision_transformer.Block` (timm is not installed and Debian has no python3-timm): timm 0.9's
  pre-norm ViT block with the same module names (norm1, attn.qkv, attn.proj, norm2, mlp.fc1, mlp.fc2), exact-erf
  GELU, attention as softmax((q * head_dim^-0.5) k^T) v. timm 0.9 takes this plain-math path itself on PyTorch
  1.13, which has no F.scaled_dot_product_attention. Dropouts are inactive in eval mode.
- `.cuda()` on tensors and modules returns the object itself (the official code moves its masks, noises and
  timestep tensors to the GPU explicitly).
Timing hooks (wrappers that only read the clock around the official methods): `forward_mae_encoder` +
`forward_mae_decoder` give "MAR", `diffloss.sample` gives "diffusion", the VAE decode gives "decode"; "total" is
the whole sample_tokens + decode, so it also holds the loop's bookkeeping (masks, orders, the cfg schedule).

Threads: torch.set_num_threads (--threads, default 2, as the other official timings in the README). The BLAS the
process actually mapped (Debian's libblas.so.3 alternative: OpenBLAS or the reference BLAS) and OpenBLAS's kernel
choice are printed first.
"""
import argparse
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), 'testdata', 'scripts'))
import refkit  # noqa: E402  (pin_checkout, stub_module; sets sys.dont_write_bytecode)

COMMIT = 'fe470ac24afbee924668d8c5c83e9fec60af3a73'
BLOBS = {
    'models/mar.py': '6e5ad56b5d3ed02627f216c52f66e1d8f8f85c2b',
    'models/diffloss.py': '69fdfc2105782d02395545b3924147fea8fefcfa',
    'models/vae.py': 'ee127f08c6bc36ac12f2c5cfb574ab66532d3e0b',
    'diffusion/__init__.py': 'd08491cd1effb66958d13f0141f6db0f7af2e1d8',
    'diffusion/respace.py': '0a2cc0435d1ace54466585db9043b284973d454e',
    'diffusion/gaussian_diffusion.py': '45f08ca1478ad25a3e0ee9ca26254574d9b96d98',
    'diffusion/diffusion_utils.py': '86ef6a9ed81767302fbe36900013dfe1abaf25f4',
}
# released size -> (constructor, diffusion MLP depth, width, README cfg)
SIZES = {'B': ('mar_base', 6, 1024, 2.9), 'L': ('mar_large', 8, 1280, 3.0), 'H': ('mar_huge', 12, 1536, 3.2)}


# ------------------------------------------------------------------------------------------------------ stand-ins

class _Attention(nn.Module):
    def __init__(self, dim, heads, qkv_bias, attn_drop, proj_drop):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x):
        b, n, c = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4).unbind(0)
        weights = self.attn_drop(((q * self.scale) @ k.transpose(-2, -1)).softmax(dim=-1))
        return self.proj_drop(self.proj((weights @ v).transpose(1, 2).reshape(b, n, c)))


class _Mlp(nn.Module):
    def __init__(self, dim, hidden, drop):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.drop1 = nn.Dropout(drop)
        self.fc2 = nn.Linear(hidden, dim)
        self.drop2 = nn.Dropout(drop)

    def forward(self, x):
        return self.drop2(self.fc2(self.drop1(self.act(self.fc1(x)))))


class Block(nn.Module):
    """Stand-in for timm 0.9's vision_transformer.Block with the arguments MAR passes (no layer scale, no drop
    path, no q/k norm)."""

    def __init__(self, dim, num_heads, mlp_ratio=4., qkv_bias=False, norm_layer=nn.LayerNorm, proj_drop=0.,
                 attn_drop=0.):
        super().__init__()
        self.norm1 = norm_layer(dim)
        self.attn = _Attention(dim, num_heads, qkv_bias, attn_drop, proj_drop)
        self.norm2 = norm_layer(dim)
        self.mlp = _Mlp(dim, int(dim * mlp_ratio), proj_drop)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


def install_stand_ins():
    refkit.stub_module('timm.models.vision_transformer', Block=Block)
    torch.Tensor.cuda = lambda self, *args, **kwargs: self
    nn.Module.cuda = lambda self, *args, **kwargs: self


# ---------------------------------------------------------------------------------------------------- weights

def randomize(module, generator):
    """Overwrites every parameter with the bench's distributions (see the module doc)."""
    def uniform(p, scale):
        p.copy_((torch.rand(p.shape, generator=generator) * 2 - 1) * scale)

    with torch.no_grad():
        for mod in module.modules():
            own = dict(mod.named_parameters(recurse=False))
            if isinstance(mod, (nn.Linear, nn.Conv2d)):
                uniform(own['weight'], 1 / math.sqrt(own['weight'][0].numel()))
                if 'bias' in own:
                    uniform(own['bias'], 0.02)
            elif isinstance(mod, (nn.LayerNorm, nn.GroupNorm)):
                if 'weight' in own:
                    own['weight'].fill_(1.0)
                if 'bias' in own:
                    uniform(own['bias'], 0.02)
            else:
                for p in own.values():  # embeddings, learned positions, mask token, fake latent
                    uniform(p, 0.02)


# ----------------------------------------------------------------------------------------------------- timing

class Clock:
    def __init__(self):
        self.seconds = {}

    def wrap(self, owner, name, phase):
        inner = getattr(owner, name)

        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.seconds[phase] = self.seconds.get(phase, 0.0) + time.perf_counter() - t0
        setattr(owner, name, timed)


def blas_in_use():
    libs = set()
    with open('/proc/self/maps') as f:
        for line in f:
            path = line.split()[-1] if len(line.split()) >= 6 else ''
            name = os.path.basename(path)
            if name.startswith(('libblas', 'libopenblas', 'libcblas')):
                libs.add(os.path.realpath(path))
    return sorted(libs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('repo', help='LTH14/mar checkout or export at %s' % COMMIT[:8])
    ap.add_argument('--size', default='B', choices=sorted(SIZES))
    ap.add_argument('--num-iter', type=int, default=256, help='MAR steps (README evaluation: 256; 64 is faster)')
    ap.add_argument('--diffusion-steps', default='100', help='num_sampling_steps (README: 100)')
    ap.add_argument('--cfg', type=float, help='default: the README value of the size (2.9 / 3.0 / 3.2)')
    ap.add_argument('--cfg-schedule', default='linear', choices=['linear', 'constant'])
    ap.add_argument('--temperature', type=float, default=1.0)
    ap.add_argument('--label', type=int, default=207)
    ap.add_argument('--seed', type=int, default=1, help='seeds the weights, the orders and the Gaussians')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--warmup-iter', type=int, default=4,
                    help='MAR steps of the untimed warm-up generation (0: none)')
    ap.add_argument('--runs', type=int, default=1, help='timed generations')
    ap.add_argument('--any-commit', action='store_true', help='run even if the imported files differ')
    args = ap.parse_args()
    if args.num_iter < 1 or args.runs < 1 or args.threads < 1 or args.warmup_iter < 0:
        sys.exit('error: --num-iter, --runs and --threads must be at least 1, --warmup-iter at least 0')

    repo = refkit.pin_checkout(args.repo, COMMIT, BLOBS, args.any_commit)
    torch.set_num_threads(args.threads)
    install_stand_ins()
    sys.path.insert(0, repo)
    from models import mar as official_mar  # noqa: E402
    from models.vae import AutoencoderKL  # noqa: E402

    ctor, head_depth, head_width, readme_cfg = SIZES[args.size]
    cfg = readme_cfg if args.cfg is None else args.cfg
    gen = torch.Generator().manual_seed(args.seed)
    t0 = time.perf_counter()
    model = getattr(official_mar, ctor)(img_size=256, vae_stride=16, patch_size=1, vae_embed_dim=16,
                                        mask_ratio_min=0.7, label_drop_prob=0.1, class_num=1000,
                                        attn_dropout=0.1, proj_dropout=0.1, buffer_size=64,
                                        diffloss_d=head_depth, diffloss_w=head_width,
                                        num_sampling_steps=args.diffusion_steps)
    vae = AutoencoderKL(embed_dim=16, ch_mult=(1, 1, 2, 2, 4))
    randomize(model, gen)
    randomize(vae, gen)
    model.eval()
    vae.eval()
    built = time.perf_counter() - t0

    print('torch %s, %d threads; BLAS mapped: %s; %s' % (
        torch.__version__, torch.get_num_threads(), ', '.join(blas_in_use()) or 'none found', openblas_core()))
    print('official %s (MAR-%s, diffusion MLP %d x %d), random weights (seed %d), built in %.1f s; '
          'KL-16 VAE random weights' % (ctor, args.size, head_depth, head_width, args.seed, built))
    print('settings: batch 1, label %d, num_iter %d, num_sampling_steps %s, cfg %.1f %s, temperature %.2f' % (
        args.label, args.num_iter, args.diffusion_steps, cfg, args.cfg_schedule, args.temperature))

    clock = Clock()
    clock.wrap(model, 'forward_mae_encoder', 'mar')
    clock.wrap(model, 'forward_mae_decoder', 'mar')
    clock.wrap(model.diffloss, 'sample', 'diffusion')
    labels = torch.tensor([args.label], dtype=torch.long)

    def generate(num_iter, seed):
        np.random.seed(seed)
        torch.manual_seed(seed)
        clock.seconds = {}
        t = time.perf_counter()
        with torch.no_grad():
            tokens = model.sample_tokens(bsz=1, num_iter=num_iter, cfg=cfg, cfg_schedule=args.cfg_schedule,
                                         labels=labels, temperature=args.temperature)
            t_dec = time.perf_counter()
            images = vae.decode(tokens / 0.2325)
            clock.seconds['decode'] = time.perf_counter() - t_dec
        clock.seconds['total'] = time.perf_counter() - t
        return tokens, images

    if args.warmup_iter:
        generate(args.warmup_iter, args.seed)
        print('warm-up (num_iter %d): %.2f s' % (args.warmup_iter, clock.seconds['total']))
    totals = []
    for run in range(args.runs):
        tokens, images = generate(args.num_iter, args.seed)
        s = clock.seconds
        totals.append(s['total'])
        print('run %d: seconds per image %.2f (MAR %.2f, diffusion %.2f, decode %.2f, other %.2f); '
              'latents max |x| %.3g, image %s' % (
                  run + 1, s['total'], s.get('mar', 0), s.get('diffusion', 0), s['decode'],
                  s['total'] - s.get('mar', 0) - s.get('diffusion', 0) - s['decode'],
                  tokens.abs().max().item(), tuple(images.shape)))
    if args.runs > 1:
        print('mean seconds per image over %d runs: %.2f' % (args.runs, sum(totals) / len(totals)))


def openblas_core():
    import ctypes
    try:
        lib = ctypes.CDLL('libblas.so.3')
        lib.openblas_get_corename.restype = ctypes.c_char_p
        return 'OpenBLAS core %s' % lib.openblas_get_corename().decode()
    except (OSError, AttributeError):
        return 'not OpenBLAS'


if __name__ == '__main__':
    main()
