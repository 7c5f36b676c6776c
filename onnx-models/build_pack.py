#!/usr/bin/python3
"""Build the default Cleave model pack from scratch, reproducibly (seeded).

Stages: (1) train end-to-end 10 epochs with ViT-layer exits after blocks 2, 4, 6 (lr 2e-3, final
exit weighted 2x); (2) 6 more end-to-end epochs (lr 1e-3, final weighted 3x) with the block-2 exit
replaced by a cheap MLP head, fresh; (3) copycat fine-tune of the early exits on the frozen
backbone, kept per exit only where it raises validation accuracy; per-exit temperature scaling on
the validation split; test-set accuracy; ONNX export with golden tensors.

    /usr/bin/python3 onnx-models/build_pack.py            # everything, ~60 min on 2 cores
    /usr/bin/python3 onnx-models/build_pack.py --skip-train  # re-export from the checkpoint
"""
import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from cleave_vit import calibrate, data, export, model as vit, train  # noqa: E402


def log(s):
    print(s, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", default=os.path.join(HERE, "checkpoints/fmnist-vit8.pt"))
    ap.add_argument("--out", default=os.path.join(HERE, "packs/fmnist-vit8"))
    ap.add_argument("--skip-train", action="store_true", help="reuse the existing checkpoint")
    ap.add_argument("--epochs", type=int, default=10, help="stage 1 epochs")
    ap.add_argument("--epochs2", type=int, default=6, help="stage 2 epochs")
    ap.add_argument("--copycat-epochs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--version", default="1.0.0")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    t0 = time.time()
    if not a.skip_train:
        stage1 = a.checkpoint.replace(".pt", "-stage1.pt")
        common = ["--threads", str(a.threads), "--seed", str(a.seed)]
        subprocess.run([sys.executable, os.path.join(HERE, "train_default.py"), "--out", stage1, "--epochs", str(a.epochs),
                        "--lr", "2e-3", "--final-weight", "2",
                        "--config", json.dumps({"exits": [[2, "vit"], [4, "vit"], [6, "vit"]]})] + common, check=True)
        subprocess.run([sys.executable, os.path.join(HERE, "train_default.py"), "--out", a.checkpoint, "--resume", stage1,
                        "--epochs", str(a.epochs2), "--lr", "1e-3", "--final-weight", "3"] + common, check=True)
    m, ck = vit.load_checkpoint(a.checkpoint)

    images, labels = data.load("train")
    (tr_x, tr_y), (va_x, va_y) = data.train_val_split(images, labels)
    tr_x, va_x = data.normalize(tr_x), data.normalize(va_x)
    te_img, te_y = data.load("test")
    te_x = data.normalize(te_img)

    val_before = train.exit_logits(m, va_x)
    copycat_kept = [False] * len(m.exit_specs)
    if a.copycat_epochs > 0:
        cc = copy.deepcopy(m)
        t1 = time.time()
        train.train_exits_frozen(cc, (tr_x, tr_y), a.copycat_epochs, lr=5e-4, copycat=True,
                                 seed=a.seed, log=log)
        val_cc = train.exit_logits(cc, va_x)
        for e in range(len(m.exit_specs) - 1):
            before, after = train.accuracy(val_before[e], va_y), train.accuracy(val_cc[e], va_y)
            log(f"copycat exit {e}: validation {before:.4f} -> {after:.4f}")
            if after > before:
                m.exits[e].load_state_dict(cc.exits[e].state_dict())
                copycat_kept[e] = True
        log(f"copycat stage {time.time() - t1:.0f}s")

    val = train.exit_logits(m, va_x)
    test = train.exit_logits(m, te_x)
    exits_meta = []
    for e, (after, kind) in enumerate(m.exit_specs):
        exits_meta.append(dict(calibrate.describe_exit(val[e], va_y, test[e], te_y), copycat=copycat_kept[e]))
        log(f"exit {e} after block {after} ({kind}): test {exits_meta[-1]['accuracy']['test']:.4f} "
            f"T={exits_meta[-1]['temperature']:.3f} ECE {exits_meta[-1]['ece']['validationBefore']:.4f} -> {exits_meta[-1]['ece']['validationAfter']:.4f}")

    meta = {
        "model": {"id": "fmnist-vit8", "version": a.version,
                  "description": "8-block, 64-wide pre-norm multi-exit ViT on Fashion-MNIST (patch 4); exits: MLP after "
                                 "block 2, ViT-layer after 4 and 6, the backbone head after 8"},
        "preprocessing": {"divide": 255.0, "mean": [data.MEAN], "std": [data.STD]},
        "labels": data.LABELS,
        "exits": exits_meta,
        "training": {"regime": "stage 1: end-to-end 10 epochs, ViT-layer exits at 2/4/6, lr 2e-3, final exit weighted 2x; "
                               "stage 2: end-to-end 6 epochs, MLP exit at 2 (fresh), lr 1e-3, final weighted 3x; "
                               "then copycat fine-tune of early exits (1 epoch, frozen backbone), kept per exit where "
                               "validation accuracy rose",
                     "stages": [{k: h.get(k) for k in ("epochs", "batch", "lr", "final_weight", "seed", "config")}
                                for h in ck.get("history", [ck["args"]])],
                     "copycatKept": copycat_kept,
                     "seed": ck["args"]["seed"], "trainSeconds": round(ck["train_seconds"]),
                     "threads": ck["args"]["threads"], "torch": torch.__version__,
                     "data": "Fashion-MNIST: 55000 train / 5000 validation (seeded split of the training set), "
                             "10000 test"},
    }
    if os.path.exists(a.out):
        shutil.rmtree(a.out)
    manifest = export.export_pack(m, a.out, meta, te_x[:4])
    torch.save({"config": ck["config"], "state": m.state_dict(), "args": ck["args"],
                "train_seconds": ck["train_seconds"], "epochs_done": ck.get("epochs_done")},
               a.checkpoint.replace(".pt", "-final.pt"))
    log(f"pack {manifest['model']['id']} {manifest['model']['version']} -> {a.out} "
        f"({sum(os.path.getsize(os.path.join(a.out, f)) for f in manifest['files']) / 1e6:.1f} MB) "
        f"in {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
