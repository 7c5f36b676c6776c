#!/usr/bin/python3
"""Exit-architecture study: the seven Multi-Exit ViT branch types at several positions of the
trained default backbone (frozen), each trained with labels (cross-entropy) and with copycat
self-distillation (the exit mimics the backbone's final soft predictions). Reports validation
and test accuracy, parameters, FLOPs and measured PyTorch latency (batch 1, 1 thread).

    /usr/bin/python3 onnx-models/exit_study.py    # 6 min on 2 cores (measured); writes onnx-models/study/
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from cleave_vit import data, model as vit  # noqa: E402
from cleave_vit.timing import median_us  # noqa: E402


@torch.no_grad()
def cache_tokens(m, images, positions, batch=500):
    out = {p: [] for p in positions}
    final = []
    for i in range(0, len(images), batch):
        seq = m.tokens_after(torch.from_numpy(images[i:i + batch]))
        for p in positions:
            out[p].append(seq[p].clone())
        final.append(m.exits[-1](seq[-1]))
    return {p: torch.cat(v) for p, v in out.items()}, torch.cat(final)


def train_exit(head, tokens, labels, teacher, epochs, copycat, seed, batch=256, lr=2e-3):
    torch.manual_seed(seed)
    opt = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=0.05)
    n = len(tokens)
    steps = epochs * ((n + batch - 1) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)
    g = torch.Generator().manual_seed(seed)
    head.train()
    for _ in range(epochs):
        perm = torch.randperm(n, generator=g)
        for i in range(0, n, batch):
            j = perm[i:i + batch]
            logits = head(tokens[j])
            if copycat:
                loss = F.kl_div(F.log_softmax(logits, -1), F.softmax(teacher[j], -1), reduction="batchmean")
            else:
                loss = F.cross_entropy(logits, labels[j])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    head.eval()
    return head


@torch.no_grad()
def accuracy(head, tokens, labels):
    pred = torch.cat([head(tokens[i:i + 1000]).argmax(-1) for i in range(0, len(tokens), 1000)])
    return float((pred == labels).float().mean())


@torch.no_grad()
def latency_us(head, example):
    return median_us(head, example)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", default=os.path.join(HERE, "checkpoints/fmnist-vit8-final.pt"))
    ap.add_argument("--positions", default="2,4,6")
    ap.add_argument("--types", default=",".join(vit.EXIT_TYPES))
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=os.path.join(HERE, "study"))
    ap.add_argument("--limit", type=int, default=10000, help="train each exit on the first N training images (0: all 55k)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    m, ck = vit.load_checkpoint(a.checkpoint)
    positions = [int(p) for p in a.positions.split(",")]
    images, labels = data.load("train")
    (tr_x, tr_y), (va_x, va_y) = data.train_val_split(images, labels)
    if a.limit:
        tr_x, tr_y = tr_x[:a.limit], tr_y[:a.limit]
    te_x, te_y = data.load("test")
    t0 = time.time()
    tr_tok, tr_teacher = cache_tokens(m, data.normalize(tr_x), positions)
    va_tok, _ = cache_tokens(m, data.normalize(va_x), positions)
    te_tok, te_final = cache_tokens(m, data.normalize(te_x), positions)
    tr_y, va_y, te_y = torch.from_numpy(tr_y), torch.from_numpy(va_y), torch.from_numpy(te_y)
    final_test = float((te_final.argmax(-1) == te_y).float().mean())
    print(f"cached tokens in {time.time() - t0:.0f}s; backbone final exit test accuracy {final_test:.4f}", flush=True)
    rows = []
    torch.set_num_threads(1)
    example = te_tok[positions[0]][:1]
    lat = {}
    for kind in a.types.split(","):
        head = vit.make_exit(kind, m.config["dim"], m.tokens, m.config["classes"], m.stem.grid).eval()
        lat[kind] = (latency_us(head, example), vit.count_params(head), vit.count_flops(head, example))
    torch.set_num_threads(a.threads)
    for pos in positions:
        for kind in a.types.split(","):
            for copycat in (False, True):
                t1 = time.time()
                head = vit.make_exit(kind, m.config["dim"], m.tokens, m.config["classes"], m.stem.grid)
                train_exit(head, tr_tok[pos], tr_y, tr_teacher, a.epochs, copycat, seed=pos)
                row = {"position": pos, "type": kind, "copycat": copycat,
                       "val_accuracy": accuracy(head, va_tok[pos], va_y),
                       "test_accuracy": accuracy(head, te_tok[pos], te_y),
                       "params": lat[kind][1], "flops": lat[kind][2], "latency_us_b1_1thread": lat[kind][0],
                       "train_seconds": round(time.time() - t1, 1)}
                rows.append(row)
                print(json.dumps(row), flush=True)
    os.makedirs(a.out, exist_ok=True)
    result = {"backbone": ck["config"], "backbone_final_test_accuracy": final_test, "epochs_per_exit": a.epochs,
              "regime": "exits trained on the frozen default backbone (cached tokens); copycat = KL to the final exit's "
                        "softmax on the training images", "torch": torch.__version__, "rows": rows}
    with open(os.path.join(a.out, "exit_study.json"), "w") as f:
        json.dump(result, f, indent=2)
    with open(os.path.join(a.out, "exit_study.md"), "w") as f:
        f.write(markdown(result))
    print(f"study done in {time.time() - t0:.0f}s -> {a.out}", flush=True)


def markdown(r):
    lines = [f"Backbone: {r['backbone']['depth']} blocks, dim {r['backbone']['dim']}, patch {r['backbone']['patch']}; "
             f"its final exit: {100 * r['backbone_final_test_accuracy']:.2f}% test. Each exit trained "
             f"{r['epochs_per_exit']} epochs on the frozen backbone.", "",
             "| position | type | params | MFLOPs | latency us (b1, 1 thr) | test acc (labels) | test acc (copycat) | copycat gain (pp) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    by = {}
    for row in r["rows"]:
        by.setdefault((row["position"], row["type"]), {})[row["copycat"]] = row
    for (pos, kind), d in by.items():
        ce, cc = d.get(False), d.get(True)
        lines.append(f"| {pos} | {kind} | {ce['params']} | {ce['flops'] / 1e6:.2f} | {ce['latency_us_b1_1thread']:.0f} | "
                     f"{100 * ce['test_accuracy']:.2f} | {100 * cc['test_accuracy']:.2f} | "
                     f"{100 * (cc['test_accuracy'] - ce['test_accuracy']):+.2f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
