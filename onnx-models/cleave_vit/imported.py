"""Standard (single-exit) ViTs brought into Cleave: torchvision and timm-layout state dicts.

Both sources are re-expressed as one pre-norm ViT whose parts are the pack's segments: a stem
(patch embedding, prefix tokens, position embedding), the encoder blocks, and the model's own
head as the final exit. The blocks reuse `model.Attention` (attention written out by hand), so
each segment exports to a static ONNX graph exactly as the default pack's do.

Key layouts read here:
- torchvision `VisionTransformer` (0.12-0.14): `class_token`, `conv_proj`, `encoder.pos_embedding`,
  `encoder.layers.encoder_layer_N.{ln_1, self_attention.in_proj_*, self_attention.out_proj, ln_2,
  mlp.0, mlp.3}` (or the legacy `mlp.linear_1/linear_2`), `encoder.ln`, `heads.head` (and
  `heads.pre_logits` when the model has a representation layer);
- timm `VisionTransformer` / DeiT: `patch_embed.proj`, `cls_token`, `pos_embed`, `blocks.N.{norm1,
  attn.qkv, attn.proj, norm2, mlp.fc1, mlp.fc2}`, `norm`, `head`; DeiT's distilled variant adds
  `dist_token` and `head_dist` (the eval output is the mean of both heads, as in timm).
"""
import math
import re

import torch
from torch import nn

from . import model as vit
from . import timm_reference

# ViT geometry cannot be read from weights alone in one respect: the number of heads. Widths of
# the published models map to their head counts; anything else needs --heads.
KNOWN_HEADS = {192: 3, 384: 6, 768: 12, 1024: 16, 1280: 16}


class UnsupportedModel(ValueError):
    """A state dict that is not a ViT this importer can read; the message says what is wrong."""


class Block(nn.Module):
    """Pre-norm encoder layer with explicit MLP width and LayerNorm eps."""

    def __init__(self, dim, heads, hidden, eps):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attn = vit.Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Identity(), nn.Linear(hidden, dim))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class Stem(nn.Module):
    """Patch embedding + prefix tokens (class token, and DeiT's distillation token) + position
    embedding. `cls` holds all prefix tokens, [1, P, D], so export's patch-matmul stem applies."""

    def __init__(self, image, patch, channels, dim, prefix):
        super().__init__()
        self.grid = image // patch
        self.patch = nn.Conv2d(channels, dim, kernel_size=patch, stride=patch)
        self.cls = nn.Parameter(torch.zeros(1, prefix, dim))
        self.pos = nn.Parameter(torch.zeros(1, self.grid * self.grid + prefix, dim))

    def forward(self, x):
        p = self.patch(x).flatten(2).transpose(1, 2)
        return torch.cat([self.cls.expand(p.shape[0], -1, -1), p], dim=1) + self.pos


class Head(nn.Module):
    """The model's own head: final norm, then the class token through an optional pre-logits
    layer (Linear + Tanh, torchvision's representation_size) and the classifier. With a
    distillation head (DeiT), the mean of the class-token and distillation-token heads."""

    def __init__(self, dim, classes, eps, pre_logits=0, distilled=False):
        super().__init__()
        self.norm = nn.LayerNorm(dim, eps=eps)
        self.pre_logits = nn.Sequential(nn.Linear(dim, pre_logits), nn.Tanh()) if pre_logits else None
        self.head = nn.Linear(pre_logits or dim, classes)
        self.head_dist = nn.Linear(dim, classes) if distilled else None

    def forward(self, x):
        x = self.norm(x)
        c = x[:, 0]
        if self.pre_logits is not None:
            c = self.pre_logits(c)
        out = self.head(c)
        if self.head_dist is not None:
            out = (out + self.head_dist(x[:, 1])) / 2
        return out


class ImportedViT(nn.Module):
    """A standard ViT cut into segments, with optional extra exits (the seven types of
    `model.py`, freshly initialised) after chosen blocks. Same interface as `MultiExitViT` where
    the exporter needs it: config, stem, blocks, exit_specs, exits, tokens, tokens_after."""

    def __init__(self, image, patch, channels, dim, depth, heads, hidden, classes, eps=1e-6, prefix=1,
                 pre_logits=0, exits=()):
        super().__init__()
        if image % patch:
            raise UnsupportedModel(f"image size {image} is not a multiple of the patch size {patch}")
        if dim % heads:
            raise UnsupportedModel(f"width {dim} is not divisible by {heads} heads")
        self.config = dict(image=image, patch=patch, channels=channels, dim=dim, depth=depth, heads=heads,
                           mlp_hidden=hidden, classes=classes, layer_norm_eps=eps, prefix_tokens=prefix,
                           pre_logits=pre_logits)
        self.stem = Stem(image, patch, channels, dim, prefix)
        grid = self.stem.grid
        self.tokens = grid * grid + prefix
        self.blocks = nn.ModuleList(Block(dim, heads, hidden, eps) for _ in range(depth))
        specs = sorted((int(b), k) for b, k in exits)
        for b, k in specs:
            if not 1 <= b < depth:
                raise UnsupportedModel(f"an extra exit after block {b} must sit before the last block (1..{depth - 1}); "
                                   f"the model's own head is the exit after block {depth}")
            if k.startswith("cnn") and prefix != 1:
                raise UnsupportedModel(f"{k} exits read the patch grid after one class token; this model has {prefix} "
                                   "prefix tokens")
        self.exit_specs = specs + [(depth, "final")]
        extra = [vit.make_exit(k, dim, self.tokens, classes, grid) for b, k in specs]
        for e in extra:
            e.apply(vit._init)
        self.exits = nn.ModuleList(extra + [Head(dim, classes, eps, pre_logits, prefix == 2)])

    @property
    def head(self):
        return self.exits[-1]

    def forward(self, x):
        """Logits of every exit, in exit order (the last is the model's own head)."""
        seq = self.tokens_after(x)
        return [self.exits[e](seq[b]) for e, (b, _) in enumerate(self.exit_specs)]

    def tokens_after(self, x):
        t = self.stem(x)
        seq = [t]
        for blk in self.blocks:
            t = blk(t)
            seq.append(t)
        return seq


def heads_for(dim, heads):
    if heads:
        return heads
    if dim in KNOWN_HEADS:
        return KNOWN_HEADS[dim]
    raise UnsupportedModel(f"cannot tell the number of attention heads of a {dim}-wide ViT from its weights; "
                       f"pass --heads (known widths: {KNOWN_HEADS})")


def _grid_image(pos_tokens, prefix, patch):
    n = pos_tokens - prefix
    g = int(round(math.sqrt(n)))
    if g * g != n:
        raise UnsupportedModel(f"position embedding has {n} patch positions, not a square grid")
    return g * patch


def _count_layers(sd, pattern):
    idx = {int(m.group(1)) for k in sd for m in [re.match(pattern, k)] if m}
    if not idx:
        raise UnsupportedModel("no encoder layers found")
    if idx != set(range(len(idx))):
        raise UnsupportedModel(f"encoder layers are not numbered 0..{len(idx) - 1}: {sorted(idx)}")
    return len(idx)


def _check_used(sd, used, what):
    left = sorted(set(sd) - used)
    if left:
        raise UnsupportedModel(f"{what} state dict has keys this importer does not understand "
                           f"(an unsupported variant?): {left[:8]}{' ...' if len(left) > 8 else ''}")


class _Loader:
    """Copies named tensors into a module, checking shapes, and remembers what it used."""

    def __init__(self, sd, what):
        self.sd, self.what, self.used = sd, what, set()

    def has(self, key):
        return key in self.sd

    def get(self, key):
        if key not in self.sd:
            raise UnsupportedModel(f"{self.what} state dict lacks {key!r}")
        self.used.add(key)
        return self.sd[key]

    def put(self, param, key):
        t = self.get(key)
        if tuple(t.shape) != tuple(param.shape):
            raise UnsupportedModel(f"{key}: shape {tuple(t.shape)} where the model expects {tuple(param.shape)}")
        with torch.no_grad():
            param.copy_(t.to(param.dtype))

    def linear(self, mod, key):
        self.put(mod.weight, key + ".weight")
        self.put(mod.bias, key + ".bias")


def from_torchvision(sd, heads=None, exits=()):
    """An ImportedViT from a torchvision VisionTransformer state dict."""
    sd = _unwrap(sd)
    if "conv_proj.weight" not in sd:
        what = "a conv-stem (conv_proj.*) ViT" if any(k.startswith("conv_proj.") for k in sd) else "a torchvision ViT"
        raise UnsupportedModel(f"not {what} state dict: no conv_proj.weight (keys start {sorted(sd)[:4]})")
    ld = _Loader(sd, "torchvision ViT")
    w = sd["conv_proj.weight"]
    dim, channels, patch = w.shape[0], w.shape[1], w.shape[-1]
    depth = _count_layers(sd, r"encoder\.layers\.encoder_layer_(\d+)\.")
    L = "encoder.layers.encoder_layer_{}."
    fc1 = "mlp.0" if (L.format(0) + "mlp.0.weight") in sd else "mlp.linear_1"
    fc2 = "mlp.3" if fc1 == "mlp.0" else "mlp.linear_2"
    hidden = sd[L.format(0) + fc1 + ".weight"].shape[0]
    pre = sd["heads.pre_logits.weight"].shape[0] if "heads.pre_logits.weight" in sd else 0
    classes = sd["heads.head.weight"].shape[0] if "heads.head.weight" in sd else None
    if classes is None:
        raise UnsupportedModel("torchvision ViT state dict lacks heads.head.weight")
    image = _grid_image(sd["encoder.pos_embedding"].shape[1], 1, patch)
    m = ImportedViT(image, patch, channels, dim, depth, heads_for(dim, heads), hidden, classes, eps=1e-6,
                    prefix=1, pre_logits=pre, exits=exits)
    ld.linear(m.stem.patch, "conv_proj")
    ld.put(m.stem.cls, "class_token")
    ld.put(m.stem.pos, "encoder.pos_embedding")
    for i, b in enumerate(m.blocks):
        p = L.format(i)
        ld.linear(b.norm1, p + "ln_1")
        ld.put(b.attn.qkv.weight, p + "self_attention.in_proj_weight")
        ld.put(b.attn.qkv.bias, p + "self_attention.in_proj_bias")
        ld.linear(b.attn.proj, p + "self_attention.out_proj")
        ld.linear(b.norm2, p + "ln_2")
        ld.linear(b.mlp[0], p + fc1)
        ld.linear(b.mlp[3], p + fc2)
    h = m.head
    ld.linear(h.norm, "encoder.ln")
    if pre:
        ld.linear(h.pre_logits[0], "heads.pre_logits")
    ld.linear(h.head, "heads.head")
    _check_used(sd, ld.used, "torchvision ViT")
    return m.eval()


def from_timm(sd, heads=None, exits=()):
    """An ImportedViT from a timm VisionTransformer / DeiT state dict (class-token pooling)."""
    sd = _unwrap(sd)
    if "patch_embed.proj.weight" not in sd:
        raise UnsupportedModel(f"not a timm ViT state dict: no patch_embed.proj.weight (keys start {sorted(sd)[:4]})")
    for k in ("fc_norm.weight", "blocks.0.ls1.gamma", "attn_pool.latent", "reg_token"):
        if k in sd:
            raise UnsupportedModel(f"timm variant with {k.split('.')[0]} is not supported (class-token ViT/DeiT only)")
    ld = _Loader(sd, "timm ViT")
    w = sd["patch_embed.proj.weight"]
    dim, channels, patch = w.shape[0], w.shape[1], w.shape[-1]
    depth = _count_layers(sd, r"blocks\.(\d+)\.")
    hidden = sd["blocks.0.mlp.fc1.weight"].shape[0]
    distilled = "dist_token" in sd
    prefix = 2 if distilled else 1
    if "head.weight" not in sd:
        raise UnsupportedModel("timm ViT state dict lacks head.weight (a headless backbone cannot be a pack's final exit)")
    classes = sd["head.weight"].shape[0]
    image = _grid_image(sd["pos_embed"].shape[1], prefix, patch)
    m = ImportedViT(image, patch, channels, dim, depth, heads_for(dim, heads), hidden, classes, eps=1e-6,
                    prefix=prefix, exits=exits)
    ld.linear(m.stem.patch, "patch_embed.proj")
    with torch.no_grad():
        m.stem.cls[:, :1].copy_(ld.get("cls_token"))
        if distilled:
            m.stem.cls[:, 1:].copy_(ld.get("dist_token"))
    ld.put(m.stem.pos, "pos_embed")
    for i, b in enumerate(m.blocks):
        p = f"blocks.{i}."
        ld.linear(b.norm1, p + "norm1")
        ld.linear(b.attn.qkv, p + "attn.qkv")
        ld.linear(b.attn.proj, p + "attn.proj")
        ld.linear(b.norm2, p + "norm2")
        ld.linear(b.mlp[0], p + "mlp.fc1")
        ld.linear(b.mlp[3], p + "mlp.fc2")
    h = m.head
    ld.linear(h.norm, "norm")
    ld.linear(h.head, "head")
    if distilled:
        ld.linear(h.head_dist, "head_dist")
    _check_used(sd, ld.used, "timm ViT")
    return m.eval()


def from_random_init(image, patch, channels, dim, depth, heads, mlp_ratio, classes, distilled=False, exits=(), seed=0):
    """The seeded random source model (timm_reference, timm's init) and the cut model made from its
    weights, in the one order of random draws that `import_vit.py --random-init` uses: the source's
    init, then the extra exits' init. A pack's manifest (source.seed and its geometry) therefore
    rebuilds both exactly; bench_torch.py relies on it."""
    torch.manual_seed(seed)
    src = timm_reference.VisionTransformer(img_size=image, patch_size=patch, in_chans=channels, num_classes=classes,
                                           embed_dim=dim, depth=depth, num_heads=heads, mlp_ratio=mlp_ratio,
                                           distilled=distilled).eval()
    return src, from_timm(src.state_dict(), heads, exits)


def random_init(image, patch, dim, depth, heads, classes, mlp_ratio=4.0, channels=3, distilled=False, exits=(),
                seed=0):
    """A seeded random ViT of any geometry (trunc-normal 0.02 weights, as timm initialises)."""
    torch.manual_seed(seed)
    m = ImportedViT(image, patch, channels, dim, depth, heads, int(round(dim * mlp_ratio)), classes, eps=1e-6,
                    prefix=2 if distilled else 1, exits=exits)
    m.apply(vit._init)
    with torch.no_grad():
        nn.init.trunc_normal_(m.stem.cls, std=0.02)
        nn.init.trunc_normal_(m.stem.pos, std=0.02)
    return m.eval()


def _unwrap(sd):
    """Accepts a bare state dict or the usual checkpoint wrappers ({'model': ...}, {'state_dict': ...})."""
    if not isinstance(sd, dict):
        if isinstance(sd, nn.Module):
            return sd.state_dict()
        raise UnsupportedModel(f"expected a state dict, got {type(sd).__name__}")
    for k in ("model", "state_dict", "model_state_dict"):
        if k in sd and isinstance(sd[k], dict) and not isinstance(sd[k], torch.Tensor):
            sd = sd[k]
            break
    sd = {k[len("module."):] if k.startswith("module.") else k: v for k, v in sd.items()}
    return {k: v for k, v in sd.items() if isinstance(v, torch.Tensor)}
