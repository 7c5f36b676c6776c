#!/usr/bin/python3
"""Write the Java tests' fixtures for imported packs and real images (seeded; ~2 s).

    /usr/bin/python3 onnx-models/make_test_fixtures.py

core/src/test/resources/images/:
  rocket.jpg, chelsea.png, truncated.jpg   copied from Debian's python3-skimage (see LICENSE.md)
  portrait.png                             a 120x171 crop of chelsea.png: the portrait path, upscaling, and
                                           crop offsets that Python rounds half to even
  expected/NAME_RESIZE_CROP_INTERP.u8.gz   the pixels torchvision's eval transform gives on a PIL image
                                           (convert("RGB"), Resize(RESIZE, INTERP), CenterCrop(CROP)):
                                           uint8 [3][CROP][CROP], gzipped
  expected/NAME_40_32_bicubic.f32          the same then ToTensor and Normalize(ImageNet mean, std):
                                           little-endian float32 [3][32][32]
core/src/test/resources/packs/:
  tiny-deit         --random-init, timm layout with a distillation token, an MLP exit after block 1
  tiny-torchvision  a random (perturbed) torchvision VisionTransformer imported from its state-dict file
  both record the two photos through the pack's preprocessing (--golden-photos)
  tiny-vit224       --random-init at the realistic input geometry (224x224, patch 16: 197 tokens) but 32 wide and
                    4 blocks, an MLP exit after block 2: the 224x224 split path end to end (JPEG, fp16, int8) in
                    the tests at a committable size; one golden input, no photos
  tiny-exit-types  --random-init, 28x28 grayscale (Fashion-MNIST's input, 10 classes), 4 blocks, one exit of
                   each type the other packs lack: cnn_ignore and cnn_add after 1, cnn_project and mixer after
                   2, resmlp after 3: those exit graphs through the Java engine, and an untrained pack that
                   runs on the committed test set (eval, edge --images)
  tiny-trained-exits  a tiny torchvision ViT trained here for seconds on Fashion-MNIST (4 classes), an MLP
                   exit after block 1 and a ViT-layer exit after block 2 trained on its frozen backbone with
                   --train-images (240 PNGs in ImageFolder layout; no --test-images, so test accuracy is null)

    /usr/bin/python3 onnx-models/make_test_fixtures.py trained-exits    # only that pack (~20 s); likewise tiny-vit224,
                                                                        # tiny-exit-types
"""
import gzip
import os
import shutil
import sys
import tempfile

import numpy as np
import torch
from PIL import Image
from torchvision import transforms as T
from torchvision.models.vision_transformer import VisionTransformer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import import_vit  # noqa: E402
from cleave_vit import data  # noqa: E402

RES = os.path.join(HERE, "..", "core", "src", "test", "resources")
SKIMAGE = "/usr/lib/python3/dist-packages/skimage/data"
PHOTOS = ("rocket.jpg", "chelsea.png")
CONFIGS = ((256, 224, "bilinear"), (256, 224, "bicubic"), (40, 32, "bicubic"))
PORTRAIT_CONFIGS = ((40, 32, "bilinear"), (200, 192, "bicubic"))
MODES = {"bilinear": T.InterpolationMode.BILINEAR, "bicubic": T.InterpolationMode.BICUBIC}


def images():
    out = os.path.join(RES, "images")
    os.makedirs(os.path.join(out, "expected"), exist_ok=True)
    for name in PHOTOS + ("truncated.jpg",):
        shutil.copyfile(os.path.join(SKIMAGE, name), os.path.join(out, name))
    Image.open(os.path.join(SKIMAGE, "chelsea.png")).crop((150, 60, 270, 231)).save(os.path.join(out, "portrait.png"))
    for name, configs in [(p, CONFIGS) for p in PHOTOS] + [("portrait.png", PORTRAIT_CONFIGS)]:
        src = os.path.join(out if name == "portrait.png" else SKIMAGE, name)
        im = Image.open(src).convert("RGB")
        stem = name.split(".")[0]
        for resize, crop, interp in configs:
            t = T.Compose([T.Resize(resize, interpolation=MODES[interp]), T.CenterCrop(crop)])
            px = t(im)
            base = os.path.join(out, "expected", f"{stem}_{resize}_{crop}_{interp}")
            chw = np.ascontiguousarray(np.asarray(px).transpose(2, 0, 1))
            with gzip.GzipFile(base + ".u8.gz", "wb", mtime=0) as f:
                f.write(chw.tobytes())
            if crop == 32:
                norm = T.Normalize(import_vit.IMAGENET_MEAN, import_vit.IMAGENET_STD)(T.ToTensor()(px))
                norm.numpy().astype("<f4").tofile(base + ".f32")
            print(f"{name} {im.size} -> {resize}/{crop} {interp}")


def tiny_torchvision_vit(classes=(0, 1, 2, 3), per_class=1000, epochs=3, seed=0):
    """A torchvision VisionTransformer (28x28 RGB, patch 7, 4 blocks, width 48) trained for a few
    seconds on Fashion-MNIST (the gray images replicated to three channels, normalised as the pack
    records it: mean 0.286, std 0.353): a real, if small, backbone whose added exits can learn."""
    torch.manual_seed(seed)
    x, y = data.load("train")
    keep = np.concatenate([np.flatnonzero(y == c)[-per_class:] for c in classes])  # the end of each class:
    # write_image_folder takes the user's images from the start
    remap = {c: i for i, c in enumerate(classes)}
    xs = torch.from_numpy(data.normalize(x[keep])).expand(-1, 3, -1, -1).contiguous()
    ys = torch.tensor([remap[int(c)] for c in y[keep]])
    src = VisionTransformer(image_size=28, patch_size=7, num_layers=4, num_heads=4, hidden_dim=48, mlp_dim=96,
                            num_classes=len(classes))
    opt = torch.optim.AdamW(src.parameters(), lr=3e-3, weight_decay=0.05)
    g = torch.Generator().manual_seed(seed)
    src.train()
    for _ in range(epochs):
        order = torch.randperm(len(ys), generator=g)
        for i in range(0, len(order), 128):
            j = order[i:i + 128]
            loss = torch.nn.functional.cross_entropy(src(xs[j]), ys[j])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return src.eval()


def packs():
    out = os.path.join(RES, "packs")
    os.makedirs(out, exist_ok=True)
    photos = [os.path.join(SKIMAGE, p) for p in PHOTOS]
    import_vit.main(["--random-init", "--image", "32", "--patch", "8", "--dim", "32", "--depth", "3", "--heads", "2",
                     "--classes", "5", "--distilled", "--exits", "1:mlp", "--resize", "36", "--interpolation",
                     "bicubic", "--golden", "3", "--version", "0.1.0", "--out", os.path.join(out, "tiny-deit"),
                     "--golden-photos"] + photos)
    torch.manual_seed(0)
    src = VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=32, mlp_dim=64,
                            num_classes=4)
    g = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for p in src.parameters():  # torchvision zero-initialises its head: perturb every weight
            p.add_(torch.randn(p.shape, generator=g) * 0.05)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "tiny-torchvision.pth")
        torch.save(src.state_dict(), path)
        labels = os.path.join(d, "labels.txt")
        with open(labels, "w") as f:
            f.write("cat\nrocket\ncoffee\nastronaut\n")
        import_vit.main(["--torchvision", path, "--heads", "2", "--untrained", "--labels", labels, "--golden", "3",
                         "--version", "0.1.0", "--out", os.path.join(out, "tiny-torchvision"), "--golden-photos"] + photos)


def pack_224():
    out = os.path.join(RES, "packs", "tiny-vit224")
    import_vit.main(["--random-init", "--image", "224", "--patch", "16", "--dim", "32", "--depth", "4", "--heads", "2",
                     "--classes", "10", "--exits", "2:mlp", "--resize", "256", "--interpolation", "bilinear",
                     "--golden", "1", "--version", "0.1.0", "--out", out])


def exit_types_pack():
    out = os.path.join(RES, "packs", "tiny-exit-types")
    import_vit.main(["--random-init", "--image", "28", "--patch", "7", "--channels", "1", "--dim", "32", "--depth", "4",
                     "--heads", "2", "--classes", "10", "--mean", "0.286", "--std", "0.353", "--resize", "28",
                     "--exits", "1:cnn_ignore,1:cnn_add,2:cnn_project,2:mixer,3:resmlp", "--golden", "3", "--version", "0.1.0",
                     "--out", out])


def trained_exits_pack():
    classes = (0, 1, 2, 3)
    with tempfile.TemporaryDirectory() as d:
        x, y = data.load("train")
        folder = os.path.join(d, "fmnist4")
        data.write_image_folder(folder, x, y, 60, classes)
        path = os.path.join(d, "tiny-fmnist-vit.pth")
        torch.save(tiny_torchvision_vit(classes, per_class=500, epochs=2).state_dict(), path)
        gray = ["0.286"] * 3, ["0.353"] * 3
        import_vit.main(["--torchvision", path, "--heads", "4", "--mean", *gray[0], "--std", *gray[1], "--resize", "28",
                         "--exits", "1:mlp,2:vit", "--train-images", folder, "--epochs", "10", "--golden", "3",
                         "--version", "0.1.0", "--out", os.path.join(RES, "packs", "tiny-trained-exits"),
                         "--golden-photos"] + [os.path.join(SKIMAGE, p) for p in PHOTOS])


if __name__ == "__main__":
    torch.set_num_threads(1)
    only = {"tiny-vit224": pack_224, "trained-exits": trained_exits_pack, "tiny-exit-types": exit_types_pack}
    if len(sys.argv) == 2 and sys.argv[1] in only:  # one pack, leaving the others' bytes as they are
        only[sys.argv[1]]()
    else:
        images()
        packs()
        pack_224()
        exit_types_pack()
        trained_exits_pack()
