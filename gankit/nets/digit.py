"""The network pairs of digit-gans.txt, Appendix A (Tables A.1-A.11).

Conventions shared by every table (the tables leave these open):

* D returns raw logits / critic values, shape [N]. The tables' final
  "FC (1), Sigmoid" is folded into the loss (BCE-with-logits, ``gankit.losses``).
* Convolutions use 'same'-style padding (as the paper's TensorFlow code does), so a
  stride-2 conv halves the size rounding up (28 -> 14 -> 7 -> 4). Where a table's
  Flatten size disagrees with its own convs we follow the convs and say so in
  the builder's docstring. Transposed convs are 'same' (out = in * stride) unless
  the table needs 'valid' (out = (in - 1) * stride + kernel) to reach its output
  size; CROP(n) is slicing n pixels off every border.
* A layer directly followed by BN has no bias (BN's shift makes it redundant);
  every other layer has one. Weights start Glorot-uniform with zero biases, the
  Keras defaults of the paper's code.
* LeakyReLU slope 0.2 and Dropout 0.3 (section 3.1). SNGAN's D wraps every conv and
  linear layer in spectral normalization (section 2.1.5) with a persistent
  power-iteration vector (one iteration per training forward pass).
* ``net.width`` scales every hidden channel count and hidden FC width
  (``max(1, round(c * width))``); image channels and the final FC(1) stay.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from gankit.config import NetConfig
from gankit.errors import GankitError
from gankit.layers.dropout import Dropout
from gankit.registry import NETS

LRELU_SLOPE = 0.2


# ---------------------------------------------------------------- options
@dataclass
class DigitNetConfig(NetConfig):
    """Options of the digit-gans nets: ``width`` scales all hidden channel counts."""

    width: float = 1.0

    def validate(self) -> None:
        if not 0 < self.width <= 16:
            raise GankitError(f"config key 'net.width' must lie in (0, 16], got {self.width}")


@dataclass
class DropoutNetConfig(DigitNetConfig):
    """Options of the nets whose D has Dropout layers (Tables A.1-A.4, A.8)."""

    dropout: float = 0.3  # section 3.1

    def validate(self) -> None:
        super().validate()
        if not 0 <= self.dropout < 1:
            raise GankitError(f"config key 'net.dropout' must lie in [0, 1), got {self.dropout}")


@dataclass
class FastDCGANConfig(DropoutNetConfig):
    """Table A.1 at a fraction of its width, for a few-minute CPU demo."""

    name: str = "dcgan-mnist-fast"
    width: float = 0.375  # 7.8M vs 53M multiply-adds per image (G + D), ~5x faster steps on CPU


# ---------------------------------------------------------------- layers
class Reshape(nn.Module):
    def __init__(self, *shape: int):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.view(x.shape[0], *self.shape)

    def extra_repr(self) -> str:
        return "x".join(map(str, self.shape))


class Crop(nn.Module):
    """Keras ``Cropping2D(n)``: drop ``n`` pixels from each border."""

    def __init__(self, n: int):
        super().__init__()
        self.n = n

    def forward(self, x):
        n = self.n
        return x[..., n:-n, n:-n]

    def extra_repr(self) -> str:
        return str(self.n)


class Pad(nn.Module):
    """Pad ``n`` pixels of constant ``value`` on each border."""

    def __init__(self, n: int, value: float):
        super().__init__()
        self.n, self.value = n, value

    def forward(self, x):
        return nn.functional.pad(x, (self.n,) * 4, value=self.value)

    def extra_repr(self) -> str:
        return f"{self.n}, value={self.value}"


class SequentialGenerator(nn.Module):
    """A stack of layers, z [N, z_dim] -> images [N, C, H, W]; ``y`` is ignored (unconditional)."""

    def __init__(self, *layers: nn.Module):
        super().__init__()
        self.net = nn.Sequential(*layers)

    def forward(self, z, y=None):
        return self.net(z)


class SequentialDiscriminator(nn.Module):
    """A stack of layers, images [N, C, H, W] -> logits / critic values [N]; ``y`` is ignored."""

    def __init__(self, *layers: nn.Module):
        super().__init__()
        self.net = nn.Sequential(*layers)

    def forward(self, x, y=None):
        return self.net(x).reshape(-1)


# ---------------------------------------------------------------- blocks
def _act(name: str | None) -> list[nn.Module]:
    acts = {"relu": nn.ReLU, "tanh": nn.Tanh, "lrelu": lambda: nn.LeakyReLU(LRELU_SLOPE)}
    return [acts[name]()] if name else []


@torch.no_grad()
def _init(layer: nn.Module, sn: bool = False) -> nn.Module:
    """Glorot-uniform weight, zero bias (the Keras defaults of the paper's code), then
    optionally spectral normalization (initialised on the final weight)."""
    nn.init.xavier_uniform_(layer.weight)
    if layer.bias is not None:
        layer.bias.zero_()
    return spectral_norm(layer) if sn else layer


def fc(n_in: int, n_out: int, bn: bool = False, act: str | None = None, sn: bool = False) -> list[nn.Module]:
    """FC (n_out)[, BN][, act]."""
    return [_init(nn.Linear(n_in, n_out, bias=not bn), sn)] + ([nn.BatchNorm1d(n_out)] if bn else []) + _act(act)


def convt(c_in: int, c_out: int, k: int, s: int, mode: str = "same", crop: int = 0, bn: bool = False,
          act: str | None = None) -> list[nn.Module]:
    """CONVT (c_out, k, s)[, CROP(crop)][, BN][, act]; ``mode`` 'same' gives out = in*s,
    'valid' gives out = (in-1)*s + k."""
    if mode == "same":
        pad = (k - s + 1) // 2  # 2*pad - out_pad = k - s with 0 <= out_pad < s
        out_pad = 2 * pad - (k - s)
    else:
        pad = out_pad = 0
    layers = [_init(nn.ConvTranspose2d(c_in, c_out, k, s, padding=pad, output_padding=out_pad, bias=not bn))]
    if crop:
        layers.append(Crop(crop))
    return layers + ([nn.BatchNorm2d(c_out)] if bn else []) + _act(act)


def conv(c_in: int, c_out: int, k: int, s: int, bn: bool = False, pool: bool = False, act: str | None = "lrelu",
         dropout: float = 0.0, sn: bool = False) -> list[nn.Module]:
    """CONV (c_out, k, s)[, BN][, AvgPool][, LReLU][, Dropout], 'same' padding."""
    if s == 1 and k % 2 == 0:
        # 'same' for an even kernel pads one more pixel after than before (as Keras does)
        pad, extra = 0, [nn.ZeroPad2d(((k - 1) // 2, k // 2) * 2)]
    else:
        pad, extra = (k - 1) // 2, []
    layers = extra + [_init(nn.Conv2d(c_in, c_out, k, s, padding=pad, bias=not bn), sn)]
    layers += [nn.BatchNorm2d(c_out)] if bn else []
    layers += [nn.AvgPool2d(2)] if pool else []
    layers += _act(act)
    layers += [Dropout(dropout)] if dropout > 0 else []  # nn.Dropout's maths, faster mask (bench)
    return layers


# ---------------------------------------------------------------- registration
def image_net(name: str, shape: tuple[int, int, int], options: type):
    """Register ``fn(cfg, width_fn, channels, data) -> (G, D)`` as net ``name`` taking images of ``shape``."""

    def deco(fn):
        @functools.wraps(fn)
        def builder(cfg, data):
            if data.kind != "image" or tuple(data.shape) != shape:
                what = "" if data.kind == "image" else f" {data.kind} data of shape"
                raise GankitError(f"net '{name}' takes {'x'.join(map(str, shape))} images, "
                                  f"dataset '{data.name}' has{what} {'x'.join(map(str, data.shape))}")
            width = getattr(cfg, "width", 1.0)

            def w(c: int) -> int:
                return max(1, round(c * width))

            return fn(cfg, w, shape[0], data)

        builder.input_shape = shape
        NETS.register(name, options=options)(builder)
        return builder

    return deco


# ---------------------------------------------------------------- shared stacks
def dcgan_mnist_g(z, w, c):
    """Table A.1 / A.10-style G: FC(7*7*256) -> 7x7 -> 7 -> 14 -> 28."""
    return SequentialGenerator(
        *fc(z, w(256) * 49, bn=True, act="relu"), Reshape(w(256), 7, 7),
        *convt(w(256), w(128), 3, 1, bn=True, act="relu"),
        *convt(w(128), w(64), 3, 2, bn=True, act="relu"),
        *convt(w(64), c, 3, 2, act="tanh"),
    )


def dcgan_mnist_d(w, c, dropout):
    """Table A.1/A.3 D: 28 -> 14 -> 7 -> 4, Flatten(512*4*4 = 8192), FC(1)."""
    return SequentialDiscriminator(
        *conv(c, w(128), 3, 2, bn=True, dropout=dropout),
        *conv(w(128), w(256), 3, 2, bn=True, dropout=dropout),
        *conv(w(256), w(512), 3, 2, bn=True, dropout=dropout),
        nn.Flatten(), *fc(w(512) * 16, 1),
    )


def fcc_mnist_g(z, w, c):
    """Table A.2/A.3/A.8 G: FC(64) ReLU, FC(512) ReLU, FC(1152) BN (no activation, as the
    table says), 3x3 -> 7 ('valid') -> 14 -> 28 ('same')."""
    return SequentialGenerator(
        *fc(z, w(64), act="relu"), *fc(w(64), w(512), act="relu"),
        *fc(w(512), w(128) * 9, bn=True), Reshape(w(128), 3, 3),
        *convt(w(128), w(64), 3, 2, mode="valid", bn=True, act="relu"),
        *convt(w(64), w(32), 3, 2, bn=True, act="relu"),
        *convt(w(32), c, 3, 2, act="tanh"),
    )


def fcc_mnist_d(w, c, dropout):
    """Table A.2/A.8 D: 28 -> 14 -> 7 -> 4, Flatten(128*4*4 = 2048), FC 512-64-16-1."""
    return SequentialDiscriminator(
        *conv(c, w(32), 3, 2, bn=True, dropout=dropout),
        *conv(w(32), w(64), 3, 2, bn=True, dropout=dropout),
        *conv(w(64), w(128), 3, 2, bn=True, dropout=dropout),
        nn.Flatten(), *fc(w(128) * 16, w(512), act="lrelu"), *fc(w(512), w(64), act="lrelu"),
        *fc(w(64), w(16), act="lrelu"), *fc(w(16), 1),
    )


def fcc_svhn_head(z, w):
    """FC(64) ReLU, FC(512) ReLU, FC(4096) BN, Reshape(4, 4, 256) (Tables A.5, A.9)."""
    return [*fc(z, w(64), act="relu"), *fc(w(64), w(512), act="relu"),
            *fc(w(512), w(256) * 16, bn=True), Reshape(w(256), 4, 4)]


def wgan_clip_g(z, w, c):
    """Tables A.6/A.7 G: FCC head to 3x3x128, then 'valid' CONVT 3 -> 7 -> 15 -> 32."""
    return [
        *fc(z, w(64), act="relu"), *fc(w(64), w(512), act="relu"),
        *fc(w(512), w(128) * 9, bn=True), Reshape(w(128), 3, 3),
        *convt(w(128), w(64), 3, 2, mode="valid", bn=True, act="relu"),
        *convt(w(64), w(32), 3, 2, mode="valid", bn=True, act="relu"),
        *convt(w(32), c, 4, 2, mode="valid", act="tanh"),
    ]


def wgan_clip_d(w, c):
    """Tables A.6/A.7 D: 32 -> 16 -> 8 -> 4, Flatten(1024*4*4 = 16384), FC(1)."""
    return [
        *conv(c, w(256), 4, 2, bn=True), *conv(w(256), w(512), 4, 2, bn=True),
        *conv(w(512), w(1024), 4, 2, bn=True), nn.Flatten(), *fc(w(1024) * 16, 1),
    ]


def svhn_pool_d(w, c, widths, dropout=0.0):
    """Tables A.4/A.9 D convs: CONV(k4, s1), BN, AvgPool, LReLU[, Dropout]: 32 -> 16 -> 8 -> 4."""
    a, b, d = (w(x) for x in widths)
    return [
        *conv(c, a, 4, 1, bn=True, pool=True, dropout=dropout),
        *conv(a, b, 4, 1, bn=True, pool=True, dropout=dropout),
        *conv(b, d, 4, 1, bn=True, pool=True, dropout=dropout), nn.Flatten(),
    ]


def fc_tail(n_in, w, sn=False):
    """FC 512-64-16 with LReLU, then FC(1)."""
    return [*fc(n_in, w(512), act="lrelu", sn=sn), *fc(w(512), w(64), act="lrelu", sn=sn),
            *fc(w(64), w(16), act="lrelu", sn=sn), *fc(w(16), 1, sn=sn)]


# ---------------------------------------------------------------- MNIST (1x28x28)
MNIST = (1, 28, 28)
SVHN = (3, 32, 32)


@image_net("dcgan-mnist", MNIST, DropoutNetConfig)
def dcgan_mnist(cfg, w, c, data):
    """Table A.1: plain DCGAN (FC-reshape-CONVT G, conv-BN-LReLU-Dropout D).

    The table's "Flatten (3072)" contradicts its own convs: 512 channels at 4x4
    give 8192 (the figure Table A.3 lists for the same D); we use 8192.
    """
    return dcgan_mnist_g(cfg.z_dim, w, c), dcgan_mnist_d(w, c, cfg.dropout)


@image_net("dcgan-mnist-fast", MNIST, FastDCGANConfig)
def dcgan_mnist_fast(cfg, w, c, data):
    """Table A.1 at width 0.375 (~7x fewer multiply-adds, ~5x faster CPU steps): the demo net."""
    return dcgan_mnist_g(cfg.z_dim, w, c), dcgan_mnist_d(w, c, cfg.dropout)


@image_net("fccgan-mnist", MNIST, DropoutNetConfig)
def fccgan_mnist(cfg, w, c, data):
    """Table A.2: FCC-GAN (FC layers before the CONVT stack of G and after the convs of D).

    G's first CONVT is 'valid' (3 -> 7) so that two 'same' CONVTs reach 28. The
    table's "Flatten (1152)" (= 3x3x128, G's reshape) contradicts D's convs,
    which give 128x4x4 = 2048; we use 2048.
    """
    return fcc_mnist_g(cfg.z_dim, w, c), fcc_mnist_d(w, c, cfg.dropout)


@image_net("fccg-mnist", MNIST, DropoutNetConfig)
def fccg_mnist(cfg, w, c, data):
    """Table A.3: FCC generator (as A.2) with the plain DCGAN discriminator (as A.1)."""
    return fcc_mnist_g(cfg.z_dim, w, c), dcgan_mnist_d(w, c, cfg.dropout)


@image_net("wgan-clip-mnist", MNIST, DigitNetConfig)
def wgan_clip_mnist(cfg, w, c, data):
    """Table A.6: WGAN-CLIP nets (32x32 in the table), fitted to 28x28 MNIST.

    G runs the table's layers to 32x32 and crops 2 pixels per border to 28x28;
    D pads its 28x28 input by 2 pixels of the background value (the data range's
    low end) back to 32x32, so every layer and parameter count is the table's.
    The table's "Flatten (4096)" contradicts its convs (1024x4x4 = 16384) and it
    lists no output layer; we add the FC(1) its "Output: (1)" needs.
    """
    lo = float(data.value_range[0])
    G = SequentialGenerator(*wgan_clip_g(cfg.z_dim, w, c), Crop(2))
    D = SequentialDiscriminator(Pad(2, lo), *wgan_clip_d(w, c))
    return G, D


@image_net("wgangp-mnist", MNIST, DropoutNetConfig)
def wgangp_mnist(cfg, w, c, data):
    """Table A.8: WGAN-GP on the FCC-GAN nets of Table A.2 (critic output FC(1), linear).

    Same Flatten discrepancy as A.2 (table 1152, convs 2048). D keeps the table's
    BN although a gradient penalty on a batch-normalised critic is only
    approximately per-sample.
    """
    return fcc_mnist_g(cfg.z_dim, w, c), fcc_mnist_d(w, c, cfg.dropout)


@image_net("sngan-mnist", MNIST, DigitNetConfig)
def sngan_mnist(cfg, w, c, data):
    """Table A.10: SNGAN (spectral-normalised D without BN; G with LReLU, linear output).

    Flatten 128x7x7 = 6272 as the table says. G has no output activation in
    the table and stays linear.
    """
    G = SequentialGenerator(
        *fc(cfg.z_dim, w(256) * 49, bn=True, act="lrelu"), Reshape(w(256), 7, 7),
        *convt(w(256), w(128), 5, 1, bn=True, act="lrelu"),
        *convt(w(128), w(64), 5, 2, bn=True, act="lrelu"),
        *convt(w(64), c, 5, 2),
    )
    D = SequentialDiscriminator(
        *conv(c, w(64), 5, 2, sn=True), *conv(w(64), w(128), 5, 2, sn=True),
        nn.Flatten(), *fc(w(128) * 49, 1, sn=True),
    )
    return G, D


# ---------------------------------------------------------------- SVHN (3x32x32)
@image_net("dcgan-svhn", SVHN, DropoutNetConfig)
def dcgan_svhn(cfg, w, c, data):
    """Table A.4: DCGAN with average pooling in D (conv stride 1 + AvgPool 2).

    The table's "Flatten (3072)" contradicts its convs (512x4x4 = 8192); we use 8192.
    """
    G = SequentialGenerator(
        *fc(cfg.z_dim, w(256) * 16, bn=True, act="relu"), Reshape(w(256), 4, 4),
        *convt(w(256), w(128), 4, 2, bn=True, act="relu"),
        *convt(w(128), w(64), 4, 2, bn=True, act="relu"),
        *convt(w(64), c, 4, 2, act="tanh"),
    )
    D = SequentialDiscriminator(*svhn_pool_d(w, c, (128, 256, 512), cfg.dropout), *fc(w(512) * 16, 1))
    return G, D


@image_net("fccgan-svhn", SVHN, DigitNetConfig)
def fccgan_svhn(cfg, w, c, data):
    """Table A.5: FCC-GAN for SVHN (D without Dropout, section 3.1).

    The table's last CONVT has stride 3, which cannot map 16x16 to 32x32
    (16*3 = 48); we use stride 2 as in Table A.4 (same parameter count).
    """
    G = SequentialGenerator(
        *fcc_svhn_head(cfg.z_dim, w),
        *convt(w(256), w(128), 4, 2, bn=True, act="relu"),
        *convt(w(128), w(64), 4, 2, bn=True, act="relu"),
        *convt(w(64), c, 4, 2, act="tanh"),
    )
    D = SequentialDiscriminator(
        *conv(c, w(64), 4, 2, bn=True), *conv(w(64), w(128), 4, 2, bn=True),
        *conv(w(128), w(256), 4, 2, bn=True), nn.Flatten(), *fc_tail(w(256) * 16, w),
    )
    return G, D


@image_net("wgan-clip-svhn", SVHN, DigitNetConfig)
def wgan_clip_svhn(cfg, w, c, data):
    """Table A.7: WGAN-CLIP nets for SVHN (those of A.6 with 3 channels).

    The table's last CONVT says 1 channel but its output is 32x32x3; we output 3.
    Same Flatten discrepancy (4096 vs 16384) and missing FC(1) as A.6.
    """
    return SequentialGenerator(*wgan_clip_g(cfg.z_dim, w, c)), SequentialDiscriminator(*wgan_clip_d(w, c))


@image_net("wgangp-svhn", SVHN, DigitNetConfig)
def wgangp_svhn(cfg, w, c, data):
    """Table A.9: WGAN-GP for SVHN ('valid' CONVT + CROP(1) in G, pooled convs in D).

    The last CONVT uses 'same' padding, which equals 'valid' + CROP(1) (34 -> 32).
    D's table ends at FC(16); we add the FC(1) its "Output: (1)" needs.
    """
    G = SequentialGenerator(
        *fcc_svhn_head(cfg.z_dim, w),
        *convt(w(256), w(128), 4, 2, mode="valid", crop=1, bn=True, act="relu"),
        *convt(w(128), w(64), 4, 2, mode="valid", crop=1, bn=True, act="relu"),
        *convt(w(64), c, 4, 2, act="tanh"),
    )
    D = SequentialDiscriminator(*svhn_pool_d(w, c, (64, 128, 256)), *fc_tail(w(256) * 16, w))
    return G, D


@image_net("sngan-svhn", SVHN, DigitNetConfig)
def sngan_svhn(cfg, w, c, data):
    """Table A.11: SNGAN for SVHN (spectral-normalised D, linear G output).

    The table's G rows are garbled ("CONVT (128, 4, 2), BN, ReLU / CROP(1), BN,
    ReLU / CONVT (3, 4, 2) / CROP(1)" cannot reach 32x32); we read them as
    Table A.9's stack: CONVT(128)+CROP(1), CONVT(64)+CROP(1), CONVT(3)+CROP(1),
    4 -> 8 -> 16 -> 32. FC(64) and FC(512) have no activation in the table and
    get none. D's "Flatten (1024)" contradicts its 'same' convs (256x4x4 = 4096);
    we use 4096.
    """
    G = SequentialGenerator(
        *fc(cfg.z_dim, w(64)), *fc(w(64), w(512)),
        *fc(w(512), w(256) * 16, bn=True), Reshape(w(256), 4, 4),
        *convt(w(256), w(128), 4, 2, mode="valid", crop=1, bn=True, act="relu"),
        *convt(w(128), w(64), 4, 2, mode="valid", crop=1, bn=True, act="relu"),
        *convt(w(64), c, 4, 2, mode="valid", crop=1),
    )
    D = SequentialDiscriminator(
        *conv(c, w(64), 4, 2, sn=True), *conv(w(64), w(128), 4, 2, sn=True),
        *conv(w(128), w(256), 4, 2, sn=True), nn.Flatten(), *fc_tail(w(256) * 16, w, sn=True),
    )
    return G, D
