"""LlamaGen's VQ tokenizer (FoundationVision/LlamaGen tokenizer/tokenizer_image/vq_model.py) in our own code.

Module names, parameter shapes and the registered buffer match the release, so a state_dict of VQModel here loads
into the official VQModel(ModelArgs(...)) whose Encoder/Decoder are built with the same ch / num_res_blocks (the
release fixes ch=128, num_res_blocks=2 for 256 px; the 32 px tokenizer is the same tree with smaller arguments).
Codes are l2-normalised (codebook_l2_norm=True, as VQ-16).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


def norm(c):
    return nn.GroupNorm(32, c, eps=1e-6, affine=True)


def swish(x):
    return x * torch.sigmoid(x)


class ResnetBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.norm1, self.conv1 = norm(cin), nn.Conv2d(cin, cout, 3, 1, 1)
        self.norm2, self.conv2 = norm(cout), nn.Conv2d(cout, cout, 3, 1, 1)
        self.dropout = nn.Dropout(0.0)
        if cin != cout:
            self.nin_shortcut = nn.Conv2d(cin, cout, 1)
        self.cin, self.cout = cin, cout

    def forward(self, x):
        h = self.conv1(swish(self.norm1(x)))
        h = self.conv2(self.dropout(swish(self.norm2(h))))
        return (self.nin_shortcut(x) if self.cin != self.cout else x) + h


class AttnBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.norm = norm(c)
        self.q, self.k, self.v, self.proj_out = (nn.Conv2d(c, c, 1) for _ in range(4))

    def forward(self, x):
        h = self.norm(x)
        b, c, hh, ww = h.shape
        q = self.q(h).reshape(b, c, -1).transpose(1, 2)
        k = self.k(h).reshape(b, c, -1)
        v = self.v(h).reshape(b, c, -1)
        a = torch.softmax(torch.bmm(q, k) * c ** -0.5, dim=2)     # [b, query, key]
        out = torch.bmm(v, a.transpose(1, 2)).reshape(b, c, hh, ww)
        return x + self.proj_out(out)


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
    def __init__(self, ch, ch_mult, num_res_blocks, z_channels, in_channels=3):
        super().__init__()
        self.conv_in = nn.Conv2d(in_channels, ch, 3, 1, 1)
        self.conv_blocks = nn.ModuleList()
        mult = (1,) + tuple(ch_mult)
        n = len(ch_mult)
        for i in range(n):
            blk = nn.Module()
            blk.res, blk.attn = nn.ModuleList(), nn.ModuleList()
            cin = ch * mult[i]
            for _ in range(num_res_blocks):
                blk.res.append(ResnetBlock(cin, ch * ch_mult[i]))
                cin = ch * ch_mult[i]
                if i == n - 1:
                    blk.attn.append(AttnBlock(cin))
            if i != n - 1:
                blk.downsample = Downsample(cin)
            self.conv_blocks.append(blk)
        self.mid = nn.ModuleList([ResnetBlock(cin, cin), AttnBlock(cin), ResnetBlock(cin, cin)])
        self.norm_out = norm(cin)
        self.conv_out = nn.Conv2d(cin, z_channels, 3, 1, 1)

    def forward(self, x):
        h = self.conv_in(x)
        for i, blk in enumerate(self.conv_blocks):
            for j, r in enumerate(blk.res):
                h = r(h)
                if len(blk.attn):
                    h = blk.attn[j](h)
            if hasattr(blk, 'downsample'):
                h = blk.downsample(h)
        for m in self.mid:
            h = m(h)
        return self.conv_out(swish(self.norm_out(h)))


class Decoder(nn.Module):
    def __init__(self, ch, ch_mult, num_res_blocks, z_channels, out_channels=3):
        super().__init__()
        n = len(ch_mult)
        cin = ch * ch_mult[-1]
        self.conv_in = nn.Conv2d(z_channels, cin, 3, 1, 1)
        self.mid = nn.ModuleList([ResnetBlock(cin, cin), AttnBlock(cin), ResnetBlock(cin, cin)])
        self.conv_blocks = nn.ModuleList()
        for i in reversed(range(n)):
            blk = nn.Module()
            blk.res, blk.attn = nn.ModuleList(), nn.ModuleList()
            for _ in range(num_res_blocks + 1):
                blk.res.append(ResnetBlock(cin, ch * ch_mult[i]))
                cin = ch * ch_mult[i]
                if i == n - 1:
                    blk.attn.append(AttnBlock(cin))
            if i != 0:
                blk.upsample = Upsample(cin)
            self.conv_blocks.append(blk)
        self.norm_out = norm(cin)
        self.conv_out = nn.Conv2d(cin, out_channels, 3, 1, 1)

    def forward(self, z):
        h = self.conv_in(z)
        for m in self.mid:
            h = m(h)
        for blk in self.conv_blocks:
            for j, r in enumerate(blk.res):
                h = r(h)
                if len(blk.attn):
                    h = blk.attn[j](h)
            if hasattr(blk, 'upsample'):
                h = blk.upsample(h)
        return self.conv_out(swish(self.norm_out(h)))


class VectorQuantizer(nn.Module):
    def __init__(self, n_e, e_dim, beta=0.25):
        super().__init__()
        self.n_e, self.e_dim, self.beta = n_e, e_dim, beta
        self.embedding = nn.Embedding(n_e, e_dim)
        with torch.no_grad():
            self.embedding.weight.uniform_(-1.0 / n_e, 1.0 / n_e)
            self.embedding.weight.copy_(F.normalize(self.embedding.weight, dim=-1))
        self.register_buffer('codebook_used', torch.zeros(65536))   # the release's usage buffer (unused here)

    def codebook(self):
        return F.normalize(self.embedding.weight, p=2, dim=-1)

    def indices(self, z):
        """z [B, d, h, w] (before normalisation) -> codes [B, h*w], row-major."""
        zf = F.normalize(z.permute(0, 2, 3, 1).reshape(-1, self.e_dim), p=2, dim=-1)
        e = self.codebook()
        d = zf.pow(2).sum(1, keepdim=True) + e.pow(2).sum(1) - 2 * zf @ e.t()
        return d.argmin(1).view(z.shape[0], -1)

    def forward(self, z):
        b, c, h, w = z.shape
        zn = F.normalize(z.permute(0, 2, 3, 1), p=2, dim=-1)
        idx = self.indices(z)
        zq = self.codebook()[idx.view(-1)].view(b, h, w, c)
        vq_loss = (zq - zn.detach()).pow(2).mean()
        commit = self.beta * (zq.detach() - zn).pow(2).mean()
        zq = zn + (zq - zn).detach()
        return zq.permute(0, 3, 1, 2), vq_loss + commit, idx

    def lookup(self, idx, h, w):
        return self.codebook()[idx.reshape(-1)].view(idx.shape[0], h, w, self.e_dim).permute(0, 3, 1, 2)


class VQModel(nn.Module):
    def __init__(self, codebook_size=256, codebook_embed_dim=8, ch=32, ch_mult=(1, 2, 2), num_res_blocks=1,
                 z_channels=32, beta=0.25):
        super().__init__()
        self.encoder = Encoder(ch, ch_mult, num_res_blocks, z_channels)
        self.decoder = Decoder(ch, ch_mult, num_res_blocks, z_channels)
        self.quantize = VectorQuantizer(codebook_size, codebook_embed_dim, beta)
        self.quant_conv = nn.Conv2d(z_channels, codebook_embed_dim, 1)
        self.post_quant_conv = nn.Conv2d(codebook_embed_dim, z_channels, 1)
        self.f = 2 ** (len(ch_mult) - 1)

    def pre_quant(self, x):
        return self.quant_conv(self.encoder(x))

    def forward(self, x):
        zq, qloss, idx = self.quantize(self.pre_quant(x))
        return self.decoder(self.post_quant_conv(zq)), qloss, idx

    @torch.no_grad()
    def encode_idx(self, x):
        return self.quantize.indices(self.pre_quant(x))

    @torch.no_grad()
    def decode_code(self, idx, side):
        return self.decoder(self.post_quant_conv(self.quantize.lookup(idx, side, side)))
