"""Binary neurons with the sigmoid-adjusted straight-through estimator (binarygan.txt 2.2-2.3).

For a real input ``x`` and slope ``s`` the *preactivated output* is ``p = sigma(s*x)``.

- deterministic binary neuron (DBN, eq. 6): ``u(p - 0.5)``, i.e. 1 where ``p > 0.5``;
- stochastic binary neuron (SBN, eq. 7): ``u(p - v)``, ``v ~ U[0, 1]``, i.e. Bernoulli(``p``).

Forward outputs are exactly 0.0 or 1.0. Backward replaces the derivative of the step
by that of the sigmoid: ``d out / d x = s * sigma'(s*x) = s * p * (1 - p)``. The slope is
annealed during training (binarygan.txt 4.2, "slope annealing trick"); note that a
positive slope does not move the DBN's threshold (``sigma(s*x) > 0.5`` iff ``x > 0``), so
for a DBN the slope changes the preactivated output and the backward pass only, while for
an SBN it also changes the firing rate.
"""
from __future__ import annotations

import torch
from torch import nn

MODES = ("dbn", "sbn")


class _SigmoidAdjustedST(torch.autograd.Function):
    """Hard 0/1 forward, gradient of ``sigma(slope*x)`` backward."""

    @staticmethod
    def forward(ctx, x, slope, stochastic: bool):
        p = torch.sigmoid(slope * x)
        if stochastic:
            hard = (p > torch.rand_like(p)).to(x.dtype)
        else:
            hard = (p > 0.5).to(x.dtype)
        ctx.save_for_backward(p, slope)
        return hard

    @staticmethod
    def backward(ctx, grad_out):
        p, slope = ctx.saved_tensors
        return grad_out * slope * p * (1 - p), None, None


def binary_neuron(x: torch.Tensor, slope: torch.Tensor | float = 1.0, stochastic: bool = False) -> torch.Tensor:
    """DBN (``stochastic=False``) or SBN output of ``x`` with the sigmoid-adjusted ST gradient."""
    slope = torch.as_tensor(slope, dtype=x.dtype, device=x.device)
    return _SigmoidAdjustedST.apply(x, slope, stochastic)


class BinaryNeuron(nn.Module):
    """Output activation ``dbn`` or ``sbn`` whose slope is a buffer (saved in ``state_dict``).

    The slope is read in every forward and backward pass, so annealing it
    (``set_slope``) changes what the layer computes.
    """

    def __init__(self, mode: str = "dbn", slope: float = 1.0):
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"binary neuron mode must be one of {MODES}, got {mode!r}")
        self.mode = mode
        self.register_buffer("slope", torch.tensor(float(slope)))

    def set_slope(self, value: float) -> None:
        self.slope.fill_(float(value))

    def preactivate(self, x: torch.Tensor) -> torch.Tensor:
        """The preactivated output ``sigma(slope*x)`` (what Figures 3-4 show)."""
        return torch.sigmoid(self.slope * x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _SigmoidAdjustedST.apply(x, self.slope.to(x.dtype), self.mode == "sbn")

    def extra_repr(self) -> str:
        return f"mode={self.mode}, slope={float(self.slope):.4g}"
