"""Checks the bundled FlowAR pair and KL autoencoder against the official code: this recipe's state_dicts load
strictly into the official modules, which compute the same outputs as this recipe's modules.

  /usr/bin/python3 flowar_check_official.py /path/to/FlowAR        (a checkout outside this repository)
Official code: wangqiang9/FlowAR@5745a96 (the full OliverRensu/FlowAR code; its models/vae.py is MAR's), pinned
by the git blob ids of the files imported (testdata/scripts/make_flowar_sampled.py's table). Stand-ins, all in
memory and all from make_flowar_sampled.py: timm's SwiGLU / DropPath, einops, tqdm, F.scaled_dot_product_attention
(plain math), .cuda() as the identity. Settings of the official classes:
- AutoencoderKL hard-codes ch 128 and ch_mult through its Encoder/Decoder defaults, so the official Encoder and
  Decoder are built with the card's ch 32, ch_mult (1, 2, 2), num_res_blocks 1, resolution 32 (encoder attention
  at resolution 8, none in the decoder, as MAR's decoder), next to plain quant_conv / post_quant_conv convs;
- FlowAR(img_size=32, vae_stride=4, scale=(1, 2, 4, 8), ...) hard-codes class_emb with 1001 rows (null = 1000): the
  bundle's 11 rows are put in rows 0..9 and 1000 (the others zero, never read); sample_tokens resizes every sampled
  scale bicubically to a hard-coded 16x16 (its 256 px grid) where its training code uses the grid side, so for the
  sampling comparison that constant is replaced in memory by the grid side (8), as the bundle is trained.
Compared: the autoencoder's posterior moments and decoded images; FlowAR's teacher-forced AR condition over all
scales (the training forward, with the flow loss replaced by a recorder), the flow head, and sample_tokens with
the seeded CPU stream (cfg 3, guidance 0.9, 25 steps).
"""
import inspect
import os
import sys
import textwrap

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), 'testdata', 'scripts'))
import make_flowar_sampled as mfs  # noqa: E402
import refkit  # noqa: E402

import data  # noqa: E402
import st  # noqa: E402
from flowar_check import BUNDLE, load_flowar  # noqa: E402
from mar_vae import AutoencoderKL  # noqa: E402


def report(what, a, b):
    err = (a.double() - b.double()).abs().max().item()
    print('%-48s max abs difference %.3g' % (what, err))
    return err


def check_vae(vae_mod):
    ours = AutoencoderKL()
    sd = st.load(os.path.join(BUNDLE, 'kl-vae.safetensors'))
    ours.load_state_dict(sd)
    theirs = torch.nn.Module()
    kw = dict(ch=32, out_ch=3, ch_mult=(1, 2, 2), num_res_blocks=1, dropout=0.0, in_channels=3, resolution=32,
              z_channels=16)
    theirs.encoder = vae_mod.Encoder(attn_resolutions=(8,), double_z=True, **kw)
    theirs.decoder = vae_mod.Decoder(attn_resolutions=(), **kw)
    theirs.quant_conv = torch.nn.Conv2d(32, 32, 1)
    theirs.post_quant_conv = torch.nn.Conv2d(16, 16, 1)
    theirs.load_state_dict(sd, strict=True)
    ours.eval(), theirs.eval()
    x, _ = data.load('test')
    x = x[:8]
    with torch.no_grad():
        mean, logvar = ours.encode_moments(x)
        moments = theirs.quant_conv(theirs.encoder(x))
        post = vae_mod.DiagonalGaussianDistribution(moments)
        errs = [report('KL VAE posterior mean', post.mean, mean), report('KL VAE log-variance', post.logvar, logvar)]
        errs.append(report('KL VAE decode', theirs.decoder(theirs.post_quant_conv(mean)), ours.decode(mean)))
    return max(errs)


def official_flowar(fl_mod, ours):
    sd = dict(ours.state_dict())
    C = sd['class_emb.weight'].shape[1]
    emb = torch.zeros(1001, C)
    emb[:10], emb[1000] = sd['class_emb.weight'][:10], sd['class_emb.weight'][10]
    sd['class_emb.weight'] = emb
    heads = ours.encoder_blocks[0].attn.heads
    m = fl_mod.FlowAR(img_size=32, vae_stride=4, patch_size=1, encoder_embed_dim=C,
                      encoder_depth=len(ours.encoder_blocks), encoder_num_heads=heads, decoder_embed_dim=C,
                      decoder_depth=len(ours.decoder_blocks), decoder_num_heads=heads, mlp_ratio=4., vae_embed_dim=16,
                      label_drop_prob=0.0, class_num=10, diffloss_d=len(ours.flownet.res_blocks),
                      diffloss_w=ours.flownet.input_proj.weight.shape[0], scale=(1, 2, 4, 8), cross=False)
    m.load_state_dict(sd, strict=True)
    return m


def grid_side_sample_tokens(fl_mod):
    src = textwrap.dedent(inspect.getsource(fl_mod.FlowAR.sample_tokens))
    old = "F.interpolate(x_, (16,16),mode='bicubic')"
    assert src.count(old) == 1, 'the fixed 16x16 resize of sample_tokens was not found'
    ns = {}
    exec(compile(src.replace(old, "F.interpolate(x_, (self.seq_h, self.seq_w),mode='bicubic')"),
                 fl_mod.__file__ + ' (sample_tokens, grid-side resize)', 'exec'), fl_mod.__dict__, ns)
    return ns['sample_tokens']


def check_flowar(fl_mod, name):
    ours = load_flowar(name)
    theirs = official_flowar(fl_mod, ours)
    errs = []
    # teacher-forced condition: the official training forward with a recording flow loss
    torch.manual_seed(3)
    lat = torch.randn(4, 16, 8, 8)
    labels = torch.tensor([0, 3, 7, 9])
    seen = []

    def record(net, gt, z):
        seen.append((gt, z))
        return torch.zeros(gt.shape[0])
    theirs.flow_loss_fn = record
    theirs.train()
    with torch.no_grad():
        theirs(lat, labels)
        gts, z = ours.condition(lat, labels)
    theirs.eval()
    errs.append(report(name + ' teacher-forced AR condition', torch.cat([s[1] for s in seen], 1), z))
    errs.append(report(name + ' per-scale targets', torch.cat([s[0] for s in seen], 1), torch.cat(gts, 1)))
    # the flow head alone
    torch.manual_seed(11)
    x, cond = torch.randn(4, 16, 16), torch.randn(4, 16, z.shape[-1])
    t = torch.tensor([1.0, 0.8727, 0.3, 0.0417])
    with torch.no_grad():
        errs.append(report(name + ' flow head', theirs.flownet(x, t, cond), ours.flownet(x, t, cond)))
    # sampling from the seeded CPU stream (our null class 10 is the official row 1000)
    sample_tokens = grid_side_sample_tokens(fl_mod)
    torch.manual_seed(7)
    with torch.no_grad():
        a = sample_tokens(theirs, num_steps=25, guidance=0.9, cfg=3.0, labels=torch.arange(10)).float()
    torch.manual_seed(7)
    b = ours.sample(torch.arange(10), num_steps=25, cfg=3.0, guidance=0.9)
    errs.append(report(name + ' sample_tokens (cfg 3, seed 7)', a, b))
    return max(errs)


def main():
    repo = refkit.pin_checkout(sys.argv[1], mfs.COMMIT, mfs.BLOBS, '--any-commit' in sys.argv)
    torch.set_num_threads(1)
    mfs.install_shims()
    sys.path.insert(0, repo)
    import models.flowar as fl_mod
    import models.vae as vae_mod
    worst = max(check_vae(vae_mod), check_flowar(fl_mod, 'flowar-target'), check_flowar(fl_mod, 'flowar-draft'))
    print('largest difference %.3g' % worst)
    raise SystemExit(0 if worst < 1e-4 else 1)


if __name__ == '__main__':
    main()
