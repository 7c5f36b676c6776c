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
