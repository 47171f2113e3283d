"""LlamaGen's class-conditional GPT (FoundationVision/LlamaGen autoregressive/models/gpt.py, model_type 'c2i') in
our own code: parameter names and shapes as the release's Transformer, so its state_dict loads into
Transformer(ModelArgs(dim=..., n_layer=..., n_head=..., multiple_of=..., vocab_size=..., num_classes=10,
block_size=grid*grid, cls_token_num=1)). The class token's rotary table row is zero, as in the release (its query
and key vanish). Training only: the full causal sequence [class, tokens[:-1]] predicts tokens.

With extra_layers=1 it is NAR's GPT (ThisisBillhe/NAR, the same Transformer plus `medusa_attention_num` extra blocks
`layers.N..`, `medusa_norm` and `medusa_output`): every token sees the class token and the tokens whose anti-diagonal
h+w is not beyond its own (the proximity mask); the "right" head (norm, output on the last main block) predicts the
token to the right of each position, the "below" head (medusa_norm, medusa_output on the extra block) the token
beneath it, and both predict token (0, 0) from the class position (NAR's first step averages the two).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


def find_multiple(n, k):
    return n if n % k == 0 else n + k - n % k


def rope_2d(grid, head_dim, base=10000.0, cls_tokens=1):
    half = head_dim // 2
    freqs = 1.0 / (base ** (torch.arange(0, half, 2)[: half // 2].float() / half))
    f = torch.outer(torch.arange(grid).float(), freqs)
    fg = torch.cat([f[:, None, :].expand(-1, grid, -1), f[None, :, :].expand(grid, -1, -1)], dim=-1)
    cache = torch.stack([torch.cos(fg), torch.sin(fg)], dim=-1).flatten(0, 1)
    return torch.cat([torch.zeros(cls_tokens, head_dim // 2, 2), cache])   # [cls + grid², head_dim/2, 2]


def rotate(x, fc):
    xs = x.float().reshape(*x.shape[:-1], -1, 2)
    fc = fc.view(1, xs.size(1), 1, xs.size(3), 2)
    out = torch.stack([xs[..., 0] * fc[..., 0] - xs[..., 1] * fc[..., 1],
                       xs[..., 1] * fc[..., 0] + xs[..., 0] * fc[..., 1]], dim=-1)
    return out.flatten(3).type_as(x)


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.dim, self.heads = dim, heads
        self.wqkv = nn.Linear(dim, 3 * dim, bias=False)
        self.wo = nn.Linear(dim, dim, bias=False)

    def forward(self, x, fc, mask=None):
        b, n, _ = x.shape
        hd = self.dim // self.heads
        q, k, v = self.wqkv(x).split([self.dim] * 3, dim=-1)
        q = rotate(q.view(b, n, self.heads, hd), fc).transpose(1, 2)
        k = rotate(k.view(b, n, self.heads, hd), fc).transpose(1, 2)
        v = v.view(b, n, self.heads, hd).transpose(1, 2)
        att = (q @ k.transpose(-1, -2)) * hd ** -0.5
        if mask is None:
            mask = torch.ones(n, n, dtype=torch.bool).tril()
        att = att.masked_fill(~mask, float('-inf'))
        out = torch.softmax(att, dim=-1) @ v
        return self.wo(out.transpose(1, 2).reshape(b, n, self.dim))


class FeedForward(nn.Module):
    def __init__(self, dim, multiple_of):
        super().__init__()
        hidden = find_multiple(int(2 * 4 * dim / 3), multiple_of)
        self.w1 = nn.Linear(dim, hidden, bias=False)
        self.w3 = nn.Linear(dim, hidden, bias=False)
        self.w2 = nn.Linear(hidden, dim, bias=False)

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class TransformerBlock(nn.Module):
    def __init__(self, dim, heads, multiple_of, eps):
        super().__init__()
        self.attention = Attention(dim, heads)
        self.feed_forward = FeedForward(dim, multiple_of)
        self.attention_norm = RMSNorm(dim, eps)
        self.ffn_norm = RMSNorm(dim, eps)

    def forward(self, x, fc, mask=None):
        h = x + self.attention(self.attention_norm(x), fc, mask)
        return h + self.feed_forward(self.ffn_norm(h))


class LabelEmbedder(nn.Module):
    def __init__(self, num_classes, dim, dropout_prob):
        super().__init__()
        self.embedding_table = nn.Embedding(num_classes + 1, dim)
        self.num_classes, self.dropout_prob = num_classes, dropout_prob

    def forward(self, labels, train, generator=None):
        if train and self.dropout_prob > 0:
            drop = torch.rand(labels.shape[0], generator=generator) < self.dropout_prob
            labels = torch.where(drop, torch.full_like(labels, self.num_classes), labels)
        return self.embedding_table(labels).unsqueeze(1)


class Transformer(nn.Module):
    def __init__(self, dim, n_layer, n_head, vocab_size, num_classes=10, grid=8, multiple_of=64, norm_eps=1e-5,
                 class_dropout_prob=0.1, rope_base=10000.0, extra_layers=0):
        super().__init__()
        self.cls_embedding = LabelEmbedder(num_classes, dim, class_dropout_prob)
        self.tok_embeddings = nn.Embedding(vocab_size, dim)
        self.layers = nn.ModuleList([TransformerBlock(dim, n_head, multiple_of, norm_eps)
                                     for _ in range(n_layer + extra_layers)])
        self.norm = RMSNorm(dim, norm_eps)
        self.output = nn.Linear(dim, vocab_size, bias=False)
        self.n_layer, self.extra_layers = n_layer, extra_layers
        if extra_layers:
            self.medusa_norm = RMSNorm(dim, norm_eps)
            self.medusa_output = nn.Linear(dim, vocab_size, bias=False)
        self.freqs_cis = rope_2d(grid, dim // n_head, rope_base, 1)    # a plain attribute, as in the release
        self.num_classes, self.grid = num_classes, grid
        for m in self.modules():                                        # the release's initialisation
            if isinstance(m, (nn.Linear, nn.Embedding)):
                m.weight.data.normal_(0.0, 0.02)
        nn.init.constant_(self.output.weight, 0)
        if extra_layers:
            nn.init.constant_(self.medusa_output.weight, 0)

    def forward(self, labels, idx, train=False, generator=None):
        """labels [B], idx [B, n] (n <= grid² - 1) -> logits [B, n + 1, V] for tokens 0 .. n."""
        h = torch.cat([self.cls_embedding(labels, train, generator), self.tok_embeddings(idx)], dim=1)
        fc = self.freqs_cis[:h.shape[1]]
        for layer in self.layers:
            h = layer(h, fc)
        return self.output(self.norm(h)).float()

    def proximity_mask(self):
        """[1 + g², 1 + g²]: the class token sees itself; token a sees the class token and every b with
        diag(b) <= diag(a), diag = h + w."""
        g = self.grid
        n = 1 + g * g
        diag = torch.tensor([i // g + i % g for i in range(g * g)])
        m = torch.zeros(n, n, dtype=torch.bool)
        m[0, 0] = True
        m[1:, 0] = True
        m[1:, 1:] = diag[None, :] <= diag[:, None]
        return m

    def forward_nar(self, labels, idx, train=False, generator=None):
        """labels [B], idx [B, g²] (every token) -> (right logits, below logits), each [B, 1 + g², V]."""
        h = torch.cat([self.cls_embedding(labels, train, generator), self.tok_embeddings(idx)], dim=1)
        fc, mask = self.freqs_cis[:h.shape[1]], self.proximity_mask()
        for layer in self.layers[:self.n_layer]:
            h = layer(h, fc, mask)
        right = self.output(self.norm(h)).float()
        for layer in self.layers[self.n_layer:]:
            h = layer(h, fc, mask)
        return right, self.medusa_output(self.medusa_norm(h)).float()

    def nar_loss(self, labels, idx, generator=None):
        """Cross-entropy of both heads on every neighbour they predict (each token once per head that sees it)."""
        g, V = self.grid, self.output.out_features
        right, below = self.forward_nar(labels, idx, train=True, generator=generator)
        B = idx.shape[0]
        grid = idx.view(B, g, g)
        r_logits = right[:, 1:].view(B, g, g, V)[:, :, :g - 1]            # (h, w) predicts (h, w + 1)
        b_logits = below[:, 1:].view(B, g, g, V)[:, :g - 1]               # (h, w) predicts (h + 1, w)
        losses = [F.cross_entropy(r_logits.reshape(-1, V), grid[:, :, 1:].reshape(-1)),
                  F.cross_entropy(b_logits.reshape(-1, V), grid[:, 1:].reshape(-1)),
                  F.cross_entropy(right[:, 0], grid[:, 0, 0]),
                  F.cross_entropy(below[:, 0], grid[:, 0, 0])]
        n = [g * (g - 1), g * (g - 1), 1, 1]
        return sum(l * k for l, k in zip(losses, n)) / sum(n)

    @torch.no_grad()
    def sample(self, labels, cfg, generator, temperature=1.0):
        """Plain AR with classifier-free guidance (cond rows, then uncond rows), full recompute; [B, grid²]."""
        B, n = labels.shape[0], self.grid * self.grid
        lab = torch.cat([labels, torch.full_like(labels, self.num_classes)])
        idx = torch.zeros(B, 0, dtype=torch.long)
        for _ in range(n):
            lg = self.forward(lab, torch.cat([idx, idx]))[:, -1]
            c, u = lg[:B], lg[B:]
            lg = u + (c - u) * cfg
            p = torch.softmax(lg / temperature, dim=-1)
            idx = torch.cat([idx, torch.multinomial(p, 1, generator=generator)], dim=1)
        return idx


def cost_per_token(model):
    """Multiply-adds of the linear layers per image token (the attention scores over <= 65 positions aside)."""
    heads = ('layers.', 'output.', 'medusa_output.')
    return sum(p.numel() for n, p in model.named_parameters() if n.startswith(heads) and p.dim() == 2)
