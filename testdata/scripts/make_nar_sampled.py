"""Remakes testdata/nar-sampled/golden.safetensors with the official NAR code.

The tokens the official ``NAR-images/autoregressive/models/generate.py`` samples with ``prefill`` +
``decode_n_tokens`` (31 next-neighbour steps on the 16x16 grid; temperature, top-k, top-p, CFG with
``cfg_interval``) for the random nar-small GPT (testdata/nar-small/gpt.pth), labels [4, 8], on CPU after
``torch.manual_seed(seed)``, for the three settings below; tokens in row-major grid order, as ``generate()``
returns them. The steps of ``generate()`` around those two calls are repeated here because ``generate()`` opens
``with torch.device(...)``, which PyTorch 1.13 lacks.

Official code: ThisisBillhe/NAR at 225c1fb563df80172ebbd51782838fe1fd09b40a (the image code in NAR-images/),
the repository root passed as --repo (never committed). Run with PyTorch 1.13 on CPU; one thread.

Shims (in memory only; nothing in the checkout is changed):
  * ``F.scaled_dot_product_attention`` does not exist in PyTorch 1.13: ``refkit.sdpa_math`` stands in
    (``softmax(q k^T / sqrt(head_dim)`` with the boolean proximity mask as -inf``) v``, the MATH backend's math).
  * ``torch.nn.attention`` (``SDPBackend``, ``sdpa_kernel``; PyTorch >= 2.3) does not exist: a module whose
    ``sdpa_kernel`` is ``refkit.no_op_context`` (it would only select the math backend, which the stand-in is).
  * ``torch._dynamo.config`` and ``torch._inductor.config`` (imported, never used): empty modules.
  * ``tqdm`` is not installed: ``tqdm(iterable)`` returns the iterable.
  * ``generate()``'s ``with torch.device(device)`` block: its statements run without the context manager.
  * the first decoding position ``torch.tensor([T], dtype=torch.int)`` is made int64: PyTorch 1.13 cannot index a
    tensor with an int32 tensor (``IndexError``); the values are the same (later positions are int64 already).

Usage:
  python3 testdata/scripts/make_nar_sampled.py --repo /path/to/NAR [--check]
"""
import enum
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import refkit  # noqa: E402

COMMIT = '225c1fb563df80172ebbd51782838fe1fd09b40a'
BLOBS = {
    'NAR-images/autoregressive/models/generate.py': 'becb5a64689020332ad80aa603a1bab3a043f406',
    'NAR-images/autoregressive/models/gpt.py': '60e95edfd93637adc9f8c285298aa6336f5f242c',
    'NAR-images/utils/drop_path.py': '991a323e33304a2fe71c9757c13ace5c89fd8a5a',
}
LABELS = [4, 8]
CASES = [
    {'seed': 11, 'cfg': 2.0, 'cfg_interval': -1, 'temperature': 1.0, 'top_k': 0, 'top_p': 1.0},
    {'seed': 12, 'cfg': 4.0, 'cfg_interval': 40, 'temperature': 1.1, 'top_k': 30, 'top_p': 1.0},
    {'seed': 13, 'cfg': 1.0, 'cfg_interval': -1, 'temperature': 1.0, 'top_k': 0, 'top_p': 0.85},
]


class SDPBackend(enum.Enum):  # stand-in for torch.nn.attention.SDPBackend
    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3


def main():
    args = refkit.parser(__doc__, refkit.testdata('nar-sampled', 'golden.safetensors')).parse_args()
    repo = refkit.pin_checkout(args.repo, COMMIT, BLOBS, args.any_commit)
    torch.set_num_threads(1)
    refkit.check_environment()

    refkit.stub_module('torch._dynamo.config')
    refkit.stub_module('torch._inductor.config')
    refkit.stub_module('torch.nn.attention', SDPBackend=SDPBackend, sdpa_kernel=refkit.no_op_context)
    refkit.stub_module('tqdm', tqdm=lambda iterable, *a, **k: iterable)
    F.scaled_dot_product_attention = refkit.sdpa_math
    sys.path.insert(0, os.path.join(repo, 'NAR-images'))
    from autoregressive.models import generate as gen
    from autoregressive.models.gpt import ModelArgs, Transformer

    # nar-small: 2 layers + 1 "medusa" layer, 4 heads, width 128, vocabulary 1024, 10 classes, 16x16 grid
    model = Transformer(ModelArgs(dim=128, n_layer=2, n_head=4, vocab_size=1024, num_classes=10, block_size=256,
                                  cls_token_num=1, model_type='c2i', medusa_attention_num=1))
    model.load_state_dict(torch.load(refkit.testdata('nar-small', 'gpt.pth'), map_location='cpu'), strict=True)
    model.eval()

    tensors = {}
    with torch.no_grad():
        for c, s in enumerate(CASES):
            torch.manual_seed(s['seed'])
            cond = torch.tensor(LABELS)
            kw = dict(temperature=s['temperature'], top_k=s['top_k'], top_p=s['top_p'], sample_logits=True)
            # generate(model, cond, 256, cfg_scale, cfg_interval) for c2i, step by step:
            cfg = s['cfg']
            cond_combined = torch.cat([cond, torch.ones_like(cond) * model.num_classes]) if cfg > 1.0 else cond
            T, max_new = 1, 256
            model.setup_caches(max_batch_size=len(LABELS) * (2 if cfg > 1.0 else 1), max_seq_length=T + max_new,
                               dtype=model.tok_embeddings.weight.dtype)
            next_token = gen.prefill(model, cond_combined, torch.arange(0, T), cfg, **kw)
            rest = gen.decode_n_tokens(model, next_token, torch.tensor([T], dtype=torch.int64), cfg,
                                       s['cfg_interval'], int(max_new ** 0.5), **kw)
            seq = torch.cat([next_token, rest], dim=1)
            assert seq.shape == (len(LABELS), 256)
            tensors[f'case{c}.tokens'] = seq.to(torch.int64)
            print(f'case {c} {s}: first tokens {seq[0, :8].tolist()}')

    meta = {'cases': json.dumps(CASES), 'labels': json.dumps(LABELS),
            'made_by': 'ThisisBillhe/NAR@225c1fb generate.prefill/decode_n_tokens on CPU, torch 1.13, '
                       'torch.manual_seed'}
    ok = refkit.finish(args, refkit.safetensors_bytes(tensors, meta), refkit.compare_safetensors)
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
