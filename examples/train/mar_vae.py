"""MAR's KL autoencoder (LTH14/mar models/vae.py, the LDM AutoencoderKL), written for this recipe at 32 px.

Module and parameter names follow the release exactly (encoder.down.N.block.M, mid.block_1/attn_1/block_2,
separate q/k/v/proj_out 1x1 convs in the attention, decoder.up.N with N numbered by resolution, quant_conv to the
posterior's mean and log-variance, post_quant_conv), so the state_dict is one the official AutoencoderKL loads when
its Encoder/Decoder are built with the same ch / ch_mult / num_res_blocks / attn_resolutions. The release builds
ch=128, ch_mult=(1,1,2,2,4), num_res_blocks=2 (256 px, 16x16 latents); the recipe uses ch=32, ch_mult=(1,2,2),
num_res_blocks=1, so a 32 px image is an 8x8 grid of 16-channel latents.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


def _gn(c):
    return nn.GroupNorm(32, c, eps=1e-6, affine=True)


class ResnetBlock(nn.Module):
    """No timestep embedding (temb_channels=0, so no temb_proj), dropout 0."""

    def __init__(self, cin, cout):
        super().__init__()
        self.norm1 = _gn(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, 1, 1)
        self.norm2 = _gn(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        if cin != cout:
            self.nin_shortcut = nn.Conv2d(cin, cout, 1)
        self.cin, self.cout = cin, cout

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return (self.nin_shortcut(x) if self.cin != self.cout else x) + h


class AttnBlock(nn.Module):
    """Single-head attention over the pixels, q/k/v/proj_out as separate 1x1 convs, scale C^-0.5."""

    def __init__(self, c):
        super().__init__()
        self.norm = _gn(c)
        self.q = nn.Conv2d(c, c, 1)
        self.k = nn.Conv2d(c, c, 1)
        self.v = nn.Conv2d(c, c, 1)
        self.proj_out = nn.Conv2d(c, c, 1)

    def forward(self, x):
        B, C, H, W = x.shape
        h = self.norm(x)
        q, k, v = (m(h).reshape(B, C, H * W) for m in (self.q, self.k, self.v))
        att = torch.softmax(torch.einsum('bci,bcj->bij', q, k) * C ** -0.5, dim=-1)
        o = torch.einsum('bij,bcj->bci', att, v).reshape(B, C, H, W)
        return x + self.proj_out(o)


class Downsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, 2, 0)

    def forward(self, x):
        return self.conv(F.pad(x, (0, 1, 0, 1)))


class Upsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, 1, 1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode='nearest'))


class Encoder(nn.Module):
    def __init__(self, ch, ch_mult, num_res_blocks, z_channels, resolution, attn_resolutions, in_channels=3):
        super().__init__()
        self.nl, self.nb = len(ch_mult), num_res_blocks
        self.conv_in = nn.Conv2d(in_channels, ch, 3, 1, 1)
        self.down = nn.ModuleList()
        cin, res = ch, resolution
        for i, m in enumerate(ch_mult):
            lvl = nn.Module()
            lvl.block, lvl.attn = nn.ModuleList(), nn.ModuleList()
            for _ in range(num_res_blocks):
                lvl.block.append(ResnetBlock(cin, ch * m))
                cin = ch * m
                if res in attn_resolutions:
                    lvl.attn.append(AttnBlock(cin))
            if i != self.nl - 1:
                lvl.downsample = Downsample(cin)
                res //= 2
            self.down.append(lvl)
        self.mid = nn.Module()
        self.mid.block_1 = ResnetBlock(cin, cin)
        self.mid.attn_1 = AttnBlock(cin)
        self.mid.block_2 = ResnetBlock(cin, cin)
        self.norm_out = _gn(cin)
        self.conv_out = nn.Conv2d(cin, 2 * z_channels, 3, 1, 1)   # double_z

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
            lvl.block, lvl.attn = nn.ModuleList(), nn.ModuleList()   # attn_resolutions=() as in MAR's decoder
            for _ in range(num_res_blocks + 1):
                lvl.block.append(ResnetBlock(cin, ch * ch_mult[i]))
                cin = ch * ch_mult[i]
            if i != 0:
                lvl.upsample = Upsample(cin)
            ups.append(lvl)
        self.up = nn.ModuleList(ups[::-1])   # up[0] is the finest level, as in the release
        self.norm_out = _gn(cin)
        self.conv_out = nn.Conv2d(cin, out_channels, 3, 1, 1)

    def forward(self, z):
        h = self.mid.block_2(self.mid.attn_1(self.mid.block_1(self.conv_in(z))))
        for i in reversed(range(self.nl)):
            lvl = self.up[i]
            for j in range(self.nb + 1):
                h = lvl.block[j](h)
            if i != 0:
                h = lvl.upsample(h)
        return self.conv_out(F.silu(self.norm_out(h)))


class AutoencoderKL(nn.Module):
    """encode -> (mean, logvar) of the diagonal Gaussian posterior; decode(z) = decoder(post_quant_conv(z))."""

    def __init__(self, embed_dim=16, ch=32, ch_mult=(1, 2, 2), num_res_blocks=1, resolution=32,
                 attn_resolutions=(8,)):
        super().__init__()
        self.encoder = Encoder(ch, ch_mult, num_res_blocks, embed_dim, resolution, attn_resolutions)
        self.decoder = Decoder(ch, ch_mult, num_res_blocks, embed_dim)
        self.quant_conv = nn.Conv2d(2 * embed_dim, 2 * embed_dim, 1)
        self.post_quant_conv = nn.Conv2d(embed_dim, embed_dim, 1)
        self.embed_dim = embed_dim
        self.f = 2 ** (len(ch_mult) - 1)

    def encode_moments(self, x):
        mean, logvar = self.quant_conv(self.encoder(x)).chunk(2, dim=1)
        return mean, logvar.clamp(-30.0, 20.0)   # DiagonalGaussianDistribution clamps the log-variance

    def decode(self, z):
        return self.decoder(self.post_quant_conv(z))

    def forward(self, x, generator=None):
        mean, logvar = self.encode_moments(x)
        std = torch.exp(0.5 * logvar)
        z = mean + std * torch.randn(mean.shape, generator=generator)
        kl = 0.5 * (mean.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=(1, 2, 3))   # posterior.kl()
        return self.decode(z), kl
