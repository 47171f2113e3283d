"""Checks that the LlamaGen recipe's modules are the release's: the official VQModel and GPT Transformer (from a
checkout of FoundationVision/LlamaGen kept outside this repository) load our state_dicts strictly and compute the
same codes, images and teacher-forced logits.

  /usr/bin/python3 lg_check_official.py /path/to/LlamaGen [--work DIR]
Uses work/lgvq.pt and work/lg-*.pt when present, else freshly initialised modules. torch 1.13 has no
F.scaled_dot_product_attention (the release needs torch 2); a plain causal one stands in for it here.
"""
import math
import os
import sys

import torch
import torch.nn.functional as F

import common
import data
from lg_gpt import Transformer
from lg_vq import VQModel
from train_lggpt import build
from train_lgvq import CFG


def sdpa(q, k, v, attn_mask=None, is_causal=False, dropout_p=0.0):
    a = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    if is_causal:
        a = a.masked_fill(~torch.ones(a.shape[-2], a.shape[-1], dtype=torch.bool).tril(), float('-inf'))
    elif attn_mask is not None:
        a = a.masked_fill(~attn_mask, float('-inf'))
    return torch.softmax(a, -1) @ v


def main(root):
    sys.path.insert(0, root)
    F.scaled_dot_product_attention = getattr(F, 'scaled_dot_product_attention', sdpa)
    import tokenizer.tokenizer_image.vq_model as ovq
    import autoregressive.models.gpt as ogpt
    torch.manual_seed(0)
    st = common.load_ckpt('lgvq.pt')
    ours = VQModel(**CFG)
    if st:
        ours.load_state_dict(st['model'])
    args = ovq.ModelArgs(codebook_size=CFG['codebook_size'], codebook_embed_dim=CFG['codebook_embed_dim'],
                         codebook_l2_norm=True, encoder_ch_mult=list(CFG['ch_mult']), decoder_ch_mult=list(CFG['ch_mult']),
                         z_channels=CFG['z_channels'])
    theirs = ovq.VQModel(args)   # fixes ch=128, num_res_blocks=2: the same tree with our arguments
    theirs.encoder = ovq.Encoder(ch=CFG['ch'], ch_mult=CFG['ch_mult'], num_res_blocks=CFG['num_res_blocks'], z_channels=CFG['z_channels'])
    theirs.decoder = ovq.Decoder(ch=CFG['ch'], ch_mult=CFG['ch_mult'], num_res_blocks=CFG['num_res_blocks'], z_channels=CFG['z_channels'])
    sd = ours.state_dict()
    theirs.load_state_dict(sd, strict=True)
    for k, v in theirs.state_dict().items():
        assert v.shape == sd[k].shape and v.dtype == sd[k].dtype, k
    ours.eval(); theirs.eval()
    x, _ = data.load('test')
    x = x[:16]
    with torch.no_grad():
        _, _, (_, _, idx) = theirs.encode(x)
        mine = ours.encode_idx(x)
        assert torch.equal(idx.view(16, -1), mine), 'codes differ'
        img = theirs.decode_code(mine.view(-1), (16, CFG['codebook_embed_dim'], 8, 8))
        d = (img - ours.decode_code(mine, 8)).abs().max().item()
    print('VQ: %d tensors load strictly; codes equal; decoded images max |diff| %.2e' % (len(sd), d))
    assert d < 1e-5
    for name in ('lg-target', 'lg-draft'):
        ck = common.load_ckpt(name + '.pt')
        a = ck['args'] if ck else dict(dim=64, layers=2, multiple_of=64)
        m = build(a, CFG['codebook_size'])
        if ck:
            m.load_state_dict(ck['model'])
        else:
            torch.nn.init.normal_(m.output.weight, std=0.02)   # the release starts it at zero: logits would be 0
        o = ogpt.Transformer(ogpt.ModelArgs(dim=a['dim'], n_layer=a['layers'], n_head=max(1, a['dim'] // 64),
                                            multiple_of=a['multiple_of'], vocab_size=CFG['codebook_size'], num_classes=10,
                                            block_size=64, cls_token_num=1, class_dropout_prob=0.1, token_dropout_p=0.0,
                                            resid_dropout_p=0.0, ffn_dropout_p=0.0, model_type='c2i'))
        o.load_state_dict(m.state_dict(), strict=True)
        m.eval(); o.train()                    # the release's full-sequence path is its training path
        o.cls_embedding.dropout_prob = 0.0     # ... without its label dropout
        labels = torch.arange(4)
        toks = torch.randint(CFG['codebook_size'], (4, 63))
        with torch.no_grad():
            lo, _ = o(toks, labels)
            lm = m(labels, toks)
        d = (lo - lm).abs().max().item()
        print('%s: %d tensors load strictly into Transformer(ModelArgs(dim=%d, n_layer=%d, n_head=%d, multiple_of=%d)); '
              'teacher-forced logits max |diff| %.2e' % (name, len(m.state_dict()), a['dim'], a['layers'],
                                                         max(1, a['dim'] // 64), a['multiple_of'], d))
        assert d < 1e-4


if __name__ == '__main__':
    main(sys.argv[1])
