"""BinaryGAN networks for 28x28 binarized MNIST (binarygan.txt Tables 1-4).

``binarygan-mlp``: G z -> dense 1024 (BN, ReLU) -> dense 784 -> output neurons;
D 784 -> 512 -> 256 -> 1 with LeakyReLU (Tables 1-2).
``binarygan-cnn``: G transposed convs 128 (2x2, s1), 64 (4x4, s2), 32 (3x3, s2) with BN
and ReLU, then 1 (4x4, s2) -> output neurons, 1x1 -> 2 -> 6 -> 13 -> 28 (Table 3);
D conv 32 (3x3) + maxpool, conv 64 (3x3) + maxpool, dense 128, dense 1 (Table 4).

``net.output`` picks the generator's output neurons: ``dbn`` / ``sbn`` (binary neurons,
section 3) or ``sigmoid`` (the real-valued model, section 4.4). BN is always used in G's
hidden layers; ``net.d_bn`` adds it to D (Figure 8 compares both). D returns one logit
(or critic value) per example; the loss applies the sigmoid where the objective needs one.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from gankit.config import NetConfig
from gankit.errors import GankitError
from gankit.layers.binary import BinaryNeuron
from gankit.nets.guide import GuideDiscriminator, GuideGenerator, GuideNetConfig
from gankit.registry import NETS

OUTPUTS = ("dbn", "sbn", "sigmoid")
LRELU = 0.2  # TensorFlow's default negative slope, as in the authors' code


@dataclass
class BinaryGANNetConfig(NetConfig):
    name: str = "binarygan-mlp"
    z_dim: int = 128
    output: str = "dbn"  # dbn | sbn | sigmoid (real-valued model)
    d_bn: bool = False  # batch norm in the discriminator
    out_bn: bool = False  # batch norm on G's output preactivations (the released code had it)

    def validate(self) -> None:
        if self.output not in OUTPUTS:
            raise GankitError(f"config key 'net.output' must be one of {', '.join(OUTPUTS)}, got '{self.output}'")


class SigmoidOutput(nn.Module):
    """Real-valued output neurons: the probability itself (section 4.4)."""

    def preactivate(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(x)


def output_layer(kind: str) -> nn.Module:
    return SigmoidOutput() if kind == "sigmoid" else BinaryNeuron(kind)


class BinaryGANGenerator(nn.Module):
    """``body`` maps z to output logits [N,1,28,28]; ``out``, the output neurons, binarizes them
    (or applies sigmoid)."""

    def __init__(self, body: nn.Module, out: nn.Module, z_dim: int):
        super().__init__()
        self.body, self.out, self.z_dim = body, out, z_dim

    def logits(self, z: torch.Tensor, y=None) -> torch.Tensor:
        # y: a label for a body that takes one (binarygan-dcgan under model.clusters)
        return (self.body(z) if y is None else self.body(z, y)).view(-1, 1, 28, 28)

    def preactivated(self, z: torch.Tensor, y=None) -> torch.Tensor:
        """sigma(slope*x): the real values right before binarization (Figures 3-4)."""
        return self.out.preactivate(self.logits(z, y))

    def forward(self, z: torch.Tensor, y=None) -> torch.Tensor:
        return self.out(self.logits(z, y))


class BinaryGANDiscriminator(nn.Module):
    """``net`` maps images to one logit (or critic value) each, returned as [N]."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor, y=None) -> torch.Tensor:
        return self.net(x).view(-1)


def _bn(on: bool, n: int, conv: bool = False) -> list[nn.Module]:
    if not on:
        return []
    return [nn.BatchNorm2d(n) if conv else nn.BatchNorm1d(n)]


def _check_data(data) -> None:
    if tuple(data.shape) != (1, 28, 28):
        raise GankitError(f"binarygan nets need 1x28x28 images, dataset '{data.name}' has shape {data.shape}")


@NETS.register("binarygan-mlp", options=BinaryGANNetConfig)
def mlp(cfg: BinaryGANNetConfig, data):
    """BinaryGAN MLP pair (Tables 1-2): G 1024 -> 784, D 512 -> 256 -> 1."""
    _check_data(data)
    body = nn.Sequential(
        nn.Linear(cfg.z_dim, 1024), nn.BatchNorm1d(1024), nn.ReLU(),
        nn.Linear(1024, 784), *_bn(cfg.out_bn, 784),
    )
    d = nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 512), *_bn(cfg.d_bn, 512), nn.LeakyReLU(LRELU),
        nn.Linear(512, 256), *_bn(cfg.d_bn, 256), nn.LeakyReLU(LRELU),
        nn.Linear(256, 1),
    )
    return BinaryGANGenerator(body, output_layer(cfg.output), cfg.z_dim), BinaryGANDiscriminator(d)


@NETS.register("binarygan-cnn", options=BinaryGANNetConfig)
def cnn(cfg: BinaryGANNetConfig, data):
    """BinaryGAN CNN pair (Tables 3-4): transposed convs 1->2->6->13->28; conv/maxpool D."""
    _check_data(data)
    body = nn.Sequential(
        nn.Unflatten(1, (cfg.z_dim, 1, 1)),
        nn.ConvTranspose2d(cfg.z_dim, 128, 2, 1), nn.BatchNorm2d(128), nn.ReLU(),  # 2x2
        nn.ConvTranspose2d(128, 64, 4, 2), nn.BatchNorm2d(64), nn.ReLU(),  # 6x6
        nn.ConvTranspose2d(64, 32, 3, 2), nn.BatchNorm2d(32), nn.ReLU(),  # 13x13
        nn.ConvTranspose2d(32, 1, 4, 2), *_bn(cfg.out_bn, 1, conv=True),  # 28x28
    )
    d = nn.Sequential(
        nn.Conv2d(1, 32, 3), *_bn(cfg.d_bn, 32, conv=True), nn.LeakyReLU(LRELU),  # 26x26
        nn.MaxPool2d(2, 2),  # 13x13
        nn.Conv2d(32, 64, 3), *_bn(cfg.d_bn, 64, conv=True), nn.LeakyReLU(LRELU),  # 11x11
        nn.MaxPool2d(2, 2, ceil_mode=True),  # 6x6 ('same' padding in the released code)
        nn.Flatten(),
        nn.Linear(64 * 6 * 6, 128), *_bn(cfg.d_bn, 128), nn.LeakyReLU(LRELU),
        nn.Linear(128, 1),
    )
    return BinaryGANGenerator(body, output_layer(cfg.output), cfg.z_dim), BinaryGANDiscriminator(d)


mlp.input_shape = cnn.input_shape = (1, 28, 28)  # `gankit list --nets` counts parameters on this shape


@dataclass
class BinaryDCGANConfig(GuideNetConfig):
    name: str = "binarygan-dcgan"
    width: int = 16
    output: str = "dbn"  # dbn | sbn | sigmoid, as binarygan-mlp/-cnn

    def validate(self) -> None:
        super().validate()
        if self.output not in OUTPUTS:
            raise GankitError(f"config key 'net.output' must be one of {', '.join(OUTPUTS)}, got '{self.output}'")
        if self.conditional or self.vbn:  # (model.clusters conditions it on clusters itself)
            raise GankitError("net 'binarygan-dcgan' is unconditional and without VBN")


@NETS.register("binarygan-dcgan", options=BinaryDCGANConfig)
def dcgan(cfg: BinaryDCGANConfig, data):
    """The guide's DCGAN pair (practical-gan-guide 3.1.7, as ``guide-dcgan``) with BinaryGAN's
    output neurons (binarygan.txt 3.1) in place of tanh: G's last conv gives the logits, DBN/SBN
    binarize them; not a table of the binarygan paper (issue 17's fast binary recipe)."""
    _check_data(data)
    body = GuideGenerator(cfg, data, tanh=False)
    return BinaryGANGenerator(body, output_layer(cfg.output), cfg.z_dim), GuideDiscriminator(cfg, data)
