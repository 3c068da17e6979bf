"""SVHN (cropped digits, 32x32 colour) from the ``train_32x32.mat`` / ``test_32x32.mat`` files.

The files hold ``X`` uint8 [32, 32, 3, N] and ``y`` [N, 1] with labels 1..10, where 10 is
the digit 0 (mapped to 0 here). Images are scaled to [-1, 1] for tanh generators
(digit-gans.txt trains DCGAN-style nets on SVHN). Only MATLAB v5 files (what the SVHN
site distributes) are read; v7.3 (HDF5) files are refused with a clear error.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.io
import torch

from gankit.config import SplitDataConfig
from gankit.data.base import Dataset, class_labels, pixels_uint8
from gankit.errors import GankitError, first_line
from gankit.registry import DATASETS

SVHN_FILES = {"train": "train_32x32.mat", "test": "test_32x32.mat"}
SVHN_PAGE = "http://ufldl.stanford.edu/housenumbers/"  # the dataset's official page (format 2, cropped digits)


def _get_it(split: str) -> str:
    return (f"download {SVHN_FILES[split]} ('Format 2: cropped digits', about 180 MB for train) from {SVHN_PAGE} "
            "into that folder; gankit downloads nothing")
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


@dataclass
class SVHNConfig(SplitDataConfig):
    """Options of SVHN."""


def _is_hdf5_mat(path: Path) -> bool:
    """MATLAB v7.3 files are HDF5 containers behind a 512-byte user block."""
    with open(path, "rb") as fh:
        head = fh.read(520)
    return head.startswith(b"MATLAB 7.3") or head[:8] == _HDF5_MAGIC or head[512:520] == _HDF5_MAGIC


def read_svhn_mat(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images [N, 3, 32, 32] and int64 labels [N] in 0..9 from one SVHN .mat file."""
    try:
        if _is_hdf5_mat(path):
            raise GankitError(
                f"{path} is a MATLAB v7.3 (HDF5) file, which is unsupported: use the v5 files from the SVHN site"
            )
        mat = scipy.io.loadmat(path)
    except GankitError:
        raise
    except NotImplementedError:  # scipy's own refusal of v7.3 files
        raise GankitError(f"{path} is a MATLAB v7.3 (HDF5) file, which is unsupported") from None
    except Exception as exc:  # scipy raises many types on truncated/corrupt files
        raise GankitError(f"cannot read SVHN file {path} (truncated or corrupt .mat): {first_line(exc)}") from None
    if "X" not in mat or "y" not in mat:
        keys = ", ".join(k for k in mat if not k.startswith("__"))
        raise GankitError(f"{path} lacks the SVHN variables 'X' and 'y' (found: {keys or 'none'})")
    x, y = mat["X"], np.asarray(mat["y"]).reshape(-1)
    if x.ndim != 4 or x.shape[:3] != (32, 32, 3) or x.shape[3] != len(y):
        raise GankitError(
            f"{path} has X of shape {x.shape} and y of {len(y)} labels; expected X [32, 32, 3, N] and y [N, 1]"
        )
    if x.shape[3] == 0:
        raise GankitError(f"{path} holds no images")
    labels = class_labels(y, path, 11)  # 0..10: SVHN stores digit 0 as class 10
    labels[labels == 10] = 0
    images = np.ascontiguousarray(np.transpose(pixels_uint8(x, path), (3, 2, 0, 1)))
    return images, labels


@DATASETS.register("svhn", options=SVHNConfig)
def svhn(cfg: SVHNConfig) -> Dataset:
    """SVHN 32x32 colour digits scaled to [-1, 1] (train_32x32.mat / test_32x32.mat under data.root)."""
    if cfg.root is None:
        raise GankitError(f"dataset 'svhn' needs data.root=DIR, a folder holding {SVHN_FILES[cfg.split]} (no embedded "
                          f"copy): {_get_it(cfg.split)}")
    base = Path(cfg.root).expanduser()
    path = base / SVHN_FILES[cfg.split]
    if not path.is_file():
        raise GankitError(f"SVHN file not found: expected {path}; {_get_it(cfg.split)}")
    images, labels = read_svhn_mat(path)
    x = torch.from_numpy(images).float().div_(127.5).sub_(1.0)
    return Dataset("svhn", x, torch.from_numpy(labels), num_classes=10,
                   meta={"split": cfg.split, "source": str(path)})
