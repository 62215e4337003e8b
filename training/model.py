"""A llama-architecture decoder in PyTorch, written to be the model tokenscope's llama forward computes
(src/model/model.cpp), so that the exported weights need no permutation:

  x = token_embd[ids]
  per block:  h = x + Wo · attn(rope(Wq · n1(x)), rope(Wk · n1(x)), Wv · n1(x))     n1, n2: RMSNorm
              x = h + Wdown · (silu(Wgate · n2(h)) ⊙ Wup · n2(h))                    (SwiGLU)
  logits = output · rmsnorm(x)        output = token_embd when tied

  RMSNorm(x) = x / sqrt(mean(x²) + eps) ⊙ w.
  RoPE "NORM" (GGUF llama): rotate the adjacent pairs (2i, 2i+1) of each head by pos · base^(−2i/head_dim).
  GQA: query head h reads key/value head h // (n_head / n_head_kv).
  Causal softmax attention with scale 1/sqrt(head_dim); no biases anywhere.

Weight names follow GGUF (token_embd.weight, blk.N.attn_q.weight, ...) so the export is a rename-free dump.
"""
import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Config:
    n_vocab: int = 8192
    n_embd: int = 256
    n_layer: int = 4
    n_head: int = 4
    n_head_kv: int = 2
    n_ff: int = 768
    n_ctx: int = 256
    rms_eps: float = 1e-5
    rope_base: float = 10000.0
    tied: bool = True

    @property
    def head_dim(self):
        return self.n_embd // self.n_head

    def to_dict(self):
        d = asdict(self)
        d["head_dim"] = self.head_dim
        return d


class RMSNorm(nn.Module):
    def __init__(self, n, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(n))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(cfg, n, device=None):
    hd = cfg.head_dim
    inv_freq = cfg.rope_base ** (-torch.arange(0, hd, 2, dtype=torch.float64) / hd)
    theta = torch.arange(n, dtype=torch.float64)[:, None] * inv_freq[None, :]
    return theta.cos().float().to(device), theta.sin().float().to(device)


def apply_rope(x, cos, sin):
    """x: (B, H, T, hd); rotates adjacent pairs (x[2i], x[2i+1])."""
    x0, x1 = x[..., 0::2], x[..., 1::2]
    y0 = x0 * cos - x1 * sin
    y1 = x0 * sin + x1 * cos
    return torch.stack((y0, y1), dim=-1).flatten(-2)


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, hd = cfg.n_embd, cfg.head_dim
        self.cfg = cfg
        self.attn_norm = RMSNorm(d, cfg.rms_eps)
        self.attn_q = nn.Linear(d, cfg.n_head * hd, bias=False)
        self.attn_k = nn.Linear(d, cfg.n_head_kv * hd, bias=False)
        self.attn_v = nn.Linear(d, cfg.n_head_kv * hd, bias=False)
        self.attn_output = nn.Linear(cfg.n_head * hd, d, bias=False)
        self.ffn_norm = RMSNorm(d, cfg.rms_eps)
        self.ffn_gate = nn.Linear(d, cfg.n_ff, bias=False)
        self.ffn_up = nn.Linear(d, cfg.n_ff, bias=False)
        self.ffn_down = nn.Linear(cfg.n_ff, d, bias=False)

    def forward(self, x, cos, sin, mask):
        c = self.cfg
        B, T, _ = x.shape
        hd = c.head_dim
        h = self.attn_norm(x)
        q = self.attn_q(h).view(B, T, c.n_head, hd).transpose(1, 2)
        k = self.attn_k(h).view(B, T, c.n_head_kv, hd).transpose(1, 2)
        v = self.attn_v(h).view(B, T, c.n_head_kv, hd).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        group = c.n_head // c.n_head_kv
        k = k.repeat_interleave(group, dim=1)
        v = v.repeat_interleave(group, dim=1)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))
        att = att.masked_fill(mask, float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, c.n_head * hd)
        x = x + self.attn_output(y)
        h = self.ffn_norm(x)
        return x + self.ffn_down(F.silu(self.ffn_gate(h)) * self.ffn_up(h))


class Llama(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.token_embd = nn.Embedding(cfg.n_vocab, cfg.n_embd)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.output_norm = RMSNorm(cfg.n_embd, cfg.rms_eps)
        self.output = None if cfg.tied else nn.Linear(cfg.n_embd, cfg.n_vocab, bias=False)
        cos, sin = rope_tables(cfg, cfg.n_ctx)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)

    def init_weights(self, generator):
        """N(0, 0.02²) everywhere, the residual projections scaled by 1/sqrt(2·n_layer) (GPT-2's scheme)."""
        for name, p in self.named_parameters():
            if p.dim() == 1:
                continue
            std = 0.02
            if name.endswith("attn_output.weight") or name.endswith("ffn_down.weight"):
                std /= math.sqrt(2 * self.cfg.n_layer)
            with torch.no_grad():
                p.copy_(torch.randn(p.shape, generator=generator) * std)

    def forward(self, ids):
        B, T = ids.shape
        x = self.token_embd(ids)
        cos, sin = self.cos[:T], self.sin[:T]
        mask = torch.ones(T, T, dtype=torch.bool, device=ids.device).triu(1)
        for b in self.blocks:
            x = b(x, cos, sin, mask)
        x = self.output_norm(x)
        w = self.token_embd.weight if self.output is None else self.output.weight
        return x @ w.t()

    def gguf_tensors(self):
        """(GGUF name, fp32 tensor of shape [rows, cols]) in llama.cpp's file order."""
        out = [("token_embd.weight", self.token_embd.weight)]
        for i, b in enumerate(self.blocks):
            p = f"blk.{i}."
            for n in ["attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_down",
                      "ffn_up"]:
                out.append((p + n + ".weight", getattr(b, n).weight))
        out.append(("output_norm.weight", self.output_norm.weight))
        if self.output is not None:
            out.append(("output.weight", self.output.weight))
        return [(n, t.detach().float().contiguous()) for n, t in out]
