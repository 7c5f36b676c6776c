#!/usr/bin/python3
"""Turn a standard ViT into a Cleave model pack (format version 2).

Sources (one of):
  --torchvision FILE   state dict of a torchvision VisionTransformer (vit_b_16, vit_b_32, vit_l_16,
                       ... or custom sizes), e.g. torch.save(model.state_dict(), FILE)
  --timm FILE          state dict in timm's ViT/DeiT key layout (patch_embed.proj, cls_token,
                       [dist_token], pos_embed, blocks.N.*, norm, head, [head_dist])
  --random-init        a seeded random ViT of the geometry given by --image/--patch/--dim/--depth/
                       --heads/--mlp-ratio/--classes [--distilled], in timm's layout; the manifest
                       says trained: false

The backbone is cut into stem, one graph per block and the model's own head as the final exit;
--exits adds freshly initialised (untrained) exits of the seven types at chosen blocks. Before
writing, the chained segments are checked against the source model's own logits (torchvision's
VisionTransformer; for timm layouts the reference module cleave_vit/timm_reference.py, since timm
itself is not installed here); the source logits are recorded as the golden tensor
`source_logits`. --golden-photos also records real images through torchvision's eval transform
(PIL): `photo_input` and the source's `photo_source_logits`, so the Java side can check the whole
path from JPEG/PNG bytes to logits.

--train-images DIR trains the added exits on the frozen backbone, on the user's own images in
torchvision's ImageFolder layout (one sub-folder per class; the folder names become the labels),
then fits each exit's temperature, ECE and threshold table on a seeded validation split; the exits
are then marked trained (cleave_vit/exit_training.py says how). Bad options and unusable image
folders are one-line errors with exit status 2.

    /usr/bin/python3 onnx-models/import_vit.py --torchvision vit_b_16.pth --labels imagenet --out packs/vit-b16
    /usr/bin/python3 onnx-models/import_vit.py --timm deit_small.pth --interpolation bicubic --out packs/deit-s
    /usr/bin/python3 onnx-models/import_vit.py --random-init --image 224 --patch 16 --dim 384 --depth 12 \\
        --heads 6 --exits 2:vit,4:vit,6:vit,9:vit --out /tmp/deit-s-random
    /usr/bin/python3 onnx-models/import_vit.py --torchvision my_vit.pth --exits 4:mlp,8:vit \\
        --train-images ~/photos/train --regime best --epochs 10 --checkpoint /tmp/exits.ckpt --out packs/mine
"""
import argparse
import os
import shutil
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from cleave_vit import exit_training, export, imported, model as vit, timm_reference  # noqa: E402

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


def log(s):
    print(s, flush=True)


def parse_exits(text):
    """'2:mlp,4:vit' -> [(2, 'mlp'), (4, 'vit')]."""
    out = []
    for part in filter(None, (text or "").split(",")):
        b, _, kind = part.partition(":")
        kind = kind or "vit"
        if kind not in vit.EXIT_TYPES:
            raise SystemExit(f"--exits: unknown exit type {kind!r}; expected one of {vit.EXIT_TYPES}")
        out.append((int(b), kind))
    return out


def torchvision_source(sd, m):
    """torchvision's own VisionTransformer with the imported geometry and weights."""
    from torchvision.models.vision_transformer import VisionTransformer
    c = m.config
    src = VisionTransformer(image_size=c["image"], patch_size=c["patch"], num_layers=c["depth"], num_heads=c["heads"],
                            hidden_dim=c["dim"], mlp_dim=c["mlp_hidden"], num_classes=c["classes"],
                            representation_size=c["pre_logits"] or None)
    src.load_state_dict(imported._unwrap(sd), strict=True)
    return src.eval(), "torchvision.models.VisionTransformer"


def timm_source(sd, m):
    """timm itself when installed, else the reference module in timm's key layout."""
    c = m.config
    kwargs = dict(img_size=c["image"], patch_size=c["patch"], in_chans=c["channels"], num_classes=c["classes"],
                  embed_dim=c["dim"], depth=c["depth"], num_heads=c["heads"], mlp_ratio=c["mlp_hidden"] / c["dim"])
    distilled = c["prefix_tokens"] == 2
    try:
        from timm.models import deit, vision_transformer  # noqa: F401
        cls = deit.VisionTransformerDistilled if distilled else vision_transformer.VisionTransformer
        src, name = cls(**kwargs), f"timm {cls.__name__}"
    except ImportError:
        src = timm_reference.VisionTransformer(distilled=distilled, **kwargs)
        name = "cleave_vit.timm_reference (timm not installed; a reference module in timm's key layout)"
    src.load_state_dict(imported._unwrap(sd), strict=True)
    return src.eval(), name


def load_labels(spec, classes):
    if not spec:
        return [f"class_{i}" for i in range(classes)]
    if spec == "imagenet":
        from torchvision.models import ViT_B_16_Weights  # category names ship with torchvision; no download
        labels = list(ViT_B_16_Weights.IMAGENET1K_V1.meta["categories"])
    else:
        with open(spec, encoding="utf-8") as f:
            labels = [line.strip() for line in f if line.strip()]
    if len(labels) != classes:
        raise SystemExit(f"--labels: {len(labels)} names for a model with {classes} classes")
    return labels


def load_state_dict(path, unsafe):
    """Tensors only (torch.load(weights_only=True)) unless --unsafe-load: a checkpoint file is a
    pickle, and unpickling runs code."""
    try:
        return torch.load(path, map_location="cpu", weights_only=not unsafe)
    except Exception as e:  # noqa: BLE001 - torch raises pickle errors of several types
        if unsafe:
            raise
        raise SystemExit(f"{path}: cannot load it as plain tensors ({type(e).__name__}: {str(e)[:200]}); re-save it "
                         "with torch.save(model.state_dict(), FILE), or pass --unsafe-load if you trust the file")


def photo_inputs(paths, prep, channels):
    """Real images through torchvision's eval transform on PIL, as the manifest describes it."""
    from PIL import Image
    t = exit_training.eval_transform(prep, channels)
    return torch.stack([t(Image.open(p).convert(exit_training.pil_mode(channels))) for p in paths])


def usage_error(msg):
    """One line on stderr naming the option and what is allowed, exit status 2 (argparse's convention)."""
    sys.stderr.write(f"import_vit.py: error: {msg}\n")
    raise SystemExit(2)


def check_training_options(a):
    """Before any heavy work: the exit-training options are consistent and the image folders usable."""
    given = [o for o, v in (("--test-images", a.test_images), ("--checkpoint", a.checkpoint), ("--regime", a.regime),
                            ("--epochs", a.epochs), ("--batch-size", a.batch_size), ("--lr", a.lr),
                            ("--val-fraction", a.val_fraction), ("--device", a.device)) if v is not None]
    if not a.train_images:
        if given:
            usage_error(f"{given[0]} needs --train-images DIR (the images to train the added exits on)")
        return
    for name, value in exit_training.DEFAULTS.items():
        if getattr(a, name) is None:
            setattr(a, name, value)
    if a.epochs < 1:
        usage_error(f"--epochs {a.epochs}: must be at least 1")
    if a.batch_size < 1:
        usage_error(f"--batch-size {a.batch_size}: must be at least 1")
    if not a.lr > 0:
        usage_error(f"--lr {a.lr}: must be above 0")
    if not 0 < a.val_fraction < 1:
        usage_error(f"--val-fraction {a.val_fraction}: must be between 0 and 1 (exclusive)")
    if a.device == "cuda" and not torch.cuda.is_available():
        usage_error(f"--device cuda: no CUDA device is available to this torch {torch.__version__} "
                    "(torch.cuda.is_available() is false); use --device cpu")
    if not parse_exits(a.exits):
        usage_error("--train-images: there are no added exits to train; add some with --exits, e.g. --exits 4:mlp")
    try:
        folders = [exit_training.image_folder(a.train_images, "--train-images", a.channels)]
        if a.test_images:
            folders.append(exit_training.image_folder(a.test_images, "--test-images", a.channels))
    except exit_training.UsageError as e:
        usage_error(str(e))
    if a.labels and a.labels != "imagenet":
        with open(a.labels, encoding="utf-8") as f:
            n = sum(1 for line in f if line.strip())
        if n != len(folders[0].classes):
            usage_error(f"--labels {a.labels}: {n} names, but --train-images has {len(folders[0].classes)} class "
                        "folders")
    if a.random_init and a.classes is None:
        a.classes = len(folders[0].classes)


def build_parser():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--torchvision", metavar="FILE", help="torchvision VisionTransformer state dict")
    src.add_argument("--timm", metavar="FILE", help="state dict in timm's ViT/DeiT layout")
    src.add_argument("--random-init", action="store_true", help="seeded random weights (trained: false)")
    ap.add_argument("--out", required=True, help="pack folder to write (replaced if it exists)")
    ap.add_argument("--id", help="model id (default: the folder name)")
    ap.add_argument("--version", default="1.0.0")
    ap.add_argument("--description")
    ap.add_argument("--untrained", action="store_true", help="label a file's weights as untrained (random)")
    ap.add_argument("--heads", type=int, help="attention heads (needed when the width is not a published model's)")
    ap.add_argument("--exits", default="", help="extra (untrained) exits, e.g. 2:mlp,4:vit,6:vit; types: "
                                                + ", ".join(vit.EXIT_TYPES))
    ap.add_argument("--reducible", action="store_true", help="token axis dynamic and a probe graph per block, so the tokens "
                    "after a split can be reduced (cleave_vit/reduce.py); records each reduction's tokens, bytes and cloud FLOPs")
    ap.add_argument("--labels", help="file with one class name a line, or 'imagenet' (torchvision's list)")
    g = ap.add_argument_group("random-init geometry")
    g.add_argument("--image", type=int, default=224)
    g.add_argument("--patch", type=int, default=16)
    g.add_argument("--channels", type=int, default=3)
    g.add_argument("--dim", type=int, default=384)
    g.add_argument("--depth", type=int, default=12)
    g.add_argument("--mlp-ratio", type=float, default=4.0)
    g.add_argument("--classes", type=int, help="default: the number of --train-images class folders, else 1000")
    g.add_argument("--distilled", action="store_true", help="DeiT distillation token and head")
    p = ap.add_argument_group("preprocessing (recorded in the manifest; torchvision's eval transform)")
    p.add_argument("--resize", type=int, help="shorter side resized to this (default: image / 0.875)")
    p.add_argument("--interpolation", choices=("bilinear", "bicubic"), default="bilinear")
    p.add_argument("--mean", type=float, nargs="+", default=IMAGENET_MEAN)
    p.add_argument("--std", type=float, nargs="+", default=IMAGENET_STD)
    ap.add_argument("--golden", type=int, default=4, help="seeded random inputs whose tensors are recorded")
    ap.add_argument("--golden-photos", nargs="+", metavar="IMAGE", default=[],
                    help="JPEG/PNG files whose preprocessed input and source logits are recorded")
    ap.add_argument("--unsafe-load", action="store_true", help="unpickle a checkpoint that holds more than tensors")
    ap.add_argument("--tolerance", type=float, default=1e-4, help="max |segments - source| allowed on logits")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    t = ap.add_argument_group("training the added exits on the frozen backbone (cleave_vit/exit_training.py)")
    t.add_argument("--train-images", metavar="DIR", help="ImageFolder layout: one sub-folder of images per class, "
                   "sorted folder i = the model's class i; the folder names become the labels unless --labels")
    t.add_argument("--test-images", metavar="DIR", help="optional held-out ImageFolder with the same classes: test "
                   "accuracy and ECE in the manifest (null without it)")
    d = exit_training.DEFAULTS
    t.add_argument("--regime", choices=exit_training.REGIMES, help="labels, copycat (the backbone head's soft "
                   f"predictions) or best: both, the better on validation kept per exit; default {d['regime']}")
    t.add_argument("--epochs", type=int, help=f"default {d['epochs']}")
    t.add_argument("--batch-size", type=int, help=f"default {d['batch_size']} (also the backbone's batch when "
                   "caching tokens)")
    t.add_argument("--lr", type=float, help=f"AdamW's constant learning rate, default {d['lr']}")
    t.add_argument("--val-fraction", type=float, help="share of each class held out (seeded by --seed) for "
                   f"temperature, thresholds and the regime choice; default {d['val_fraction']}")
    t.add_argument("--device", choices=("cpu", "cuda"), help=f"where the backbone and heads run; default {d['device']}")
    t.add_argument("--checkpoint", metavar="FILE", help="heads, optimisers, epoch and split saved after every epoch; "
                   "rerunning the same command resumes from it (and --epochs N+k extends an N-epoch run)")
    return ap


def main(argv=None):
    a = build_parser().parse_args(argv)
    torch.set_num_threads(a.threads)
    t0 = time.time()
    exits = parse_exits(a.exits)
    check_training_options(a)
    if a.classes is None:
        a.classes = 1000
    if a.random_init:
        heads = a.heads or imported.heads_for(a.dim, None)
        a.heads = heads
        src, m = imported.from_random_init(a.image, a.patch, a.channels, a.dim, a.depth, heads, a.mlp_ratio, a.classes,
                                           a.distilled, exits, a.seed)
        src_name = "cleave_vit.timm_reference (random init)"
        source = {"kind": "random-init", "layout": "timm", "seed": a.seed, "check": src_name}
        trained = False
    else:
        path = a.torchvision or a.timm
        sd = load_state_dict(path, a.unsafe_load)
        try:
            if a.torchvision:
                m = imported.from_torchvision(sd, a.heads, exits)
                src, src_name = torchvision_source(sd, m)
            else:
                m = imported.from_timm(sd, a.heads, exits)
                src, src_name = timm_source(sd, m)
        except imported.UnsupportedModel as e:
            raise SystemExit(f"{path}: {e}")
        source = {"kind": "torchvision" if a.torchvision else "timm", "file": os.path.basename(path),
                  "sha256": export.sha256(path), "check": src_name}
        trained = not a.untrained
    c = m.config
    log(f"{source['kind']}: {c['depth']} blocks, width {c['dim']}, {c['heads']} heads, MLP {c['mlp_hidden']}, "
        f"patch {c['patch']}, image {c['image']}, {c['prefix_tokens']} prefix token(s), {c['classes']} classes "
        f"({vit.count_params(m) / 1e6:.2f} M parameters)")

    g = torch.Generator().manual_seed(a.seed + 1)
    x = torch.randn(a.golden, c["channels"], c["image"], c["image"], generator=g)
    with torch.no_grad():
        ours = m(x)[-1]
        theirs = src(x)
    diff = float((ours - theirs).abs().max())
    log(f"segments vs {src_name}: max |logit difference| {diff:.3g} over {a.golden} inputs")
    if not diff <= a.tolerance:
        raise SystemExit(f"the cut model differs from its source by {diff} > {a.tolerance}: not writing a pack")

    resize = a.resize or int(c["image"] / 0.875)
    if resize < c["image"]:
        raise SystemExit(f"--resize {resize} is smaller than the crop {c['image']}")
    if len(a.mean) != c["channels"] or len(a.std) != c["channels"]:
        raise SystemExit(f"--mean/--std need {c['channels']} values")
    prep = {"resize": resize, "interpolation": a.interpolation, "crop": c["image"], "divide": 255.0,
            "mean": a.mean, "std": a.std}
    extra = {"source_logits": theirs}
    photos = []
    if a.golden_photos:
        px = photo_inputs(a.golden_photos, prep, c["channels"])
        with torch.no_grad():
            extra["photo_input"], extra["photo_source_logits"] = px, src(px)
            pdiff = float((m(px)[-1] - extra["photo_source_logits"]).abs().max())
        if not pdiff <= a.tolerance:
            raise SystemExit(f"on the photos the cut model differs from its source by {pdiff} > {a.tolerance}")
        photos = [os.path.basename(p) for p in a.golden_photos]
    pid = a.id or os.path.basename(os.path.normpath(a.out))
    n_extra = len(exits)
    labels = load_labels(a.labels, c["classes"]) if a.labels or not a.train_images else None
    exits_meta = [{"temperature": 1.0, "accuracy": None, "ece": None, "thresholds": [], "copycat": False,
                   "trained": trained and kind == "final"} for _, kind in m.exit_specs]
    exit_training_record = None
    if a.train_images:
        fingerprint = {"source": {k: v for k, v in source.items() if k != "check"}, "geometry": c}
        try:
            rows, exit_training_record, classes = exit_training.train_exits(m, a, prep, c["channels"], fingerprint, log)
        except exit_training.UsageError as e:
            usage_error(str(e))
        exits_meta = [dict(row, trained=row.get("trained", trained), copycat=row.get("copycat", False))
                      for row in rows]
        labels = labels or classes
    extra_note = ""
    if n_extra:
        extra_note = (f"; {n_extra} extra exit(s) trained on its frozen backbone with "
                      f"{exit_training_record['images']['train']} images" if a.train_images
                      else f"; {n_extra} extra untrained exit(s)")
    meta = {
        "model": {"id": pid, "version": a.version,
                  "description": a.description or (
                      f"{'untrained (random weights), ' if not trained else ''}{source.get('layout', source['kind'])}-layout "
                      f"ViT: {c['depth']} blocks, width {c['dim']}, {c['heads']} heads, patch {c['patch']}, "
                      f"{c['image']}x{c['image']}" + extra_note)},
        "trained": trained,
        "source": source,
        "preprocessing": prep,
        "labels": labels,
        "exits": exits_meta,
        "training": {"regime": "imported" if trained else "none: random weights", "torch": torch.__version__,
                     "parityMaxAbsDiff": diff},
    }
    if exit_training_record:
        # `trained` above describes the backbone and its own head; each exit says for itself
        meta["training"]["addedExits"] = exit_training_record
    if os.path.exists(a.out):
        shutil.rmtree(a.out)
    t1 = time.time()
    manifest = export.export_pack(m, a.out, meta, x.numpy(), format_version=export.FORMAT_VERSION_2,
                                  extra_golden=extra, golden_photos=photos, reducible=a.reducible)
    size = sum(os.path.getsize(os.path.join(a.out, f)) for f in manifest["files"])
    log(f"pack {pid} -> {a.out}: {len(manifest['blocks'])} blocks, {len(manifest['exits'])} exits, "
        f"{size / 1e6:.2f} MB; export {time.time() - t1:.1f}s, total {time.time() - t0:.1f}s")
    return manifest


if __name__ == "__main__":
    main()
