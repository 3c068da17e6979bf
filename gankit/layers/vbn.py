"""Virtual batch normalization (practical-gan-guide.txt 4.4; Salimans et al. 2016).

A reference batch is fixed at the start of training. Each forward first runs the
reference batch through the network (the *reference pass*): every VBN layer
normalises it with its own statistics and remembers them. The current batch is
then normalised with the statistics of reference ∪ current: the mean is
subtracted and the result divided by the standard deviation (the guide's own
notebook forgot the subtraction), then scaled and shifted by learned gamma, beta.
"""
from __future__ import annotations

from contextlib import contextmanager

import torch
from torch import nn


class VirtualBatchNorm(nn.Module):
    """Per-channel VBN for [N, C] or [N, C, H, W] inputs."""

    def __init__(self, num_features: int, eps: float = 1e-5):
        super().__init__()
        self.num_features, self.eps = num_features, eps
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.collecting = False
        self._ref: tuple[torch.Tensor, torch.Tensor, int] | None = None

    @staticmethod
    def _moments(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, int]:
        dims = [0] + list(range(2, x.dim()))
        count = x.numel() // x.shape[1]
        return x.mean(dims), (x * x).mean(dims), count

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean, sq, n = self._moments(x)
        if self.collecting:
            self._ref = (mean, sq, n)
        elif self._ref is None:
            raise RuntimeError("VirtualBatchNorm used before a reference pass (see reference_pass)")
        else:
            # statistics of the union reference ∪ current, weighted by element counts
            r_mean, r_sq, r_n = self._ref
            w = r_n / (r_n + n)
            mean = w * r_mean + (1 - w) * mean
            sq = w * r_sq + (1 - w) * sq
        var = (sq - mean * mean).clamp_min(0.0)
        shape = (1, -1) + (1,) * (x.dim() - 2)
        y = (x - mean.view(shape)) / torch.sqrt(var.view(shape) + self.eps)
        return y * self.weight.view(shape) + self.bias.view(shape)


@contextmanager
def reference_pass(module: nn.Module):
    """Within this block every VBN layer of ``module`` takes (and keeps) the batch's own statistics."""
    layers = [m for m in module.modules() if isinstance(m, VirtualBatchNorm)]
    for m in layers:
        m.collecting = True
    try:
        yield
    finally:
        for m in layers:
            m.collecting = False
