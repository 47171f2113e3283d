"""Times the official sampling code of VAR, LlamaGen, NAR or FlowAR, batch 1, float32, random weights of a
released size, on CUDA or the CPU: the counterpart of `tessera bench var|llamagen|nar|flowar`, for measuring the
two on one machine (examples/bench/gpu/run.sh runs both on a GPU).

  python3 examples/bench/official_time.py --family var --repo /path/to/VAR --device cuda --json

--repo is a checkout or `git archive` export of the official repository at the pinned commit (the root of the
repository; NAR's image code is its NAR-images/ folder); the script only imports from it and writes nothing
there. Nothing of the official code is copied here. examples/bench/gpu/stage.sh exports the files listed in
FAMILIES below into .gpu/official/.

  family    repository at the pinned commit                    model and sampling timed
  var       FoundationVision/VAR 78b95394                      build_vae_var(depth 16, V 4096, Cvae 32, ch 160,
                                                               share_quant_resi 4, 1000 classes, attn_l2_norm);
                                                               VAR.autoregressive_infer_cfg(B=1, cfg 1.5,
                                                               top_k 900, top_p 0.96, more_smooth False), which
                                                               decodes the image itself
  llamagen  FoundationVision/LlamaGen ce98ec41                 GPT_models['GPT-B'] (vocab 16384, 256 tokens, 1000
                                                               classes, c2i); generate(cfg 2.0, cfg_interval -1,
                                                               temperature 1, top_k 0, top_p 1, sample_logits)
                                                               then VQ_models['VQ-16'].decode_code (16384 x 8)
  nar       ThisisBillhe/NAR 225c1fb5 (NAR-images/)            its GPT_models['GPT-B'] (1 extra "medusa" layer,
                                                               the default) with its own generate(), same settings
                                                               and VQ-16 decode as llamagen
  flowar    wangqiang9/FlowAR 5745a964                         flowar_small(diffloss_d 2, diffloss_w 1024, 16-dim
                                                               KL-16 latents); sample_tokens(num_steps 25,
                                                               guidance 0.9, cfg 4.3) then AutoencoderKL(16,
                                                               (1,1,2,2,4)).decode(tokens / 0.2325), as engine.py

These are the settings of Tessera's benches (VarSettings.OFFICIAL, TokenSettings.OFFICIAL,
FlowArSettings.officialFor), so the two time the same work. Float32 throughout: no autocast (the official demos
and evaluations use bf16/fp16 autocast; --tf32 allows TF32 matrix products and convolutions, which PyTorch's
defaults allow for convolutions only; without it both are off). No torch.compile (the official default).

Random weights: every parameter is overwritten, seeded (--seed), with the distributions of Tessera's bench
(examples/bench RandomWeights): linear and convolution weights uniform in +-1/sqrt(fan_in), their biases and
every other parameter (embeddings, learned positions, codebooks, scales) uniform in +-0.02, the weights of norm
layers 1 and their biases uniform in +-0.02. The values differ from Tessera's; only shapes and scale matter for
timing. (VAR's build_vae_var turns the torch layers' own initialisation off, which would leave the VQ-VAE's
memory uninitialised: this overwrite covers that.)

Timing: one untimed warm-up generation at the same settings, then --runs timed ones; each ends with
torch.cuda.synchronize() on CUDA. seconds_per_image is their mean (batch 1). The model build and weight fill are
not timed.

Shims (in memory only; nothing on disk changes). On the GPU machines' PyTorch 2.11 with timm, einops, tqdm and
huggingface_hub installed, only these can apply, each only when the name is missing:
  * torch.backends.cuda.sdp_kernel (LlamaGen's decode_n_tokens; deprecated since PyTorch 2.3): a stand-in that
    calls torch.nn.attention.sdpa_kernel with the backends its keywords enable (the MATH backend here).
  * torch.cuda.amp.autocast (VAR's decoder wraps itself in autocast(enabled=False)): torch.autocast('cuda', ...).
For PyTorch 1.13 on the CPU (Debian's python3-torch, used to test this script), also:
  * F.scaled_dot_product_attention: refkit.sdpa_math (plain-math attention, testdata/scripts/refkit.py), except
    for VAR, whose models/basic_var.py has its own plain-math fallback when the function is missing;
  * torch.nn.attention (NAR's generate.py imports SDPBackend, sdpa_kernel) and torch.backends.cuda.sdp_kernel with
    PyTorch 2's keywords: no-op contexts (they would only pick the math backend, which the stand-in is);
  * torch._dynamo.config, torch._inductor.config (imported, unused): empty modules;
  * LlamaGen's and NAR's generate(): `with torch.device(device):` (not a context manager before PyTorch 2) becomes
    `if True:`, and the first decoding position's dtype=torch.int becomes int64 (1.13 cannot index with int32);
    the function is recompiled from its source in the official module's namespace; the int32 tokens it returns
    are made int64 before decode_code for the same reason;
  * missing modules: huggingface_hub (VAR: PyTorchModelHubMixin, a base class of the unused VARHF, becomes an
    empty class), tqdm (iterable returned), timm.layers.SwiGLU, timm's DropPath and einops (FlowAR: the stand-ins
    of testdata/scripts/make_flowar_sampled.py), and .cuda() on tensors returns the tensor (FlowAR moves its noise
    to the GPU explicitly).

Reduced runs for testing (CPU): --depth (VAR), --grid (LlamaGen/NAR tokens per side, default 16), --steps
(FlowAR's flow steps), --runs.
"""
import argparse
import contextlib
import inspect
import json
import math
import os
import platform
import sys
import textwrap
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.join(os.path.dirname(os.path.dirname(HERE)), 'testdata', 'scripts')
sys.path.insert(0, SCRIPTS)
import refkit  # noqa: E402  (pin_checkout, stub_module, sdpa_math; sets sys.dont_write_bytecode)

FAMILIES = {
    'var': {
        'commit': '78b95394fc5896192e3a003e4b295f8ea743c48f',
        'root': '',
        'blobs': {
            'dist.py': '7e28322fe831eba55769184d5c7f9573099fad33',
            'models/__init__.py': '7ff2e3b8889e5995654c7235f38371f0ac2742d1',
            'models/basic_vae.py': 'bda09e4e6969c504f4684dda9ae68ece7bd66f82',
            'models/basic_var.py': '84afa3e7edbfc8f69bf9d6208d95ac25aebef79a',
            'models/helpers.py': '91a4b5c65a4531e9a2125bb7e17fa72b73f761b3',
            'models/quant.py': '3b153959b56a0b02a23ea593009f210e739ce884',
            'models/var.py': 'afa5f02d5d854ac46d8ee3d58f666dcb96f7cf52',
            'models/vqvae.py': 'ddc3079aa13c904044e6d9954616a7f3b20ba069',
        },
    },
    'llamagen': {
        'commit': 'ce98ec41803a74a90ce68c40ababa9eaeffeb4ec',
        'root': '',
        'blobs': {
            'autoregressive/models/generate.py': 'dd1191d9e725c38b4deedf1ff327e951f51989b8',
            'autoregressive/models/gpt.py': '9f2f2550d7421ec1c336ee2a06f98b53cb8d5bde',
            'utils/drop_path.py': '991a323e33304a2fe71c9757c13ace5c89fd8a5a',
            'tokenizer/tokenizer_image/vq_model.py': 'ba7325b70c11097d96b26d3e2e0747d6a1ee1d98',
        },
    },
    'nar': {
        'commit': '225c1fb563df80172ebbd51782838fe1fd09b40a',
        'root': 'NAR-images',
        'blobs': {
            'NAR-images/autoregressive/models/generate.py': 'becb5a64689020332ad80aa603a1bab3a043f406',
            'NAR-images/autoregressive/models/gpt.py': '60e95edfd93637adc9f8c285298aa6336f5f242c',
            'NAR-images/utils/drop_path.py': '991a323e33304a2fe71c9757c13ace5c89fd8a5a',
            'NAR-images/tokenizer/tokenizer_image/vq_model.py': 'ba7325b70c11097d96b26d3e2e0747d6a1ee1d98',
        },
    },
    'flowar': {
        'commit': '5745a964df1d7320e56f0879c75e4f73e88d960f',
        'root': '',
        'blobs': {
            'models/flowar.py': 'a73a4fdd93edcccfc30ea57b587fd6195a22c381',
            'models/flowloss.py': '4fef02eac992f3b0ff745d73253cbf8efe105e7f',
            'models/flowmodel.py': 'ebe3fbdb52e15210dbad836d5d0bdbf08da595b5',
            'models/rope.py': '03bfe97e08ffbbcb72936bcd8a64cf46c7709e53',
            'models/sampler.py': '331604dca166e44f5550d4d649e1064cb958e1be',
            'models/vae.py': 'ee127f08c6bc36ac12f2c5cfb574ab66532d3e0b',
        },
    },
}
LABEL = 207
TORCH2 = hasattr(F, 'scaled_dot_product_attention')
shims = []


# ------------------------------------------------------------------------------------------------------ shims

def shim(note):
    shims.append(note)


def missing(module):
    try:
        __import__(module)
        return False
    except ImportError:
        return True


def install_common_shims(family):
    if not hasattr(torch.backends.cuda, 'sdp_kernel'):
        def sdp_kernel(enable_flash=True, enable_mem_efficient=True, enable_math=True, **_):
            from torch.nn.attention import SDPBackend, sdpa_kernel
            chosen = [b for on, b in ((enable_flash, SDPBackend.FLASH_ATTENTION),
                                      (enable_mem_efficient, SDPBackend.EFFICIENT_ATTENTION),
                                      (enable_math, SDPBackend.MATH)) if on]
            return sdpa_kernel(chosen)
        torch.backends.cuda.sdp_kernel = sdp_kernel
        shim('torch.backends.cuda.sdp_kernel -> torch.nn.attention.sdpa_kernel')
    if not hasattr(torch.cuda, 'amp') or not hasattr(torch.cuda.amp, 'autocast'):
        import types
        torch.cuda.amp = getattr(torch.cuda, 'amp', None) or types.SimpleNamespace()
        torch.cuda.amp.autocast = lambda *a, **k: torch.autocast('cuda', *a, **k)
        shim("torch.cuda.amp.autocast -> torch.autocast('cuda')")
    if TORCH2:
        return
    import enum

    class SDPBackend(enum.Enum):  # stand-in for torch.nn.attention.SDPBackend
        ERROR = -1
        MATH = 0
        FLASH_ATTENTION = 1
        EFFICIENT_ATTENTION = 2
        CUDNN_ATTENTION = 3
    if family != 'var':  # VAR takes its own plain-math path when the function is missing
        F.scaled_dot_product_attention = refkit.sdpa_math
        shim('PyTorch 1.13: F.scaled_dot_product_attention -> refkit.sdpa_math')
    refkit.stub_module('torch.nn.attention', SDPBackend=SDPBackend, sdpa_kernel=refkit.no_op_context)
    torch.backends.cuda.sdp_kernel = refkit.no_op_context
    shim('PyTorch 1.13: torch.nn.attention and torch.backends.cuda.sdp_kernel -> no-op contexts')
    for name in ('torch._dynamo.config', 'torch._inductor.config'):
        if missing(name):
            refkit.stub_module(name)
            shim(name + ': empty module')


def torch2_generate(module):
    """LlamaGen's / NAR's generate() as PyTorch 1.13 can run it (see the module doc); as is on PyTorch 2."""
    if hasattr(torch.device('cpu'), '__enter__'):
        return module.generate
    src = textwrap.dedent(inspect.getsource(module.generate))
    old_ctx, old_pos = 'with torch.device(device):', 'input_pos = torch.tensor([T], device=device, dtype=torch.int)'
    assert src.count(old_ctx) == 1 and src.count(old_pos) == 1, 'generate() is not the pinned one'
    src = src.replace(old_ctx, 'if True:').replace(old_pos, old_pos.replace('torch.int)', 'torch.int64)'))
    namespace = {}
    exec(compile(src, module.__file__ + ' (generate, PyTorch 1.13 patch)', 'exec'), module.__dict__, namespace)
    shim('generate(): with torch.device -> if True; first position int64 (PyTorch 1.13)')
    return namespace['generate']


# ---------------------------------------------------------------------------------------------------- weights

def randomize(module, seed):
    """Overwrites every parameter with the bench's distributions (module doc), on the parameter's device."""
    torch.manual_seed(seed)
    with torch.no_grad():
        for mod in module.modules():
            own = dict(mod.named_parameters(recurse=False))
            if isinstance(mod, (nn.Linear, nn.Conv1d, nn.Conv2d)):
                w = own['weight']
                w.uniform_(-1 / math.sqrt(w[0].numel()), 1 / math.sqrt(w[0].numel()))
                if own.get('bias') is not None:
                    own['bias'].uniform_(-0.02, 0.02)
            elif 'Norm' in type(mod).__name__:
                for name, p in own.items():
                    if name == 'weight':
                        p.fill_(1.0)
                    else:
                        p.uniform_(-0.02, 0.02)
            else:
                for p in own.values():
                    p.uniform_(-0.02, 0.02)


def count(*modules):
    return sum(p.numel() for m in modules for p in m.parameters())


# --------------------------------------------------------------------------------------------------- families

def build_var(args, dev):
    if missing('huggingface_hub'):
        class PyTorchModelHubMixin:  # stand-in: only a base class of VARHF
            pass
        refkit.stub_module('huggingface_hub', PyTorchModelHubMixin=PyTorchModelHubMixin)
        shim('huggingface_hub: stand-in module (PyTorchModelHubMixin empty)')
    import models
    vae, var = models.build_vae_var(device=dev, patch_nums=(1, 2, 3, 4, 5, 6, 8, 10, 13, 16), V=4096, Cvae=32,
                                    ch=160, share_quant_resi=4, num_classes=1000, depth=args.depth, shared_aln=False,
                                    attn_l2_norm=True, flash_if_available=True, fused_if_available=True)
    randomize(vae, args.seed)
    randomize(var, args.seed + 1)
    label = torch.tensor([LABEL], device=dev)
    settings = {'cfg': 1.5, 'top_k': 900, 'top_p': 0.96, 'more_smooth': False}

    def generate(seed):
        return var.autoregressive_infer_cfg(B=1, label_B=label, g_seed=seed, cfg=settings['cfg'],
                                            top_k=settings['top_k'], top_p=settings['top_p'],
                                            more_smooth=settings['more_smooth'])
    return 'VAR-d%d (random weights), vae ch160 v4096 z32' % args.depth, (vae, var), settings, generate


def build_token_model(args, dev, family):
    import autoregressive.models.generate as gen_module
    from autoregressive.models.gpt import GPT_models
    from tokenizer.tokenizer_image.vq_model import VQ_models
    if missing('tqdm'):
        refkit.stub_module('tqdm', tqdm=lambda iterable, *a, **k: iterable)
        shim('tqdm: stand-in (iterable returned)')
    generate_fn = torch2_generate(gen_module)
    grid = args.grid
    gpt = GPT_models['GPT-' + args.size](vocab_size=16384, block_size=grid * grid, num_classes=1000, cls_token_num=1,
                                         model_type='c2i').to(dev)
    vq = VQ_models['VQ-16'](codebook_size=16384, codebook_embed_dim=8).to(dev)
    randomize(gpt, args.seed)
    randomize(vq, args.seed + 1)
    cond = torch.tensor([LABEL], device=dev)
    settings = {'cfg': 2.0, 'cfg_interval': -1, 'temperature': 1.0, 'top_k': 0, 'top_p': 1.0, 'grid': grid}

    def generate(seed):
        torch.manual_seed(seed)
        tokens = generate_fn(gpt, cond, grid * grid, cfg_scale=settings['cfg'], cfg_interval=settings['cfg_interval'],
                             temperature=settings['temperature'], top_k=settings['top_k'], top_p=settings['top_p'],
                             sample_logits=True)
        if not TORCH2:  # PyTorch 1.13 cannot index the codebook with generate()'s int32 tokens
            tokens = tokens.long()
        return vq.decode_code(tokens, [1, 8, grid, grid])
    name = '%s-%s (random weights), VQ-16' % ('LlamaGen' if family == 'llamagen' else 'NAR', args.size)
    return name, (gpt, vq), settings, generate


def build_flowar(args, dev):
    if missing('timm') or missing('einops'):
        sys.path.insert(0, SCRIPTS)
        import make_flowar_sampled
        make_flowar_sampled.install_shims()
        shim('timm.layers.SwiGLU, DropPath, einops, tqdm: make_flowar_sampled.py stand-ins; plain-math attention; '
             'Tensor.cuda() returns the tensor')
    elif dev == 'cpu':
        torch.Tensor.cuda = lambda self, *a, **k: self
        shim('Tensor.cuda() returns the tensor (CPU run)')
    import models.flowar as flowar
    import models.vae as vae_module
    model = flowar.flowar_small(img_size=256, vae_stride=16, patch_size=1, vae_embed_dim=16, diffloss_d=2,
                                diffloss_w=1024).to(dev)
    vae = vae_module.AutoencoderKL(embed_dim=16, ch_mult=(1, 1, 2, 2, 4)).to(dev)
    randomize(model, args.seed)
    randomize(vae, args.seed + 1)
    labels = torch.tensor([LABEL], device=dev)
    settings = {'cfg': 4.3, 'guidance': 0.9, 'num_steps': args.steps}

    def generate(seed):
        torch.manual_seed(seed)
        tokens = model.sample_tokens(num_steps=settings['num_steps'], guidance=settings['guidance'],
                                     cfg=settings['cfg'], labels=labels)
        return vae.decode(tokens / 0.2325)
    return 'FlowAR-S (random weights), KL-16 VAE', (model, vae), settings, generate


# ------------------------------------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--family', required=True, choices=sorted(FAMILIES))
    ap.add_argument('--repo', required=True, help='the official repository (checkout or export) at the pinned commit')
    ap.add_argument('--device', default='cuda', choices=['cuda', 'cpu'])
    ap.add_argument('--runs', type=int, default=3, help='timed generations (default 3)')
    ap.add_argument('--seed', type=int, default=1, help='seeds the weights and the sampling')
    ap.add_argument('--threads', type=int, default=2, help='CPU threads (--device cpu; default 2)')
    ap.add_argument('--tf32', action='store_true', help='allow TF32 matrix products and convolutions')
    ap.add_argument('--json', action='store_true', help='one JSON object on standard output; the log on stderr')
    ap.add_argument('--depth', type=int, default=16, help='VAR depth (default 16)')
    ap.add_argument('--size', default='B', choices=['B', 'L', 'XL'], help='LlamaGen/NAR size (default B)')
    ap.add_argument('--grid', type=int, default=16, help='LlamaGen/NAR tokens per side (default 16; 256 px)')
    ap.add_argument('--steps', type=int, default=25, help='FlowAR flow steps (default 25)')
    ap.add_argument('--any-commit', action='store_true', help='run even if the imported files differ')
    args = ap.parse_args()
    if args.runs < 1 or args.threads < 1 or args.depth < 1 or args.grid < 2 or args.steps < 2:
        sys.exit('error: --runs, --threads, --depth must be at least 1, --grid and --steps at least 2')
    log = sys.stderr if args.json else sys.stdout
    fam = FAMILIES[args.family]
    if not os.path.isdir(args.repo):
        sys.exit('error: --repo %s is not a folder' % args.repo)
    # an export inside another git checkout (.gpu/official/...) must not be taken for that checkout's HEAD
    os.environ['GIT_CEILING_DIRECTORIES'] = os.path.dirname(os.path.abspath(args.repo))
    repo = refkit.pin_checkout(args.repo, fam['commit'], fam['blobs'], args.any_commit)
    if args.device == 'cuda' and not torch.cuda.is_available():
        sys.exit('error: --device cuda, but PyTorch %s sees no CUDA device' % torch.__version__)
    dev = args.device
    if dev == 'cpu':
        torch.set_num_threads(args.threads)
    torch.backends.cuda.matmul.allow_tf32 = args.tf32
    torch.backends.cudnn.allow_tf32 = args.tf32
    install_common_shims(args.family)
    sys.path.insert(0, os.path.join(repo, fam['root']))

    t0 = time.perf_counter()
    builder = {'var': build_var, 'flowar': build_flowar}.get(args.family)
    with contextlib.redirect_stdout(log):  # what the official constructors print joins the log
        if builder:
            name, modules, settings, generate = builder(args, dev)
        else:
            name, modules, settings, generate = build_token_model(args, dev, args.family)
    for m in modules:
        m.eval()
    built = time.perf_counter() - t0
    gpu = torch.cuda.get_device_name(0) if dev == 'cuda' else platform.processor() or platform.machine()
    print('official %s: %s, %.1fM parameters, built in %.1f s on %s (%s); torch %s, float32, tf32 %s' % (
        args.family, name, count(*modules) / 1e6, built, dev, gpu, torch.__version__, args.tf32), file=log)
    for s in shims:
        print('shim: ' + s, file=log)

    def timed(seed):
        if dev == 'cuda':
            torch.cuda.synchronize()
        t = time.perf_counter()
        with torch.inference_mode(), contextlib.redirect_stdout(log):
            image = generate(seed)
        if dev == 'cuda':
            torch.cuda.synchronize()
        s = time.perf_counter() - t
        if not torch.isfinite(image).all():
            print('note: the image holds non-finite values (random weights)', file=log)
        return s, tuple(image.shape)

    warm, shape = timed(args.seed)
    print('warm-up: %.3f s, image %s' % (warm, shape), file=log)
    runs = []
    for r in range(args.runs):
        s, _ = timed(args.seed + 1 + r)
        runs.append(s)
        print('run %d: %.3f s' % (r + 1, s), file=log)
    per_image = sum(runs) / len(runs)
    print('seconds per image: %.3f (mean of %d)' % (per_image, len(runs)), file=log)
    if args.json:
        print(json.dumps({'family': args.family, 'model': name, 'code': 'official', 'commit': fam['commit'][:8],
                          'device': dev, 'device_name': gpu, 'torch': torch.__version__, 'dtype': 'float32',
                          'tf32': args.tf32, 'settings': settings, 'batch': 1, 'warmup_seconds': warm,
                          'run_seconds': runs, 'seconds_per_image': per_image, 'build_seconds': built,
                          'parameters': count(*modules), 'shims': shims}))


if __name__ == '__main__':
    main()
