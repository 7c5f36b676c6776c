#!/usr/bin/python3
"""PyTorch side of `./cleave bench engine`: median latency of each segment (stem, every block, every
exit) at the given batch sizes and thread count, eager mode under torch.no_grad(). Prints JSON.

The model is the pack's own (cleave_vit/pack_model.py): a version-1 pack's training checkpoint
(--checkpoint), or a version-2 pack (--pack) rebuilt from its manifest and checked against its
golden tensors before timing."""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cleave_vit import pack_model  # noqa: E402
from cleave_vit.timing import median_us  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pack", help="pack folder (version 2: rebuilt from its manifest)")
    ap.add_argument("--checkpoint", help="training checkpoint of a version-1 pack")
    ap.add_argument("--source-weights", help="the torchvision/timm file a version-2 pack was imported from")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--iters", type=int, default=200)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    m, note = pack_model.load(a.pack, a.checkpoint, a.source_weights)
    cfg = m.config
    rows = []
    with torch.no_grad():
        for b in [int(s) for s in a.batches.split(",")]:
            img = torch.randn(b, cfg["channels"], cfg["image"], cfg["image"])
            tok = m.stem(img)
            rows.append({"segment": "stem", "batch": b, "us": median_us(m.stem, img, a.warmup, a.iters)})
            for i, blk in enumerate(m.blocks):
                rows.append({"segment": f"block {i + 1}", "batch": b, "us": median_us(blk, tok, a.warmup, a.iters)})
            for e, head in enumerate(m.exits):
                rows.append({"segment": f"exit {e}", "batch": b, "us": median_us(head, tok, a.warmup, a.iters)})
    print(json.dumps({"torch": torch.__version__, "threads": a.threads, "model": note, "rows": rows}))


if __name__ == "__main__":
    main()
