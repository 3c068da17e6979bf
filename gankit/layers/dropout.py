"""Dropout with the same distribution as ``nn.Dropout``, sampled faster on CPU.

``nn.Dropout`` draws its mask with ``bernoulli_``, which on CPU costs ~2.5x a
``rand`` of the same size (and was ~15% of a digit-gans Table A.1 training step,
``gankit bench``). Here an element is kept when a U[0, 1) draw is below
``1 - p`` -- the same Bernoulli(1 - p) mask -- and kept elements are scaled by
``1 / (1 - p)`` (inverted dropout, as ``nn.Dropout``). Identity in eval mode.
"""
from __future__ import annotations

import torch
from torch import nn


class Dropout(nn.Dropout):
    """Drop-in ``nn.Dropout`` (same options, same state dict, same maths)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        if self.p == 1:
            return x * 0
        keep = 1.0 - self.p
        mask = torch.rand_like(x).lt_(keep).mul_(1.0 / keep)
        if self.inplace:
            return x.mul_(mask)
        return x * mask
