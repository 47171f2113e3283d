"""VAR's next-scale transformer, written for this recipe.

Parameter and buffer names and shapes follow FoundationVision/VAR (models/var.py, basic_var.py): word_embed,
class_emb (num_classes + 1 rows, the last one unconditional), pos_start, pos_1LC, lvl_embed, blocks.N.{attn.mat_qkv,
attn.q_bias, attn.v_bias, attn.zero_k_bias, attn.scale_mul_1H11, attn.proj, ffn.fc1, ffn.fc2, ada_lin.1}, head_nm.ada_lin.1,
head, and the buffers lvl_1L and attn_bias_for_masking. Only the non-shared AdaLN with l2-normalised attention is built.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class SelfAttention(nn.Module):
    def __init__(self, C, H):
        super().__init__()
        self.H, self.hd = H, C // H
        self.scale_mul_1H11 = nn.Parameter(torch.full((1, H, 1, 1), 4.0).log())
        self.max_scale_mul = math.log(100)
        self.mat_qkv = nn.Linear(C, 3 * C, bias=False)
        self.q_bias = nn.Parameter(torch.zeros(C))
        self.v_bias = nn.Parameter(torch.zeros(C))
        self.register_buffer('zero_k_bias', torch.zeros(C))
        self.proj = nn.Linear(C, C)

    def forward(self, x, bias):
        B, L, C = x.shape
        qkv = F.linear(x, self.mat_qkv.weight, torch.cat((self.q_bias, self.zero_k_bias, self.v_bias)))
        q, k, v = qkv.view(B, L, 3, self.H, self.hd).permute(2, 0, 3, 1, 4).unbind(0)   # B H L hd
        q = F.normalize(q, dim=-1) * self.scale_mul_1H11.clamp_max(self.max_scale_mul).exp()
        k = F.normalize(k, dim=-1)
        att = (q @ k.transpose(-1, -2)) + bias          # scale 1 after the l2 norm, as in the release
        o = att.softmax(-1) @ v
        return self.proj(o.transpose(1, 2).reshape(B, L, C))


class FFN(nn.Module):
    def __init__(self, C, hidden):
        super().__init__()
        self.fc1 = nn.Linear(C, hidden)
        self.fc2 = nn.Linear(hidden, C)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x), approximate='tanh'))


class AdaLNSelfAttn(nn.Module):
    def __init__(self, C, D, H, mlp_ratio=4.0, eps=1e-6):
        super().__init__()
        self.C = C
        self.attn = SelfAttention(C, H)
        self.ffn = FFN(C, round(C * mlp_ratio))
        self.ln_wo_grad = nn.LayerNorm(C, eps=eps, elementwise_affine=False)
        self.ada_lin = nn.Sequential(nn.SiLU(), nn.Linear(D, 6 * C))

    def forward(self, x, cond, bias):
        g1, g2, s1, s2, b1, b2 = self.ada_lin(cond).view(-1, 1, 6, self.C).unbind(2)
        x = x + self.attn(self.ln_wo_grad(x) * (s1 + 1) + b1, bias) * g1
        x = x + self.ffn(self.ln_wo_grad(x) * (s2 + 1) + b2) * g2
        return x


class AdaLNBeforeHead(nn.Module):
    def __init__(self, C, D, eps=1e-6):
        super().__init__()
        self.C = C
        self.ln_wo_grad = nn.LayerNorm(C, eps=eps, elementwise_affine=False)
        self.ada_lin = nn.Sequential(nn.SiLU(), nn.Linear(D, 2 * C))

    def forward(self, x, cond):
        s, b = self.ada_lin(cond).view(-1, 1, 2, self.C).unbind(2)
        return self.ln_wo_grad(x) * (s + 1) + b


class VAR(nn.Module):
    def __init__(self, Cvae, V, num_classes=10, depth=4, embed_dim=None, num_heads=None,
                 patch_nums=(1, 2, 3, 4), cond_drop_rate=0.1, eps=1e-6):
        super().__init__()
        C = embed_dim or depth * 64
        H = num_heads or depth
        self.C, self.V, self.Cvae, self.num_classes = C, V, Cvae, num_classes
        self.patch_nums = tuple(patch_nums)
        self.L = sum(p * p for p in patch_nums)
        self.first_l = patch_nums[0] ** 2
        self.cond_drop_rate = cond_drop_rate
        std = math.sqrt(1 / C / 3)
        self.word_embed = nn.Linear(Cvae, C)
        self.class_emb = nn.Embedding(num_classes + 1, C)
        self.pos_start = nn.Parameter(torch.empty(1, self.first_l, C))
        self.pos_1LC = nn.Parameter(torch.empty(1, self.L, C))
        self.lvl_embed = nn.Embedding(len(patch_nums), C)
        self.shared_ada_lin = nn.Identity()
        self.blocks = nn.ModuleList([AdaLNSelfAttn(C, C, H, eps=eps) for _ in range(depth)])
        lvl = torch.cat([torch.full((p * p,), i) for i, p in enumerate(patch_nums)]).view(1, self.L, 1)
        lvlT = lvl.transpose(1, 2)
        self.register_buffer('lvl_1L', lvlT[:, 0].contiguous())
        self.register_buffer('attn_bias_for_masking',
                             torch.where(lvl >= lvlT, 0., -torch.inf).reshape(1, 1, self.L, self.L).contiguous())
        self.head_nm = AdaLNBeforeHead(C, C, eps=eps)
        self.head = nn.Linear(C, V)
        self._init(std, depth)

    def _init(self, std, depth, init_adaln=0.5, init_gamma=1e-5, init_head=0.02):
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=std)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Embedding):
                nn.init.trunc_normal_(m.weight, std=std)
        nn.init.trunc_normal_(self.pos_start, std=std)
        nn.init.trunc_normal_(self.pos_1LC, std=std)
        with torch.no_grad():
            self.head.weight.mul_(init_head)
            self.head_nm.ada_lin[1].weight.mul_(init_adaln)
            for b in self.blocks:
                b.attn.proj.weight.div_(math.sqrt(2 * depth))
                b.ffn.fc2.weight.div_(math.sqrt(2 * depth))
                b.ada_lin[1].weight[2 * self.C:].mul_(init_adaln)
                b.ada_lin[1].weight[:2 * self.C].mul_(init_gamma)

    def forward(self, label_B, x_BLCv_wo_first_l, drop=True):
        """Teacher-forced logits [B, L, V]; labels are dropped to the unconditional class at cond_drop_rate when drop."""
        B = label_B.shape[0]
        if drop and self.training:
            label_B = torch.where(torch.rand(B) < self.cond_drop_rate, torch.full_like(label_B, self.num_classes), label_B)
        cond = self.class_emb(label_B)
        sos = cond.unsqueeze(1).expand(B, self.first_l, -1) + self.pos_start.expand(B, -1, -1)
        x = torch.cat((sos, self.word_embed(x_BLCv_wo_first_l)), 1)
        x = x + self.lvl_embed(self.lvl_1L.expand(B, -1)) + self.pos_1LC
        for b in self.blocks:
            x = b(x, cond, self.attn_bias_for_masking)
        return self.head(self.head_nm(x, cond))

    @torch.no_grad()
    def generate(self, vq, labels, cfg=1.5, top_k=0, top_p=0.0, seed=0):
        """Scale-by-scale sampling with CFG growing linearly over the scales (t = cfg * si / (S - 1)), no KV cache."""
        g = torch.Generator().manual_seed(seed)
        B = labels.shape[0]
        lab2 = torch.cat((labels, torch.full_like(labels, self.num_classes)))
        idx_list = []
        S = len(self.patch_nums)
        for si, pn in enumerate(self.patch_nums):
            if si == 0:
                inp = torch.zeros(2 * B, 0, self.Cvae)
            else:
                pad = [torch.zeros(B, p * p, dtype=torch.long) for p in self.patch_nums[si:]]   # later scales: unused
                inp = vq.quantize.teacher_inputs(idx_list + pad)
                inp = inp[:, :sum(p * p for p in self.patch_nums[1:si + 1])].repeat(2, 1, 1)
            n = sum(p * p for p in self.patch_nums[:si + 1])
            logits = self._prefix(lab2, inp, n)[:, n - pn * pn:n]
            t = cfg * si / (S - 1)
            logits = (1 + t) * logits[:B] - t * logits[B:]
            if top_k > 0:
                kth = logits.topk(top_k, dim=-1).values[..., -1:]
                logits = logits.masked_fill(logits < kth, -torch.inf)
            probs = logits.softmax(-1).reshape(-1, self.V)
            idx_list.append(torch.multinomial(probs, 1, generator=g).view(B, pn * pn))
        return idx_list

    def _prefix(self, label_B, x_wo_first, n):
        B = label_B.shape[0]
        cond = self.class_emb(label_B)
        sos = cond.unsqueeze(1).expand(B, self.first_l, -1) + self.pos_start.expand(B, -1, -1)
        x = torch.cat((sos, self.word_embed(x_wo_first)), 1)
        x = x + self.lvl_embed(self.lvl_1L[:, :n].expand(B, -1)) + self.pos_1LC[:, :n]
        bias = self.attn_bias_for_masking[:, :, :n, :n]
        for b in self.blocks:
            x = b(x, cond, bias)
        return self.head(self.head_nm(x, cond))
