"""Image grids written as PNG with Pillow (the sample sheets of digit-gans.txt section 3)."""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
from PIL import Image

from gankit.errors import GankitError
from gankit.io import atomic_write


def grid_array(images, nrow: int | None = None, pad: int = 2, pad_value: int = 128) -> np.ndarray:
    """Tile uint8 images [N, H, W] or [N, H, W, 3] into one uint8 array.

    ``nrow`` images per row (default ceil(sqrt(N))); ``pad`` pixels of
    ``pad_value`` (mid-gray: visible on black digits and on white) around every
    image, so the grid is nrow*(W+pad)+pad wide.
    """
    if hasattr(images, "detach"):
        images = images.detach().cpu().numpy()
    a = np.asarray(images)
    if a.dtype == np.bool_:
        a = a.astype(np.uint8) * 255
    if a.dtype != np.uint8:
        raise GankitError(f"grid images must be uint8 (see Dataset.to_uint8), got {a.dtype}")
    if a.ndim == 4 and a.shape[-1] == 1:
        a = a[..., 0]
    if not (a.ndim == 3 or (a.ndim == 4 and a.shape[-1] == 3)) or a.shape[0] == 0:
        raise GankitError(f"grid images must be [N, H, W] or [N, H, W, 3] with N >= 1, got shape {a.shape}")
    if pad < 0:
        raise GankitError(f"grid pad must be >= 0, got {pad}")
    n, h, w = a.shape[:3]
    nrow = nrow or math.ceil(math.sqrt(n))
    if nrow < 1:
        raise GankitError(f"grid nrow must be >= 1, got {nrow}")
    nrow = min(nrow, n)
    rows = math.ceil(n / nrow)
    out = np.full((rows * (h + pad) + pad, nrow * (w + pad) + pad) + a.shape[3:], pad_value, np.uint8)
    for i in range(n):
        r, c = divmod(i, nrow)
        top, left = pad + r * (h + pad), pad + c * (w + pad)
        out[top:top + h, left:left + w] = a[i]
    return out


MIN_SIDE = 512  # pixels: small grids (28x28 digits, 3x3 boards) are enlarged to about this


def square_grid(n: int, columns: int | None = None) -> tuple[int, int]:
    """(images, columns) of a full square grid: ``columns`` x ``columns`` when given (conditional
    runs: one column per class), else the largest square of at most ``n`` (at least 1x1)."""
    side = columns if columns else max(1, math.isqrt(max(n, 1)))
    return side * side, side


def upscale(arr: np.ndarray, min_side: int = MIN_SIDE) -> np.ndarray:
    """Enlarge by the smallest whole factor that makes the longer side >= ``min_side`` (nearest
    neighbour: every pixel becomes a block, so nothing is blurred); larger arrays are returned as is."""
    factor = max(1, math.ceil(min_side / max(arr.shape[0], arr.shape[1], 1)))
    return arr if factor == 1 else arr.repeat(factor, axis=0).repeat(factor, axis=1)


def write_png(arr: np.ndarray, path: str | Path) -> Path:
    """Write a uint8 [H, W] or [H, W, 3] array as a PNG at ``path`` (atomically); returns the path."""
    path = Path(path)
    image = Image.fromarray(arr)
    return atomic_write(path, lambda fh: image.save(fh, format="PNG"), what="image grid")


def save_grid(images, path: str | Path, nrow: int | None = None, pad: int = 2, pad_value: int = 128,
              min_side: int = MIN_SIDE) -> Path:
    """Write :func:`grid_array` of ``images``, enlarged by :func:`upscale` to ``min_side``
    (0: as is), as a PNG at ``path``; returns the path."""
    return write_png(upscale(grid_array(images, nrow=nrow, pad=pad, pad_value=pad_value), min_side), path)
