"""Remakes testdata/flowar-sampled/ (golden.safetensors, flowar-cross.pth, encoder.safetensors) with the official
FlowAR code.

golden.safetensors holds what the official ``FlowAR.sample_tokens`` returns on CPU from the seeded CPU stream
(``torch.manual_seed``; the official code draws each scale's starting noise with ``torch.randn(...)`` on the CPU
generator and only then moves it to the GPU, so this part is the official stream):
  * small.euler / small.euler50 / small.nocfg: the flowar-small weights (testdata/flowar-small/flowar.pth) with
    ``euler_sampler`` (25 and 50 steps; cfg 1 needs the patch below);
  * small.em: ``euler_maruyama_sampler``. Its per-step ``torch.randn_like`` of the float64 state is drawn on the GPU
    in the official run, a stream no CPU run can reproduce; here it comes from a second CPU generator seeded with
    ``(seed ^ 0x5DEECE66D) & 0xffffffff``, so this tensor fixes Tessera's own convention for the step noise (the
    rest of the computation, the starting noise included, is the official code's);
  * cross.*: testdata/flowar-sampled/flowar-cross.pth, a random-weight model with the cross-attention flow head
    (``Block_v2``, cross=True, as FlowAR-L/H), AR heads of 96 and encoder depth 1 / decoder depth 2: the flow head
    alone on (x, t, cond) -> v, then ``sample_tokens``.
encoder.safetensors: ``AutoencoderKL.encode(x).mode()`` of a formula image with testdata/flowar-small/vae.pth.
flowar-cross.pth: made here too (see "The cross model" below), written next to golden.safetensors.

The cross model. The official ``FlowAR(...)`` is built with the configuration above (its own initialisation
zeroes the flow head's output layer, which would make every velocity 0, so its parameters are then replaced);
``torch.manual_seed(CROSS_SEED)`` (11) is called and every parameter, in ``named_parameters()`` order, is
overwritten with a draw ``z = torch.randn(shape)`` of the global CPU generator, float32:
  * ``class_emb.weight`` and the three ``*_pos_embed_learned``: ``0.3 * z``;
  * every bias: ``0.3 * z``;
  * every 1-D weight (the RMSNorm gains): ``1 + 0.2 * z``;
  * every other weight (the nn.Linear matrices, [out, in]): ``z / sqrt(in)`` (no layer is damped).
The buffers (the scale mask and the rotary ``freqs`` tables) are the ones the official constructor builds.
``cross.flownet.x`` = ``torch.randn(4, 16, 16)`` and ``cross.flownet.cond`` = ``torch.randn(4, 16, 96)`` are the
next two draws of the same stream; ``cross.flownet.t`` is the grid times 1, 1 - 2*0.7/11, 0.25, 0.02 in float32.
The file is ``torch.save(model.state_dict(), '.../flowar-cross.pth')`` (PyTorch 1.13's zip format; the entry
names inside follow the file name, so --check saves under the same name in a temporary folder). The state dict's
``_metadata`` (module versions, pickled with it) names the modules of the SwiGLU stand-in below as well.

Official code: wangqiang9/FlowAR at 5745a964df1d7320e56f0879c75e4f73e88d960f (the full OliverRensu/FlowAR code),
passed as --repo (never committed). Run with PyTorch 1.13 on CPU; one thread.

Shims (in memory only; nothing in the checkout is changed):
  * ``F.scaled_dot_product_attention`` does not exist in PyTorch 1.13: ``refkit.sdpa_math`` stands in (no mask is
    passed on the inference path).
  * ``timm`` is not installed: ``timm.layers.SwiGLU`` is a stand-in with timm's structure and parameter names
    (``fc1_g``, ``fc1_x``, ``fc2``, biases on; ``fc2(drop(act(fc1_g(x)) * fc1_x(x)))`` with the ``act_layer`` the
    caller passes, ``nn.GELU`` here); ``timm.models.vision_transformer.DropPath`` is an identity (drop_path is 0).
  * ``einops`` is not installed: ``rearrange``/``repeat`` stand-ins for the three patterns models/rope.py uses
    (``'... (d r) -> ... d r'``, ``'... d r -> ... (d r)'``, ``'... n -> ... (n r)'``), as reshapes.
  * ``tqdm`` is not installed: ``tqdm(iterable)`` returns the iterable.
  * ``.cuda()`` removed: ``torch.Tensor.cuda`` returns the tensor itself, so everything stays on the CPU (the
    starting noise is the same draw as in the official run).
  * cfg 1 (small.nocfg): the official ``sample_tokens`` only assigns ``z_sample`` when cfg != 1 and raises
    ``NameError``; the method's source is patched in memory to add ``else: z_sample = sampled_token_latent`` (the
    whole batch, which has no null-class rows at cfg 1) and compiled in the official module's namespace.
  * Euler-Maruyama (small.em): ``sample_tokens`` always calls ``sampler.euler_sampler``; for that run the name is
    pointed at ``sampler.euler_maruyama_sampler`` (same arguments), and ``torch.randn_like`` draws from the second
    CPU generator described above.
  * ``models/vae.py``'s ``AutoencoderKL`` has no channel argument and its ``Encoder``/``Decoder`` default to ch 128;
    the small VAE has ch 32, so they are built with ``ch=32`` (``functools.partial``).

Usage:
  python3 testdata/scripts/make_flowar_sampled.py --repo /path/to/FlowAR [--check]
  (--out names golden.safetensors; flowar-cross.pth and encoder.safetensors are written, or checked, next to it)
"""
import filecmp
import functools
import inspect
import math
import os
import sys
import tempfile
import textwrap

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import refkit  # noqa: E402
import compare  # noqa: E402

COMMIT = '5745a964df1d7320e56f0879c75e4f73e88d960f'
BLOBS = {
    'models/flowar.py': 'a73a4fdd93edcccfc30ea57b587fd6195a22c381',
    'models/flowloss.py': '4fef02eac992f3b0ff745d73253cbf8efe105e7f',
    'models/flowmodel.py': 'ebe3fbdb52e15210dbad836d5d0bdbf08da595b5',
    'models/rope.py': '03bfe97e08ffbbcb72936bcd8a64cf46c7709e53',
    'models/sampler.py': '331604dca166e44f5550d4d649e1064cb958e1be',
    'models/vae.py': 'ee127f08c6bc36ac12f2c5cfb574ab66532d3e0b',
}
CROSS_SEED = 11
CODE = ('wangqiang9/FlowAR@5745a96 models/*.py on PyTorch 1.13 CPU with plain-math scaled_dot_product_attention, '
        '.cuda() removed, torch.randn on CPU')


# ------------------------------------------------------------------------------------------- stand-in modules

class SwiGLU(nn.Module):
    """Stand-in for timm.layers.SwiGLU (same structure, parameter names and defaults)."""

    def __init__(self, in_features, hidden_features=None, out_features=None, act_layer=nn.SiLU, norm_layer=None,
                 bias=True, drop=0.):
        super().__init__()
        out_features = out_features or in_features
        hidden_features = hidden_features or in_features
        bias = bias if isinstance(bias, tuple) else (bias, bias)
        drop = drop if isinstance(drop, tuple) else (drop, drop)
        self.fc1_g = nn.Linear(in_features, hidden_features, bias=bias[0])
        self.fc1_x = nn.Linear(in_features, hidden_features, bias=bias[0])
        self.act = act_layer()
        self.drop1 = nn.Dropout(drop[0])
        self.norm = norm_layer(hidden_features) if norm_layer is not None else nn.Identity()
        self.fc2 = nn.Linear(hidden_features, out_features, bias=bias[1])
        self.drop2 = nn.Dropout(drop[1])

    def forward(self, x):
        x = self.act(self.fc1_g(x)) * self.fc1_x(x)
        return self.drop2(self.fc2(self.norm(self.drop1(x))))


class DropPath(nn.Module):
    """Stand-in for timm's DropPath: every caller here builds it with drop_path 0 or runs in eval mode."""

    def __init__(self, drop_prob=0., scale_by_keep=True):
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x):
        assert not self.training or self.drop_prob == 0.
        return x


def rearrange(x, pattern, **sizes):
    if pattern == '... (d r) -> ... d r':
        return x.reshape(*x.shape[:-1], -1, sizes['r'])
    if pattern == '... d r -> ... (d r)':
        return x.reshape(*x.shape[:-2], x.shape[-2] * x.shape[-1])
    raise NotImplementedError(pattern)


def repeat(x, pattern, **sizes):
    if pattern == '... n -> ... (n r)':
        r = sizes['r']
        return x.unsqueeze(-1).expand(*x.shape, r).reshape(*x.shape[:-1], x.shape[-1] * r)
    raise NotImplementedError(pattern)


def install_shims():
    refkit.stub_module('timm.layers', SwiGLU=SwiGLU)
    refkit.stub_module('timm.models.vision_transformer', DropPath=DropPath)
    refkit.stub_module('einops', rearrange=rearrange, repeat=repeat)
    refkit.stub_module('tqdm', tqdm=lambda iterable, *a, **k: iterable)
    F.scaled_dot_product_attention = refkit.sdpa_math
    torch.Tensor.cuda = lambda self, *a, **k: self


NOCFG_OLD = """            if not cfg == 1.0:
                z_sample, _ = sampled_token_latent.chunk(2, dim=0)  # Remove null class samples
"""
NOCFG_NEW = """            if not cfg == 1.0:
                z_sample, _ = sampled_token_latent.chunk(2, dim=0)  # Remove null class samples
            else:
                z_sample = sampled_token_latent
"""


def patched_sample_tokens(flowar_module):
    """The official sample_tokens with the cfg-1 NameError fixed (see the module docstring)."""
    src = textwrap.dedent(inspect.getsource(flowar_module.FlowAR.sample_tokens))
    # in the dedented method these lines sit inside the scale loop, 8 spaces deep
    old = textwrap.indent(textwrap.dedent(NOCFG_OLD), ' ' * 8)
    new = textwrap.indent(textwrap.dedent(NOCFG_NEW), ' ' * 8)
    assert src.count(old) == 1, 'the cfg-1 lines of sample_tokens were not found'
    namespace = {}
    exec(compile(src.replace(old, new), flowar_module.__file__ + ' (sample_tokens, cfg-1 patch)', 'exec'),
         flowar_module.__dict__, namespace)
    return namespace['sample_tokens']


# ------------------------------------------------------------------------------------------------- the runs

def build_flowar(flowar_module, width, enc_depth, enc_heads, dec_depth, dec_heads, flow_width, flow_depth, cross):
    return flowar_module.FlowAR(img_size=256, vae_stride=16, patch_size=1, encoder_embed_dim=width,
                                encoder_depth=enc_depth, encoder_num_heads=enc_heads, decoder_embed_dim=width,
                                decoder_depth=dec_depth, decoder_num_heads=dec_heads, mlp_ratio=4., vae_embed_dim=16,
                                diffloss_d=flow_depth, diffloss_w=flow_width, cross=cross)


def randomize_cross(model, seed):
    """Replaces the parameters of the official cross model with the recorded random draws (module docstring);
    returns the flow-head inputs x, cond drawn next from the same stream."""
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            z = torch.randn(param.shape)
            if name == 'class_emb.weight' or name.endswith('_pos_embed_learned') or name.endswith('.bias'):
                param.copy_(0.3 * z)
            elif param.dim() == 1:
                assert name.endswith('.weight'), name
                param.copy_(1 + 0.2 * z)
            else:
                assert param.dim() == 2 and name.endswith('.weight'), name
                param.copy_(z / math.sqrt(param.shape[1]))
    return torch.randn(4, 16, 16), torch.randn(4, 16, 96)


def pth_bytes(state_dict, name):
    """torch.save of `state_dict` under the file name `name` (the zip entries are named after it), as bytes."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, name)
        torch.save(state_dict, path)
        with open(path, 'rb') as f:
            return f.read()


def compare_pth(new_path, old_path):
    """Every key and tensor bit for bit (compare.py), and the whole file byte for byte."""
    same_tensors = compare.compare_pth(new_path, old_path)
    return same_tensors and filecmp.cmp(new_path, old_path, shallow=False)


def sample(model, seed, labels, cfg, guidance, steps, sample_tokens=None):
    torch.manual_seed(seed)
    with torch.no_grad():
        fn = sample_tokens or type(model).sample_tokens
        return fn(model, num_steps=steps, guidance=guidance, cfg=cfg, labels=torch.tensor(labels)).float()


def main():
    p = refkit.parser(__doc__, refkit.testdata('flowar-sampled', 'golden.safetensors'))
    args = p.parse_args()
    repo = refkit.pin_checkout(args.repo, COMMIT, BLOBS, args.any_commit)
    torch.set_num_threads(1)
    refkit.check_environment()
    install_shims()
    sys.path.insert(0, repo)
    import models.flowar as flowar_module
    import models.sampler as sampler
    import models.vae as vae_module

    out_dir = os.path.dirname(os.path.abspath(args.out))
    tensors, meta = {}, {}

    # flowar-small: AR encoder and decoder depth 2, width 128, 2 heads; flow head width 128, 2 Block_v1
    small = build_flowar(flowar_module, 128, 2, 2, 2, 2, 128, 2, False)
    small.load_state_dict(torch.load(refkit.testdata('flowar-small', 'flowar.pth'), map_location='cpu'), strict=True)
    small.eval()

    tensors['small.euler.latents'] = sample(small, 3, [1, 5], 3.0, 0.7, 25)
    meta['small.euler'] = 'flowar-small weights, torch.manual_seed(3), labels [1,5], cfg 3.0, guidance 0.7, 25 steps, euler_sampler'
    tensors['small.euler50.latents'] = sample(small, 4, [2], 1.5, 0.9, 50)
    meta['small.euler50'] = 'flowar-small weights, torch.manual_seed(4), labels [2], cfg 1.5, guidance 0.9, 50 steps, euler_sampler'

    # Euler-Maruyama: the official sampler, its step noise from a second CPU generator
    step_gen = torch.Generator().manual_seed((5 ^ 0x5DEECE66D) & 0xffffffff)
    official_euler, official_randn_like = sampler.euler_sampler, torch.randn_like
    sampler.euler_sampler = sampler.euler_maruyama_sampler
    torch.randn_like = lambda x, *a, **k: torch.randn(x.shape, dtype=x.dtype, generator=step_gen)
    try:
        tensors['small.em.latents'] = sample(small, 5, [0, 9], 2.0, 0.9, 25)
    finally:
        sampler.euler_sampler, torch.randn_like = official_euler, official_randn_like
    meta['small.em'] = ('flowar-small weights, torch.manual_seed(5), labels [0,9], cfg 2.0, guidance 0.9, 25 steps, '
                        'euler_maruyama_sampler; its per-step randn_like from a second CPU generator seeded '
                        '(5 ^ 0x5DEECE66D) & 0xffffffff (the official run draws it on the GPU)')

    tensors['small.nocfg.latents'] = sample(small, 7, [4], 1.0, 0.9, 25, patched_sample_tokens(flowar_module))
    meta['small.nocfg'] = ('flowar-small weights, torch.manual_seed(7), labels [4], cfg 1.0 (no null-class rows; '
                           'sample_tokens patched to return the whole batch where the official code raises '
                           'NameError), 25 steps, euler_sampler')

    # flowar-cross: AR width 96, 1 head, encoder depth 1, decoder depth 2; flow head width 64, 2 Block_v2
    cross = build_flowar(flowar_module, 96, 1, 1, 2, 1, 64, 2, True)
    x, cond = randomize_cross(cross, CROSS_SEED)
    cross.eval()
    cross_pth = pth_bytes(cross.state_dict(), 'flowar-cross.pth')
    t = torch.tensor([1.0, 1.0 - 2 * 0.7 / 11, 0.25, 0.02], dtype=torch.float64).float()
    with torch.no_grad():
        v = cross.flownet(x, t, cond)
    tensors['cross.flownet.x'], tensors['cross.flownet.t'] = x, t
    tensors['cross.flownet.cond'], tensors['cross.flownet.v'] = cond, v
    tensors['cross.euler.latents'] = sample(cross, 6, [4, 8], 2.5, 0.9, 25)
    meta['cross'] = ('flowar-cross.pth: AR width 96, 1 head of 96, encoder depth 1, decoder depth 2; flow head width '
                     f'64, 2 Block_v2 (cross=True); parameters drawn after torch.manual_seed({CROSS_SEED}) in '
                     'named_parameters order (embeddings and biases 0.3*randn, RMSNorm gains 1+0.2*randn, Linear '
                     'weights randn/sqrt(fan_in)), then flownet.x = randn(4,16,16), flownet.cond = randn(4,16,96) '
                     'from the same stream (testdata/scripts/make_flowar_sampled.py); flownet on x,t,cond; then '
                     'torch.manual_seed(6), labels [4,8], cfg 2.5, guidance 0.9, 25 steps, euler_sampler')
    meta['code'] = CODE
    for k, v in tensors.items():
        print(f'{k}: {tuple(v.shape)} {v.dtype}, first {v.flatten()[:3].tolist()}')

    ok = refkit.finish(args, refkit.safetensors_bytes(tensors, meta), refkit.compare_safetensors)
    args.out = os.path.join(out_dir, 'flowar-cross.pth')
    ok &= refkit.finish(args, cross_pth, compare_pth)

    # encoder.safetensors: the small KL-16 VAE (ch 32) encoding a formula image
    vae_module.Encoder = functools.partial(vae_module.Encoder, ch=32)
    vae_module.Decoder = functools.partial(vae_module.Decoder, ch=32)
    vae = vae_module.AutoencoderKL(embed_dim=16, ch_mult=(1, 1, 2, 2, 4))
    vae.load_state_dict(torch.load(refkit.testdata('flowar-small', 'vae.pth'), map_location='cpu')['model'],
                        strict=True)
    vae.eval()
    c, h, w = np.meshgrid(np.arange(3.0), np.arange(256.0), np.arange(256.0), indexing='ij')
    image = (0.9 * np.sin(0.05 * h * (c + 1)) * np.cos(0.07 * w + c)).astype(np.float32)[None]
    with torch.no_grad():
        encoded = vae.encode(torch.from_numpy(image)).mode()
    enc_meta = {'input': 'x[c,h,w] = float32(0.9*sin(0.05*h*(c+1))*cos(0.07*w+c)) computed in float64, '
                         'shape (1,3,256,256)',
                'output': 'AutoencoderKL.encode(x).mode() with ../flowar-small/vae.pth (MAR models/vae.py, ch 32)'}
    args.out = os.path.join(out_dir, 'encoder.safetensors')
    ok &= refkit.finish(args, refkit.safetensors_bytes({'vae.encoded': encoded}, enc_meta),
                        refkit.compare_safetensors)
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
