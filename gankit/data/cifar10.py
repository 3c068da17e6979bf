"""CIFAR-10 (32x32 colour, 10 classes) from the "python version" pickle batches.

``data.root`` is the ``cifar-10-batches-py`` folder or its parent. Each batch is a
pickled dict with ``b'data'`` uint8 [N, 3072] (channel-major 3x32x32 rows) and
``b'labels'``. ``train`` concatenates ``data_batch_1`` .. ``data_batch_5``; ``test`` is
``test_batch``. Images are scaled to [-1, 1] (practical-gan-guide.txt trains on CIFAR-10).
"""
from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gankit.config import SplitDataConfig
from gankit.data.base import Dataset, class_labels, pixels_uint8
from gankit.errors import GankitError, first_line
from gankit.registry import DATASETS

CIFAR_FILES = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}
SUBDIR = "cifar-10-batches-py"
CIFAR_PAGE = "https://www.cs.toronto.edu/~kriz/cifar.html"  # the dataset's official page
GET_IT = (f"download 'CIFAR-10 python version' (cifar-10-python.tar.gz, about 160 MB) from {CIFAR_PAGE} and "
          f"unpack it there (tar xzf cifar-10-python.tar.gz makes {SUBDIR}/); gankit downloads nothing")

# The only globals a CIFAR batch needs: numpy array reconstruction (numpy 1 and 2 module
# paths) and, in protocol-2 pickles written by Python 3, bytes rebuilt via _codecs.encode.
_ALLOWED = {
    (mod, name)
    for mod in ("numpy.core.multiarray", "numpy._core.multiarray")
    for name in ("_reconstruct", "scalar")
} | {("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}


@dataclass
class CIFAR10Config(SplitDataConfig):
    """Options of CIFAR-10."""


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickler that refuses every global except numpy array rebuilding, so a
    tampered file cannot run code."""

    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} (not part of a CIFAR-10 batch)")
        return super().find_class(module, name)


def read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images [N, 3, 32, 32] and int64 labels [N] from one pickled batch."""
    try:
        with open(path, "rb") as fh:
            batch = _NumpyOnlyUnpickler(fh, encoding="bytes").load()
    except Exception as exc:  # truncated/corrupt pickles raise many types
        raise GankitError(f"cannot read CIFAR-10 batch {path} (truncated or corrupt pickle): {first_line(exc)}") from None
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        raise GankitError(f"{path} is not a CIFAR-10 batch (expected a dict with b'data' and b'labels')")
    data = np.asarray(batch[b"data"])
    labels = np.asarray(batch[b"labels"]).reshape(-1)
    if data.ndim != 2 or data.shape[1] != 3072 or len(data) != len(labels):
        raise GankitError(
            f"{path} has data of shape {data.shape} and {len(labels)} labels; expected [N, 3072] and N labels"
        )
    if len(data) == 0:
        raise GankitError(f"{path} holds no images")
    return pixels_uint8(data, path).reshape(-1, 3, 32, 32), class_labels(labels, path, 10)


def _batch_dir(root: Path) -> Path:
    for cand in (root, root / SUBDIR):
        if (cand / "test_batch").is_file() or (cand / "data_batch_1").is_file():
            return cand
    raise GankitError(
        f"CIFAR-10 files not found: expected data_batch_1..5 and test_batch in {root} (or {root / SUBDIR}); {GET_IT}"
    )


@DATASETS.register("cifar10", options=CIFAR10Config)
def cifar10(cfg: CIFAR10Config) -> Dataset:
    """CIFAR-10 scaled to [-1, 1] (python pickle batches under data.root)."""
    if cfg.root is None:
        raise GankitError(
            f"dataset 'cifar10' needs data.root=DIR, a folder holding data_batch_1..5 and test_batch "
            f"(or {SUBDIR}/ with them; no embedded copy): {GET_IT}")
    base = _batch_dir(Path(cfg.root).expanduser())
    parts = []
    for name in CIFAR_FILES[cfg.split]:
        path = base / name
        if not path.is_file():
            raise GankitError(f"CIFAR-10 file not found: expected {path} (the {cfg.split} split needs "
                              f"{', '.join(CIFAR_FILES[cfg.split])}); {GET_IT}")
        parts.append(read_cifar_batch(path))
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    x = torch.from_numpy(images).float().div_(127.5).sub_(1.0)
    return Dataset("cifar10", x, torch.from_numpy(labels), num_classes=10,
                   meta={"split": cfg.split, "source": str(base)})
