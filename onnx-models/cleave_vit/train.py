"""Training regimes: end-to-end, exits on a frozen backbone, and copycat self-distillation."""
import math
import time

import numpy as np
import torch
import torch.nn.functional as F


def batches(images, labels, batch, rng=None):
    idx = rng.permutation(len(images)) if rng is not None else np.arange(len(images))
    for i in range(0, len(idx), batch):
        j = idx[i:i + batch]
        yield torch.from_numpy(images[j]), torch.from_numpy(labels[j])


def cosine_lr(step, total, base, warmup):
    if step < warmup:
        return base * (step + 1) / warmup
    return 0.5 * base * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))


def exit_weights(n, final_weight):
    """Early exits weigh 1, the final exit weighs final_weight (> 1: 'final weighted higher')."""
    return [1.0] * (n - 1) + [final_weight]


def train_end_to_end(model, train, epochs, batch=256, lr=2e-3, wd=0.05, final_weight=2.0,
                     seed=0, log=print, checkpoint=None):
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=wd)
    w = exit_weights(len(model.exit_specs), final_weight)
    return _loop(model, opt, train, epochs, batch, lr, seed, log, checkpoint,
                 lambda x, y: sum(wi * F.cross_entropy(o, y) for wi, o in zip(w, model(x))))


def train_exits_frozen(model, train, epochs, batch=256, lr=2e-3, wd=0.05, copycat=False,
                       teacher_temp=1.0, seed=0, log=print, exit_ids=None):
    """Train exit branches with the backbone (stem, blocks, final head) frozen.

    copycat: the exits learn the backbone's own final soft predictions (self-distillation)
    instead of the labels."""
    exit_ids = list(range(len(model.exit_specs) - 1)) if exit_ids is None else exit_ids
    for p in model.parameters():
        p.requires_grad_(False)
    params = [p for e in exit_ids for p in model.exits[e].parameters()]
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=wd)
    positions = [model.exit_specs[e][0] for e in exit_ids]

    def loss_fn(x, y):
        with torch.no_grad():
            seq = model.tokens_after(x)
            target = F.softmax(model.exits[-1](seq[-1]) / teacher_temp, dim=-1) if copycat else None
        loss = 0.0
        for e, pos in zip(exit_ids, positions):
            logits = model.exits[e](seq[pos])
            if copycat:
                loss = loss + F.kl_div(F.log_softmax(logits / teacher_temp, -1), target,
                                       reduction="batchmean") * teacher_temp ** 2
            else:
                loss = loss + F.cross_entropy(logits, y)
        return loss

    model.train()
    try:
        return _loop(model, opt, train, epochs, batch, lr, seed, log, None, loss_fn)
    finally:
        for p in model.parameters():
            p.requires_grad_(True)


def _loop(model, opt, train, epochs, batch, lr, seed, log, checkpoint, loss_fn):
    images, labels = train
    rng = np.random.default_rng(seed)
    steps_per_epoch = math.ceil(len(images) / batch)
    total, step = epochs * steps_per_epoch, 0
    for epoch in range(epochs):
        model.train()
        t0, running = time.time(), 0.0
        for x, y in batches(images, labels, batch, rng):
            for g in opt.param_groups:
                g["lr"] = cosine_lr(step, total, lr, warmup=steps_per_epoch // 2)
            loss = loss_fn(x, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            running += float(loss)
            step += 1
        log(f"epoch {epoch + 1}/{epochs} loss {running / steps_per_epoch:.4f} ({time.time() - t0:.0f}s)")
        if checkpoint:
            checkpoint(epoch)
    model.eval()
    return model


@torch.no_grad()
def exit_logits(model, images, batch=1000):
    """Logits of every exit for all images: array [exits, N, classes]."""
    model.eval()
    outs = [[] for _ in model.exit_specs]
    for i in range(0, len(images), batch):
        for e, o in enumerate(model(torch.from_numpy(images[i:i + batch]))):
            outs[e].append(o.numpy())
    return np.stack([np.concatenate(o) for o in outs])


def accuracy(logits, labels):
    return float((logits.argmax(-1) == labels).mean())
