"""Your own images: every PNG/JPEG file under ``data.root``, read with Pillow.

Labels: when every image lies in a sub-folder of ``data.root`` and there are at least two
such sub-folders, each sub-folder is a class (sorted by name: the first is class 0), so the
conditional presets work; otherwise the images are unlabelled (``y`` None, ``num_classes`` 0,
as the board datasets). Images are converted to grayscale or RGB (``data.channels`` 1 or 3),
centre-cropped to a square (the shorter side) and resized to ``data.size`` (32, 64 or 128;
Lanczos, which antialiases a reduction), then scaled to [-1, 1] for tanh generators. Camera
JPEGs are turned upright first (their EXIF orientation).

The folder is checked once, before anything is trained: no images, a file Pillow cannot
identify or decode (truncated or corrupt), an image too large to decode, and a folder that
mixes grayscale and colour files are each one ``GankitError`` line naming the file.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gankit.config import DataConfig
from gankit.data.base import Dataset
from gankit.errors import GankitError, first_line
from gankit.registry import DATASETS

SIZES = (32, 64, 128)
CHANNELS = (1, 3)
EXTENSIONS = (".png", ".jpg", ".jpeg")
MAX_BYTES = 8 * 2**30  # the float tensor of the whole folder stays below this
# Pillow modes without colour; every other mode (RGB, RGBA, P, CMYK, YCbCr, ...) is colour
GRAY_MODES = {"1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N", "F"}


@dataclass
class FolderConfig(DataConfig):
    """Options of a folder of PNG/JPEG images (``data.root``: the folder)."""

    name: str = "folder"
    channels: int = 3  # 1: grayscale, 3: RGB
    size: int = 32  # the side of the square images the nets see

    def validate(self) -> None:
        if self.size not in SIZES:
            raise GankitError(f"config key 'data.size' must be 32, 64 or 128, got {self.size}")
        if self.channels not in CHANNELS:
            raise GankitError(f"config key 'data.channels' must be 1 (grayscale) or 3 (RGB), got {self.channels}")


def image_files(root: Path) -> list[Path]:
    """Every PNG/JPEG file under ``root`` (hidden files and folders skipped), sorted by path."""
    found = []
    for here, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [Path(here) / f for f in files if not f.startswith(".") and f.lower().endswith(EXTENSIONS)]
    return sorted(found)


def class_folders(root: Path, files: list[Path]) -> tuple[list[str], list[int]] | None:
    """(class names, label of each file) when every file lies in one of >= 2 sub-folders of ``root``."""
    tops = [f.relative_to(root).parts for f in files]
    if any(len(p) < 2 for p in tops):
        return None
    classes = sorted({p[0] for p in tops})
    if len(classes) < 2:
        return None
    index = {c: i for i, c in enumerate(classes)}
    return classes, [index[p[0]] for p in tops]


def _problem(files_bad: list[tuple[Path, str]]) -> GankitError:
    path, why = files_bad[0]
    more = f" (and {len(files_bad) - 1} more files with problems)" if len(files_bad) > 1 else ""
    return GankitError(f"{path}: {why}{more}; fix or remove it (nothing was trained)")


def _modes(files: list[Path]) -> dict[Path, str]:
    """Each file's Pillow mode, read from its header; a file Pillow cannot identify is refused."""
    from PIL import Image, UnidentifiedImageError

    modes, bad = {}, []
    for f in files:
        try:
            with Image.open(f) as im:
                modes[f] = im.mode
        except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
            bad.append((f, f"not a readable PNG/JPEG image ({first_line(exc)[:120]})"))
    if bad:
        raise _problem(bad)
    return modes


def _check_one_kind(modes: dict[Path, str]) -> None:
    """A folder of grayscale files or of colour files, not both (a mix is usually a mistake)."""
    gray = [f for f, m in modes.items() if m in GRAY_MODES]
    colour = [f for f, m in modes.items() if m not in GRAY_MODES]
    if gray and colour:
        odd, usual = (gray, colour) if len(gray) <= len(colour) else (colour, gray)
        raise GankitError(f"{odd[0]}: mode {modes[odd[0]]} but {usual[0]} is {modes[usual[0]]}: the folder mixes "
                          f"grayscale and colour images ({len(gray)} and {len(colour)}); convert them to one kind "
                          "(data.channels picks what the nets see)")


def _read(path: Path, channels: int, size: int) -> np.ndarray:
    """One image as uint8 [size, size, channels]: upright, converted, centre-cropped, resized."""
    from PIL import Image, ImageOps

    with Image.open(path) as im:
        im.load()  # decodes the whole file: a truncated one raises here
        im = ImageOps.exif_transpose(im)
        im = im.convert("L" if channels == 1 else "RGB")
    w, h = im.size
    side = min(w, h)
    left, top = (w - side) // 2, (h - side) // 2
    im = im.crop((left, top, left + side, top + side)).resize((size, size), Image.Resampling.LANCZOS)
    arr = np.asarray(im, dtype=np.uint8)
    return arr[:, :, None] if arr.ndim == 2 else arr


def read_folder(root: str | Path, channels: int, size: int) -> tuple[np.ndarray, np.ndarray | None, list[str], list[Path]]:
    """uint8 images [N, C, size, size], int64 labels [N] (None if unlabelled), class names and
    files of the folder, after checking every file (the module docstring lists the checks)."""
    from PIL import Image

    base = Path(root).expanduser()
    if not base.is_dir():
        raise GankitError(f"data.root {base} is not a folder" if base.exists() else f"data folder not found: {base}")
    files = image_files(base)
    if not files:
        raise GankitError(f"no PNG or JPEG images under {base} (looked for {', '.join(EXTENSIONS)} in it and its "
                          "sub-folders)")
    need = len(files) * channels * size * size * 4
    if need > MAX_BYTES:
        raise GankitError(f"{len(files):,d} images of {channels}x{size}x{size} take {need / 2**30:.1f} GiB as floats, "
                          f"more than the {MAX_BYTES // 2**30} GiB gankit holds in memory: use a smaller data.size "
                          "or fewer images")
    _check_one_kind(_modes(files))
    images, bad = np.empty((len(files), size, size, channels), np.uint8), []
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)  # a huge image is refused, not decoded
        for i, f in enumerate(files):
            try:
                images[i] = _read(f, channels, size)
            except (OSError, ValueError, SyntaxError, Image.DecompressionBombError,
                    Image.DecompressionBombWarning) as exc:
                bad.append((f, f"cannot decode the image (truncated or corrupt: {first_line(exc)[:120]})"))
    if bad:
        raise _problem(bad)
    classes = class_folders(base, files)
    labels = np.asarray(classes[1], np.int64) if classes else None
    return np.ascontiguousarray(images.transpose(0, 3, 1, 2)), labels, classes[0] if classes else [], files


@DATASETS.register("folder", options=FolderConfig)
def folder(cfg: FolderConfig) -> Dataset:
    """Your PNG/JPEG images under data.root (class sub-folders become labels), resized to data.size."""
    if cfg.root is None:
        raise GankitError("dataset 'folder' needs data.root=DIR: the folder of your PNG/JPEG images "
                          "(class sub-folders, if any, become labels)")
    images, labels, classes, files = read_folder(cfg.root, cfg.channels, cfg.size)
    x = torch.from_numpy(images).float().div_(127.5).sub_(1.0)
    y = torch.from_numpy(labels) if labels is not None else None
    return Dataset("folder", x, y, num_classes=len(classes),
                   meta={"root": str(Path(cfg.root).expanduser()), "classes": classes, "files": len(files)})
