"""Networks of the symbolic autoencoder (symbolic-autoencoder.txt section 4).

The bi-net is two DCGAN-style encoders E0, E1 (convolutions with kernel 5 and
stride 2, ReLU, batch norm) whose last activation is l2 normalisation, so each
maps an image to a symbol on the unit sphere S^(m-1). The generator G maps a
symbol to an image with DCGAN-style transposed convolutions and tanh; it takes
no noise (section 3). ``net.z_dim`` is the symbol dimension m: G's input is the
symbol.

Registered as ``sae-dcgan``: the builder returns ``(G, BiNet)``. Unlike the
single-logit discriminators of the ``gan`` family, ``BiNet.forward(x, unit)``
returns unit ``unit``'s symbols [N, m]; only the ``sae`` family uses it.
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
class SAENetConfig(NetConfig):
    name: str = "sae-dcgan"
    z_dim: int = 16  # symbol dimension m (G's input is the symbol)
    width: int = 64  # channels of the first encoder conv / last generator deconv
    batchnorm: bool = True  # section 4: "stabilize gradient flow, though ... not strictly necessary"

    def validate(self) -> None:
        if self.z_dim < 2:
            raise GankitError(f"config key 'net.z_dim' (symbol dimension m) must be >= 2, got {self.z_dim}")
        if self.width < 1:
            raise GankitError(f"config key 'net.width' must be >= 1, got {self.width}")


def _norm(ch: int, on: bool) -> nn.Module:
    return nn.BatchNorm2d(ch) if on else nn.Identity()


def _size_after(size: int, n: int) -> int:
    """Spatial size after ``n`` convs with kernel 5, stride 2, padding 2."""
    for _ in range(n):
        size = (size - 1) // 2 + 1
    return size


class Encoder(nn.Module):
    """Image -> symbol on S^(m-1): conv5/2 blocks (ReLU, BN after the first), linear, l2 norm."""

    def __init__(self, channels: int, size: int, m: int, width: int = 64, batchnorm: bool = True):
        super().__init__()
        widths = [width, 2 * width, 4 * width]
        layers: list[nn.Module] = []
        cin = channels
        for i, w in enumerate(widths):
            layers += [nn.Conv2d(cin, w, 5, 2, 2, bias=not (batchnorm and i > 0))]
            if i > 0:  # DCGAN: no batch norm on the discriminator's input layer
                layers += [_norm(w, batchnorm)]
            layers += [nn.ReLU(inplace=True)]
            cin = w
        self.features = nn.Sequential(*layers, nn.Flatten())
        self.out = nn.Linear(cin * _size_after(size, len(widths)) ** 2, m)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.out(self.features(x)), dim=1)


class BiNet(nn.Module):
    """The bicameral network: encoders E0, E1 (``units``); ``forward(x, unit)`` -> that unit's symbols [N, m]."""

    def __init__(self, channels: int, size: int, m: int, width: int, batchnorm: bool):
        super().__init__()
        self.units = nn.ModuleList([Encoder(channels, size, m, width, batchnorm) for _ in range(2)])

    def forward(self, x: torch.Tensor, unit: int = 1) -> torch.Tensor:
        return self.units[unit](x)


class SymbolGenerator(nn.Module):
    """Symbol [N, m] -> image [N, C, size, size] in [-1, 1]: linear, deconv5/2 blocks, tanh."""

    def __init__(self, channels: int, size: int, m: int, width: int = 64, batchnorm: bool = True):
        super().__init__()
        n_up = 2
        self.start = _size_after(size, n_up)
        self.ch0 = 2 * width
        self.fc = nn.Sequential(nn.Linear(m, self.ch0 * self.start ** 2, bias=not batchnorm))
        self.norm0 = nn.BatchNorm1d(self.ch0 * self.start ** 2) if batchnorm else nn.Identity()
        self.size = size
        self.net = nn.Sequential(
            nn.ConvTranspose2d(self.ch0, width, 5, 2, 2, output_padding=1, bias=not batchnorm),
            _norm(width, batchnorm),
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(width, channels, 5, 2, 2, output_padding=1),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = F.relu(self.norm0(self.fc(z)))
        out = self.net(h.view(-1, self.ch0, self.start, self.start))
        if out.shape[-1] != self.size:  # odd sizes (e.g. 7 -> 14 -> 28 is exact; others crop)
            out = out[..., : self.size, : self.size]
        return out


@NETS.register("sae-dcgan", options=SAENetConfig)
def sae_dcgan(cfg: SAENetConfig, data) -> tuple[nn.Module, nn.Module]:
    """Symbolic autoencoder: symbol -> image generator and two l2-normalised encoders (SAE section 4)."""
    if data.kind != "image" or len(data.shape) != 3 or data.shape[1] != data.shape[2]:
        raise GankitError(f"net 'sae-dcgan' needs square images [C, H, H], got dataset shape {data.shape}")
    c, size, _ = data.shape
    G = SymbolGenerator(c, size, cfg.z_dim, cfg.width, cfg.batchnorm)
    encoders = BiNet(c, size, cfg.z_dim, cfg.width, cfg.batchnorm)
    return G, encoders


sae_dcgan.input_shape = (1, 28, 28)  # for `gankit list --nets` parameter counts
