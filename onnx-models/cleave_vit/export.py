"""Export a trained multi-exit ViT as a Cleave model pack: one static ONNX graph per segment."""
import hashlib
import json
import os

import numpy as np
import onnx
import torch

from . import model as vit
from . import reduce

OPSET = 17
FORMAT_VERSION = 1
# Version 2 adds: RGB (or grayscale) input of any size with torchvision-style preprocessing
# (resize the shorter side, centre crop, /255, per-channel mean and std), the `trained` flag and
# the model's source. Packs without those needs stay version 1, byte for byte as before.
FORMAT_VERSION_2 = 2


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class PatchMatmulStem(torch.nn.Module):
    """The stem with its stride-p convolution written as patchify + matmul: the same function
    (sums in another order), but much faster in ONNX Runtime than a strided Conv on tiny images."""

    def __init__(self, stem):
        super().__init__()
        conv = stem.patch
        self.p = conv.kernel_size[0]
        self.grid = stem.grid
        self.weight = torch.nn.Parameter(conv.weight.detach().reshape(conv.out_channels, -1).t().contiguous())
        self.bias = torch.nn.Parameter(conv.bias.detach().clone())
        self.cls = torch.nn.Parameter(stem.cls.detach().clone())
        self.pos = torch.nn.Parameter(stem.pos.detach().clone())

    def forward(self, x):
        b, c = x.shape[0], x.shape[1]
        g, p = self.grid, self.p
        patches = x.reshape(b, c, g, p, g, p).permute(0, 2, 4, 1, 3, 5).reshape(b, g * g, c * p * p)
        t = patches @ self.weight + self.bias
        return torch.cat([self.cls.expand(b, -1, -1), t], dim=1) + self.pos


# Exit types that read the tokens as a set (the class token after attention or none), so they run on
# any number of tokens; the others need the full grid (CNN exits) or a fixed count (token-mixing MLPs).
TOKEN_SET_EXITS = ("mlp", "vit", "final")


def _export(module, example, path, in_name, out_names, token_axis=False):
    """token_axis: the input's axis 1 (tokens) is dynamic too, and so is every output's axis 1 but logits'."""
    module.eval()
    out_names = [out_names] if isinstance(out_names, str) else list(out_names)
    axes = {in_name: {0: "batch", 1: "tokens"} if token_axis else {0: "batch"}}
    for o in out_names:
        if token_axis and o in ("tokens_out", "keys", "cls_attention"):
            axes[o] = {0: "batch", 1: "patches" if o == "cls_attention" else "tokens"}
        else:
            axes[o] = {0: "batch"}
    torch.onnx.export(module, (example,), path, opset_version=OPSET, do_constant_folding=True,
                      input_names=[in_name], output_names=out_names, dynamic_axes=axes)
    onnx.checker.check_model(onnx.load(path))


REDUCTION_KEEPS = (0.75, 0.5, 0.25)


def reduction_costs(m, accuracy=None):
    """What each token reduction sends and costs: per split (tokens after block 1 .. depth-1), method and keep ratio,
    the tokens that cross, their bytes per wire encoding, the cloud's FLOPs per sample (blocks after the split and the
    exits there, on those tokens) and every cloud exit's accuracy: accuracy(split, method, keep) -> [{index, validation,
    test}] in cloud-exit order, or None (an untrained pack: timing and bytes only)."""
    prefix = m.tokens - m.stem.grid * m.stem.grid
    dim = m.config["dim"]
    costs = []
    for split in range(1, len(m.blocks)):
        cloud = [e for e, (after, _) in enumerate(m.exit_specs) if after > split]
        for me in reduce.METHODS:
            for k in REDUCTION_KEEPS:
                t = prefix + reduce.kept_patches(m.tokens - prefix, k)
                x = torch.zeros(1, t, dim)
                flops = sum(vit.count_flops(blk, x) for blk in m.blocks[split:])
                flops += sum(vit.count_flops(m.exits[e], x) for e in cloud if m.exit_specs[e][1] in TOKEN_SET_EXITS)
                measured = accuracy(split, me, k) if accuracy else None
                exits = measured if measured is not None else [
                    {"index": e, "validation": None, "test": None} for e in cloud if m.exit_specs[e][1] in TOKEN_SET_EXITS]
                costs.append({"split": split, "method": me, "keep": k, "tokens": t,
                              "bytes": {"FP32": t * dim * 4, "FP16": t * dim * 2, "INT8": t * (dim + 4)},
                              "cloudFlops": flops, "exits": exits})
    return costs


def write_f32(path, array):
    np.ascontiguousarray(array, dtype="<f4").tofile(path)


def export_pack(m, out_dir, meta, golden_images, format_version=FORMAT_VERSION, extra_golden=None, golden_photos=(),
                reducible=False):
    """meta: dict with model id/version, preprocessing, labels, per-exit stats, training info
    (version 2 also: trained, source; with reducible, optionally tokenReduction: measured costs).

    reducible: blocks and the exits that read tokens as a set take any token count, and a probe
    graph per block from the second on gives the scores token reduction needs (cleave_vit.reduce),
    so the tokens after any block but the last can be reduced before they cross the link.

    golden_images: normalized float32 [G,C,H,W] images whose tensors are recorded.
    extra_golden: more named tensors to record (e.g. the source model's own logits).
    golden_photos: file names of the real images behind `photo_input`, if recorded (version 2)."""
    os.makedirs(os.path.join(out_dir, "golden"), exist_ok=True)
    m.eval()
    cfg = m.config
    x = torch.from_numpy(golden_images[:2])
    tokens = m.stem(x).detach()

    fast_stem = PatchMatmulStem(m.stem).eval()
    with torch.no_grad():
        drift = float((fast_stem(x) - tokens).abs().max())
    assert drift < 1e-5, f"patch-matmul stem differs from the conv stem by {drift}"
    _export(fast_stem, x, os.path.join(out_dir, "stem.onnx"), "image", "tokens")
    blocks = []
    for i, blk in enumerate(m.blocks):
        name = f"block_{i + 1:02d}.onnx"
        _export(blk, tokens, os.path.join(out_dir, name), "tokens_in", "tokens_out", token_axis=reducible)
        blocks.append({"index": i + 1, "file": name, "input": "tokens_in", "output": "tokens_out",
                       "params": vit.count_params(blk), "flops": vit.count_flops(blk, tokens)})
    exits = []
    for e, ((after, kind), head) in enumerate(zip(m.exit_specs, m.exits)):
        name = f"exit_{e}_b{after:02d}_{kind}.onnx"
        any_count = reducible and kind in TOKEN_SET_EXITS
        _export(head, tokens, os.path.join(out_dir, name), "tokens", "logits", token_axis=any_count)
        row = {"index": e, "afterBlock": after, "type": kind, "file": name, "input": "tokens", "output": "logits",
               "params": vit.count_params(head), "flops": vit.count_flops(head, tokens)}
        if reducible:
            row["reducedTokens"] = any_count
        exits.append(dict(row, **meta["exits"][e]))
    reduction = None
    if reducible:
        prefix = m.tokens - m.stem.grid * m.stem.grid
        probes = []
        for k in range(2, len(m.blocks) + 1):
            name = f"probe_{k:02d}.onnx"
            probe = reduce.Probe(m.blocks[k - 1], prefix)
            _export(probe, tokens, os.path.join(out_dir, name), "tokens", ["cls_attention", "keys"], token_axis=True)
            probes.append({"block": k, "file": name, "input": "tokens", "outputs": ["cls_attention", "keys"],
                           "params": vit.count_params(probe), "flops": vit.count_flops(probe, tokens)})
        reduction = {"prefix": prefix, "methods": list(reduce.METHODS), "probes": probes, "keeps": list(REDUCTION_KEEPS),
                     "fullTokens": m.tokens}
        reduction.update(meta.get("tokenReduction") or {"costs": reduction_costs(m)})

    golden = _write_golden(m, out_dir, golden_images, extra_golden or {})
    if golden_photos:
        golden["photos"] = list(golden_photos)
    stem_flops = vit.count_flops(m.stem, x)
    input_spec = {"name": "image", "shape": [cfg["channels"], cfg["image"], cfg["image"]],
                  "dtype": "float32", "rawDtype": "uint8", "preprocessing": meta["preprocessing"]}
    manifest = {
        "format": "cleave-pack",
        "formatVersion": format_version,
        "model": meta["model"],
    }
    if format_version >= FORMAT_VERSION_2:
        manifest["trained"] = bool(meta["trained"])
        manifest["source"] = meta["source"]
        input_spec["color"] = "RGB" if cfg["channels"] == 3 else "GRAY"
    manifest.update({
        "input": input_spec,
        "tokens": {"count": m.tokens, "dim": cfg["dim"]},
        "geometry": cfg,
        "labels": meta["labels"],
        "opset": OPSET,
        "stem": {"file": "stem.onnx", "input": "image", "output": "tokens",
                 "params": vit.count_params(m.stem), "flops": stem_flops},
        "blocks": blocks,
        "exits": exits,
        "golden": golden,
        "training": meta["training"],
    })
    if reduction is not None:
        manifest["tokenReduction"] = reduction
    files = sorted(f for f in _walk(out_dir) if f != "manifest.json")
    manifest["files"] = {f: sha256(os.path.join(out_dir, f)) for f in files}
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    return manifest


def _walk(root):
    for d, _, names in os.walk(root):
        for n in names:
            yield os.path.relpath(os.path.join(d, n), root)


@torch.no_grad()
def _write_golden(m, out_dir, images, extra):
    x = torch.from_numpy(images)
    entries = []

    def put(name, t):
        arr = t.numpy()
        write_f32(os.path.join(out_dir, "golden", name + ".f32"), arr)
        entries.append({"name": name, "file": f"golden/{name}.f32", "shape": list(arr.shape)})

    put("input", x)
    seq = m.tokens_after(x)
    put("tokens_after_stem", seq[0])
    for i in range(1, len(seq)):
        put(f"tokens_after_block_{i:02d}", seq[i])
    for e, (after, _) in enumerate(m.exit_specs):
        put(f"logits_exit_{e}", m.exits[e](seq[after]))
    for name, t in extra.items():
        put(name, torch.as_tensor(t))
    return {"tensors": entries, "tolerance": 1e-4}
