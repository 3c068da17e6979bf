"""The nets of practical-gan-guide.txt: its DCGAN (3.1.7), conditional DCGAN (2.7, 3.3)
and conditional WGAN-GP critic (5.1.2, 5.5, 5.6), for 32x32x3 and the 28x28x1 analogue.

``guide-dcgan`` generator: [z, one-hot c] -> Dense 4w*s*s, BN, ReLU -> transposed convs
(stride 2, BN, ReLU) doubling the size up to the image -> conv to the image channels,
tanh. The table writes stride 2 for the last layer too but its output shape (32, 32, 3)
needs stride 1, which is what we use. 32x32 starts at s=4 (three upsamplings, 4w, 2w, w
channels: 256, 128, 64 for w=64 as in the table); 28x28 starts at s=7 (two, 2w and w).

``guide-dcgan`` discriminator: three stride-2 convs (w, 2w, 4w; BN; LeakyReLU 0.2), then
- unconditional, no minibatch discrimination: one linear output (the table's 4x4 valid conv);
- conditional: flattened features ++ one-hot c -> Dense 256, LeakyReLU -> Dense 1 (3.3.1);
  ``cond_dense`` > 0 first squeezes the features through a small dense layer ("concatenate the
  condition to a poor neural layer, with a few neurons", 2.7); ``cond_at: input`` instead gives
  D the label as constant one-hot image channels, the guide's WGAN method (5.5);
- ``mbd``: Dense 256 -> minibatch discrimination (B, C) -> Dense 256 -> Dense 1 (4.3; dense
  layers before and after gave the guide its best results).
``vbn`` replaces the generator's batch norms by virtual batch norm (4.4) with a reference
batch of noise drawn once at construction; in a conditional net the reference batch takes
the current labels ("using the current labels with the same noise").

``guide-wgan``: the same generator; the critic gets the label as constant one-hot image
channels at its input (5.5), LayerNorm instead of BatchNorm (5.1.2) and a linear output
(no sigmoid: a Wasserstein critic is unbounded).

``kernel`` (3, 4 or 5) sets every convolution's kernel size (3.2).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from gankit.config import NetConfig
from gankit.data.base import Dataset
from gankit.errors import GankitError
from gankit.layers.minibatch import MinibatchDiscrimination
from gankit.layers.vbn import VirtualBatchNorm, reference_pass
from gankit.registry import NETS


@dataclass
class GuideNetConfig(NetConfig):
    name: str = "guide-dcgan"
    conditional: bool = False  # feed the class label to G and D (2.7, 3.3, 5.5)
    kernel: int = 5  # kernel size of every convolution (3.2)
    width: int = 64  # channels of the widest-resolution layer; the guide's tables use 64
    # D's (critic's) conv width apart from G's: 0 = ``width``, as in every table of the guide.
    # D is a small share of a step's cost (G's transposed convs run at the larger sizes), so a
    # wider D is a cheap way to a stronger one (docs/notes/stabilisers.md)
    d_width: int = 0
    # D's normalisation between its convolutions: "batch" (the guide's tables) or "none" (SNGAN's
    # D, paired with net.d_spectral_norm). Batch norm of a batch of only reals or only fakes
    # removes what the whole batch shares, such as how much ink every fake carries, so D cannot
    # see it (docs/notes/stabilisers.md)
    d_norm: str = "batch"
    dense: int = 256  # width of the discriminator's dense layers (conditional / mbd head)
    # 2.7: concatenate the label to "a poor layer, with a few neurons" so that it is not drowned
    # out (class leakage): >0 squeezes the flattened conv features to this many first; 0 = 3.3.1 table
    cond_dense: int = 0
    # where D sees the label: "dense" (2.7, 3.3.1) or "input" (constant one-hot channels, 5.5)
    cond_at: str = "dense"
    # G's label through a learned embedding of this many entries (BigGAN's class embedding,
    # Brock et al. 2019) instead of the one-hot: a low-rank label block, so that G's first layer
    # no longer grows with the number of classes (thousands of ``model.clusters``); 0 = one-hot
    g_embed: int = 0
    mbd: bool = False  # minibatch discrimination between the dense layers (4.3)
    mbd_b: int = 128  # B: number of minibatch kernels (features added)
    mbd_c: int = 5  # C: dimension of each kernel
    vbn: bool = False  # virtual batch norm in the generator (4.4)
    vbn_ref: int = 64  # size of the fixed reference batch

    def validate(self) -> None:
        if not 2 <= self.kernel <= 7:
            raise GankitError(f"config key 'net.kernel' must lie in 2..7, got {self.kernel}")
        if self.cond_at not in ("dense", "input"):
            raise GankitError(f"config key 'net.cond_at' must be dense or input, got '{self.cond_at}'")
        if self.cond_dense < 0:
            raise GankitError(f"config key 'net.cond_dense' must be >= 0, got {self.cond_dense}")
        if self.d_norm not in ("batch", "none"):
            raise GankitError(f"config key 'net.d_norm' must be batch or none, got '{str(self.d_norm)[:40]}'")
        if self.d_width < 0:
            raise GankitError(f"config key 'net.d_width' must be >= 0 (0 = net.width), got {self.d_width}")
        if self.g_embed < 0:
            raise GankitError(f"config key 'net.g_embed' must be >= 0 (0 = one-hot), got {self.g_embed}")
        for key in ("width", "dense", "mbd_b", "mbd_c", "vbn_ref"):
            if getattr(self, key) < 1:
                raise GankitError(f"config key 'net.{key}' must be >= 1, got {getattr(self, key)}")
        if self.name == "guide-wgan" and self.d_norm != "batch":
            raise GankitError("config key 'net.d_norm' sets the guide-dcgan discriminator's norm; the guide-wgan "
                              "critic keeps its per-sample LayerNorm (5.1.2)")
        if self.name == "guide-wgan" and self.mbd:
            raise GankitError("config key 'net.mbd' is not available with the guide-wgan critic")


def one_hot(y: torch.Tensor, num_classes: int, dtype=torch.float32) -> torch.Tensor:
    """[N] labels -> [N, K] one-hot; a *label set* [N, m] (m ids of one example, e.g. one
    cluster per channel, ``model.clusters_by=channel``) -> [N, K] multi-hot, m ones. Every
    conditional net (guide, binarygan-dcgan, scaled dcgan) conditions through this and
    :func:`conv_with_label_channels`, so each takes label sets."""
    if y.dim() == 2:
        return F.one_hot(y.long(), num_classes).sum(1).to(dtype)
    return F.one_hot(y.long(), num_classes).to(dtype)


def linear_with_label(fc: nn.Linear, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``fc(cat[z, one_hot(y)])`` without building the one-hot: a one-hot row picks one column
    of the label block of ``fc.weight`` (a label set: the sum of its ids' columns). Only the
    columns of the labels in the batch are read, so with many classes (``model.clusters``) the
    layer's cost no longer grows with K. The same parameters and maths as the concatenation,
    up to float rounding; the number of classes is ``fc``'s inputs beyond ``z``'s."""
    w = fc.weight
    labels = w[:, z.shape[1]:]  # [out, K]
    if y.dim() == 2:  # a label set: the sum of its ids' columns (multi-hot)
        share = labels[:, y.long()].sum(2).t()
    else:
        share = labels.index_select(1, y.long()).t()
    return F.linear(z, w[:, :z.shape[1]], fc.bias) + share


def label_channels(y: torch.Tensor, num_classes: int, height: int, width: int, dtype=torch.float32):
    """[N] labels -> [N, K, H, W]: channel k all ones where y = k, zeros elsewhere (5.5). The
    nets never build these channels (``conv_with_label_channels`` computes their conv per
    class); this is the definition that computation is tested against."""
    return one_hot(y, num_classes, dtype)[:, :, None, None].expand(-1, -1, height, width)


def _start_size(size: int) -> tuple[int, int]:
    """(s, u): the generator starts at s x s and doubles u times to reach ``size``."""
    for u in range(1, 8):
        s = size // 2 ** u
        if size % 2 ** u == 0 and 3 <= s <= 7:
            return s, u
    raise GankitError(f"guide nets need square images of size s*2^u with s in 3..7 (e.g. 28, 32), got {size}")


def _conv_t(cin: int, cout: int, k: int) -> nn.ConvTranspose2d:
    """Stride-2 transposed convolution that exactly doubles the spatial size for k = 3, 4, 5, ..."""
    pad = (k - 1) // 2
    return nn.ConvTranspose2d(cin, cout, k, stride=2, padding=pad, output_padding=(k % 2), bias=False)


def _same_conv(cin: int, cout: int, k: int) -> nn.Module:
    """Stride-1 convolution keeping the size (even kernels pad one more on the right/bottom)."""
    if k % 2:
        return nn.Conv2d(cin, cout, k, padding=k // 2)
    return nn.Sequential(nn.ZeroPad2d((k // 2 - 1, k // 2, k // 2 - 1, k // 2)), nn.Conv2d(cin, cout, k))


def _check_labels(y, conditional: bool, who: str):
    if conditional and y is None:
        raise GankitError(f"the conditional {who} needs class labels")


class GuideGenerator(nn.Module):
    """[z (, c)] -> image in [-1, 1] (3.1.7 / 3.3.1)."""

    def __init__(self, cfg: GuideNetConfig, data: Dataset, tanh: bool = True):
        super().__init__()
        c, h, w = data.shape
        if h != w:
            raise GankitError(f"guide nets need square images, got {h}x{w}")
        self.conditional, self.vbn = cfg.conditional, cfg.vbn
        self.tanh = tanh  # False: the last conv's logits (binary output neurons follow, nets/binarygan.py)
        s, u = _start_size(h)
        k, wd = cfg.kernel, cfg.width
        chans = [wd * 2 ** (u - 1 - i) for i in range(u)]  # 32x32: 4w, 2w, w; 28x28: 2w, w
        c0 = 4 * wd
        self.start = (c0, s)
        norm = VirtualBatchNorm if cfg.vbn else nn.BatchNorm2d
        if cfg.g_embed and not cfg.conditional:  # nothing to embed: say so rather than ignore it
            raise GankitError("config key 'net.g_embed' embeds G's label: it needs net.conditional=true "
                              "or model.clusters")
        # the label's entries of G's input: one-hot (K) or a learned embedding (net.g_embed)
        self.embed = nn.Embedding(data.num_classes, cfg.g_embed) if cfg.g_embed else None
        label_in = (cfg.g_embed or data.num_classes) if cfg.conditional else 0
        self.fc = nn.Linear(cfg.z_dim + label_in, c0 * s * s, bias=False)
        self.fc_norm = norm(c0)
        blocks, cin = [], c0
        for cout in chans:
            blocks += [_conv_t(cin, cout, k), norm(cout), nn.ReLU(True)]
            cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.out = _same_conv(cin, c, k)
        if cfg.vbn:
            self.register_buffer("ref_z", torch.randn(cfg.vbn_ref, cfg.z_dim))

    def _net(self, z, y):
        c0, s = self.start
        if self.embed is not None:  # a label set: the sum of its ids' embeddings
            e = self.embed(y.long())
            h = self.fc(torch.cat([z, e.sum(1) if y.dim() == 2 else e], dim=1))
        elif self.conditional:
            h = linear_with_label(self.fc, z, y)
        else:
            h = self.fc(z)
        x = F.relu(self.fc_norm(h.view(-1, c0, s, s)))
        out = self.out(self.blocks(x))
        return torch.tanh(out) if self.tanh else out

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        _check_labels(y, self.conditional, "generator")
        if self.vbn:
            ref_y = None
            if self.conditional:  # the reference noise with the current labels (4.4)
                ref_y = y[torch.arange(self.ref_z.shape[0], device=y.device) % y.shape[0]]
            with reference_pass(self):
                self._net(self.ref_z, ref_y)
        return self._net(z, y)


def _conv_stack(cin: int, width: int, k: int, norm) -> nn.Sequential:
    layers = []
    for cout in (width, 2 * width, 4 * width):
        layers += [nn.Conv2d(cin, cout, k, stride=2, padding=(k - 1) // 2), norm(cout), nn.LeakyReLU(0.2, True)]
        cin = cout
    return nn.Sequential(*layers)


def _taps_inside(size: int, kernel: int, stride: int, pad: int, dilation: int) -> torch.Tensor:
    """[out, kernel] 0/1: which taps of each output position of a conv along one axis of length
    ``size`` read inside the input (not the zero padding)."""
    out = (size + 2 * pad - dilation * (kernel - 1) - 1) // stride + 1
    at = torch.arange(out)[:, None] * stride - pad + torch.arange(kernel)[None] * dilation
    return ((at >= 0) & (at < size)).float()


def conv_with_label_channels(conv: nn.Conv2d, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``conv(cat[x, label_channels(y)])`` without building the K constant one-hot channels.
    A label channel is all ones, so its share of output position (i, j) is the sum of the
    kernel's taps that fall inside the image; the taps inside form a rectangle (rows inside x
    columns inside), so that share is ``R W C^T`` for the class's kernel W, with R and C the
    0/1 tap matrices of the two axes (:func:`_taps_inside`). Only the kernels of the labels in
    the batch are read: with many classes (``model.clusters``) the cost no longer grows with K
    (500 clusters: 22 -> 1.6 ms a call, docs/notes/stabilisers.md). The same parameters
    (checkpoints are unchanged) and maths as the concatenation, up to float rounding. The
    number of classes is the conv's input channels beyond ``x``'s."""
    if isinstance(conv.padding, str) or conv.groups != 1:
        raise GankitError("label channels need a conv with numeric padding and one group")
    w = conv.weight  # read once: one power iteration under spectral norm, as conv(x) does
    c = x.shape[1]
    out = F.conv2d(x, w[:, :c], conv.bias, conv.stride, conv.padding, conv.dilation)
    rows, cols = (_taps_inside(x.shape[2 + a], w.shape[2 + a], conv.stride[a], conv.padding[a], conv.dilation[a])
                  .to(x.device, w.dtype) for a in (0, 1))
    labels = w[:, c:]  # [out_ch, K, kh, kw]
    if y.dim() == 2:  # a label set: the channels of each of its ids are ones (multi-hot)
        kernels = labels[:, y.long()].sum(2)  # [out_ch, N, kh, kw]
    else:
        kernels = labels.index_select(1, y.long())
    return out + torch.einsum("iu,onuv,jv->noij", rows, kernels, cols)


def conv_stack_with_labels(convs: nn.Sequential, x: torch.Tensor, y: torch.Tensor | None):
    """``convs`` on ``x`` with label channels of ``y`` at its first conv (none when ``y`` is None)."""
    if y is None:
        return convs(x)
    return convs[1:](conv_with_label_channels(convs[0], x, y))


class GuideDiscriminator(nn.Module):
    """Strided convs with BN and LeakyReLU, then the (conditional / mbd) dense head (3.1.7, 3.3.1, 4.3)."""

    def __init__(self, cfg: GuideNetConfig, data: Dataset):
        super().__init__()
        c, h, w = data.shape
        self.conditional, self.num_classes = cfg.conditional, data.num_classes
        self.at_input = cfg.conditional and cfg.cond_at == "input"
        self.at_dense = cfg.conditional and not self.at_input
        cin = c + (data.num_classes if self.at_input else 0)
        norm = nn.BatchNorm2d if cfg.d_norm == "batch" else (lambda channels: nn.Identity())
        self.convs = _conv_stack(cin, cfg.d_width or cfg.width, cfg.kernel, norm)
        with torch.no_grad():
            flat = self.convs.eval()(torch.zeros(1, cin, h, w)).numel()
        self.convs.train()
        self.squeeze = nn.Identity()
        if self.at_dense and cfg.cond_dense:
            self.squeeze = nn.Sequential(nn.Linear(flat, cfg.cond_dense), nn.LeakyReLU(0.2, True))
            flat = cfg.cond_dense
        if not self.at_dense and not cfg.mbd:
            self.head = nn.Linear(flat, 1)
        else:
            cin = flat + (data.num_classes if self.at_dense else 0)
            layers = [nn.Linear(cin, cfg.dense), nn.LeakyReLU(0.2, True)]
            if cfg.mbd:
                mbd = MinibatchDiscrimination(cfg.dense, cfg.mbd_b, cfg.mbd_c)
                layers += [mbd, nn.Linear(mbd.out_features, cfg.dense), nn.LeakyReLU(0.2, True)]
            self.head = nn.Sequential(*layers, nn.Linear(cfg.dense, 1))

    def features(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """The flattened conv features the head reads [N, F] (InfoGAN's Q head shares them)."""
        _check_labels(y, self.conditional, "discriminator")
        h = conv_stack_with_labels(self.convs, x, y if self.at_input else None)
        f = self.squeeze(h.flatten(1))
        if self.at_dense:
            f = torch.cat([f, one_hot(y, self.num_classes, f.dtype)], dim=1)
        return f

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.features(x, y)).squeeze(1)


class GuideCritic(nn.Module):
    """WGAN-GP critic: label channels at the input, LayerNorm, linear output (5.1.2, 5.5, 5.6)."""

    def __init__(self, cfg: GuideNetConfig, data: Dataset):
        super().__init__()
        c, h, w = data.shape
        self.conditional, self.num_classes = cfg.conditional, data.num_classes
        cin = c + (data.num_classes if cfg.conditional else 0)
        # GroupNorm with one group = LayerNorm over (C, H, W) of each sample, per-channel affine
        self.convs = _conv_stack(cin, cfg.d_width or cfg.width, cfg.kernel, lambda ch: nn.GroupNorm(1, ch))
        with torch.no_grad():
            flat = self.convs(torch.zeros(1, cin, h, w)).numel()
        self.head = nn.Linear(flat, 1)  # the table's final 4x4 valid convolution

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        _check_labels(y, self.conditional, "critic")
        h = conv_stack_with_labels(self.convs, x, y if self.conditional else None)
        return self.head(h.flatten(1)).squeeze(1)


def _check_data(cfg: GuideNetConfig, data: Dataset) -> None:
    if data.kind != "image" or len(data.shape) != 3:
        raise GankitError(f"net '{cfg.name}' needs an image dataset, got '{data.name}' ({data.kind})")
    if cfg.conditional and (data.y is None or data.num_classes < 2):
        raise GankitError(f"net.conditional=true needs a labelled dataset; '{data.name}' has no classes")


@NETS.register("guide-dcgan", options=GuideNetConfig)
def guide_dcgan(cfg: GuideNetConfig, data: Dataset):
    """The guide's (conditional) DCGAN, kernel 3/4/5, optional minibatch discrimination and VBN."""
    _check_data(cfg, data)
    return GuideGenerator(cfg, data), GuideDiscriminator(cfg, data)


@NETS.register("guide-wgan", options=GuideNetConfig)
def guide_wgan(cfg: GuideNetConfig, data: Dataset):
    """The guide's (conditional) WGAN-GP pair: label channels and LayerNorm in the critic."""
    _check_data(cfg, data)
    return GuideGenerator(cfg, data), GuideCritic(cfg, data)
