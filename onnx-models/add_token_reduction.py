#!/usr/bin/python3
"""Make a trained pack reducible and measure what token reduction costs, on validation and test.

Re-exports the pack from its checkpoint with the token axis dynamic (blocks, and the exits that read
tokens as a set), adds a probe graph per block from the second on (cleave_vit.reduce.Probe), and
records under `tokenReduction.costs`, for every split (tokens after block 1 .. depth-1), method
(`attention`, `merge`) and keep ratio: the tokens that cross, their bytes per wire encoding, the
cloud's FLOPs per sample, and every cloud exit's accuracy on the validation split and the test set.
The weights, golden tensors and every other recorded number are unchanged; golden tensors of the
probe and of reduced tokens are added for the Java side's parity tests.

    /usr/bin/python3 onnx-models/add_token_reduction.py      # the default pack: ~3 min here
"""
import argparse
import json
import os
import shutil
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from cleave_vit import data, export, model as vit, reduce  # noqa: E402

KEEPS = export.REDUCTION_KEEPS
STRUCTURAL = ("index", "afterBlock", "type", "file", "input", "output", "params", "flops", "reducedTokens")


def log(s):
    print(s, flush=True)


@torch.no_grad()
def cloud_accuracy(m, images, labels, split, prefix, batch=1000):
    """{(method, keep): [correct per cloud exit]} and the cloud exits, for the tokens after `split`."""
    cloud = [e for e, (after, _) in enumerate(m.exit_specs) if after > split]
    probe = reduce.Probe(m.blocks[split], prefix).eval()
    correct = {(me, k): np.zeros(len(cloud), dtype=np.int64) for me in reduce.METHODS for k in KEEPS}
    counts = {}
    for i in range(0, len(images), batch):
        y = torch.from_numpy(labels[i:i + batch])
        t = m.stem(torch.from_numpy(images[i:i + batch]))
        for blk in m.blocks[:split]:
            t = blk(t)
        scores, keys = probe(t)
        for me in reduce.METHODS:
            for k in KEEPS:
                z = reduce.reduce(me, t, scores, keys, prefix, k)
                counts[(me, k)] = z.shape[1]
                at = split
                for j, e in enumerate(cloud):
                    after = m.exit_specs[e][0]
                    for blk in m.blocks[at:after]:
                        z = blk(z)
                    at = after
                    correct[(me, k)][j] += int((m.exits[e](z).argmax(dim=1) == y).sum())
    return cloud, correct, counts


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", default=os.path.join(HERE, "checkpoints/fmnist-vit8-final.pt"))
    ap.add_argument("--pack", default=os.path.join(HERE, "packs/fmnist-vit8"))
    ap.add_argument("--version", help="the new pack version (default: minor + 1)")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    t0 = time.time()
    m, ck = vit.load_checkpoint(a.checkpoint)
    old = json.load(open(os.path.join(a.pack, "manifest.json")))
    for kind in {k for _, k in m.exit_specs} - set(export.TOKEN_SET_EXITS):
        log(f"note: {kind} exits need every token; they are marked unavailable after a reduction")
    tr_x, tr_y = data.load("train")
    _, (va_u8, va_y) = data.train_val_split(tr_x, tr_y)
    te_u8, te_y = data.load("test")
    va_x, te_x = data.normalize(va_u8), data.normalize(te_u8)
    prefix = m.tokens - m.stem.grid * m.stem.grid
    results = {}
    for split in range(1, len(m.blocks)):
        cloud, val, counts = cloud_accuracy(m, va_x, va_y, split, prefix)
        _, test, _ = cloud_accuracy(m, te_x, te_y, split, prefix)
        for me in reduce.METHODS:
            for k in KEEPS:
                results[(split, me, k)] = [{"index": e, "validation": round(val[(me, k)][j] / len(va_y), 4),
                                            "test": round(test[(me, k)][j] / len(te_y), 4)} for j, e in enumerate(cloud)]
                final = results[(split, me, k)][-1]
                log(f"split {split} {me:9s} keep {k:.2f}: {counts[(me, k)]:2d} tokens, final exit val {final['validation']:.4f} "
                    f"test {final['test']:.4f}")
    costs = export.reduction_costs(m, lambda split, me, k: results[(split, me, k)])
    measured = round(time.time() - t0)

    version = a.version
    if version is None:
        major, minor, _ = (old["model"]["version"].split(".") + ["0", "0"])[:3]
        version = f"{major}.{int(minor) + 1}.0"
    exits_meta = [{k: v for k, v in e.items() if k not in STRUCTURAL} for e in old["exits"]]
    training = dict(old["training"])
    training["tokenReduction"] = {
        "measuredSeconds": measured, "threads": a.threads, "torch": torch.__version__,
        "how": "the checkpoint's weights unchanged; every cloud exit's accuracy on the 5,000-image validation split "
               "and the 10k test set with the tokens after each split reduced (cleave_vit/reduce.py)"}
    meta = {"model": dict(old["model"], version=version), "preprocessing": old["input"]["preprocessing"],
            "labels": old["labels"], "exits": exits_meta, "training": training,
            "tokenReduction": {"costs": costs}}

    with torch.no_grad():  # golden tensors for the Java side: probe outputs and reduced tokens
        g = torch.from_numpy(te_x[:4])
        seq = m.tokens_after(g)
        extra = {}
        for split, keeps in ((2, (0.5,)), (5, (0.25,))):
            scores, keys = reduce.Probe(m.blocks[split], prefix).eval()(seq[split])
            extra[f"probe_{split + 1:02d}_cls_attention"] = scores
            extra[f"probe_{split + 1:02d}_keys"] = keys
            for me in reduce.METHODS:
                for k in keeps:
                    extra[f"reduced_{me}_b{split:02d}_k{k:.2f}"] = reduce.reduce(me, seq[split], scores, keys, prefix, k)

    keep = os.path.join(a.pack, "encodings.json")
    encodings = open(keep).read() if os.path.exists(keep) else None
    shutil.rmtree(a.pack)
    manifest = export.export_pack(m, a.pack, meta, te_x[:4], extra_golden=extra, reducible=True)
    if encodings is not None:  # the same function of the same weights: its measurements stand
        with open(keep, "w") as f:
            f.write(encodings)
    log(f"pack {manifest['model']['id']} {manifest['model']['version']} -> {a.pack} in {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
