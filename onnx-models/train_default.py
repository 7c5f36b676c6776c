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
               exits=[[2, "mlp"], [4, "vit"], [6, "vit"]])


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
    ap.add_argument("--resume", default=None, help="continue from this checkpoint (exit heads whose type changed start fresh)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    np.random.seed(a.seed)
    cfg = dict(DEFAULT, **(json.loads(a.config) if a.config else {}))
    images, labels = data.load("train")
    (tr_x, tr_y), _ = data.train_val_split(images, labels)
    m = vit.MultiExitViT(**cfg)
    prior = 0.0
    history = []
    if a.resume:
        ck = torch.load(a.resume)
        own = m.state_dict()
        kept = {k: v for k, v in ck["state"].items() if k in own and own[k].shape == v.shape
                and not _exit_changed(k, ck["config"], cfg)}
        m.load_state_dict(kept, strict=False)
        prior = ck.get("train_seconds", 0.0)
        history = ck.get("history", [dict(ck["args"], epochs_done=ck.get("epochs_done"))])
        print(f"resumed {a.resume}: kept {len(kept)}/{len(own)} tensors", flush=True)
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    t0 = time.time() - prior

    def save(epoch):
        torch.save({"config": cfg, "state": m.state_dict(), "epochs_done": epoch + 1,
                    "train_seconds": time.time() - t0, "args": vars(a),
                    "history": history + [dict(vars(a), epochs_done=epoch + 1)]}, a.out)

    train.train_end_to_end(m, (data.normalize(tr_x), tr_y), a.epochs, a.batch, a.lr,
                           final_weight=a.final_weight, seed=a.seed,
                           log=lambda s: print(s, flush=True), checkpoint=save)
    print(f"trained in {time.time() - t0:.0f}s -> {a.out}", flush=True)


def _exit_changed(key, old_cfg, new_cfg):
    """True for parameters of an exit head whose type differs between the two configs."""
    if not key.startswith("exits."):
        return False
    e = int(key.split(".")[1])
    old = [tuple(x) for x in old_cfg["exits"]] + [(old_cfg["depth"], "final")]
    new = [tuple(x) for x in new_cfg["exits"]] + [(new_cfg["depth"], "final")]
    return e >= len(old) or e >= len(new) or old[e] != new[e]


if __name__ == "__main__":
    main()
