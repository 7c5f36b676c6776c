"""Per-exit temperature scaling on the validation split, and expected calibration error."""
import numpy as np
import torch
import torch.nn.functional as F


def fit_temperature(logits, labels, iters=200):
    """Temperature T > 0 minimising validation NLL of softmax(logits / T)."""
    z = torch.from_numpy(logits).double()
    y = torch.from_numpy(labels)
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([log_t], lr=0.1, max_iter=iters)

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(z / log_t.exp(), y)
        loss.backward()
        return loss

    opt.step(closure)
    return float(log_t.exp())


def softmax(logits, temperature=1.0):
    z = logits / temperature
    z = z - z.max(-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(-1, keepdims=True)


def ece(probs, labels, bins=15):
    conf = probs.max(-1)
    correct = probs.argmax(-1) == labels
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            total += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return float(total)


def threshold_table(probs, labels, thresholds=(0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)):
    """For each confidence threshold: fraction of samples that stop and accuracy among them."""
    conf = probs.max(-1)
    correct = probs.argmax(-1) == labels
    rows = []
    for t in thresholds:
        m = conf >= t
        rows.append({"threshold": t, "stop_rate": float(m.mean()),
                     "accuracy_when_stopped": float(correct[m].mean()) if m.any() else None})
    return rows


def describe_exit(val_logits, val_labels, test_logits=None, test_labels=None):
    """An exit's manifest entry: temperature fitted on validation, accuracy, ECE before and after, thresholds.
    Without a test set the test fields are None (null in the manifest: nothing was measured)."""
    t = fit_temperature(val_logits, val_labels)
    p_before, p_after = softmax(val_logits), softmax(val_logits, t)
    has_test = test_logits is not None
    return {
        "temperature": t,
        "accuracy": {"validation": float((val_logits.argmax(-1) == val_labels).mean()),
                     "test": float((test_logits.argmax(-1) == test_labels).mean()) if has_test else None},
        "ece": {"validationBefore": ece(p_before, val_labels), "validationAfter": ece(p_after, val_labels),
                "testBefore": ece(softmax(test_logits), test_labels) if has_test else None,
                "testAfter": ece(softmax(test_logits, t), test_labels) if has_test else None},
        "thresholds": threshold_table(p_after, val_labels),
    }
