"""Train an imported ViT's added exits on its frozen backbone, from a folder of the user's images.

The folder has torchvision's ImageFolder layout: one sub-folder of images per class; the sorted
folder names are the classes, folder i being the model's class i. Every image goes through the
pack's own eval transform (resize the shorter side, centre crop, normalise: torchvision on PIL,
exactly what the manifest records and the Java side reproduces). There is no train-time
augmentation: the backbone is frozen, so its tokens at each exit's block are computed once per
image and cached (the class token only for an MLP exit, which reads nothing else), and the heads
then train on the cache for any number of epochs at little cost. This is add_exits.py's approach
for the default pack, applied to an imported model and the user's own images.

Regimes: `labels` (cross-entropy on the folder's classes), `copycat` (KL to the backbone head's
own softmax, self-distillation), `best` (both, and the better on validation is kept per exit).
The learning rate is constant (AdamW) so that a run can be extended: `--epochs 1` then
`--epochs 2` on the same `--checkpoint` equals a straight `--epochs 2`; each epoch's batch order
comes from (seed, epoch) alone, so nothing but heads and optimiser states needs saving.
"""
import copy
import hashlib
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from . import calibrate, train

REGIMES = ("labels", "copycat", "best")
# option defaults (import_vit.py's --regime, --epochs, ...): small heads on cached tokens, a user's folder
# of hundreds to thousands of images
DEFAULTS = {"regime": "best", "epochs": 10, "batch_size": 64, "lr": 1e-3, "val_fraction": 0.2, "device": "cpu"}
CHECKPOINT_FORMAT = 1


class UsageError(ValueError):
    """Bad input the user can fix; the message names the option and what is allowed."""


class Progress:
    """A small progress bar on stderr. tqdm would do this, but it is not installed here and there
    is no PyPI to get it from. On a terminal it redraws one line at most ten times a second;
    otherwise (a log, a test) it writes only the finished line."""

    def __init__(self, total, desc, stream=None, width=28):
        self.total, self.desc, self.width = max(1, total), desc, width
        self.stream = stream or sys.stderr
        self.live = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.n, self.t0, self.shown = 0, time.time(), 0.0

    def update(self, n=1):
        self.n += n
        now = time.time()
        if self.live and (now - self.shown >= 0.1 or self.n >= self.total):
            self.shown = now
            self._draw("\r")

    def close(self, note=""):
        self._draw("\r" if self.live else "", note)
        self.stream.write("\n")
        self.stream.flush()

    def _draw(self, lead, note=""):
        done = min(self.n, self.total)
        fill = int(self.width * done / self.total)
        spent = time.time() - self.t0
        eta = spent / done * (self.total - done) if done else 0.0
        tail = f" {spent:.1f}s" + (f" eta {eta:.0f}s" if done < self.total else "") + (f" {note}" if note else "")
        self.stream.write(f"{lead}{self.desc} [{'#' * fill}{'.' * (self.width - fill)}] {done}/{self.total}{tail}")
        self.stream.flush()


def eval_transform(prep, channels):
    """torchvision's eval transform on a PIL image, as the manifest's preprocessing describes it."""
    from torchvision import transforms as T
    mode = {"bilinear": T.InterpolationMode.BILINEAR, "bicubic": T.InterpolationMode.BICUBIC}[prep["interpolation"]]
    return T.Compose([T.Resize(prep["resize"], interpolation=mode), T.CenterCrop(prep["crop"]), T.ToTensor(),
                      T.Normalize(prep["mean"], prep["std"])])


def pil_mode(channels):
    return "RGB" if channels == 3 else "L"


def image_folder(path, option, channels, prep=None):
    """An ImageFolder of `path` whose images are read as the pack's colour mode; UsageError naming
    `option` when the folder is missing, has fewer than two classes or an empty class."""
    from PIL import Image
    from torchvision.datasets import ImageFolder
    if not os.path.isdir(path):
        raise UsageError(f"{option} {path}: no such directory")

    def load(p):
        with open(p, "rb") as f:
            return Image.open(f).convert(pil_mode(channels))

    try:
        ds = ImageFolder(path, transform=eval_transform(prep, channels) if prep else None, loader=load)
    except FileNotFoundError as e:
        msg = str(e)
        if "class folder" in msg:
            raise UsageError(f"{option} {path}: no class sub-folders (expected one sub-folder of images per class)")
        if "no valid file for the classes" in msg:
            empty = msg.split("classes ", 1)[1].split(". ", 1)[0]
            raise UsageError(f"{option} {path}: no images in class folder(s) {empty} (JPEG, PNG, ... files expected)")
        raise UsageError(f"{option} {path}: {msg}")
    if len(ds.classes) < 2:
        raise UsageError(f"{option} {path}: found {len(ds.classes)} class folder ({', '.join(ds.classes)}); "
                         "a classifier needs at least 2")
    return ds


def folder_fingerprint(ds):
    """sha256 over the images' relative paths, sizes and classes: a checkpoint belongs to one set of images."""
    h = hashlib.sha256()
    for p, c in ds.samples:
        h.update(f"{os.path.relpath(p, ds.root)}\0{os.path.getsize(p)}\0{c}\n".encode())
    return h.hexdigest()


def split(targets, val_fraction, seed):
    """Seeded, stratified: about val_fraction of each class goes to validation (at least one image of a
    class with two or more). Returns sorted (train, validation) index lists."""
    targets = np.asarray(targets)
    rng = np.random.default_rng(seed)
    val = []
    for c in np.unique(targets):
        idx = np.flatnonzero(targets == c)
        idx = idx[rng.permutation(len(idx))]
        k = int(round(val_fraction * len(idx)))
        k = min(max(k, 1), len(idx) - 1) if len(idx) >= 2 else 0
        val.extend(int(i) for i in idx[:k])
    val = sorted(val)
    chosen = set(val)
    return [i for i in range(len(targets)) if i not in chosen], val


def cached_blocks(m, exit_ids):
    """block -> whether the full token sequence is needed there (False: the class token is enough)."""
    need = {}
    for e in exit_ids:
        b, kind = m.exit_specs[e]
        need[b] = need.get(b, False) or kind != "mlp"
    return need


@torch.no_grad()
def features(m, ds, indices, need, batch, device, desc):
    """Runs the frozen backbone once over ds[indices]: the tokens at each block in `need` (on the CPU)
    and the model's own head's logits."""
    feats = {b: [] for b in need}
    final = []
    bar = Progress(len(indices), desc)
    for i in range(0, len(indices), batch):
        chunk = indices[i:i + batch]
        try:
            x = torch.stack([ds[j][0] for j in chunk]).to(device)
        except Exception as e:  # noqa: BLE001 - PIL raises several types for a bad image
            bad = next((ds.samples[j][0] for j in chunk if not _readable(ds, j)), None)
            raise UsageError(f"cannot read image {bad or 'in ' + ds.root}: {type(e).__name__}: {e}")
        seq = m.tokens_after(x)
        for b, full in need.items():
            feats[b].append((seq[b] if full else seq[b][:, :1]).cpu())
        final.append(m.exits[-1](seq[-1]).cpu())
        bar.update(len(chunk))
    bar.close()
    return {b: torch.cat(v) for b, v in feats.items()}, torch.cat(final)


def _readable(ds, j):
    try:
        ds[j]
        return True
    except Exception:  # noqa: BLE001
        return False


class Trainer:
    """One head per (exit, regime), each with its own AdamW, trained on cached tokens; saved after
    every epoch so that a rerun of the same command resumes."""

    def __init__(self, m, exit_ids, regimes, lr, batch, seed, device, weight_decay=0.05):
        self.m, self.exit_ids, self.regimes = m, exit_ids, regimes
        self.lr, self.batch, self.seed, self.device = lr, batch, seed, device
        self.heads = {(e, r): copy.deepcopy(m.exits[e]).to(device) for e in exit_ids for r in regimes}
        self.opts = {k: torch.optim.AdamW(h.parameters(), lr=lr, weight_decay=weight_decay)
                     for k, h in self.heads.items()}
        self.epoch = 0
        self.losses = []

    def state(self, fingerprint, split_idx):
        """Tensors as tensors, everything else as one JSON string: torch 1.13's weights_only loader (used
        to read it back, so that loading a checkpoint runs no code) refuses pickled floats."""
        meta = {"format": CHECKPOINT_FORMAT, "fingerprint": fingerprint, "epoch": self.epoch,
                "split": {"train": list(split_idx[0]), "validation": list(split_idx[1])}, "losses": self.losses,
                "paramGroups": {f"{e}:{r}": o.state_dict()["param_groups"] for (e, r), o in self.opts.items()}}
        return {"meta": json.dumps(meta),
                "heads": {f"{e}:{r}": {k: v.cpu() for k, v in h.state_dict().items()} for (e, r), h in self.heads.items()},
                "optimizers": {f"{e}:{r}": o.state_dict()["state"] for (e, r), o in self.opts.items()}}

    def load(self, meta, tensors):
        for (e, r), h in self.heads.items():
            key = f"{e}:{r}"
            h.load_state_dict(tensors["heads"][key])
            groups = [dict(g, betas=tuple(g["betas"])) for g in meta["paramGroups"][key]]
            self.opts[(e, r)].load_state_dict({"state": tensors["optimizers"][key], "param_groups": groups})
        self.epoch, self.losses = meta["epoch"], list(meta["losses"])

    def run_epoch(self, feats, labels, teacher):
        n = len(labels)
        order = np.random.default_rng([self.seed, self.epoch]).permutation(n)
        chunks = [order[i:i + self.batch] for i in range(0, n, self.batch)]
        bar = Progress(len(chunks), f"epoch {self.epoch + 1}")
        total = {k: 0.0 for k in self.heads}
        for h in self.heads.values():
            h.train()
        for j in chunks:
            jt = torch.from_numpy(j)
            y = labels[jt].to(self.device)
            soft = teacher[jt].to(self.device)
            for (e, r), h in self.heads.items():
                logits = h(feats[self.m.exit_specs[e][0]][jt].to(self.device))
                if r == "labels":
                    loss = F.cross_entropy(logits, y)
                else:
                    loss = F.kl_div(F.log_softmax(logits, -1), soft, reduction="batchmean")
                self.opts[(e, r)].zero_grad()
                loss.backward()
                self.opts[(e, r)].step()
                total[(e, r)] += float(loss) * len(j)
            bar.update()
        for h in self.heads.values():
            h.eval()
        self.epoch += 1
        self.losses.append({f"{e}:{r}": round(v / n, 5) for (e, r), v in total.items()})
        bar.close(" ".join(f"{e}:{r} {v / n:.3f}" for (e, r), v in total.items()))

    @torch.no_grad()
    def logits(self, key, feats, batch=512):
        h = self.heads[key]
        x = feats[self.m.exit_specs[key[0]][0]]
        return torch.cat([h(x[i:i + batch].to(self.device)).cpu() for i in range(0, len(x), batch)])


def save_atomically(state, path):
    tmp = path + ".tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)


def train_exits(m, opts, prep, channels, fingerprint_extra, log):
    """Trains m's added exits in place. opts: train_images, test_images, regime, epochs, batch_size, lr,
    val_fraction, seed, device, checkpoint. Returns (per-exit manifest rows, training record, labels)."""
    t0 = time.time()
    classes = m.config["classes"]
    exit_ids = list(range(len(m.exit_specs) - 1))
    if not exit_ids:
        raise UsageError("--train-images: the model has no added exits to train; add some with --exits, e.g. 4:mlp")
    ds = image_folder(opts.train_images, "--train-images", channels, prep)
    if len(ds.classes) != classes:
        raise UsageError(f"--train-images {opts.train_images}: {len(ds.classes)} class folders for a model with "
                         f"{classes} classes (sorted folder i is the model's class i)")
    test = None
    if opts.test_images:
        test = image_folder(opts.test_images, "--test-images", channels, prep)
        if test.classes != ds.classes:
            raise UsageError(f"--test-images {opts.test_images}: class folders {test.classes} differ from "
                             f"--train-images' {ds.classes}")
    targets = torch.tensor(ds.targets)
    split_idx = split(ds.targets, opts.val_fraction, opts.seed)
    if not split_idx[1]:
        raise UsageError(f"--val-fraction {opts.val_fraction}: leaves no validation images; every class needs at "
                         "least 2 images")
    regimes = ["labels", "copycat"] if opts.regime == "best" else [opts.regime]
    fingerprint = dict(fingerprint_extra, images=folder_fingerprint(ds), classes=ds.classes,
                       valFraction=opts.val_fraction, seed=opts.seed, regime=opts.regime, batchSize=opts.batch_size,
                       lr=opts.lr, exits=[list(s) for s in m.exit_specs])
    trainer = Trainer(m, exit_ids, regimes, opts.lr, opts.batch_size, opts.seed, opts.device)
    resumed = 0
    if opts.checkpoint and os.path.exists(opts.checkpoint):
        try:
            st = torch.load(opts.checkpoint, map_location=opts.device, weights_only=True)
            meta = json.loads(st["meta"])
        except Exception as e:  # noqa: BLE001
            raise UsageError(f"--checkpoint {opts.checkpoint}: unreadable ({type(e).__name__}); delete it to start over")
        if meta.get("format") != CHECKPOINT_FORMAT or meta.get("fingerprint") != fingerprint:
            old = meta.get("fingerprint") or {}
            diff = sorted(k for k in set(old) | set(fingerprint) if old.get(k) != fingerprint.get(k))
            raise UsageError(f"--checkpoint {opts.checkpoint}: written for another run (differs in: "
                             f"{', '.join(diff) or 'format'}); delete it or name another file")
        if meta["epoch"] > opts.epochs:
            raise UsageError(f"--epochs {opts.epochs}: the checkpoint already holds {meta['epoch']} epochs; ask for "
                             f"at least {meta['epoch']}")
        if [meta["split"]["train"], meta["split"]["validation"]] != [list(s) for s in split_idx]:
            raise UsageError(f"--checkpoint {opts.checkpoint}: its train/validation split differs from this run's")
        trainer.load(meta, st)
        resumed = trainer.epoch
        log(f"resuming from {opts.checkpoint}: {resumed} of {opts.epochs} epochs done")

    need = cached_blocks(m, exit_ids)
    m.to(opts.device)
    tr_idx, va_idx = split_idx
    t1 = time.time()
    tr_f, tr_final = features(m, ds, tr_idx, need, opts.batch_size, opts.device, "backbone (train)")
    va_f, va_final = features(m, ds, va_idx, need, opts.batch_size, opts.device, "backbone (validation)")
    te_f = te_final = None
    if test is not None:
        te_f, te_final = features(m, test, list(range(len(test))), need, opts.batch_size, opts.device,
                                  "backbone (test)")
    feature_seconds = time.time() - t1
    cache_mb = sum(t.numel() * 4 for f in (tr_f, va_f, te_f or {}) for t in f.values()) / 1e6
    log(f"frozen backbone over {len(ds) + (len(test) if test else 0)} images in {feature_seconds:.1f}s; "
        f"cached tokens {cache_mb:.1f} MB")
    y_tr, y_va = targets[tr_idx], targets[va_idx]
    teacher = F.softmax(tr_final, -1)

    t2 = time.time()
    while trainer.epoch < opts.epochs:
        trainer.run_epoch(tr_f, y_tr, teacher)
        if opts.checkpoint:
            save_atomically(trainer.state(fingerprint, split_idx), opts.checkpoint)
    train_seconds = time.time() - t2
    m.to("cpu")

    y_va_np, y_te_np = y_va.numpy(), (np.asarray(test.targets) if test is not None else None)
    rows, chosen = [], {}
    for e in exit_ids:
        trials = {r: train.accuracy(trainer.logits((e, r), va_f).numpy(), y_va_np) for r in regimes}
        best = max(regimes, key=lambda r: trials[r])  # ties: labels, listed first
        chosen[e] = best
        m.exits[e].load_state_dict({k: v.cpu() for k, v in trainer.heads[(e, best)].state_dict().items()})
        va = trainer.logits((e, best), va_f).numpy()
        te = trainer.logits((e, best), te_f).numpy() if te_f is not None else None
        row = calibrate.describe_exit(va, y_va_np, te, y_te_np)
        row.update(trained=True, copycat=best == "copycat",
                   training={"regime": best, "validation": {r: round(a, 4) for r, a in trials.items()}})
        rows.append(row)
        log(f"exit {e} after block {m.exit_specs[e][0]} ({m.exit_specs[e][1]}): "
            + ", ".join(f"{r} {a:.4f}" for r, a in trials.items()) + f" on validation; kept {best}, "
            f"T={row['temperature']:.3f}, ECE {row['ece']['validationBefore']:.3f} -> {row['ece']['validationAfter']:.3f}")
    final = calibrate.describe_exit(va_final.numpy(), y_va_np, te_final.numpy() if te_final is not None else None,
                                    y_te_np)
    rows.append(final)
    log(f"the model's own head on the same validation images: accuracy {final['accuracy']['validation']:.4f}, "
        f"T={final['temperature']:.3f}")
    record = {
        "images": {"folder": os.path.basename(os.path.normpath(opts.train_images)), "classes": ds.classes,
                   "train": len(tr_idx), "validation": len(va_idx), "test": len(test) if test is not None else None,
                   "testFolder": os.path.basename(os.path.normpath(opts.test_images)) if test is not None else None,
                   "sha256": fingerprint["images"]},
        "regime": opts.regime, "chosen": {str(e): chosen[e] for e in exit_ids},
        "method": "frozen backbone; tokens at each exit's block cached once (the pack's eval transform, no "
                  "augmentation); AdamW, constant lr, weight decay 0.05; labels: cross-entropy, copycat: KL to the "
                  "backbone head's softmax; temperature, ECE and thresholds fitted on the validation split",
        "epochs": opts.epochs, "batchSize": opts.batch_size, "lr": opts.lr, "valFraction": opts.val_fraction,
        "seed": opts.seed, "device": str(opts.device), "threads": torch.get_num_threads(),
        "featureSeconds": round(feature_seconds, 1), "trainSeconds": round(train_seconds, 1),
        "seconds": round(time.time() - t0, 1), "resumedAfterEpoch": resumed or None,
        "loss": trainer.losses[-1] if trainer.losses else None,
    }
    return rows, record, ds.classes

