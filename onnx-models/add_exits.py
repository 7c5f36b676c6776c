#!/usr/bin/python3
"""Add cheap exits to a trained pack's checkpoint, on the frozen backbone, and re-export the pack.

A device that holds only the first blocks needs a local answer at each depth it may stop at. This
trains MLP heads (layer norm + two linears on the class token, the cheapest exit type) after the
chosen blocks, on the class tokens of the frozen backbone: the backbone runs once over every image,
then each head trains on those cached features for a few epochs. Classifier-wise (labels) and
copycat (the backbone head's soft predictions) are both trained; validation accuracy picks one per
exit. Existing exits, blocks and the backbone are unchanged (their ONNX graphs and golden tensors
come out as before); exit indices follow block order, so they shift. Temperatures, ECE and
threshold tables are fitted on the validation split for every exit, as build_pack.py does.

    /usr/bin/python3 onnx-models/add_exits.py --after 1 --after 3     # the default pack: ~3 min here
"""
import argparse
import copy
import json
import os
import shutil
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from cleave_vit import calibrate, data, export, model as vit, train  # noqa: E402


def log(s):
    print(s, flush=True)


@torch.no_grad()
def class_tokens(m, images, blocks, batch=1000):
    """The class token after each block in `blocks` and the final head's logits, for all images."""
    feats = {b: [] for b in blocks}
    final = []
    for i in range(0, len(images), batch):
        seq = m.tokens_after(torch.from_numpy(images[i:i + batch]))
        for b in blocks:
            feats[b].append(seq[b][:, :1].clone())  # an MLP exit reads the class token only
        final.append(m.exits[-1](seq[-1]))
    return {b: torch.cat(v) for b, v in feats.items()}, torch.cat(final)


def train_head(head, feats, labels, teacher, epochs, lr, seed, batch=256):
    """Trains one exit head on cached class tokens; teacher: soft targets (copycat) or None (labels)."""
    torch.manual_seed(seed)
    opt = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=0.05)
    rng = np.random.default_rng(seed)
    n = len(feats)
    steps = epochs * ((n + batch - 1) // batch)
    step = 0
    head.train()
    for _ in range(epochs):
        for j in np.array_split(rng.permutation(n), (n + batch - 1) // batch):
            for g in opt.param_groups:
                g["lr"] = train.cosine_lr(step, steps, lr, warmup=steps // (2 * epochs))
            logits = head(feats[j])
            if teacher is None:
                loss = F.cross_entropy(logits, torch.from_numpy(labels[j]))
            else:
                loss = F.kl_div(F.log_softmax(logits, -1), teacher[j], reduction="batchmean")
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
    head.eval()
    return head


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", default=os.path.join(HERE, "checkpoints/fmnist-vit8-final.pt"))
    ap.add_argument("--pack", default=os.path.join(HERE, "packs/fmnist-vit8"), help="the pack to re-export (its manifest "
                    "gives the model's id, description and training record)")
    ap.add_argument("--after", type=int, action="append", required=True, help="add an MLP exit after this block (repeatable)")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--version", default=None, help="the new pack version (default: the old one's minor version + 1)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    t0 = time.time()

    old, ck = vit.load_checkpoint(a.checkpoint)
    depth = old.config["depth"]
    taken = {b for b, _ in old.exit_specs}
    for b in a.after:
        if not 1 <= b < depth:
            sys.exit(f"add_exits: --after {b}: must be a block 1..{depth - 1}")
        if b in taken:
            sys.exit(f"add_exits: --after {b}: the model already has an exit after block {b}")
    specs = sorted([(b, k) for b, k in old.exit_specs if k != "final"] + [(b, "mlp") for b in a.after])
    cfg = dict(old.config, exits=[[b, k] for b, k in specs])
    m = vit.MultiExitViT(**cfg)
    # everything but the new heads comes from the checkpoint; new heads keep their fresh init
    state = m.state_dict()
    old_index = {spec: i for i, spec in enumerate(old.exit_specs)}
    for name, value in old.state_dict().items():
        if name.startswith("exits."):
            i, rest = name.split(".", 2)[1:]
            new_i = m.exit_specs.index(old.exit_specs[int(i)])
            state[f"exits.{new_i}.{rest}"] = value
        else:
            state[name] = value
    m.load_state_dict(state)
    m.eval()

    images, labels = data.load("train")
    (tr_x, tr_y), (va_x, va_y) = data.train_val_split(images, labels)
    tr_x, va_x = data.normalize(tr_x), data.normalize(va_x)
    te_img, te_y = data.load("test")
    te_x = data.normalize(te_img)

    t1 = time.time()
    tr_f, tr_final = class_tokens(m, tr_x, a.after)
    va_f, _ = class_tokens(m, va_x, a.after)
    log(f"backbone features for {len(tr_x) + len(va_x)} images in {time.time() - t1:.0f}s")
    teacher = F.softmax(tr_final, -1)
    added = {}
    t2 = time.time()
    for b in a.after:
        e = m.exit_specs.index((b, "mlp"))
        fresh = copy.deepcopy(m.exits[e])
        trials = {}
        for regime, target in (("labels", None), ("copycat", teacher)):
            head = train_head(copy.deepcopy(fresh), tr_f[b], tr_y, target, a.epochs, a.lr, a.seed)
            with torch.no_grad():
                acc = train.accuracy(head(va_f[b]).numpy(), va_y)
            trials[regime] = (acc, head)
            log(f"exit after block {b} ({regime}): validation {acc:.4f}")
        regime = max(trials, key=lambda r: trials[r][0])
        m.exits[e].load_state_dict(trials[regime][1].state_dict())
        added[b] = {"regime": regime, "validation": {r: round(v[0], 4) for r, v in trials.items()}}
    train_seconds = time.time() - t2
    log(f"exit training {train_seconds:.0f}s (features: {t2 - t1:.0f}s)")

    with open(os.path.join(a.pack, "manifest.json")) as f:
        old_manifest = json.load(f)
    old_exits = {ex["afterBlock"]: ex for ex in old_manifest["exits"]}
    val = train.exit_logits(m, va_x)
    test = train.exit_logits(m, te_x)
    exits_meta = []
    for e, (after, kind) in enumerate(m.exit_specs):
        row = calibrate.describe_exit(val[e], va_y, test[e], te_y)
        if after in added:
            row["copycat"] = added[after]["regime"] == "copycat"
            row["addedOnFrozenBackbone"] = {"epochs": a.epochs, "lr": a.lr, "seed": a.seed, "kept": added[after]["regime"],
                                            "validation": added[after]["validation"]}
        else:
            row["copycat"] = old_exits[after].get("copycat", False)
        exits_meta.append(row)
        log(f"exit {e} after block {after} ({kind}): test {row['accuracy']['test']:.4f} T={row['temperature']:.3f}")

    training = dict(old_manifest["training"])
    training["addedExits"] = {
        "afterBlocks": sorted(a.after), "type": "mlp",
        "regime": f"frozen backbone; each head trained {a.epochs} epochs (AdamW, lr {a.lr}, cosine, batch 256) on the "
                  "class token after its block, with labels and as copycat of the backbone head; the better on "
                  "validation kept",
        "trainSeconds": round(train_seconds), "featureSeconds": round(t2 - t1), "threads": a.threads,
        "torch": torch.__version__}
    version = a.version
    if version is None:
        major, minor, _ = (old_manifest["model"]["version"].split(".") + ["0", "0"])[:3]
        version = f"{major}.{int(minor) + 1}.0"
    blocks_with_exits = ", ".join(f"{k.upper() if k == 'mlp' else k} after {b}" for b, k in m.exit_specs if k != "final")
    model_meta = dict(old_manifest["model"], version=version,
                      description=f"{depth}-block, {m.config['dim']}-wide pre-norm multi-exit ViT on Fashion-MNIST "
                                  f"(patch {m.config['patch']}); exits: {blocks_with_exits}, the backbone head after {depth}")
    meta = {"model": model_meta, "preprocessing": old_manifest["input"]["preprocessing"], "labels": old_manifest["labels"],
            "exits": exits_meta, "training": training}
    keep = os.path.join(a.pack, "encodings.json")
    encodings = open(keep).read() if os.path.exists(keep) else None
    shutil.rmtree(a.pack)
    manifest = export.export_pack(m, a.pack, meta, te_x[:4])
    if encodings is not None:
        log("note: encodings.json was written for the old exits; re-measure it: ./cleave eval --encodings")
    torch.save({"config": cfg, "state": m.state_dict(), "args": ck["args"], "train_seconds": ck["train_seconds"],
                "epochs_done": ck.get("epochs_done"), "history": ck.get("history"), "added_exits": training["addedExits"]},
               a.checkpoint)
    log(f"pack {manifest['model']['id']} {manifest['model']['version']} -> {a.pack} in {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
