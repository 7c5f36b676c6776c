"""Token reduction at the split: fewer tokens cross the link and the cloud's blocks run on fewer.

The reference for the Java side (`io.cleave.core.reduce.TokenReducer`), which must choose the same
tokens: both sort with the same tie-break (higher score first, then lower position) and keep
survivors in their original order.

Two methods, at a keep ratio r of the P patch tokens (the prefix tokens, class and DeiT's
distillation token, always cross): prefix + ceil(r * P) tokens are sent.
- `attention` (EViT, Liang et al., ICLR 2022): the ceil(r * P) - 1 patch tokens the class token
  attends to most, plus one token fusing the others weighted by that attention. The attention is
  the class token's in the first block after the split (its norm, query and key weights, heads
  averaged): the block that would have read these tokens next.
- `merge` (ToMe, Bolya et al., ICLR 2023): bipartite soft matching on that block's keys (heads
  averaged). Patch tokens alternate between sets A and B; each A token's most similar B token
  (cosine) is found, and the most similar A tokens are averaged into their match, weighted by how
  many tokens each already holds; repeated until ceil(r * P) remain (one round removes at most
  half). Without ToMe's proportional attention (the exported blocks take tokens only), a merged
  token counts once in the blocks after the split.

The probe graph a pack ships for block k+1 gives both scores on the tokens after block k:
`cls_attention` [B, P] and `keys` [B, T, D / heads].
"""
import math

import torch
from torch import nn

METHODS = ("attention", "merge")


def kept_patches(patches, keep):
    """Patch tokens that cross at keep ratio `keep` (0 < keep <= 1), at least 1."""
    if not 0 < keep <= 1:
        raise ValueError(f"keep ratio {keep} outside (0, 1]")
    return max(1, min(patches, math.ceil(keep * patches - 1e-9)))


class Probe(nn.Module):
    """The class token's attention over the patch tokens, and the keys, of `block` (heads averaged)."""

    def __init__(self, block, prefix):
        super().__init__()
        self.norm1 = block.norm1
        self.attn = block.attn
        self.prefix = prefix

    def forward(self, x):
        b, t, d = x.shape
        a = self.attn
        qkv = a.qkv(self.norm1(x)).reshape(b, t, 3, a.heads, d // a.heads).permute(2, 0, 3, 1, 4)
        q, k = qkv[0], qkv[1]
        att = torch.softmax((q[:, :, :1] @ k.transpose(-2, -1)) * a.scale, dim=-1)  # [B, H, 1, T]
        return att.mean(dim=1)[:, 0, self.prefix:], k.mean(dim=1)


def _order(scores):
    """Indices by score, highest first, ties to the lower position (stable sort)."""
    return torch.sort(scores, dim=-1, descending=True, stable=True).indices


def attention(x, scores, prefix, keep):
    """EViT: x [B, T, D], scores [B, P]; returns [B, prefix + n, D]."""
    b, t, d = x.shape
    p = t - prefix
    n = kept_patches(p, keep)
    if n >= p:
        return x
    order = _order(scores)
    top = torch.sort(order[:, :n - 1], dim=-1).values
    rest = order[:, n - 1:]
    patches = x[:, prefix:]
    kept = torch.gather(patches, 1, top.unsqueeze(-1).expand(-1, -1, d))
    w = torch.gather(scores, 1, rest)
    w = w / w.sum(dim=1, keepdim=True)
    fused = (torch.gather(patches, 1, rest.unsqueeze(-1).expand(-1, -1, d)) * w.unsqueeze(-1)).sum(dim=1, keepdim=True)
    return torch.cat([x[:, :prefix], kept, fused], dim=1)


def merge(x, keys, prefix, keep):
    """ToMe bipartite soft matching: x [B, T, D], keys [B, T, K]; returns [B, prefix + n, D]."""
    b, t, d = x.shape
    p = t - prefix
    n = kept_patches(p, keep)
    tok = x[:, prefix:]
    met = keys[:, prefix:]
    size = torch.ones(b, p, 1, dtype=x.dtype)
    pos = torch.arange(p).expand(b, p)
    while tok.shape[1] > n:
        cur = tok.shape[1]
        ia = torch.arange(0, cur, 2)
        ib = torch.arange(1, cur, 2)
        r = min(cur - n, len(ib))  # every A token has a B partner: at most |B| merge per round
        if r <= 0:
            break
        unit = met / met.norm(dim=-1, keepdim=True)
        sim = unit[:, ia] @ unit[:, ib].transpose(1, 2)  # [B, |A|, |B|]
        best_sim, best = sim.max(dim=-1)  # ties to the lower B index
        order = _order(best_sim)
        merged_a = order[:, :r]  # positions in A
        kept_a = torch.sort(order[:, r:], dim=-1).values
        dst = torch.gather(best, 1, merged_a)  # positions in B
        a_tok, a_met, a_size = tok[:, ia], met[:, ia], size[:, ia]
        b_tok, b_met, b_size = tok[:, ib], met[:, ib], size[:, ib]

        def pick(v, i):
            return torch.gather(v, 1, i.unsqueeze(-1).expand(-1, -1, v.shape[-1]))

        src_size = pick(a_size, merged_a)
        b_tok = b_tok * b_size
        b_met = b_met * b_size
        b_tok = b_tok.scatter_add(1, dst.unsqueeze(-1).expand(-1, -1, d), pick(a_tok, merged_a) * src_size)
        b_met = b_met.scatter_add(1, dst.unsqueeze(-1).expand(-1, -1, met.shape[-1]), pick(a_met, merged_a) * src_size)
        b_size = b_size.scatter_add(1, dst.unsqueeze(-1), src_size)
        b_tok = b_tok / b_size
        b_met = b_met / b_size
        # survivors in their original order: kept A tokens and all B tokens, by position
        all_pos = torch.cat([torch.gather(pos[:, ia], 1, kept_a), pos[:, ib]], dim=1)
        back = torch.sort(all_pos, dim=-1).indices
        tok = pick(torch.cat([pick(a_tok, kept_a), b_tok], dim=1), back)
        met = pick(torch.cat([pick(a_met, kept_a), b_met], dim=1), back)
        size = pick(torch.cat([pick(a_size, kept_a), b_size], dim=1), back)
        pos = torch.gather(all_pos, 1, back)
    return torch.cat([x[:, :prefix], tok], dim=1)


def reduce(method, x, scores, keys, prefix, keep):
    if method == "attention":
        return attention(x, scores, prefix, keep)
    if method == "merge":
        return merge(x, keys, prefix, keep)
    raise ValueError(f"unknown token reduction '{method}': one of {', '.join(METHODS)}")
