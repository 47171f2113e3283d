"""Checks that this recipe's state_dicts have exactly the keys, shapes and dtypes of the official VAR modules.

  /usr/bin/python3 check_official.py /path/to/FoundationVision/VAR      (a checkout outside this repository)
"""
import sys
import types

import torch


def main(root):
    sys.path.insert(0, root)
    sys.modules.setdefault('huggingface_hub', types.SimpleNamespace(PyTorchModelHubMixin=object))
    import models.basic_vae as bv
    from models.quant import VectorQuantizer2
    from models.var import VAR as OVAR
    import torch.nn as nn
    from train_vae import CFG
    from vqvae import VQVAE
    from var_model import VAR

    ours = VQVAE(**CFG)
    theirs = nn.Module()   # the official VQVAE fixes ch_mult; build the same tree from its parts
    dd = dict(ch=CFG['ch'], ch_mult=CFG['ch_mult'], num_res_blocks=CFG['num_res_blocks'], z_channels=CFG['z_channels'],
              dropout=0.0, in_channels=3, using_sa=True, using_mid_sa=True)
    theirs.encoder = bv.Encoder(double_z=False, **dd)
    theirs.decoder = bv.Decoder(**dd)
    theirs.quantize = VectorQuantizer2(vocab_size=CFG['vocab_size'], Cvae=CFG['z_channels'], using_znorm=False, beta=0.25,
                                       default_qresi_counts=0, v_patch_nums=CFG['v_patch_nums'], quant_resi=0.5, share_quant_resi=4)
    theirs.quant_conv = nn.Conv2d(16, 16, 3, 1, 1)
    theirs.post_quant_conv = nn.Conv2d(16, 16, 3, 1, 1)
    compare('vae', ours.state_dict(), theirs.state_dict())
    # same weights, same outputs: tokens, decoded images, teacher-forced logits
    torch.manual_seed(0)
    with torch.no_grad():
        for p in ours.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    theirs.load_state_dict(ours.state_dict())
    ours.eval(); theirs.eval()
    x = torch.rand(4, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        f = ours.quant_conv(ours.encoder(x))
        f2 = theirs.quant_conv(theirs.encoder(x))
        print('encoder max abs diff', (f - f2).abs().max().item())
        ia = ours.quantize.f_to_idx(f)
        ib = theirs.quantize.f_to_idxBl_or_fhat(f2, to_fhat=False)
        print('tokens equal', all(torch.equal(a, b) for a, b in zip(ia, ib)))
        img = ours.idx_to_img(ia)
        fh = theirs.quantize.embed_to_fhat([theirs.quantize.embedding(i).transpose(1, 2).reshape(4, 16, p, p)
                                            for i, p in zip(ib, CFG['v_patch_nums'])], all_to_max_scale=True, last_one=True)
        img2 = theirs.decoder(theirs.post_quant_conv(fh)).clamp(-1, 1)
        print('decoded image max abs diff', (img - img2).abs().max().item())
        ti = ours.quantize.teacher_inputs(ia)
        print('teacher input max abs diff', (ti - theirs.quantize.idxBl_to_var_input(ib)).abs().max().item())
    for depth in (2, 4):
        o = VAR(CFG['z_channels'], CFG['vocab_size'], 10, depth, patch_nums=CFG['v_patch_nums'])
        vae_stub = types.SimpleNamespace(Cvae=CFG['z_channels'], vocab_size=CFG['vocab_size'], quantize=theirs.quantize)
        t = OVAR(vae_stub, num_classes=10, depth=depth, embed_dim=depth * 64, num_heads=depth, attn_l2_norm=True,
                 patch_nums=CFG['v_patch_nums'], flash_if_available=False, fused_if_available=False)
        compare('var-d%d' % depth, o.state_dict(), t.state_dict())
        with torch.no_grad():
            for p in o.parameters():
                p.add_(torch.randn_like(p) * 0.02)
        t.load_state_dict(o.state_dict())
        o.eval(); t.eval(); t.cond_drop_rate = 0.0
        lab = torch.tensor([0, 3, 7, 10])
        with torch.no_grad():
            d = (o(lab, ti, drop=False) - t(lab, ti)).abs().max().item()
        print('var-d%d teacher-forced logits max abs diff' % depth, d)


def compare(name, a, b):
    ka, kb = set(a), set(b)
    bad = sorted(ka ^ kb)
    for k in sorted(ka & kb):
        if a[k].shape != b[k].shape or a[k].dtype != b[k].dtype:
            bad.append('%s %s/%s vs %s/%s' % (k, tuple(a[k].shape), a[k].dtype, tuple(b[k].shape), b[k].dtype))
    print(name, len(ka), 'tensors;', 'identical names, shapes and dtypes' if not bad else 'DIFFERENCES: %s' % bad)
    if name.startswith('var'):
        for k in ('lvl_1L', 'attn_bias_for_masking'):
            assert torch.equal(a[k], b[k]), k
    if bad:
        sys.exit(1)


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else '/tmp/official/VAR')
