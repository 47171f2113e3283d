"""MAR (Li et al. 2024, LTH14/mar `models/mar.py` + `models/diffloss.py` + `diffusion/`) with exactly the release's
parameter names and shapes, so a state_dict of `MAR` is a checkpoint Tessera's `generate mar` loads as is.

- `Block`: timm's ViT block tree (`norm1`, `attn.qkv`, `attn.proj`, `norm2`, `mlp.fc1`, `mlp.fc2`; LayerNorm eps 1e-6,
  exact GELU, qkv with bias).
- `MAR`: `class_emb` (no null row), `fake_latent` (the unconditional embedding), `z_proj`, `z_proj_ln`,
  `encoder_pos_embed_learned` (buffer + tokens), `encoder_blocks`, `encoder_norm`, `decoder_embed`, `mask_token`,
  `decoder_pos_embed_learned`, `decoder_blocks`, `decoder_norm`, `diffusion_pos_embed_learned`, `diffloss.net`
  (`SimpleMLPAdaLN`: `time_embed.mlp`, `cond_embed`, `input_proj`, `res_blocks.i.{in_ln,mlp,adaLN_modulation}`,
  `final_layer.{norm_final,linear,adaLN_modulation}`); the release's initialisation (xavier-uniform linears, N(0,
  0.02) tables, zeroed adaLN and output layers).
- Training (`loss`): the release's `forward`: one generation order per image, one masking ratio per batch from the
  truncated normal (min 0.7, centred at 1, std 0.25), the masked count ceil(L * ratio), label drop to `fake_latent`,
  the diffusion loss (cosine schedule over 1000 steps, t uniform, epsilon MSE + the variational bound for the learned
  variance range with the mean frozen, in bits, as `training_losses` with LossType.MSE) on the masked positions,
  `diffusion_batch_mul` repeats. The release evaluates the loss on every position and averages it over the masked
  ones; here only the masked rows are sent through the MLP, the same loss and gradient at a fraction of the cost.
- Sampling (`sample_tokens`): the release's loop and DDPM sampler (respaced cosine schedule, learned variance,
  temperature, CFG linear/constant) in the release's random call order: `np.random.shuffle` per image for the
  orders, then per step `torch.randn(n, C)` for the start and one `torch.randn` per diffusion step over the
  (doubled) rows, so a run after `np.random.seed(S); torch.manual_seed(S)` is the stream Tessera's `--seed S` draws.
Dropout is left out (the release trains with 0.1 attention/projection dropout; these short runs do not).
"""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        a = (q * (C // self.heads) ** -0.5) @ k.transpose(-2, -1)
        x = (a.softmax(dim=-1) @ v).transpose(1, 2).reshape(B, N, C)
        return self.proj(x)


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio=4.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


def modulate(x, shift, scale):
    return x * (1 + scale) + shift


class TimestepEmbedder(nn.Module):
    def __init__(self, hidden, freq=256):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(freq, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.freq = freq

    def forward(self, t):
        half = self.freq // 2
        freqs = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float32) / half)
        args = t[:, None].float() * freqs[None]
        return self.mlp(torch.cat([torch.cos(args), torch.sin(args)], dim=-1))


class ResBlock(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.in_ln = nn.LayerNorm(ch, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(ch, ch), nn.SiLU(), nn.Linear(ch, ch))
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(ch, 3 * ch))

    def forward(self, x, y):
        shift, scale, gate = self.adaLN_modulation(y).chunk(3, dim=-1)
        return x + gate * self.mlp(modulate(self.in_ln(x), shift, scale))


class FinalLayer(nn.Module):
    def __init__(self, ch, out):
        super().__init__()
        self.norm_final = nn.LayerNorm(ch, elementwise_affine=False, eps=1e-6)
        self.linear = nn.Linear(ch, out)
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(ch, 2 * ch))

    def forward(self, x, c):
        shift, scale = self.adaLN_modulation(c).chunk(2, dim=-1)
        return self.linear(modulate(self.norm_final(x), shift, scale))


class SimpleMLPAdaLN(nn.Module):
    def __init__(self, in_ch, width, z_ch, depth):
        super().__init__()
        self.in_ch = in_ch
        self.time_embed = TimestepEmbedder(width)
        self.cond_embed = nn.Linear(z_ch, width)
        self.input_proj = nn.Linear(in_ch, width)
        self.res_blocks = nn.ModuleList([ResBlock(width) for _ in range(depth)])
        self.final_layer = FinalLayer(width, 2 * in_ch)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
        nn.init.normal_(self.time_embed.mlp[0].weight, std=0.02)
        nn.init.normal_(self.time_embed.mlp[2].weight, std=0.02)
        for b in self.res_blocks:
            nn.init.zeros_(b.adaLN_modulation[-1].weight); nn.init.zeros_(b.adaLN_modulation[-1].bias)
        for p in (self.final_layer.adaLN_modulation[-1].weight, self.final_layer.adaLN_modulation[-1].bias,
                  self.final_layer.linear.weight, self.final_layer.linear.bias):
            nn.init.zeros_(p)

    def forward(self, x, t, c):
        x = self.input_proj(x)
        y = self.time_embed(t) + self.cond_embed(c)
        for b in self.res_blocks:
            x = b(x, y)
        return self.final_layer(x, y)

    def forward_with_cfg(self, x, t, c, cfg):
        half = x[: len(x) // 2]
        out = self.forward(torch.cat([half, half]), t, c)
        eps, rest = out[:, :self.in_ch], out[:, self.in_ch:]
        ce, ue = torch.split(eps, len(eps) // 2)
        he = ue + cfg * (ce - ue)
        return torch.cat([torch.cat([he, he]), rest], dim=1)


def cosine_betas(n=1000):
    f = lambda u: math.cos((u + 0.008) / 1.008 * math.pi / 2) ** 2
    return np.array([min(1 - f((i + 1) / n) / f(i / n), 0.999) for i in range(n)], dtype=np.float64)


def space_timesteps(n, count):
    frac = (n - 1) / (count - 1) if count > 1 else 0
    cur, out = 0.0, set()
    for _ in range(count):
        out.add(round(cur))
        cur += frac
    return out


class Diffusion:
    """The release's GaussianDiffusion / SpacedDiffusion coefficients (float64), for the kept steps."""

    def __init__(self, steps=None, n=1000):
        betas = cosine_betas(n)
        if steps is not None and steps != n:
            keep = space_timesteps(n, steps)
            ac, last, nb, tmap = np.cumprod(1.0 - betas), 1.0, [], []
            for i, a in enumerate(ac):
                if i in keep:
                    nb.append(1 - a / last); last = a; tmap.append(i)
            betas = np.array(nb)
        else:
            tmap = list(range(n))
        self.timestep_map = torch.tensor(tmap)
        self.betas = betas
        self.T = len(betas)
        ac = np.cumprod(1.0 - betas)
        acp = np.append(1.0, ac[:-1])
        self.sqrt_ac, self.sqrt_1mac = np.sqrt(ac), np.sqrt(1.0 - ac)
        self.sqrt_recip_ac, self.sqrt_recipm1_ac = np.sqrt(1.0 / ac), np.sqrt(1.0 / ac - 1)
        pv = betas * (1.0 - acp) / (1.0 - ac)
        self.post_logvar = np.log(np.append(pv[1], pv[1:]))
        self.coef1 = betas * np.sqrt(acp) / (1.0 - ac)
        self.coef2 = (1.0 - acp) * np.sqrt(1.0 - betas) / (1.0 - ac)
        self.log_betas = np.log(betas)

    @staticmethod
    def _g(arr, t):
        return torch.from_numpy(arr)[t].float()[:, None]

    def p_mean_var(self, out, x, t):
        C = x.shape[1]
        eps, v = out[:, :C], out[:, C:]
        frac = (v + 1) / 2
        logvar = frac * self._g(self.log_betas, t) + (1 - frac) * self._g(self.post_logvar, t)
        x0 = self._g(self.sqrt_recip_ac, t) * x - self._g(self.sqrt_recipm1_ac, t) * eps
        mean = self._g(self.coef1, t) * x0 + self._g(self.coef2, t) * x
        return mean, logvar

    def loss(self, net, target, z, generator=None, top_share=0.0):
        """training_losses (LossType.MSE, epsilon, learned range) per row: MSE + the VB term in bits. top_share:
        the share of rows given the last timestep (T - 1) instead of a uniform one (see train_mar.py)."""
        t = torch.randint(0, self.T, (target.shape[0],), generator=generator)
        if top_share > 0:
            top = torch.rand(target.shape[0], generator=generator) < top_share
            t = torch.where(top, torch.full_like(t, self.T - 1), t)
        noise = torch.randn(target.shape, generator=generator)
        x_t = self._g(self.sqrt_ac, t) * target + self._g(self.sqrt_1mac, t) * noise
        out = net(x_t, self.timestep_map[t], z)
        C = target.shape[1]
        mse = ((noise - out[:, :C]) ** 2).mean(dim=1)
        frozen = torch.cat([out[:, :C].detach(), out[:, C:]], dim=1)
        mean, logvar = self.p_mean_var(frozen, x_t, t)
        true_mean = self._g(self.coef1, t) * target + self._g(self.coef2, t) * x_t
        true_logvar = self._g(self.post_logvar, t)
        kl = 0.5 * (-1.0 + logvar - true_logvar + torch.exp(true_logvar - logvar)
                    + (true_mean - mean) ** 2 * torch.exp(-logvar))
        kl = kl.mean(dim=1) / math.log(2.0)
        nll = -discretized_gaussian_loglik(target, mean, 0.5 * logvar).mean(dim=1) / math.log(2.0)
        vb = torch.where(t == 0, nll, kl)
        return mse + vb, mse

    def sample(self, fn, noise, temperature=1.0):
        x = noise
        for i in reversed(range(self.T)):
            t = torch.full((x.shape[0],), i, dtype=torch.long)
            out = fn(x, self.timestep_map[t])
            mean, logvar = self.p_mean_var(out, x, t)
            n = torch.randn_like(x)
            x = mean + (1.0 if i != 0 else 0.0) * torch.exp(0.5 * logvar) * temperature * n
        return x


def discretized_gaussian_loglik(x, means, log_scales):
    c = lambda v: 0.5 * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (v + 0.044715 * v ** 3)))
    cx = x - means
    inv = torch.exp(-log_scales)
    cdf_plus, cdf_min = c(inv * (cx + 1.0 / 255)), c(inv * (cx - 1.0 / 255))
    lp = torch.log(cdf_plus.clamp(min=1e-12))
    lm = torch.log((1.0 - cdf_min).clamp(min=1e-12))
    ld = torch.log((cdf_plus - cdf_min).clamp(min=1e-12))
    return torch.where(x < -0.999, lp, torch.where(x > 0.999, lm, ld))


def truncnorm_ratio(generator, lo=0.7, std=0.25):
    """One draw of scipy's truncnorm((lo - 1) / std, 0, loc=1, scale=std) by inverting the normal CDF."""
    a = (lo - 1.0) / std
    pa = 0.5 * (1 + math.erf(a / math.sqrt(2)))
    u = pa + (0.5 - pa) * torch.rand((), generator=generator, dtype=torch.float64).item()
    return 1.0 + std * math.sqrt(2) * torch.erfinv(torch.tensor(2 * u - 1, dtype=torch.float64)).item()


class DiffLoss(nn.Module):
    def __init__(self, target_channels, z_channels, depth, width, num_sampling_steps=100):
        super().__init__()
        self.in_channels = target_channels
        self.net = SimpleMLPAdaLN(target_channels, width, z_channels, depth)
        self.train_diffusion = Diffusion()
        self.num_sampling_steps = num_sampling_steps


class MAR(nn.Module):
    def __init__(self, seq_side=8, token_dim=16, enc_width=128, enc_depth=2, enc_heads=2, dec_width=128, dec_depth=2,
                 dec_heads=2, buffer_size=16, class_num=10, diffloss_w=128, diffloss_d=3, label_drop_prob=0.1,
                 mask_ratio_min=0.7, diffusion_batch_mul=4):
        super().__init__()
        self.seq_len, self.token_dim, self.buffer_size = seq_side * seq_side, token_dim, buffer_size
        self.label_drop_prob, self.mask_ratio_min, self.diffusion_batch_mul = label_drop_prob, mask_ratio_min, \
            diffusion_batch_mul
        self.class_emb = nn.Embedding(class_num, enc_width)
        self.fake_latent = nn.Parameter(torch.zeros(1, enc_width))
        self.z_proj = nn.Linear(token_dim, enc_width)
        self.z_proj_ln = nn.LayerNorm(enc_width, eps=1e-6)
        self.encoder_pos_embed_learned = nn.Parameter(torch.zeros(1, self.seq_len + buffer_size, enc_width))
        self.encoder_blocks = nn.ModuleList([Block(enc_width, enc_heads) for _ in range(enc_depth)])
        self.encoder_norm = nn.LayerNorm(enc_width, eps=1e-6)
        self.decoder_embed = nn.Linear(enc_width, dec_width)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dec_width))
        self.decoder_pos_embed_learned = nn.Parameter(torch.zeros(1, self.seq_len + buffer_size, dec_width))
        self.decoder_blocks = nn.ModuleList([Block(dec_width, dec_heads) for _ in range(dec_depth)])
        self.decoder_norm = nn.LayerNorm(dec_width, eps=1e-6)
        self.diffusion_pos_embed_learned = nn.Parameter(torch.zeros(1, self.seq_len, dec_width))
        for p in (self.class_emb.weight, self.fake_latent, self.mask_token, self.encoder_pos_embed_learned,
                  self.decoder_pos_embed_learned, self.diffusion_pos_embed_learned):
            nn.init.normal_(p, std=0.02)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight); nn.init.zeros_(m.bias)
        self.diffloss = DiffLoss(token_dim, dec_width, diffloss_d, diffloss_w)

    # ---- the two transformers (mask: (B, L) float, 1 = unknown)
    def encode(self, x, mask, class_embedding):
        x = self.z_proj(x)
        B, L, W = x.shape
        x = torch.cat([torch.zeros(B, self.buffer_size, W), x], dim=1)
        mwb = torch.cat([torch.zeros(B, self.buffer_size), mask], dim=1)
        x[:, :self.buffer_size] = class_embedding.unsqueeze(1)
        x = self.z_proj_ln(x + self.encoder_pos_embed_learned)
        x = x[(1 - mwb).nonzero(as_tuple=True)].reshape(B, -1, W)
        for b in self.encoder_blocks:
            x = b(x)
        return self.encoder_norm(x)

    def decode(self, x, mask):
        x = self.decoder_embed(x)
        mwb = torch.cat([torch.zeros(x.size(0), self.buffer_size), mask], dim=1)
        pad = self.mask_token.repeat(mwb.shape[0], mwb.shape[1], 1).to(x.dtype).clone()
        pad[(1 - mwb).nonzero(as_tuple=True)] = x.reshape(x.shape[0] * x.shape[1], x.shape[2])
        x = pad + self.decoder_pos_embed_learned
        for b in self.decoder_blocks:
            x = b(x)
        x = self.decoder_norm(x)
        return x[:, self.buffer_size:] + self.diffusion_pos_embed_learned

    def loss(self, tokens, labels, generator=None, top_share=0.0):
        """tokens (B, L, C) (patchified latents times 0.2325); returns (loss, mse)."""
        B, L, C = tokens.shape
        ce = self.class_emb(labels)
        drop = (torch.rand(B, generator=generator) < self.label_drop_prob).unsqueeze(-1).float()
        ce = drop * self.fake_latent + (1 - drop) * ce
        orders = torch.argsort(torch.rand(B, L, generator=generator), dim=1)
        n = int(np.ceil(L * truncnorm_ratio(generator, self.mask_ratio_min)))
        mask = torch.zeros(B, L).scatter(1, orders[:, :n], 1.0)
        z = self.decode(self.encode(tokens, mask, ce), mask)
        sel = mask.reshape(-1).bool()
        zt = z.reshape(B * L, -1)[sel].repeat(self.diffusion_batch_mul, 1)
        tt = tokens.reshape(B * L, C)[sel].repeat(self.diffusion_batch_mul, 1)
        loss, mse = self.diffloss.train_diffusion.loss(self.diffloss.net, tt, zt, generator, top_share)
        return loss.mean(), mse.mean()

    @torch.no_grad()
    def sample_tokens(self, labels, num_iter=16, cfg=1.0, cfg_schedule='linear', temperature=1.0,
                      diffusion_steps=100):
        """The release's sample_tokens; returns (B, L, C) tokens (the latents times 0.2325, patchified)."""
        B, L, C = len(labels), self.seq_len, self.token_dim
        gen = Diffusion(diffusion_steps)
        mask = torch.ones(B, L)
        tokens = torch.zeros(B, L, C)
        orders = []
        for _ in range(B):
            o = np.array(list(range(L)))
            np.random.shuffle(o)
            orders.append(o)
        orders = torch.Tensor(np.array(orders)).long()
        for step in range(num_iter):
            cur = tokens.clone()
            ce = self.class_emb(labels)
            if cfg != 1.0:
                tk = torch.cat([tokens, tokens])
                ce = torch.cat([ce, self.fake_latent.repeat(B, 1)])
                m = torch.cat([mask, mask])
            else:
                tk, m = tokens, mask
            z = self.decode(self.encode(tk, m, ce), m)
            ratio = math.cos(math.pi / 2.0 * (step + 1) / num_iter)
            mask_len = torch.Tensor([np.floor(L * ratio)])
            mask_len = torch.maximum(torch.Tensor([1]), torch.minimum(torch.sum(mask, dim=-1, keepdims=True) - 1,
                                                                      mask_len))
            mask_next = torch.zeros(B, L).scatter(1, orders[:, :int(mask_len[0].long())], torch.ones(B, L)).bool()
            if step >= num_iter - 1:
                pred = mask[:B].bool()
            else:
                pred = torch.logical_xor(mask[:B].bool(), mask_next)
            mask = mask_next.float()
            if cfg != 1.0:
                pred = torch.cat([pred, pred])
            zz = z[pred.nonzero(as_tuple=True)]
            if cfg_schedule == 'linear':
                cfg_iter = 1 + (cfg - 1) * (L - mask_len[0]) / L
            else:
                cfg_iter = cfg
            net = self.diffloss.net
            if cfg != 1.0:
                noise = torch.randn(zz.shape[0] // 2, C)
                noise = torch.cat([noise, noise])
                fn = lambda x, t: net.forward_with_cfg(x, t, zz, float(cfg_iter))
            else:
                noise = torch.randn(zz.shape[0], C)
                fn = lambda x, t: net(x, t, zz)
            s = gen.sample(fn, noise, temperature)
            if cfg != 1.0:
                s, _ = s.chunk(2, dim=0)
                pred, _ = pred.chunk(2, dim=0)
            cur[pred.nonzero(as_tuple=True)] = s
            tokens = cur.clone()
        return tokens


def unpatchify(tokens, side=8):
    B, L, C = tokens.shape
    return tokens.reshape(B, side, side, C).permute(0, 3, 1, 2).contiguous()


def patchify(lat):
    B, C, h, w = lat.shape
    return lat.permute(0, 2, 3, 1).reshape(B, h * w, C)


def linear_macs(m):
    return sum(p.numel() for n, p in m.named_parameters() if n.endswith('weight') and p.dim() == 2)
