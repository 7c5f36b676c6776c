"""The PyTorch modules behind a model pack, rebuilt from its manifest, for timing them (bench_torch.py).

- version 1 (the default pack, `build_pack.py`): its training checkpoint;
- version 2, `--random-init` (import_vit.py): rebuilt exactly from the manifest's seed and geometry;
- version 2 from a torchvision or timm file: that file (its sha256 is checked against the manifest),
  or, without it, random weights of the same geometry (timing does not depend on the weights).

Every rebuild that claims the pack's weights is checked against the pack's golden tensors before it
is timed, so the PyTorch column of `cleave bench engine` is the same model as the Java column.
"""
import json
import os

import numpy as np
import torch

from . import export
from . import imported
from . import model as vit


def read_manifest(pack_dir):
    with open(os.path.join(pack_dir, "manifest.json"), encoding="utf-8") as f:
        return json.load(f)


def load(pack_dir=None, checkpoint=None, source_weights=None):
    """(model, note): the pack's segments as PyTorch modules (stem, blocks, exits) in eval mode, and
    one line saying where the weights came from and what was checked."""
    if pack_dir is None or read_manifest(pack_dir).get("formatVersion", 1) < 2:
        if checkpoint is None:
            raise SystemExit("a version-1 pack is rebuilt from its training checkpoint: pass --checkpoint")
        m, _ = vit.load_checkpoint(checkpoint)
        return m, f"checkpoint {os.path.basename(checkpoint)}"
    man = read_manifest(pack_dir)
    g, src = man["geometry"], man["source"]
    exits = [(e["afterBlock"], e["type"]) for e in man["exits"] if e["type"] != "final"]
    if src["kind"] == "random-init":
        _, m = _random(g, exits, src.get("seed", 0))
        checked = [e for e in range(len(man["exits"]))]
        note = f"rebuilt from the manifest (random-init, seed {src.get('seed', 0)})"
    elif source_weights:
        if export.sha256(source_weights) != src.get("sha256"):
            raise SystemExit(f"{source_weights}: not the file this pack was made from (sha256 differs from the manifest's "
                             f"{src.get('file')})")
        sd = torch.load(source_weights, map_location="cpu", weights_only=True)
        load_fn = imported.from_torchvision if src["kind"] == "torchvision" else imported.from_timm
        m = load_fn(sd, g["heads"], exits)
        checked = [len(man["exits"]) - 1]  # the extra exits were freshly initialised, unseeded: only the model's own head
        note = f"{src['kind']} weights from {os.path.basename(source_weights)}"
    else:
        _, m = _random(g, exits, 0)
        return m.eval(), (f"random weights of the pack's geometry ({src['kind']} file {src.get('file')} not given; "
                          "times do not depend on the weights)")
    diff = _golden_diff(pack_dir, man, m, checked)
    tol = man["golden"]["tolerance"]
    if not diff <= tol:
        raise SystemExit(f"the rebuilt model differs from the pack's golden tensors by {diff:.3g} > {tol}")
    return m.eval(), f"{note}; matches the pack's golden tensors (max |diff| {diff:.2g})"


def _random(g, exits, seed):
    return imported.from_random_init(g["image"], g["patch"], g["channels"], g["dim"], g["depth"], g["heads"],
                                     g["mlp_hidden"] / g["dim"], g["classes"], g["prefix_tokens"] == 2, exits, seed)


def _golden(pack_dir, man, name):
    for t in man["golden"]["tensors"]:
        if t["name"] == name:
            return torch.from_numpy(np.fromfile(os.path.join(pack_dir, t["file"]), dtype="<f4").reshape(t["shape"]))
    return None


def _golden_diff(pack_dir, man, m, exits):
    """Max |difference| between the rebuilt model and the pack's golden tokens after every block and
    logits of the given exits, on the golden inputs."""
    x = _golden(pack_dir, man, "input")
    diff = 0.0
    with torch.no_grad():
        seq = m.tokens_after(x)
        for k in range(1, len(seq)):
            want = _golden(pack_dir, man, f"tokens_after_block_{k:02d}")
            if want is not None:
                diff = max(diff, float((seq[k] - want).abs().max()))
        for e in exits:
            after = m.exit_specs[e][0]
            got = m.exits[e](seq[after])
            diff = max(diff, float((got - _golden(pack_dir, man, f"logits_exit_{e}")).abs().max()))
    return diff

