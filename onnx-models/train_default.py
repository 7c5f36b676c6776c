#!/usr/bin/python3
"""Train the default multi-exit ViT (stage 1 of build_pack.py); saves checkpoints/<id>.pt."""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cleave_vit import data, model as vit, train  # noqa: E402

DEFAULT = dict(image=28, patch=4, channels=1, dim=64, depth=8, heads=4, mlp_ratio=2.0, classes=10,
               exits=[[2, "vit"], [4, "vit"], [6, "vit"]])


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="checkpoints/fmnist-vit8.pt")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--final-weight", type=float, default=2.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--config", default=None, help="JSON geometry overriding the default")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    np.random.seed(a.seed)
    cfg = dict(DEFAULT, **(json.loads(a.config) if a.config else {}))
    images, labels = data.load("train")
    (tr_x, tr_y), _ = data.train_val_split(images, labels)
    m = vit.MultiExitViT(**cfg)
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    t0 = time.time()

    def save(epoch):
        torch.save({"config": cfg, "state": m.state_dict(), "epochs_done": epoch + 1,
                    "train_seconds": time.time() - t0, "args": vars(a)}, a.out)

    train.train_end_to_end(m, (data.normalize(tr_x), tr_y), a.epochs, a.batch, a.lr,
                           final_weight=a.final_weight, seed=a.seed,
                           log=lambda s: print(s, flush=True), checkpoint=save)
    print(f"trained in {time.time() - t0:.0f}s -> {a.out}", flush=True)


if __name__ == "__main__":
    main()
