"""What a GAN's G and D are conditioned on: the family's *label source* (``GAN.labels``).

- :class:`NoLabels`: an unconditional GAN.
- :class:`ClassLabels`: a conditional GAN on the dataset's classes (``net.conditional``;
  practical-gan-guide 3.3, Mirza & Osindero 2014).
- :class:`ClusterLabels`: self-conditioning (Liu et al. 2020): k-means clusters of the training
  images stand in for classes (``model.clusters``); users see an unconditional model.
- :class:`ChannelClusterLabels`: the same, each channel clustered apart (``model.clusters_by:
  channel``), for images whose channels are independent digits (``mnist-stacked``).

Each answers the same four questions: which nets to build (:meth:`LabelSource.build_nets`), what a
real batch is conditioned on (:meth:`~LabelSource.real`), what G's training fakes are
(:meth:`~LabelSource.fake`) and what ``generate`` draws (:meth:`~LabelSource.generate`).
"""
from __future__ import annotations

import dataclasses

import torch
from torch import nn

from gankit.config import Config
from gankit.data.base import Dataset
from gankit.errors import GankitError
from gankit.nets import build_nets

MAX_CONDITIONAL_CLASSES = 100  # mnist-stacked's 1,000 modes train unconditionally


class LabelSource(nn.Module):
    """No labels: G and D are unconditional (the base every source overrides)."""

    #: users pass class labels to ``generate`` and get one grid column and share per class
    conditional: bool = False

    def build_nets(self, cfg_net, data: Dataset) -> tuple[nn.Module, nn.Module]:
        """(G, D) of ``cfg_net`` for ``data``, conditional on what this source labels."""
        return build_nets(cfg_net, data)

    def real(self, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor | None:
        """What G and D are conditioned on for the real batch ``x`` (dataset labels ``y``)."""
        return None

    def fake(self, n: int, device: torch.device) -> torch.Tensor | None:
        """The labels of ``n`` training fakes (drawn from the global RNG)."""
        return None

    def generate(self, n: int, labels: torch.Tensor | None, device: torch.device) -> torch.Tensor | None:
        """The labels of ``n`` samples of ``generate(n, labels)``."""
        return None


class NoLabels(LabelSource):
    """An unconditional GAN."""


class ClassLabels(LabelSource):
    """A conditional GAN: real batches keep their class, fakes get uniform random classes, and
    ``generate`` takes the user's labels (default: the classes in turn, 0, 1, ..., k-1, 0, ...)."""

    conditional = True

    def __init__(self, data: Dataset):
        super().__init__()
        if data.num_classes > MAX_CONDITIONAL_CLASSES:
            # grids and balanced evaluations have one column/share per class: 1,000 classes -> 10^6 images
            raise GankitError(f"net.conditional=true takes datasets of at most {MAX_CONDITIONAL_CLASSES} classes; "
                              f"'{data.name}' has {data.num_classes} (train it unconditionally)")
        self.num_classes = data.num_classes

    def real(self, x, y):
        return y

    def fake(self, n, device):
        return torch.randint(0, self.num_classes, (n,), device=device)

    def generate(self, n, labels, device):
        return torch.arange(n, device=device) % self.num_classes if labels is None else labels


class ClusterLabels(LabelSource):
    """Self-conditioning without labels (Liu et al. 2020, "Diverse Image Generation via
    Self-Conditioned GANs", 3): k-means clusters of the training images stand in for class
    labels. G and D are conditioned on a real image's cluster (its nearest centroid) as a
    conditional GAN is on its class, and G's clusters are drawn with the clusters' shares of the
    data, so the sample distribution still matches the data's; ``generate`` draws them too (users
    pass no labels). Clustered once, in pixel space (the paper re-clusters D's features; on 28x28
    digits pixel k-means is cheap and fixed). The centroids and counts are buffers: checkpoints
    hold them, so a resumed run is exact."""

    def __init__(self, x: torch.Tensor, k: int, seed: int, iters: int = 30):
        super().__init__()
        centroids, counts = kmeans(x.reshape(len(x), -1).float(), k, seed, iters)
        self.register_buffer("centroids", centroids)
        self.register_buffer("counts", counts)

    @property
    def k(self) -> int:
        return self.centroids.shape[0]

    def assign(self, x: torch.Tensor) -> torch.Tensor:
        """The nearest centroid of each image of ``x`` [N, ...] (int64 [N])."""
        return nearest(x.reshape(len(x), -1).to(self.centroids.dtype), self.centroids)

    def sample(self, n: int) -> torch.Tensor:
        """``n`` cluster ids drawn with the clusters' shares of the training data (global RNG)."""
        return torch.multinomial(self.counts.float(), n, replacement=True)

    @property
    def num_labels(self) -> int:
        """Width of the one-hot label (the nets' number of classes)."""
        return self.k

    def build_nets(self, cfg_net, data):
        # conditional nets, built as on a dataset whose labels the clusters are
        view = dataclasses.replace(data, y=self.assign(data.x), num_classes=self.num_labels)
        return build_nets(dataclasses.replace(cfg_net, conditional=True), view)

    def real(self, x, y):
        return self.assign(x)

    def fake(self, n, device):
        return self.sample(n).to(device)

    def generate(self, n, labels, device):
        return self.sample(n).to(device)


class ChannelClusterLabels(ClusterLabels):
    """Self-conditioning per channel: every channel of every training image (pooled: one set of
    ``k`` centroids for all channels) is assigned its own cluster, and a label is the *set* of an
    image's ``C`` cluster ids, channel ``j``'s offset by ``j * k`` ([N, C] ids in 0..C*k-1: the
    nets' label sets, a multi-hot vector of ``C`` ones; ``nets/guide.py one_hot``). G's sets are
    drawn channel by channel with the clusters' shares, independently: right for stacked digits
    (``mnist-stacked``: each channel an independent MNIST digit), where clustering the whole
    image would need ``k**3`` clusters to separate its 1,000 modes and G would see each only once
    in a thousand steps; with sets, G learns a channel's cluster once for all combinations."""

    def __init__(self, x: torch.Tensor, k: int, seed: int, iters: int = 30):
        LabelSource.__init__(self)
        self.channels = x.shape[1]
        centroids, counts = kmeans(x.reshape(-1, x[0, 0].numel()).float(), k, seed, iters)
        self.register_buffer("centroids", centroids)
        self.register_buffer("counts", counts)
        self.register_buffer("offsets", torch.arange(self.channels) * k)

    @property
    def num_labels(self) -> int:
        """Width of the multi-hot label (the nets' number of classes)."""
        return self.channels * self.k

    def assign(self, x):
        ids = nearest(x.reshape(-1, x[0, 0].numel()).to(self.centroids.dtype), self.centroids)
        return ids.view(len(x), self.channels) + self.offsets

    def sample(self, n):
        ids = torch.multinomial(self.counts.float(), n * self.channels, replacement=True)
        return ids.view(n, self.channels) + self.offsets


def label_source(cfg: Config, data: Dataset) -> LabelSource:
    """The source ``cfg`` asks for: clusters (``model.clusters``, of whole images or, with
    ``model.clusters_by=channel``, of each channel), classes (``net.conditional``) or none."""
    k = getattr(cfg.model, "clusters", 0)
    if k:
        if getattr(cfg.model, "clusters_by", "image") == "channel":
            if data.kind != "image" or data.shape[0] < 2:
                raise GankitError(f"config key 'model.clusters_by=channel' needs images of several channels; "
                                  f"'{data.name}' has shape {tuple(data.shape)}")
            if k > len(data) * data.shape[0]:
                raise GankitError(f"config key 'model.clusters' ({k}) exceeds the dataset's "
                                  f"{len(data) * data.shape[0]} channel images")
            return ChannelClusterLabels(data.x, k, cfg.train.seed)
        if k > len(data):
            raise GankitError(f"config key 'model.clusters' ({k}) exceeds the dataset's {len(data)} examples")
        return ClusterLabels(data.x, k, cfg.train.seed)
    if getattr(cfg.net, "conditional", False):
        return ClassLabels(data)
    return NoLabels()


def clusters_of(model) -> ClusterLabels | None:
    """The model's k-means clusters (``model.clusters``), or None."""
    source = getattr(model, "labels", None)
    return source if isinstance(source, ClusterLabels) else None


def nearest(x: torch.Tensor, centroids: torch.Tensor) -> torch.Tensor:
    """Index of the nearest centroid (squared Euclidean) of each row of ``x``."""
    d = (centroids * centroids).sum(1)[None, :] - 2 * x @ centroids.T  # |x|^2 is the same for every centroid
    return d.argmin(1)


def kmeans(x: torch.Tensor, k: int, seed: int, iters: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Lloyd's k-means of the rows of ``x`` [N, D] from a k-means++ start (Arthur & Vassilvitskii
    2007), with its own seeded generator (the training RNG is untouched); returns (centroids
    [k, D], rows per centroid [k]). An emptied cluster takes the row farthest from its centroid."""
    g = torch.Generator().manual_seed(seed)
    n = x.shape[0]
    chosen = [int(torch.randint(n, (), generator=g))]
    dist = ((x - x[chosen[0]]) ** 2).sum(1)
    for _ in range(1, k):  # k-means++: each next centre drawn with probability ~ squared distance
        i = int(torch.multinomial(dist.clamp_min(0) + 1e-12, 1, generator=g))
        chosen.append(i)
        dist = torch.minimum(dist, ((x - x[i]) ** 2).sum(1))
    c = x[chosen].clone()
    for _ in range(iters):
        a = nearest(x, c)
        counts = torch.bincount(a, minlength=k)
        sums = torch.zeros_like(c).index_add_(0, a, x)
        new = sums / counts.clamp_min(1)[:, None].to(x.dtype)
        if (counts == 0).any():
            err = ((x - new[a]) ** 2).sum(1)
            for j in torch.nonzero(counts == 0).flatten().tolist():
                far = int(err.argmax())
                new[j], err[far] = x[far], -1.0
        if torch.equal(new, c):  # converged: ``a`` and ``counts`` are those of ``c``
            return c, counts
        c = new
    return c, torch.bincount(nearest(x, c), minlength=k)
