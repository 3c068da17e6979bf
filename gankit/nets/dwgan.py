"""Single-hidden-layer nets of the Discrete Wasserstein GAN (dwgan.txt 3.2, Figure 1, appendix B).

Data are seen as ``cells`` categorical variables with ``classes`` values each
(:class:`CellView`): a tic-tac-toe board is m*m cells of P+1 classes; a binary
image is C*H*W cells of 2 classes (pixel off / on, section 5.2).

- ``dwgan-mlp``: generator + the pairwise critic h_w(y, y') of Figure 1.
- ``wgan-mlp``: the same generator + a standard critic f(x) for the section-2
  WGAN baseline (the relaxed softmax output goes straight into the critic). On
  continuous images (value range other than (0, 1)) the generator ends in tanh, so
  ``wgan-mlp`` is also the one-hidden-layer WGAN on continuous digits of 5.2.

Hidden widths default to the appendix's: 4x the generator's output size and 4x
the critic's input size.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from gankit.config import NetConfig
from gankit.errors import GankitError
from gankit.registry import NETS


@dataclass
class DWGANNetConfig(NetConfig):
    name: str = "dwgan-mlp"
    z_dim: int = 10  # appendix B: nz = 10
    g_hidden: int = 0  # 0 = 4 x (cells * classes), appendix B.1 weightsG
    d_hidden: int = 0  # 0 = 4 x (cells * classes) per critic sub-network, appendix B.1 weightsC
    softmax_scale: float = 7.0  # k in softmax(k x) (section 3.2); binary images: sigmoid(k x)
    reduce: str = "sum"  # pair critic: sum over cells (Figure 1) | mean (appendix B.2 MNIST code)

    def validate(self) -> None:
        if self.g_hidden < 0 or self.d_hidden < 0:
            raise GankitError("config keys 'net.g_hidden' and 'net.d_hidden' must be >= 0 (0 = 4x the data size)")
        if self.softmax_scale < 1:
            raise GankitError(f"config key 'net.softmax_scale' must be >= 1, got {self.softmax_scale}")
        if self.reduce not in ("sum", "mean"):
            raise GankitError(f"config key 'net.reduce' must be sum or mean, got '{self.reduce}'")


class CellView:
    """A dataset as categorical cells: boards [N, cells, K] one-hot, or binary images as 2-class cells."""

    def __init__(self, data):
        self.kind = data.kind
        self.shape = tuple(data.shape)
        if data.kind == "board":
            self.cells, self.classes = int(data.x.shape[1]), int(data.x.shape[2])
            self.categorical = True
        elif data.kind == "image":
            self.cells = 1
            for s in self.shape:
                self.cells *= int(s)
            self.classes = 2
            self.categorical = tuple(data.value_range) == (0.0, 1.0)  # {0, 1} pixels: binary
            self.value_range = tuple(data.value_range)
        else:
            raise GankitError(f"the dwgan nets cannot model dataset kind '{data.kind}'")

    @property
    def size(self) -> int:
        """Length of one flattened one-hot example (what a critic sub-network reads)."""
        return self.cells * self.classes if self.categorical else self.cells

    def to_cells(self, x: torch.Tensor) -> torch.Tensor:
        """Data-space batch -> class probabilities [N, cells, classes] (one-hot for real data)."""
        if self.kind == "board":
            return x
        p = x.reshape(x.shape[0], -1)
        return torch.stack([1 - p, p], dim=-1)

    def harden(self, x: torch.Tensor) -> torch.Tensor:
        """Round a relaxed (softmax / sigmoid) batch to discrete samples: argmax per cell."""
        if not self.categorical:
            return x
        if self.kind == "board":
            return F.one_hot(x.argmax(-1), self.classes).to(x.dtype)
        return (x >= 0.5).to(x.dtype)


def filter_u(y: torch.Tensor, y_gen: torch.Tensor) -> torch.Tensor:
    """u [N, cells]: 1 where the argmax-rounded generated cell differs from the real one (section 3.2)."""
    return (y.argmax(-1) != y_gen.argmax(-1)).to(y.dtype)


def _dense(n_in: int, n_out: int) -> nn.Linear:
    layer = nn.Linear(n_in, n_out)
    nn.init.xavier_uniform_(layer.weight)  # appendix: xavier weights, zero biases
    nn.init.zeros_(layer.bias)
    return layer


class CellGenerator(nn.Module):
    """z -> relu(dense) -> dense -> scaled softmax per cell (exp(k x), section 3.2); data space out.

    Boards: [N, cells, classes] probabilities. Binary images: sigmoid(k x), the two-class
    scaled softmax, as pixel-on probabilities [N, C, H, W]. Continuous images: tanh into the
    value range.
    """

    def __init__(self, view: CellView, z_dim: int, hidden: int, scale: float):
        super().__init__()
        self.view, self.scale = view, scale
        n_out = view.cells * view.classes if view.kind == "board" else view.cells
        self.net = nn.Sequential(_dense(z_dim, hidden or 4 * view.size), nn.ReLU(),
                                 _dense(hidden or 4 * view.size, n_out))

    def forward(self, z: torch.Tensor, y=None) -> torch.Tensor:
        x = self.net(z)
        v = self.view
        if v.kind == "board":
            return torch.softmax(self.scale * x.view(-1, v.cells, v.classes), dim=-1)
        if v.categorical:
            return torch.sigmoid(self.scale * x).view(-1, *v.shape)
        lo, hi = v.value_range
        return (torch.tanh(x) * (hi - lo) / 2 + (hi + lo) / 2).view(-1, *v.shape)


class CellCritic(nn.Module):
    """Standard WGAN critic f(x): one hidden layer on the flattened (relaxed) sample -> [N]."""

    def __init__(self, view: CellView, hidden: int):
        super().__init__()
        self.view = view
        self.net = nn.Sequential(_dense(view.size, hidden or 4 * view.size), nn.ReLU(),
                                 _dense(hidden or 4 * view.size, 1))

    def forward(self, x: torch.Tensor, y=None) -> torch.Tensor:
        if self.view.categorical:
            x = self.view.to_cells(x)
        return self.net(x.flatten(1)).squeeze(1)


class PairCritic(nn.Module):
    """h_w(y, y') = sgn * sum_i u_i tanh(dense([rho_top(a), rho_bottom(b)]))_i  (Figure 1).

    ``(a, b) = (y, y')`` or, for pairs drawn to swap, ``(y', y)`` with ``sgn = -1``
    (section 3.2: models h(y', y) = -h(y, y')). The filter u zeroes every cell where the
    rounded generated sample already equals the real one, so |h| <= Hamming distance (eq. 7).
    """

    def __init__(self, view: CellView, hidden: int, reduce: str = "sum"):
        super().__init__()
        if not view.categorical:
            raise GankitError("the pairwise DWGAN critic needs categorical data: a board dataset or binary images")
        self.view, self.reduce = view, reduce
        h = hidden or 4 * view.size
        self.top = _dense(view.size, h)
        self.bottom = _dense(view.size, h)
        self.fc = _dense(2 * h, view.cells)

    def forward(self, real: torch.Tensor, fake: torch.Tensor, swap: torch.Tensor | None = None) -> torch.Tensor:
        """h per pair [N]; ``swap`` bool [N] (True = inputs exchanged, sign flipped), random if None."""
        y, y_gen = self.view.to_cells(real), self.view.to_cells(fake)
        u = filter_u(y, y_gen)
        if swap is None:
            swap = torch.rand(y.shape[0], device=y.device) < 0.5
        s = swap.view(-1, 1, 1)
        a, b = torch.where(s, y_gen, y), torch.where(s, y, y_gen)
        hidden = torch.cat([F.relu(self.top(a.flatten(1))), F.relu(self.bottom(b.flatten(1)))], dim=1)
        v = torch.tanh(self.fc(hidden))
        h = (u * v).sum(1) if self.reduce == "sum" else (u * v).mean(1)
        return torch.where(swap, -h, h)


@NETS.register("dwgan-mlp", options=DWGANNetConfig)
def dwgan_mlp(cfg: DWGANNetConfig, data):
    """DWGAN: one-hidden-layer generator with scaled softmax + pairwise critic h_w (Figure 1)."""
    view = CellView(data)
    return (CellGenerator(view, cfg.z_dim, cfg.g_hidden, cfg.softmax_scale),
            PairCritic(view, cfg.d_hidden, cfg.reduce))


@NETS.register("wgan-mlp", options=DWGANNetConfig)
def wgan_mlp(cfg: DWGANNetConfig, data):
    """The same generator + a one-hidden-layer critic f(x) (the section-2 WGAN baseline)."""
    view = CellView(data)
    return CellGenerator(view, cfg.z_dim, cfg.g_hidden, cfg.softmax_scale), CellCritic(view, cfg.d_hidden)
