"""Differentiable augmentations of image batches [N, C, H, W].

- :func:`random_shift`: each image moved by its own integer offset, the border filled with the
  background. The SAE's two views (``model.augment``; not in symbolic-autoencoder.txt) and
  DiffAugment's translation use it.
- :func:`cutout`: each image loses one random square, filled with the background.
- :class:`DiffAugment`: "translation" and "cutout" of Zhao et al. 2020 (Differentiable
  Augmentation for Data-Efficient GAN Training), applied to real *and* fake images before D,
  in D's and G's steps, so D never sees an un-augmented image and G learns the un-augmented
  distribution. Both fill with the dataset's background value instead of DiffAugment's 0, so
  {0, 1} images stay in {0, 1} (binarygan) and digits keep a black border.

Every operation is a gather or a mask: gradients reach the input's kept pixels unchanged.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from gankit.config import DIFFAUG_POLICIES as POLICIES  # noqa: F401  (what model.diffaug may name)


def random_shift(x: torch.Tensor, max_shift: int, background: float) -> torch.Tensor:
    """Each image of ``x`` [N, C, H, W] moved by its own integer (dy, dx) in
    [-max_shift, max_shift]², with the uncovered border filled by ``background``."""
    if max_shift <= 0:
        return x
    n, c, h, w = x.shape
    s = max_shift
    padded = F.pad(x, (s, s, s, s), value=background)
    offsets = torch.randint(0, 2 * s + 1, (2, n), device=x.device)
    rows = (torch.arange(h, device=x.device) + offsets[0, :, None]).view(n, 1, h, 1).expand(n, c, h, w + 2 * s)
    out = padded.gather(2, rows)
    cols = (torch.arange(w, device=x.device) + offsets[1, :, None]).view(n, 1, 1, w).expand(n, c, h, w)
    return out.gather(3, cols)


def cutout_mask(n: int, h: int, w: int, size: int, device, centers: torch.Tensor | None = None) -> torch.Tensor:
    """[N, 1, H, W] bool, True inside each image's square of side ``size`` centred at
    ``centers`` [2, N] (row, column; default uniform over the image, so a square may be
    clipped by the border, as in DiffAugment)."""
    if centers is None:
        centers = torch.stack([torch.randint(0, h, (n,), device=device), torch.randint(0, w, (n,), device=device)])
    lo = centers - size // 2
    r = torch.arange(h, device=device).view(1, h, 1)
    c = torch.arange(w, device=device).view(1, 1, w)
    inside = ((r >= lo[0].view(n, 1, 1)) & (r < lo[0].view(n, 1, 1) + size)
              & (c >= lo[1].view(n, 1, 1)) & (c < lo[1].view(n, 1, 1) + size))
    return inside.unsqueeze(1)


def cutout(x: torch.Tensor, size: int, background: float) -> torch.Tensor:
    """Each image of ``x`` with one random ``size`` x ``size`` square set to ``background``."""
    if size <= 0:
        return x
    n, _, h, w = x.shape
    return x.masked_fill(cutout_mask(n, h, w, size, x.device), background)


class DiffAugment:
    """The DiffAugment policy ``policy`` (a tuple of :data:`POLICIES`) on [N, C, H, W] batches:
    translation by up to ``shift`` x the image size (DiffAugment: 1/8), cutout of a square of
    ``cutout`` x the image size (DiffAugment: 1/2). Each call draws new random parameters."""

    def __init__(self, policy: tuple[str, ...], shift: float, cutout: float, background: float):
        self.policy, self.shift, self.cutout, self.background = tuple(policy), shift, cutout, background

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        for op in self.policy:
            if op == "translation":
                x = random_shift(x, int(round(min(h, w) * self.shift)), self.background)
            elif op == "cutout":
                x = cutout(x, int(round(min(h, w) * self.cutout)), self.background)
        return x
