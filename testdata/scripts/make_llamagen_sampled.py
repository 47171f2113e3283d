"""Remakes testdata/llamagen-sampled/golden.safetensors with the official LlamaGen code.

The tokens the official ``autoregressive/models/generate.py`` samples with ``prefill`` + ``decode_n_tokens``
(temperature, top-k, top-p, CFG with ``cfg_interval``) for the random llamagen-small GPT
(testdata/llamagen-small/gpt.pth), labels [2, 9], on CPU after ``torch.manual_seed(seed)``, for the four settings
below. The steps of ``generate()`` around those two calls (null-class rows, ``setup_caches``, positions) are
repeated here because ``generate()`` opens ``with torch.device(...)``, which PyTorch 1.13 lacks.

Official code: FoundationVision/LlamaGen at ce98ec41803a74a90ce68c40ababa9eaeffeb4ec, passed as --repo (never
committed). Run with PyTorch 1.13 on CPU (Debian's python3-torch); one thread.

Shims (in memory only; nothing in the checkout is changed):
  * ``F.scaled_dot_product_attention`` does not exist in PyTorch 1.13: ``refkit.sdpa_math`` stands in
    (``softmax(q k^T / sqrt(head_dim)`` with the boolean cache mask as -inf``) v``, the math of the MATH backend).
  * ``torch._dynamo.config`` and ``torch._inductor.config`` (imported by generate.py, never used): empty modules.
  * ``torch.backends.cuda.sdp_kernel(enable_flash=, enable_mem_efficient=, enable_math=)``: 1.13's has other
    keyword names; ``refkit.no_op_context`` stands in (it would only select the math backend, which the stand-in
    attention is).
  * ``generate()``'s ``with torch.device(device)`` block: its statements run without the context manager (CPU is
    the default device anyway).
  * the decoding position ``torch.tensor([T], dtype=torch.int64)`` is made int64: PyTorch 1.13 cannot index a tensor
    with an int32 tensor (``IndexError``); the values are the same.

Usage:
  python3 testdata/scripts/make_llamagen_sampled.py --repo /path/to/LlamaGen [--check]
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import refkit  # noqa: E402

COMMIT = 'ce98ec41803a74a90ce68c40ababa9eaeffeb4ec'
BLOBS = {
    'autoregressive/models/generate.py': 'dd1191d9e725c38b4deedf1ff327e951f51989b8',
    'autoregressive/models/gpt.py': '9f2f2550d7421ec1c336ee2a06f98b53cb8d5bde',
    'utils/drop_path.py': '991a323e33304a2fe71c9757c13ace5c89fd8a5a',
}
LABELS = [2, 9]
CASES = [
    {'seed': 42, 'cfg': 2.0, 'cfg_interval': -1, 'temperature': 1.0, 'top_k': 0, 'top_p': 1.0},
    {'seed': 7, 'cfg': 4.0, 'cfg_interval': -1, 'temperature': 0.9, 'top_k': 50, 'top_p': 1.0},
    {'seed': 5, 'cfg': 1.5, 'cfg_interval': 100, 'temperature': 1.0, 'top_k': 0, 'top_p': 0.8},
    {'seed': 3, 'cfg': 1.0, 'cfg_interval': -1, 'temperature': 1.2, 'top_k': 100, 'top_p': 0.9},
]


def main():
    args = refkit.parser(__doc__, refkit.testdata('llamagen-sampled', 'golden.safetensors')).parse_args()
    repo = refkit.pin_checkout(args.repo, COMMIT, BLOBS, args.any_commit)
    torch.set_num_threads(1)
    refkit.check_environment()

    refkit.stub_module('torch._dynamo.config')
    refkit.stub_module('torch._inductor.config')
    F.scaled_dot_product_attention = refkit.sdpa_math
    torch.backends.cuda.sdp_kernel = refkit.no_op_context
    sys.path.insert(0, repo)
    from autoregressive.models import generate as gen
    from autoregressive.models.gpt import ModelArgs, Transformer

    # llamagen-small: 2 layers, 4 heads, width 128, vocabulary 1024, 10 classes, 16x16 grid
    model = Transformer(ModelArgs(dim=128, n_layer=2, n_head=4, vocab_size=1024, num_classes=10, block_size=256,
                                  cls_token_num=1, model_type='c2i'))
    model.load_state_dict(torch.load(refkit.testdata('llamagen-small', 'gpt.pth'), map_location='cpu'), strict=True)
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
            new_tokens, _ = gen.decode_n_tokens(model, next_token, torch.tensor([T], dtype=torch.int64), max_new - 1,
                                                cfg, s['cfg_interval'], **kw)
            seq = torch.cat([next_token] + new_tokens, dim=1)
            assert seq.shape == (len(LABELS), 256)
            tensors[f'case{c}.tokens'] = seq.to(torch.int64)
            print(f'case {c} {s}: first tokens {seq[0, :8].tolist()}')

    meta = {'cases': json.dumps(CASES), 'labels': json.dumps(LABELS),
            'made_by': 'FoundationVision/LlamaGen@ce98ec4 generate.prefill/decode_n_tokens on CPU, torch 1.13, '
                       'torch.manual_seed'}
    ok = refkit.finish(args, refkit.safetensors_bytes(tensors, meta), refkit.compare_safetensors)
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
