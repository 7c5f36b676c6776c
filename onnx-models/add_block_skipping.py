#!/usr/bin/python3
"""Measure what skipping blocks costs, on validation and test, and record it in a pack's manifest.

A pre-norm ViT's blocks are residual (x + attn(x), then + mlp(x)), so a block can be left out: the
tokens go on unchanged and every later block and exit reads them as they were. Sreedhar et al.
(2024) found multi-exit ViTs resilient to such pruning without retraining. This records, for every
single block and every pair of neighbouring blocks, every exit's accuracy with those blocks skipped
(an exit after a skipped block reads the tokens of the last block run), on the 5,000-image
validation split and the 10k test set, under `blockSkipping.sets` in the manifest. The graphs do not
change (nothing is re-exported; the manifest is not checksummed).

    /usr/bin/python3 onnx-models/add_block_skipping.py      # the default pack: ~5 min here
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from cleave_vit import data, model as vit  # noqa: E402


def log(s):
    print(s, flush=True)


def skip_sets(depth):
    """Every single block, and every pair of neighbouring blocks."""
    return [[k] for k in range(1, depth + 1)] + [[k, k + 1] for k in range(1, depth)]


@torch.no_grad()
def accuracy(m, images, labels, skip, batch=1000):
    """Every exit's accuracy with the blocks in `skip` left out."""
    correct = np.zeros(len(m.exit_specs), dtype=np.int64)
    for i in range(0, len(images), batch):
        y = torch.from_numpy(labels[i:i + batch])
        t = m.stem(torch.from_numpy(images[i:i + batch]))
        e = 0
        for k, blk in enumerate(m.blocks, start=1):
            if k not in skip:
                t = blk(t)
            while e < len(m.exit_specs) and m.exit_specs[e][0] == k:
                correct[e] += int((m.exits[e](t).argmax(dim=1) == y).sum())
                e += 1
    return correct / len(labels)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", default=os.path.join(HERE, "checkpoints/fmnist-vit8-final.pt"))
    ap.add_argument("--pack", default=os.path.join(HERE, "packs/fmnist-vit8"))
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    t0 = time.time()
    m, _ = vit.load_checkpoint(a.checkpoint)
    path = os.path.join(a.pack, "manifest.json")
    man = json.load(open(path))
    tr_x, tr_y = data.load("train")
    _, (va_u8, va_y) = data.train_val_split(tr_x, tr_y)
    te_u8, te_y = data.load("test")
    va_x, te_x = data.normalize(va_u8), data.normalize(te_u8)
    sets = []
    for skip in skip_sets(len(m.blocks)):
        val = accuracy(m, va_x, va_y, skip)
        test = accuracy(m, te_x, te_y, skip)
        sets.append({"skip": skip, "exits": [{"index": e, "validation": round(float(val[e]), 4), "test": round(float(test[e]), 4)}
                                            for e in range(len(m.exit_specs)) if m.exit_specs[e][0] >= min(skip)]})
        log(f"skip {skip}: final exit val {val[-1]:.4f} test {test[-1]:.4f}")
    man["blockSkipping"] = {
        "sets": sets,
        "how": "every exit at or after the first skipped block, on the 5,000-image validation split and the 10k test set, "
               "the skipped blocks left out (add_block_skipping.py); exits before it are unchanged",
        "measuredSeconds": round(time.time() - t0), "threads": a.threads, "torch": torch.__version__}
    with open(path, "w") as f:
        json.dump(man, f, indent=2)
        f.write("\n")
    log(f"recorded {len(sets)} skip sets in {path} in {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
