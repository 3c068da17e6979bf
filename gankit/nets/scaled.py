"""A DCGAN whose depth follows the image size (Radford et al. 2016, "Unsupervised
Representation Learning with Deep Convolutional GANs", section 3 and Figure 1).

G projects [z (, one-hot label)] to a 4x4 map and doubles it with stride-2 transposed
convolutions (kernel 4, batch norm, ReLU) up to the image side; the last one outputs the image
channels through tanh. D mirrors it: stride-2 convolutions (kernel 4, LeakyReLU 0.2, batch norm
from the second on, as the paper) down to 4x4, then one linear output. A side of 32 has three
stride-2 blocks on each side, 64 four, 128 five: each doubling adds one block. Channels are
``width`` at the largest feature map and double per halving, capped at 8 x width (the paper's
64x64 net is width 128: 1024-512-256-128).

Section 3's other rules: weights from N(0, 0.02), no pooling, no hidden fully connected
layers. ``d_norm: none`` drops D's batch norm, the usual pairing with ``net.d_spectral_norm``
and the hinge loss (Miyato et al. 2018). A conditional pair (``net.conditional``; also what
``model.clusters`` builds) gives G the one-hot label with z and D the label as constant
one-hot input channels (practical-gan-guide 5.5, computed per class as ``nets/guide.py`` does).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from gankit.config import NetConfig
from gankit.data.base import Dataset
from gankit.errors import GankitError
from gankit.nets.guide import conv_with_label_channels, linear_with_label
from gankit.registry import NETS

SIDES = (8, 16, 32, 64, 128, 256)  # 4 x 2^u: the nets start (G) and end (D) at 4x4


@dataclass
class ScaledDCGANConfig(NetConfig):
    """Options of the size-following DCGAN."""

    name: str = "dcgan"
    width: int = 64  # channels of the largest feature map (x2 per halving, at most 8x)
    conditional: bool = False  # labels into G (one-hot with z) and D (input channels)
    d_norm: str = "batch"  # batch | none: D's normalisation between convolutions

    def validate(self) -> None:
        if self.width < 1:
            raise GankitError(f"config key 'net.width' must be >= 1, got {self.width}")
        if self.d_norm not in ("batch", "none"):
            raise GankitError(f"config key 'net.d_norm' must be batch or none, got '{self.d_norm[:40]}'")


def blocks_for(side: int) -> int:
    """Stride-2 blocks between 4x4 and ``side`` (32 -> 3, 64 -> 4, 128 -> 5)."""
    return side.bit_length() - 3


def channels_at(res: int, side: int, width: int) -> int:
    """Channels of a feature map of side ``res`` in a net for images of ``side``."""
    return width * min(8, side // (2 * res))


@torch.no_grad()
def _init(net: nn.Module) -> nn.Module:
    """Section 3: every conv and linear weight from N(0, 0.02), biases zero."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                m.bias.zero_()
    return net


class ScaledGenerator(nn.Module):
    """[z (, label)] -> 4x4 -> ... -> side x side image in [-1, 1]."""

    def __init__(self, cfg: ScaledDCGANConfig, data: Dataset):
        super().__init__()
        c, side, _ = data.shape
        self.conditional = cfg.conditional
        self.c0 = channels_at(4, side, cfg.width)
        self.project = nn.Linear(cfg.z_dim + (data.num_classes if cfg.conditional else 0), self.c0 * 16, bias=False)
        self.project_norm = nn.BatchNorm2d(self.c0)
        layers, cin, res = [], self.c0, 4
        for _ in range(blocks_for(side) - 1):
            res *= 2
            cout = channels_at(res, side, cfg.width)
            layers += [nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True)]
            cin = cout
        layers += [nn.ConvTranspose2d(cin, c, 4, 2, 1), nn.Tanh()]
        self.blocks = nn.Sequential(*layers)
        _init(self)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.conditional:
            if y is None:
                raise GankitError("the conditional generator needs class labels")
            h = linear_with_label(self.project, z, y)
        else:
            h = self.project(z)
        x = F.relu(self.project_norm(h.view(-1, self.c0, 4, 4)))
        return self.blocks(x)


class ScaledDiscriminator(nn.Module):
    """side x side image (, label channels) -> ... -> 4x4 -> one logit per image [N]."""

    def __init__(self, cfg: ScaledDCGANConfig, data: Dataset):
        super().__init__()
        c, side, _ = data.shape
        self.conditional = cfg.conditional
        cin, res, layers = c + (data.num_classes if cfg.conditional else 0), side, []
        for i in range(blocks_for(side)):
            res //= 2
            cout = channels_at(res, side, cfg.width)
            norm = i > 0 and cfg.d_norm == "batch"  # no batch norm on D's input layer (section 3)
            layers += [nn.Conv2d(cin, cout, 4, 2, 1, bias=not norm)]
            layers += [nn.BatchNorm2d(cout)] if norm else []
            layers += [nn.LeakyReLU(0.2, True)]
            cin = cout
        self.convs = nn.Sequential(*layers)
        self.head = nn.Linear(cin * 16, 1)
        _init(self)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.conditional:
            if y is None:
                raise GankitError("the conditional discriminator needs class labels")
            h = self.convs[1:](conv_with_label_channels(self.convs[0], x, y))
        else:
            h = self.convs(x)
        return self.head(h.flatten(1)).squeeze(1)


@NETS.register("dcgan", options=ScaledDCGANConfig)
def dcgan(cfg: ScaledDCGANConfig, data: Dataset):
    """Radford et al.'s DCGAN for square images of side 8..256, one stride-2 block per doubling."""
    shape = tuple(data.shape)
    if data.kind != "image" or len(shape) != 3 or shape[1] != shape[2] or shape[1] not in SIDES:
        raise GankitError(f"net 'dcgan' takes square images of side {', '.join(map(str, SIDES))}; dataset "
                          f"'{data.name}' has {'x'.join(map(str, shape))} (folder data: set data.size)")
    if cfg.conditional and (data.y is None or data.num_classes < 2):
        raise GankitError(f"net.conditional=true needs a labelled dataset; '{data.name}' has no classes "
                          "(a folder has labels when its images lie in class sub-folders)")
    return ScaledGenerator(cfg, data), ScaledDiscriminator(cfg, data)


dcgan.input_shape = (3, 32, 32)  # what `gankit list --nets` counts parameters at
