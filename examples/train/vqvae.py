"""VAR's multi-scale VQ-VAE, written for this recipe.

Module and parameter names follow FoundationVision/VAR (models/vqvae.py, basic_vae.py, quant.py) so that the
state_dict is one the official VQVAE class would load when built with the same ch / ch_mult / num_res_blocks
(the official class fixes ch_mult=(1,1,2,2,4) for 256 px; the 32 px recipe uses fewer levels, the names are the same).
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def _gn(c):
    return nn.GroupNorm(32, c, eps=1e-6, affine=True)


class ResnetBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.norm1 = _gn(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, 1, 1)
        self.norm2 = _gn(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        self.nin_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return self.nin_shortcut(x) + h


class AttnBlock(nn.Module):
    """Single-head self-attention over the pixels of a map, qkv as one 1x1 conv."""

    def __init__(self, c):
        super().__init__()
        self.norm = _gn(c)
        self.qkv = nn.Conv2d(c, 3 * c, 1)
        self.proj_out = nn.Conv2d(c, c, 1)

    def forward(self, x):
        B, C, H, W = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(B, 3, C, H * W).unbind(1)
        att = torch.softmax(torch.einsum('bci,bcj->bij', q, k) * C ** -0.5, dim=-1)   # [B, Hq, Wk]
        h = torch.einsum('bij,bcj->bci', att, v).reshape(B, C, H, W)
        return x + self.proj_out(h)


class Down(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, 2, 0)

    def forward(self, x):
        return self.conv(F.pad(x, (0, 1, 0, 1)))


class Up(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, 1, 1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2, mode='nearest'))


class Encoder(nn.Module):
    def __init__(self, ch, ch_mult, num_res_blocks, z_channels, in_channels=3):
        super().__init__()
        self.nl, self.nb = len(ch_mult), num_res_blocks
        self.conv_in = nn.Conv2d(in_channels, ch, 3, 1, 1)
        self.down = nn.ModuleList()
        cin = ch
        for i, m in enumerate(ch_mult):
            lvl = nn.Module()
            lvl.block, lvl.attn = nn.ModuleList(), nn.ModuleList()
            for _ in range(num_res_blocks):
                lvl.block.append(ResnetBlock(cin, ch * m))
                cin = ch * m
                if i == self.nl - 1:
                    lvl.attn.append(AttnBlock(cin))
            if i != self.nl - 1:
                lvl.downsample = Down(cin)
            self.down.append(lvl)
        self.mid = nn.Module()
        self.mid.block_1 = ResnetBlock(cin, cin)
        self.mid.attn_1 = AttnBlock(cin)
        self.mid.block_2 = ResnetBlock(cin, cin)
        self.norm_out = _gn(cin)
        self.conv_out = nn.Conv2d(cin, z_channels, 3, 1, 1)

    def forward(self, x):
        h = self.conv_in(x)
        for i, lvl in enumerate(self.down):
            for j in range(self.nb):
                h = lvl.block[j](h)
                if len(lvl.attn):
                    h = lvl.attn[j](h)
            if i != self.nl - 1:
                h = lvl.downsample(h)
        h = self.mid.block_2(self.mid.attn_1(self.mid.block_1(h)))
        return self.conv_out(F.silu(self.norm_out(h)))


class Decoder(nn.Module):
    def __init__(self, ch, ch_mult, num_res_blocks, z_channels, out_channels=3):
        super().__init__()
        self.nl, self.nb = len(ch_mult), num_res_blocks
        cin = ch * ch_mult[-1]
        self.conv_in = nn.Conv2d(z_channels, cin, 3, 1, 1)
        self.mid = nn.Module()
        self.mid.block_1 = ResnetBlock(cin, cin)
        self.mid.attn_1 = AttnBlock(cin)
        self.mid.block_2 = ResnetBlock(cin, cin)
        ups = []
        for i in reversed(range(self.nl)):
            lvl = nn.Module()
            lvl.block, lvl.attn = nn.ModuleList(), nn.ModuleList()
            for _ in range(num_res_blocks + 1):
                lvl.block.append(ResnetBlock(cin, ch * ch_mult[i]))
                cin = ch * ch_mult[i]
                if i == self.nl - 1:
                    lvl.attn.append(AttnBlock(cin))
            if i != 0:
                lvl.upsample = Up(cin)
            ups.append(lvl)
        self.up = nn.ModuleList(ups[::-1])    # up[0] is the finest level, as in the official layout
        self.norm_out = _gn(cin)
        self.conv_out = nn.Conv2d(cin, out_channels, 3, 1, 1)

    def forward(self, z):
        h = self.mid.block_2(self.mid.attn_1(self.mid.block_1(self.conv_in(z))))
        for i in reversed(range(self.nl)):
            lvl = self.up[i]
            for j in range(self.nb + 1):
                h = lvl.block[j](h)
                if len(lvl.attn):
                    h = lvl.attn[j](h)
            if i != 0:
                h = lvl.upsample(h)
        return self.conv_out(F.silu(self.norm_out(h)))


class Phi(nn.Conv2d):
    """phi(h) = (1 - r) h + r conv3x3(h)."""

    def __init__(self, c, r):
        super().__init__(c, c, 3, 1, 1)
        self.r = r

    def forward(self, h):
        return h * (1 - self.r) + super().forward(h) * self.r


class PhiPartiallyShared(nn.Module):
    def __init__(self, phis):
        super().__init__()
        self.qresi_ls = nn.ModuleList(phis)
        K = len(phis)
        self.ticks = np.linspace(1 / 3 / K, 1 - 1 / 3 / K, K) if K == 4 else np.linspace(1 / 2 / K, 1 - 1 / 2 / K, K)

    def __getitem__(self, at):
        return self.qresi_ls[int(np.argmin(np.abs(self.ticks - at)))]


class VectorQuantizer2(nn.Module):
    def __init__(self, vocab_size, Cvae, v_patch_nums, beta=0.25, quant_resi=0.5, share_quant_resi=4):
        super().__init__()
        self.vocab_size, self.Cvae, self.v_patch_nums, self.beta = vocab_size, Cvae, tuple(v_patch_nums), beta
        self.quant_resi = PhiPartiallyShared([Phi(Cvae, quant_resi) for _ in range(share_quant_resi)])
        self.register_buffer('ema_vocab_hit_SV', torch.zeros(len(self.v_patch_nums), vocab_size))
        self.embedding = nn.Embedding(vocab_size, Cvae)

    def _phi(self, si):
        return self.quant_resi[si / (len(self.v_patch_nums) - 1)]

    def _nearest(self, z_NC):
        d = z_NC.pow(2).sum(1, keepdim=True) + self.embedding.weight.pow(2).sum(1) - 2 * z_NC @ self.embedding.weight.t()
        return d.argmin(1)

    def forward(self, f):
        """Training pass: residual quantisation over the scales; straight-through f_hat, loss, per-scale hit counts."""
        B, C, H, W = f.shape
        f_ng = f.detach()
        rest = f_ng.clone()
        fhat = torch.zeros_like(rest)
        loss = 0.0
        SN = len(self.v_patch_nums)
        hits = []
        for si, pn in enumerate(self.v_patch_nums):
            z = F.interpolate(rest, size=(pn, pn), mode='area') if si != SN - 1 else rest
            idx = self._nearest(z.permute(0, 2, 3, 1).reshape(-1, C))
            hits.append(idx.bincount(minlength=self.vocab_size).float())
            h = self.embedding(idx.view(B, pn, pn)).permute(0, 3, 1, 2)
            if si != SN - 1:
                h = F.interpolate(h, size=(H, W), mode='bicubic')
            h = self._phi(si)(h)
            fhat = fhat + h
            rest = rest - h
            loss = loss + F.mse_loss(fhat.detach(), f) * self.beta + F.mse_loss(fhat, f_ng)
        loss = loss / SN
        fhat = (fhat.detach() - f_ng) + f
        return fhat, loss, torch.stack(hits)

    @torch.no_grad()
    def f_to_idx(self, f):
        B, C, H, W = f.shape
        rest = f.clone()
        out = []
        SN = len(self.v_patch_nums)
        for si, pn in enumerate(self.v_patch_nums):
            z = F.interpolate(rest, size=(pn, pn), mode='area') if si != SN - 1 else rest
            idx = self._nearest(z.permute(0, 2, 3, 1).reshape(-1, C))
            h = self.embedding(idx.view(B, pn, pn)).permute(0, 3, 1, 2)
            if si != SN - 1:
                h = F.interpolate(h, size=(H, W), mode='bicubic')
            rest = rest - self._phi(si)(h)
            out.append(idx.view(B, pn * pn))
        return out

    def idx_to_fhat(self, idx_list):
        B = idx_list[0].shape[0]
        H = self.v_patch_nums[-1]
        fhat = torch.zeros(B, self.Cvae, H, H)
        for si, (idx, pn) in enumerate(zip(idx_list, self.v_patch_nums)):
            h = self.embedding(idx).transpose(1, 2).reshape(B, self.Cvae, pn, pn)
            if si != len(self.v_patch_nums) - 1:
                h = F.interpolate(h, size=(H, H), mode='bicubic')
            fhat = fhat + self._phi(si)(h)
        return fhat

    def teacher_inputs(self, idx_list):
        """VAR's teacher-forcing input: area(f_hat after scale k) at the side of scale k+1, as [B, L - first_l, Cvae]."""
        B = idx_list[0].shape[0]
        H = self.v_patch_nums[-1]
        fhat = torch.zeros(B, self.Cvae, H, H)
        outs = []
        SN = len(self.v_patch_nums)
        for si in range(SN - 1):
            pn = self.v_patch_nums[si]
            h = self.embedding(idx_list[si]).transpose(1, 2).reshape(B, self.Cvae, pn, pn)
            fhat = fhat + self._phi(si)(F.interpolate(h, size=(H, H), mode='bicubic'))
            nxt = self.v_patch_nums[si + 1]
            outs.append(F.interpolate(fhat, size=(nxt, nxt), mode='area').reshape(B, self.Cvae, -1).transpose(1, 2))
        return torch.cat(outs, 1)


class VQVAE(nn.Module):
    def __init__(self, vocab_size=512, z_channels=16, ch=32, ch_mult=(1, 2, 2), num_res_blocks=1,
                 v_patch_nums=(1, 2, 3, 4, 6, 8), beta=0.25, quant_resi=0.5, share_quant_resi=4):
        super().__init__()
        self.V, self.Cvae = vocab_size, z_channels
        self.encoder = Encoder(ch, ch_mult, num_res_blocks, z_channels)
        self.decoder = Decoder(ch, ch_mult, num_res_blocks, z_channels)
        self.quantize = VectorQuantizer2(vocab_size, z_channels, v_patch_nums, beta, quant_resi, share_quant_resi)
        self.quant_conv = nn.Conv2d(z_channels, z_channels, 3, 1, 1)
        self.post_quant_conv = nn.Conv2d(z_channels, z_channels, 3, 1, 1)

    def forward(self, x):
        fhat, vq_loss, hits = self.quantize(self.quant_conv(self.encoder(x)))
        return self.decoder(self.post_quant_conv(fhat)), vq_loss, hits

    @torch.no_grad()
    def img_to_idx(self, x):
        return self.quantize.f_to_idx(self.quant_conv(self.encoder(x)))

    @torch.no_grad()
    def idx_to_img(self, idx_list):
        return self.decoder(self.post_quant_conv(self.quantize.idx_to_fhat(idx_list))).clamp(-1, 1)
