"""Pre-norm ViT backbone with early-exit branches of the seven Multi-Exit ViT designs.

Attention is written out by hand (no nn.MultiheadAttention) so every segment exports to a
plain, static ONNX graph with only the batch axis dynamic.
"""
import math

import torch
from torch import nn
import torch.nn.functional as F

EXIT_TYPES = ("mlp", "vit", "cnn_ignore", "cnn_add", "cnn_project", "mixer", "resmlp")


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, t, d = x.shape
        qkv = self.qkv(x).reshape(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        att = torch.softmax((q @ k.transpose(-2, -1)) * self.scale, dim=-1)
        return self.proj((att @ v).transpose(1, 2).reshape(b, t, d))


class Block(nn.Module):
    """One pre-norm transformer encoder layer."""

    def __init__(self, dim, heads, mlp_ratio=2.0, drop=0.0):
        super().__init__()
        hidden = int(dim * mlp_ratio)
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(drop),
                                 nn.Linear(hidden, dim), nn.Dropout(drop))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class Stem(nn.Module):
    """Patch embedding + class token + position embedding."""

    def __init__(self, image, patch, channels, dim):
        super().__init__()
        self.grid = image // patch
        self.patch = nn.Conv2d(channels, dim, kernel_size=patch, stride=patch)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.randn(1, self.grid * self.grid + 1, dim) * 0.02)

    def forward(self, x):
        p = self.patch(x).flatten(2).transpose(1, 2)
        return torch.cat([self.cls.expand(p.shape[0], -1, -1), p], dim=1) + self.pos


# ---- exit branches: tokens [B, T, D] -> logits [B, classes] ----

class MlpExit(nn.Module):
    def __init__(self, dim, tokens, classes, grid):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, dim * 2), nn.GELU(), nn.Linear(dim * 2, classes))

    def forward(self, x):
        return self.mlp(self.norm(x[:, 0]))


class VitExit(nn.Module):
    """SL-ViT: a single transformer layer, then a head on the class token."""

    def __init__(self, dim, tokens, classes, grid, heads=4):
        super().__init__()
        self.layer = Block(dim, heads)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        return self.head(self.norm(self.layer(x)[:, 0]))


class CnnExit(nn.Module):
    """Patch tokens as a 2-D grid, two convolutions, pooled head.

    mode: 'ignore' drops the class token, 'add' adds it to every patch token, 'project'
    projects it to extra channels concatenated at every grid position.
    """

    def __init__(self, dim, tokens, classes, grid, mode, width=64):
        super().__init__()
        self.mode, self.grid = mode, grid
        extra = 0
        if mode == "project":
            extra = width // 2
            self.cls_proj = nn.Linear(dim, extra)
        self.norm = nn.LayerNorm(dim)
        self.conv1 = nn.Conv2d(dim + extra, width, 3, padding=1)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1)
        self.head = nn.Linear(width, classes)

    def forward(self, x):
        x = self.norm(x)
        cls, patches = x[:, :1], x[:, 1:]
        if self.mode == "add":
            patches = patches + cls
        b, _, d = patches.shape
        g = patches.transpose(1, 2).reshape(b, d, self.grid, self.grid)
        if self.mode == "project":
            c = self.cls_proj(cls[:, 0])[:, :, None, None].expand(-1, -1, self.grid, self.grid)
            g = torch.cat([g, c], dim=1)
        g = F.gelu(self.conv2(F.gelu(self.conv1(g))))
        return self.head(g.mean(dim=(2, 3)))


class MixerExit(nn.Module):
    """One MLP-Mixer layer (token mixing, then channel mixing), mean pool, head."""

    def __init__(self, dim, tokens, classes, grid):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.token_mlp = nn.Sequential(nn.Linear(tokens, tokens * 2), nn.GELU(), nn.Linear(tokens * 2, tokens))
        self.norm2 = nn.LayerNorm(dim)
        self.channel_mlp = nn.Sequential(nn.Linear(dim, dim * 2), nn.GELU(), nn.Linear(dim * 2, dim))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        x = x + self.token_mlp(self.norm1(x).transpose(1, 2)).transpose(1, 2)
        x = x + self.channel_mlp(self.norm2(x))
        return self.head(self.norm(x).mean(dim=1))


class Affine(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.alpha = nn.Parameter(torch.ones(dim))
        self.beta = nn.Parameter(torch.zeros(dim))

    def forward(self, x):
        return x * self.alpha + self.beta


class ResMlpExit(nn.Module):
    """One ResMLP layer (affine norms, linear token mixing, channel MLP), mean pool, head."""

    def __init__(self, dim, tokens, classes, grid):
        super().__init__()
        self.aff1 = Affine(dim)
        self.token_mix = nn.Linear(tokens, tokens)
        self.aff2 = Affine(dim)
        self.channel_mlp = nn.Sequential(nn.Linear(dim, dim * 2), nn.GELU(), nn.Linear(dim * 2, dim))
        self.aff3 = Affine(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        x = x + self.token_mix(self.aff1(x).transpose(1, 2)).transpose(1, 2)
        x = x + self.channel_mlp(self.aff2(x))
        return self.head(self.aff3(x).mean(dim=1))


def make_exit(kind, dim, tokens, classes, grid):
    if kind == "mlp":
        return MlpExit(dim, tokens, classes, grid)
    if kind == "vit":
        return VitExit(dim, tokens, classes, grid)
    if kind in ("cnn_ignore", "cnn_add", "cnn_project"):
        return CnnExit(dim, tokens, classes, grid, kind[4:])
    if kind == "mixer":
        return MixerExit(dim, tokens, classes, grid)
    if kind == "resmlp":
        return ResMlpExit(dim, tokens, classes, grid)
    raise ValueError(f"unknown exit type {kind!r}; expected one of {EXIT_TYPES}")


class FinalHead(nn.Module):
    """The backbone's own head: final norm + linear on the class token."""

    def __init__(self, dim, classes):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        return self.head(self.norm(x[:, 0]))


class MultiExitViT(nn.Module):
    """exits: list of (after_block, type); after_block counts blocks run (1..depth).

    The exit after the last block is always the backbone's own head ('final')."""

    def __init__(self, image=28, patch=4, channels=1, dim=64, depth=8, heads=4, mlp_ratio=2.0,
                 classes=10, exits=((2, "vit"), (4, "vit"), (6, "vit")), drop=0.0):
        super().__init__()
        self.config = dict(image=image, patch=patch, channels=channels, dim=dim, depth=depth,
                           heads=heads, mlp_ratio=mlp_ratio, classes=classes)
        self.stem = Stem(image, patch, channels, dim)
        grid = self.stem.grid
        self.tokens = grid * grid + 1
        self.blocks = nn.ModuleList(Block(dim, heads, mlp_ratio, drop) for _ in range(depth))
        self.exit_specs = [(int(b), k) for b, k in exits if int(b) < depth] + [(depth, "final")]
        self.exits = nn.ModuleList(
            FinalHead(dim, classes) if k == "final" else make_exit(k, dim, self.tokens, classes, grid)
            for b, k in self.exit_specs)
        self.apply(_init)

    def forward(self, x):
        """Returns a list of logits, one per exit, in exit order."""
        t = self.stem(x)
        out, e = [], 0
        for i, blk in enumerate(self.blocks):
            t = blk(t)
            while e < len(self.exit_specs) and self.exit_specs[e][0] == i + 1:
                out.append(self.exits[e](t))
                e += 1
        return out

    def tokens_after(self, x):
        """Tokens after the stem and after each block: list of depth + 1 tensors."""
        t = self.stem(x)
        seq = [t]
        for blk in self.blocks:
            t = blk(t)
            seq.append(t)
        return seq


def load_checkpoint(path):
    """A trained checkpoint as (model in eval mode, the checkpoint dict)."""
    ck = torch.load(path)
    m = MultiExitViT(**ck["config"])
    m.load_state_dict(ck["state"])
    m.eval()
    return m, ck


def _init(m):
    if isinstance(m, nn.Linear):
        nn.init.trunc_normal_(m.weight, std=0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.LayerNorm):
        nn.init.ones_(m.weight)
        nn.init.zeros_(m.bias)


def count_params(module):
    return sum(p.numel() for p in module.parameters())


def count_flops(module, example):
    """Multiply-accumulates x2 of Linear/Conv2d/matmul, counted by tracing one forward pass."""
    total = [0]
    hooks = []

    def lin(m, i, o):
        total[0] += 2 * i[0].numel() // i[0].shape[-1] * m.in_features * m.out_features

    def conv(m, i, o):
        k = m.kernel_size[0] * m.kernel_size[1] * (m.in_channels // m.groups)
        total[0] += 2 * o.numel() * k

    def att(m, i, o):
        b, t, d = i[0].shape
        total[0] += 2 * 2 * b * t * t * d  # q@k^T and att@v

    for mod in module.modules():
        if isinstance(mod, nn.Linear):
            hooks.append(mod.register_forward_hook(lin))
        elif isinstance(mod, nn.Conv2d):
            hooks.append(mod.register_forward_hook(conv))
        elif isinstance(mod, Attention):
            hooks.append(mod.register_forward_hook(att))
    with torch.no_grad():
        module(example)
    for h in hooks:
        h.remove()
    return total[0] // example.shape[0]
