"""Fashion-MNIST from Debian's dataset-fashion-mnist IDX files."""
import gzip
import os
import struct

import numpy as np

DEBIAN_DIR = "/usr/share/datasets/fashion-mnist"
MEAN, STD = 0.2860, 0.3530
LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
          "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        magic = struct.unpack(">I", f.read(4))[0]
        ndim = magic & 0xFF
        shape = struct.unpack(">" + "I" * ndim, f.read(4 * ndim))
        return np.frombuffer(f.read(), dtype=np.uint8).reshape(shape)


def load(split, root=DEBIAN_DIR):
    prefix = "train" if split == "train" else "t10k"
    def find(kind):
        for name in (f"{prefix}-{kind}-idx{3 if kind == 'images' else 1}-ubyte.gz",
                     f"{prefix}-{kind}-idx{3 if kind == 'images' else 1}-ubyte"):
            if os.path.exists(os.path.join(root, name)):
                return os.path.join(root, name)
        raise FileNotFoundError(f"no Fashion-MNIST {prefix} {kind} in {root}")
    return read_idx(find("images")), read_idx(find("labels")).astype(np.int64)


def normalize(images_u8):
    """uint8 [N,28,28] -> float32 [N,1,28,28], the preprocessing recorded in the manifest."""
    return ((images_u8.astype(np.float32) / 255.0 - MEAN) / STD)[:, None, :, :]


def train_val_split(images, labels, val_size=5000, seed=0):
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(images))
    return (images[idx[val_size:]], labels[idx[val_size:]]), (images[idx[:val_size]], labels[idx[:val_size]])


def write_image_folder(out, images_u8, labels, per_class, classes, names=None, start=0):
    """Fashion-MNIST as PNG files in torchvision's ImageFolder layout: out/<NN-name>/<k>.png, per_class
    images of each of `classes` (original class ids), skipping the first `start` of each class. The
    folders sort in the order given, so folder i is class i of a model trained on `classes` in that order."""
    from PIL import Image
    written = []
    for i, c in enumerate(classes):
        name = (names or LABELS)[c].replace("/", "-").replace(" ", "_")
        d = os.path.join(out, f"{i:02d}-{name}")
        os.makedirs(d, exist_ok=True)
        for k, j in enumerate(np.flatnonzero(labels == c)[start:start + per_class]):
            Image.fromarray(images_u8[j]).save(os.path.join(d, f"{k:05d}.png"))
            written.append(j)
    return written
