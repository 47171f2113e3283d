"""FlowAR (OliverRensu/FlowAR, models/flowar.py, flowmodel.py, rope.py, sampler.py, flowloss.py), written for this
recipe: the scale-wise AR transformer (encoder + decoder stacks with AdaLN from the class embedding) and the flow
head SimpleTransformerAdaLN (Block_v1, no cross-attention, as FlowAR-S), trained with the linear-path velocity
loss (SILoss) and sampled with the release's Euler sampler and scale-wise CFG ramp.

Module and parameter names and shapes follow the release (class_emb, z_proj, z_proj_ln, *_pos_embed_learned,
encoder_blocks.N.{attn.qkv, attn.proj, attn.rope.freqs, mlp.fc1_g, mlp.fc1_x, mlp.fc2, ada_lin.1}, decoder_embed,
flownet.{time_embed.mlp.0/2, cond_embed, input_proj, res_blocks.N.*, final_layer.*}). Differences that are settings,
not structure: 10 classes + the null row (class_emb has 11 rows; the release hard-codes 1001), scales (1, 2, 4, 8)
for the 8x8 latent grid of the 32 px KL autoencoder, and the side sampled scales are resized to before the area
resize to the next scale is the latent grid's side (the release writes 16, its 256 px grid; its training code uses
the grid side). No torch 2 scaled_dot_product_attention (Debian's torch 1.13): a plain softmax attention.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class RMSNorm(nn.Module):
    def __init__(self, dim, weight=False, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim)) if weight else None

    def forward(self, x):
        y = (x.float() * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + self.eps)).type_as(x)
        return y if self.weight is None else y * self.weight


class GegluMlp(nn.Module):
    """timm SwiGLU with act_layer=GELU: fc2(gelu(fc1_g(x)) * fc1_x(x))."""

    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1_g = nn.Linear(dim, hidden)
        self.fc1_x = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1_g(x)) * self.fc1_x(x))


def rotate_half(x):
    x = x.reshape(*x.shape[:-1], -1, 2)
    x1, x2 = x.unbind(-1)
    return torch.stack((-x2, x1), dim=-1).flatten(-2)


class Rope(nn.Module):
    """VisionRotaryEmbeddingFast: 2-D RoPE over a pn x pn chunk (pn = sqrt(N)), positions rescaled to a 16-grid."""

    def __init__(self, half_head_dim, pt_seq_len=16):
        super().__init__()
        self.pt_seq_len = pt_seq_len
        self.register_buffer('freqs', 1.0 / (10000 ** (torch.arange(0, half_head_dim, 2)[:half_head_dim // 2].float()
                                                        / half_head_dim)))

    def forward(self, x):
        pn = int(math.sqrt(x.shape[2]))
        t = torch.arange(pn) / pn * self.pt_seq_len
        f = torch.einsum('i,f->if', t, self.freqs).repeat_interleave(2, dim=-1)   # [pn, 2F]
        f = torch.cat([f[:, None, :].expand(pn, pn, -1), f[None, :, :].expand(pn, pn, -1)], dim=-1)
        f = f.reshape(pn * pn, -1)
        return x * f.cos() + rotate_half(x) * f.sin()


def attend(q, k, v, mask=None):
    a = q @ k.transpose(-2, -1) * q.shape[-1] ** -0.5
    if mask is not None:
        a = a + mask
    return torch.softmax(a, dim=-1) @ v


class Attention(nn.Module):
    """The AR attention: qkv with bias, RoPE per scale, a KV cache across scales when sampling."""

    def __init__(self, dim, heads, scales, qkv_bias=True):
        super().__init__()
        self.heads, self.hd = heads, dim // heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)
        self.rope = Rope(self.hd // 2)
        self.scales = list(scales)
        self.k = self.v = None

    def clear_cache(self):
        self.k = self.v = None

    def forward(self, x, mask):
        B, N, C = x.shape
        q, k, v = self.qkv(x).reshape(B, N, 3, self.heads, self.hd).permute(2, 0, 3, 1, 4).unbind(0)
        if mask is not None:   # teacher forcing over all scales at once
            bounds = [0]
            for s in self.scales:
                bounds.append(bounds[-1] + s * s)
            q = torch.cat([self.rope(q[:, :, bounds[i]:bounds[i + 1]]) for i in range(len(self.scales))], dim=2)
            k = torch.cat([self.rope(k[:, :, bounds[i]:bounds[i + 1]]) for i in range(len(self.scales))], dim=2)
            o = attend(q, k, v, mask)
        else:
            q, k = self.rope(q), self.rope(k)
            self.k = k if self.k is None else torch.cat([self.k, k], dim=2)
            self.v = v if self.v is None else torch.cat([self.v, v], dim=2)
            o = attend(q, self.k, self.v)
        return self.proj(o.transpose(1, 2).reshape(B, N, C))


class Block(nn.Module):
    def __init__(self, dim, heads, scales):
        super().__init__()
        self.norm1 = RMSNorm(dim)
        self.attn = Attention(dim, heads, scales)
        self.norm2 = RMSNorm(dim)
        self.mlp = GegluMlp(dim, int(dim * 4 * 2 / 3.))
        self.ada_lin = nn.Sequential(nn.SiLU(inplace=False), nn.Linear(dim, 6 * dim))
        self.dim = dim

    def forward(self, x, cond, mask):
        g1, g2, s1, s2, b1, b2 = self.ada_lin(cond).view(-1, 1, 6, self.dim).unbind(2)
        x = x + self.attn(self.norm1(x).mul(s1.add(1)).add(b1), mask).mul(g1)
        return x + self.mlp(self.norm2(x).mul(s2.add(1)).add(b2)).mul(g2)


class FlowAttention(nn.Module):
    """The flow head's self-attention: qkv without bias, heads = W/64, RoPE over the chunk."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads, self.hd = heads, dim // heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.proj = nn.Linear(dim, dim)
        self.rope = Rope(self.hd // 2)

    def forward(self, x):
        B, N, C = x.shape
        q, k, v = self.qkv(x).reshape(B, N, 3, self.heads, self.hd).permute(2, 0, 3, 1, 4).unbind(0)
        o = attend(self.rope(q), self.rope(k), v)
        return self.proj(o.transpose(1, 2).reshape(B, N, C))


class Block_v1(nn.Module):  # noqa: N801 (the release's name)
    def __init__(self, dim, heads):
        super().__init__()
        self.norm1 = RMSNorm(dim)
        self.attn = FlowAttention(dim, heads)
        self.norm2 = RMSNorm(dim)
        self.mlp = GegluMlp(dim, int(dim * 4 * 2 / 3.))
        self.ada_lin = nn.Linear(dim, 6 * dim)
        self.dim = dim

    def forward(self, x, t, c):
        B, N, _ = c.shape
        g1, g2, s1, s2, b1, b2 = self.ada_lin(F.silu(t + c)).view(B, N, 6, self.dim).unbind(2)
        x = x + self.attn(self.norm1(x).mul(s1.add(1)).add(b1)).mul(g1)
        return x + self.mlp(self.norm2(x).mul(s2.add(1)).add(b2)).mul(g2)


class TimestepEmbedder(nn.Module):
    def __init__(self, hidden, freq_dim=256):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(freq_dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.freq_dim = freq_dim

    def forward(self, t):
        half = self.freq_dim // 2
        freqs = torch.exp(-math.log(10000) * torch.arange(0, half, dtype=torch.float32) / half)
        args = t[:, None].float() * freqs[None]
        return self.mlp(torch.cat([torch.cos(args), torch.sin(args)], dim=-1))


class FinalLayer(nn.Module):
    def __init__(self, width, out):
        super().__init__()
        self.norm_final = RMSNorm(width)
        self.linear = nn.Linear(width, out)
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(width, 2 * width))

    def forward(self, x, c):
        shift, scale = self.adaLN_modulation(c).chunk(2, dim=-1)
        return self.linear(self.norm_final(x) * (1 + scale) + shift)


class SimpleTransformerAdaLN(nn.Module):
    def __init__(self, in_channels, width, z_channels, depth):
        super().__init__()
        self.time_embed = TimestepEmbedder(width)
        self.cond_embed = nn.Linear(z_channels, width)
        self.input_proj = nn.Linear(in_channels, width)
        self.res_blocks = nn.ModuleList([Block_v1(width, width // 64) for _ in range(depth)])
        self.final_layer = FinalLayer(width, in_channels)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        nn.init.normal_(self.time_embed.mlp[0].weight, std=0.02)
        nn.init.normal_(self.time_embed.mlp[2].weight, std=0.02)
        nn.init.zeros_(self.final_layer.linear.weight)
        nn.init.zeros_(self.final_layer.linear.bias)

    def forward(self, x, t, condition):
        t = (t * 1000).long()
        x = self.input_proj(x)
        t = self.time_embed(t).unsqueeze(1)
        c = self.cond_embed(condition)
        for blk in self.res_blocks:
            x = blk(x, t, c)
        return self.final_layer(x, c + t)


class FlowAR(nn.Module):
    def __init__(self, width=128, enc_depth=2, dec_depth=2, heads=2, flow_width=128, flow_depth=2, num_classes=10,
                 token_dim=16, scales=(1, 2, 4, 8), label_drop=0.1):
        super().__init__()
        self.scales, self.token_dim, self.num_classes, self.label_drop = list(scales), token_dim, num_classes, label_drop
        L = sum(s * s for s in scales)
        self.class_emb = nn.Embedding(num_classes + 1, width)
        self.z_proj = nn.Linear(token_dim, width)
        self.z_proj_ln = RMSNorm(width, weight=True)
        self.encoder_pos_embed_learned = nn.Parameter(torch.zeros(1, L, width))
        self.encoder_blocks = nn.ModuleList([Block(width, heads, scales) for _ in range(enc_depth)])
        self.encoder_norm = RMSNorm(width, weight=True)
        self.decoder_embed = nn.Linear(width, width)
        self.decoder_pos_embed_learned = nn.Parameter(torch.zeros(1, L, width))
        self.decoder_blocks = nn.ModuleList([Block(width, heads, scales) for _ in range(dec_depth)])
        self.decoder_norm = RMSNorm(width, weight=True)
        self.diffusion_pos_embed_learned = nn.Parameter(torch.zeros(1, L, width))
        for p in (self.class_emb.weight, self.encoder_pos_embed_learned, self.decoder_pos_embed_learned,
                  self.diffusion_pos_embed_learned):
            nn.init.normal_(p, std=0.02)
        for name, m in self.named_modules():
            if isinstance(m, nn.Linear) and not name.startswith('flownet'):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        self.flownet = SimpleTransformerAdaLN(token_dim, flow_width, width, flow_depth)
        mask, start = [], 0
        for s in scales:
            start += s * s
            mask.append(torch.cat([torch.zeros(s * s, start), torch.full((s * s, L - start), -math.inf)], dim=-1))
        self.register_buffer('mask', torch.cat(mask).reshape(1, 1, L, L))

    @property
    def side(self):
        return self.scales[-1]

    def _encode(self, x, cls, mask, a, b):
        x = self.z_proj_ln(x + self.encoder_pos_embed_learned[:, a:b])
        for blk in self.encoder_blocks:
            x = blk(x, cls, mask)
        x = self.decoder_embed(self.encoder_norm(x)) + self.decoder_pos_embed_learned[:, a:b]
        for blk in self.decoder_blocks:
            x = blk(x, cls, mask)
        return self.decoder_norm(x) + self.diffusion_pos_embed_learned[:, a:b]

    @staticmethod
    def patchify(x):
        B, C, H, W = x.shape
        return x.permute(0, 2, 3, 1).reshape(B, H * W, C)

    def next_input(self, m, side):
        """A sampled (or ground-truth) map [B, C, s, s] -> the next scale's input map (bicubic to the grid, area)."""
        up = F.interpolate(m, (self.side, self.side), mode='bicubic')
        return F.interpolate(up, (side, side), mode='area')

    def condition(self, latents, labels):
        """Teacher-forced AR pass: latents [B, 16, side, side] (scaled) -> (targets per scale, z [B, L, C])."""
        gt = [latents]
        for s in self.scales[::-1][1:]:
            gt.append(F.interpolate(latents, (s, s), mode='area'))
        gt = gt[::-1]
        x_in = [self.patchify(self.next_input(gt[i], s)) for i, s in enumerate(self.scales[1:])]
        cls = self.class_emb(labels)
        x = torch.cat([cls.unsqueeze(1), self.z_proj(torch.cat(x_in, dim=1))], dim=1)
        z = self._encode(x, cls, self.mask, 0, x.shape[1])
        return [self.patchify(g) for g in gt], z

    def loss(self, latents, labels, generator=None):
        drop = torch.rand(labels.shape, generator=generator) < self.label_drop
        labels = torch.where(drop, torch.full_like(labels, self.num_classes), labels)
        gts, z = self.condition(latents, labels)
        total, start, per_scale = 0.0, 0, []
        for s, g in zip(self.scales, gts):
            zc = z[:, start:start + s * s]
            t = torch.rand((g.shape[0], 1, 1), generator=generator)
            eps = torch.randn(g.shape, generator=generator)
            v = self.flownet((1 - t) * g + t * eps, t.flatten(), zc)
            l = (v - (eps - g)).pow(2).mean()
            per_scale.append(l.item())
            total = total + l / self.side ** 2 * s * s
            start += s * s
        return total, per_scale

    @torch.no_grad()
    def sample(self, labels, num_steps=25, cfg=1.0, guidance=0.9, noise=None):
        """The release's sample_tokens + euler_sampler. noise(shape) gives the N(0, 1) draws (default torch.randn)."""
        noise = noise or (lambda shape: torch.randn(shape))
        for blk in list(self.encoder_blocks) + list(self.decoder_blocks):
            blk.attn.clear_cache()
        B = labels.shape[0]
        cls = self.class_emb(labels)
        if cfg != 1.0:
            cls = torch.cat([cls, self.class_emb(torch.full_like(labels, self.num_classes))], dim=0)
        x = cls.unsqueeze(1)
        start = 0
        for step, s in enumerate(self.scales):
            z = self._encode(x, cls, None, start, start + s * s)
            start += s * s
            scfg = (cfg - 1) * step / (len(self.scales) - 1) + 1
            out = euler(self.flownet, noise([z.shape[0], z.shape[1], self.token_dim]), z, num_steps, scfg,
                        guidance).float()
            zs = out[:B] if cfg != 1.0 else out
            if step == len(self.scales) - 1:
                break
            if cfg != 1.0:
                zs = zs.repeat(2, 1, 1)
            m = zs.permute(0, 2, 1).reshape(zs.shape[0], self.token_dim, s, s)
            nxt = self.next_input(m, self.scales[step + 1])
            x = self.z_proj(nxt.reshape(zs.shape[0], self.token_dim, -1).permute(0, 2, 1))
        return zs.permute(0, 2, 1).reshape(B, self.token_dim, self.side, self.side)


def time_grid(num_steps):
    if num_steps == 50:
        return torch.linspace(1, 0, num_steps + 1, dtype=torch.float64)
    return torch.cat([torch.linspace(1, 0.3, num_steps // 2, dtype=torch.float64),
                      torch.linspace(0.25, 0, num_steps // 2 + 1, dtype=torch.float64)])


def euler(model, latents, cond, num_steps, cfg, guidance_high, guidance_low=0.0):
    ts = time_grid(num_steps)
    x = latents.to(torch.float64)
    for t_cur, t_next in zip(ts[:-1], ts[1:]):
        active = cfg > 1.0 and guidance_low <= t_cur <= guidance_high
        inp = torch.cat([x[:x.shape[0] // 2]] * 2, dim=0) if active else x
        tt = torch.ones(inp.shape[0], dtype=torch.float64) * t_cur
        d = model(inp.float(), tt.float(), cond.float()).double()
        if active:
            dc, du = d.chunk(2)
            d = du + cfg * (dc - du)
            d = torch.cat([d, d], dim=0)
        x = x + (t_next - t_cur) * d
    return x


def linear_macs(m):
    """Multiply-adds per token of one sampling pass's linear layers: AR once, flow head once (per evaluation)."""
    ar = sum(p.numel() for n, p in m.named_parameters()
             if n.endswith('weight') and p.dim() == 2 and (n.startswith('encoder_blocks') or n.startswith(
                 'decoder_blocks') or n.startswith('decoder_embed') or n.startswith('z_proj.')) and 'ada_lin' not in n)
    flow = sum(p.numel() for n, p in m.named_parameters()
               if n.startswith('flownet') and p.dim() == 2 and 'time_embed' not in n)
    return ar, flow
