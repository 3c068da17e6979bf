"""Minibatch discrimination (practical-gan-guide.txt 4.3; Salimans et al. 2016).

Features f(x_i) in R^A are multiplied by a tensor T in R^{A x B x C}, giving
M_i in R^{B x C}. For each sample i and kernel b,
o(x_i)_b = sum_j exp(-||M_{i,b} - M_{j,b}||_1) over the n samples of the batch
(j = i included), and the layer outputs [f(x_i), o(x_i)] in R^{A+B}.
"""
from __future__ import annotations

import torch
from torch import nn


class MinibatchDiscrimination(nn.Module):
    """[n, A] -> [n, A + B]: the input features with B batch-closeness features appended."""

    def __init__(self, in_features: int, num_kernels: int = 128, kernel_dim: int = 5):
        super().__init__()
        self.in_features, self.B, self.C = in_features, num_kernels, kernel_dim
        # T is small at init so that exp(-L1) starts informative rather than all ~0
        self.T = nn.Parameter(torch.randn(in_features, num_kernels * kernel_dim) * 0.1)

    @property
    def out_features(self) -> int:
        return self.in_features + self.B

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        m = (f @ self.T).view(-1, self.B, self.C)  # [n, B, C]
        l1 = (m.unsqueeze(1) - m.unsqueeze(0)).abs().sum(-1)  # [n, n, B]: ||M_{i,b} - M_{j,b}||_1
        o = torch.exp(-l1).sum(1)  # [n, B]
        return torch.cat([f, o], dim=1)
