"""Stacked MNIST: three MNIST digits as the three channels of one 28x28 image (1,000 modes).

The mode-collapse benchmark of Metz et al. 2017 (unrolled GANs), VEEGAN (Srivastava et al.
2017), PacGAN (Lin et al. 2018) and R3GAN (Huang et al. 2024): example ``i`` stacks the digits
``picks[i, 0..2]`` of the ``mnist`` dataset (the embedded 5,000, or the IDX files under
``data.root`` with ``data.split``: the same loader, :func:`gankit.data.mnist.mnist`), each
channel scaled to [-1, 1] as ``mnist`` is; its label is ``100 * d0 + 10 * d1 + d2``, one of 1,000
modes. The three digits are drawn independently and uniformly (with replacement) from the
source digits by a generator seeded with ``data.seed``, so the same options give the same set.

``data.size`` examples are held in memory as float32: 9,408 bytes each (3 x 28 x 28 x 4), i.e.
241 MB for the default 25,600 (VEEGAN's and PacGAN's training-set size), 1.9 GB for the
largest allowed, 200,000. The source digits stay with the dataset (``StackedDigits.digits``: 16 MB
for the embedded 5,000, 188 MB for the 60,000 IDX digits): the mode metric and the per-channel
IS/FID score each channel with the ``mnist`` digit classifier of that source
(:mod:`gankit.metrics.modes`); no classifier is ever trained on the 1,000 stacked classes.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from gankit.config import SEED_MAX
from gankit.data.base import Dataset
from gankit.data.mnist import MNISTConfig, mnist
from gankit.errors import GankitError
from gankit.registry import DATASETS

CHANNELS = 3
NUM_MODES = 10 ** CHANNELS  # 1,000
DEFAULT_SIZE = 25_600  # VEEGAN's / PacGAN's stacked training set
MAX_SIZE = 200_000  # 1.9 GB of float32 images


@dataclass
class StackedMNISTConfig(MNISTConfig):
    """Options of mnist-stacked: the source digits as ``mnist`` (``root``, ``split``), plus how many
    stacked examples (``size``) and which digits are combined (``seed``)."""

    name: str = "mnist-stacked"
    size: int = DEFAULT_SIZE  # stacked examples (9,408 bytes of float32 each)
    seed: int = 0  # which source digits are stacked (independent of train.seed)

    def validate(self) -> None:
        super().validate()
        if isinstance(self.size, bool) or not isinstance(self.size, int) or not 1 <= self.size <= MAX_SIZE:
            raise GankitError(f"config key 'data.size' must lie in 1..{MAX_SIZE:,d} (9,408 bytes an example), "
                              f"got {str(self.size)[:30]}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed <= SEED_MAX:
            raise GankitError(f"config key 'data.seed' must lie in 0..2^63-1, got {str(self.seed)[:30]}")


@dataclass
class StackedDigits(Dataset):
    """A dataset whose every channel is one digit of ``digits`` (the ``mnist`` dataset it was drawn
    from); ``picks`` [N, 3] are the source indices of each example's channels."""

    digits: Dataset | None = None
    picks: torch.Tensor | None = None


def stack_digits(digits: Dataset, size: int, seed: int) -> StackedDigits:
    """``size`` examples of three digits of ``digits`` ([M, 1, H, W] with labels 0..9) each."""
    if digits.y is None or tuple(digits.shape[:1]) != (1,) or digits.num_classes != 10:
        raise GankitError(f"stacked digits need a one-channel dataset of 10 classes, got '{digits.name}'")
    rng = np.random.default_rng(seed)
    picks = torch.from_numpy(rng.integers(0, len(digits), size=(size, CHANNELS), dtype=np.int64))
    _, h, w = digits.shape
    x = digits.x.index_select(0, picks.reshape(-1)).reshape(size, CHANNELS, h, w)
    d = digits.y[picks]  # [N, 3] the digit of each channel
    y = d[:, 0] * 100 + d[:, 1] * 10 + d[:, 2]
    return StackedDigits(f"{digits.name}-stacked", x.contiguous(), y, num_classes=NUM_MODES,
                         value_range=digits.value_range, meta={"size": size, "seed": seed},
                         digits=digits, picks=picks)


@DATASETS.register("mnist-stacked", options=StackedMNISTConfig)
def mnist_stacked(cfg: StackedMNISTConfig) -> StackedDigits:
    """Stacked MNIST: 3 digits as the channels of [N,3,28,28] in [-1, 1], 1,000 modes (data.size, data.seed)."""
    source = mnist(MNISTConfig(name="mnist", root=cfg.root, batch_size=cfg.batch_size, split=cfg.split))
    return stack_digits(source, cfg.size, cfg.seed)
