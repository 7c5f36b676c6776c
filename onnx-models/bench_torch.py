#!/usr/bin/python3
"""PyTorch side of `./cleave bench`: median latency of each segment (stem, every block, every exit)
at the given batch sizes and thread count, eager mode under torch.no_grad(). Prints JSON."""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cleave_vit import model as vit  # noqa: E402
from cleave_vit.timing import median_us  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--iters", type=int, default=200)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    m, ck = vit.load_checkpoint(a.checkpoint)
    cfg = ck["config"]
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
    print(json.dumps({"torch": torch.__version__, "threads": a.threads, "rows": rows}))


if __name__ == "__main__":
    main()
