"""Training tricks a model holds as small components, usable by any family.

- :class:`ReplayBuffer`: experience replay (practical-gan-guide.txt 4.2).
- :func:`ema_copy` / :func:`ema_update`: an exponential moving average of a network's weights
  (Yazici et al. 2019; StudioGAN's ``G_ema``), the copy that samples and metrics come from.
- :class:`AugmentedCritic`: D seen through DiffAugment (``gankit.layers.augment``), what the
  objective calls instead of D when ``model.diffaug`` is set.
- :class:`InfoCodes`: InfoGAN's categorical code and its head Q (``model.info_codes``).
- :func:`frozen`: networks without weight gradients for a block (D during the G step).
- :class:`PixelMarginal`: G's extra loss term matching its batch's pixel values to the
  training images' (``model.pixel_marginal``).
- :class:`TopK`: top-k generator updates, G's loss on the fakes D rates best (``model.top_k``).

(The k-means clusters of a self-conditioned GAN, ``model.clusters``, are a label source:
``gankit.models.labels``.)
"""
from __future__ import annotations

import contextlib
import copy

import numpy as np
import torch
from torch import nn


class ReplayBuffer:
    """Past fakes, one random image per D batch; ``full`` once ``size`` are held (guide 4.2)."""

    def __init__(self, size: int):
        self.size = size
        self.x: list[torch.Tensor] = []
        self.y: list[torch.Tensor] = []

    def __len__(self) -> int:
        return len(self.x)

    def remember(self, fake: torch.Tensor, y: torch.Tensor | None) -> None:
        """Keep one randomly picked fake of this batch (and its label)."""
        i = int(torch.randint(fake.shape[0], ()))
        self.x.append(fake[i].detach())
        if y is not None:
            self.y.append(y[i])

    @property
    def full(self) -> bool:
        return len(self.x) >= self.size

    def drain(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The buffered fakes (and labels) as batches; the buffer starts over."""
        x = torch.stack(self.x)
        y = torch.stack(self.y) if self.y else None
        self.x, self.y = [], []
        return x, y

    def state_dict(self) -> dict:
        """For checkpoints: ``replay_x`` (and ``replay_y``) on the CPU; {} when empty."""
        if not self.x:
            return {}
        state = {"replay_x": torch.stack(self.x).cpu()}
        if self.y:
            state["replay_y"] = torch.stack(self.y).cpu()
        return state

    def load_state_dict(self, state: dict, device: torch.device) -> None:
        self.x = list(state["replay_x"].to(device)) if "replay_x" in state else []
        self.y = list(state["replay_y"].to(device)) if "replay_y" in state else []


def ema_copy(net: nn.Module) -> nn.Module:
    """A frozen copy of ``net`` to hold the average: never optimized, DDP-wrapped or clipped."""
    return copy.deepcopy(net).requires_grad_(False)


@torch.no_grad()
def ema_update(avg: nn.Module, cur: nn.Module, decay: float, step: int, copy_buffers: bool = True) -> None:
    """avg <- d avg + (1 - d) cur, with d warmed up as (1 + t) / (10 + t) so early samples are
    not dominated by the random initial weights; buffers (BN statistics) are copied unless
    ``copy_buffers`` is False (the average then keeps statistics of its own, see
    :func:`refresh_batchnorm`)."""
    d = min(decay, (1 + step) / (10 + step))
    for a, c in zip(avg.parameters(), cur.parameters()):
        a.lerp_(c, 1 - d)
    if copy_buffers:
        for a, c in zip(avg.buffers(), cur.buffers()):
            a.copy_(c)


def has_batchnorm(net: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in net.modules())


@torch.no_grad()
def refresh_batchnorm(avg: nn.Module, inputs: tuple) -> None:
    """One forward of ``avg`` in training mode on ``inputs``: its batch-norm running statistics
    follow its own (averaged) weights. G's statistics do not fit the average's weights: with
    them, eval-mode samples of a BN generator's EMA were worse than G's own (measured in
    docs/notes/stabilisers.md)."""
    was = avg.training
    avg.train()
    try:
        avg(*inputs)
    finally:
        avg.train(was)


@contextlib.contextmanager
def frozen(*nets: nn.Module):
    """No weight gradients for ``nets`` inside the block (D, and InfoGAN's Q, during the G step:
    G's loss still backpropagates through them), trainable again after it, whatever it raises."""
    for net in nets:
        net.requires_grad_(False)
    try:
        yield
    finally:
        for net in nets:
            net.requires_grad_(True)


class AugmentedCritic:
    """``D`` applied to augmented inputs: ``D(aug(x), y)``, or ``D(aug(real), aug(fake))`` for a
    pairwise critic. Not a module (D's state-dict keys stay as they are); penalties computed
    through it (GP, R1, R2) differentiate through the augmentation to the un-augmented input."""

    def __init__(self, D: nn.Module, augment, pairwise: bool = False):
        self.D, self.augment, self.pairwise = D, augment, pairwise

    def __call__(self, x: torch.Tensor, y=None):
        if self.pairwise:
            return self.D(self.augment(x), self.augment(y))
        return self.D(self.augment(x), y)

    def parameters(self):
        return self.D.parameters()


def info_encode(z: torch.Tensor, k: int) -> torch.Tensor:
    """``z`` with its first ``k`` entries replaced by a random one-hot code (InfoGAN's c)."""
    c = torch.randint(0, k, (z.shape[0],), device=z.device)
    return torch.cat([torch.nn.functional.one_hot(c, k).to(z.dtype), z[:, k:]], dim=1)


def info_codes_of(z: torch.Tensor, k: int) -> torch.Tensor:
    """The codes of a batch made by :func:`info_encode`."""
    return z[:, :k].argmax(1)


class InfoCodes(nn.Module):
    """InfoGAN's categorical code (Chen et al. 2016, section 5): the first ``k`` of G's ``z``
    entries are a one-hot code c ~ Uniform{0..k-1} (:func:`info_encode`); the head ``Q`` on D's
    features predicts c from G(z), and D, Q and G minimise CE(Q(features(G(z))), c) (the
    variational lower bound of the mutual information I(c; G(z, c)), up to the constant H(c)).
    Without labels, G learns to give each code its own kind of sample (on MNIST: mostly its own
    digit). ``forward(features, z)`` is the loss, so that a DDP wrapper of it syncs Q's gradients."""

    def __init__(self, k: int, feature_dim: int, hidden: int = 128):
        super().__init__()
        self.k = k
        self.Q = nn.Sequential(nn.Linear(feature_dim, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, k))

    def forward(self, features: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.cross_entropy(self.Q(features), info_codes_of(z, self.k))


def _argsort_rows(x: torch.Tensor) -> torch.Tensor:
    """Ranks-to-positions of each row of ``x`` (no gradient). On the CPU numpy's sort: 5-6x
    faster than torch's for a batch of pixels (1 against 6 ms for 64 MNIST images)."""
    if x.device.type == "cpu":
        return torch.from_numpy(np.argsort(x.detach().float().numpy(), axis=1))
    return torch.argsort(x.detach(), dim=1)


def rank_partners(x: torch.Tensor, quantiles: torch.Tensor) -> torch.Tensor:
    """[C, n]: each value of ``x`` [C, n] replaced by its partner under the one-dimensional
    optimal coupling with the distribution whose sorted values are ``quantiles`` [C, M]: the
    k-th smallest of a row's n values gets that row's quantile at (k + 1/2) / n. No gradient."""
    m, n = quantiles.shape[1], x.shape[1]
    at = ((torch.arange(n, device=quantiles.device) + 0.5) * (m / n)).long().clamp_(max=m - 1)
    return torch.empty_like(x).scatter_(1, _argsort_rows(x).to(x.device), quantiles[:, at].to(x))


def sorted_pixel_values(x: torch.Tensor) -> torch.Tensor:
    """[C, N*H*W]: each channel's pixel values of images ``x`` [N, C, H, W], sorted: the target
    distribution that :func:`rank_partners` and :func:`marginal_w2` read."""
    return x.transpose(0, 1).flatten(1).sort(dim=1).values


def marginal_w2(fake: torch.Tensor, quantiles: torch.Tensor) -> torch.Tensor:
    """Squared 2-Wasserstein distance between the pixel values of ``fake`` [N, C, H, W] (each
    channel's pooled over the batch) and a target distribution given by its sorted values
    ``quantiles`` [C, M], averaged over channels. In one dimension the optimal coupling pairs
    values by rank, so the k-th smallest of n fake values is paired with the target's quantile
    at (k + 1/2) / n: the mean squared difference of the two sorted lists when M = n."""
    if fake.dim() != 4 or fake.shape[1] != quantiles.shape[0]:
        raise ValueError(f"marginal_w2 needs [N, {quantiles.shape[0]}, H, W] images, got {tuple(fake.shape)}")
    x = fake.transpose(0, 1).flatten(1)  # [C, n]
    return (x - rank_partners(x, quantiles)).square().mean()


class PixelMarginal:
    """``weight`` x :func:`marginal_w2` of G's batch against the training images' pixel values,
    added to G's loss (``model.pixel_marginal``). D's convolutions judge shapes; the distribution
    of pixel values (how much ink, how soft a stroke's edge) is a one-dimensional marginal that a
    small D leaves alone, and gankit's metric features are sensitive to it (docs/notes/stabilisers.md).
    A relative of feature matching (Salimans et al. 2016, section 3.1, which matches the mean of
    D's features; not in the five papers): here the whole distribution of D's input values.
    The target is each channel's sorted values over at most ``images`` training images (a fixed,
    seeded choice), so it costs one sort of the fake batch a step. Off (weight 0): the loss is
    returned as it is."""

    def __init__(self, weight: float, data_x: torch.Tensor, images: int = 4096):
        self.weight = weight
        self.quantiles = None
        if weight:
            pick = torch.randperm(len(data_x), generator=torch.Generator().manual_seed(0))[:images]
            self.quantiles = sorted_pixel_values(data_x[pick].detach().float())  # [C, M]

    def __call__(self, loss: torch.Tensor, logs: dict, fake: torch.Tensor):
        if not self.weight:
            return loss, logs
        if self.quantiles.device != fake.device:
            self.quantiles = self.quantiles.to(fake.device)
        w2 = marginal_w2(fake, self.quantiles)
        return loss + self.weight * w2, {**logs, "pixel_w2": w2.detach()}


class TopK:
    """Top-k generator updates (Sinha et al. 2020, "Top-k Training of GANs", section 3; not in the
    five papers): G's loss counts only the k fakes of its batch that D scores highest, so no
    gradient comes from the samples D finds least realistic, which can push a sample away from its
    nearest mode. k starts at the whole batch and shrinks by ``decay`` each epoch, never under
    ``floor`` of the batch (the paper's gamma and nu). ``floor`` 0 = off: the critic is used as
    it is. ``epochs`` (passes done) is set by the model from its batches each step, so it
    resumes with them. Under DDP each process keeps the
    top k of its own share of the batch (no gather of D's scores)."""

    def __init__(self, floor: float, decay: float):
        self.floor, self.decay = floor, decay
        self.epochs = 0

    def fraction(self) -> float:
        """The share of the batch that counts now: max(floor, decay ** epochs)."""
        return max(self.floor, self.decay ** self.epochs)

    def __call__(self, critic):
        """``critic`` as the G step scores fakes with it: the top-k view, or itself when off."""
        if not self.floor:
            return critic
        fraction = self.fraction()

        def top_k_scores(x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
            out = critic(x, y)
            if out.numel() != out.shape[0]:
                raise ValueError(f"top-k needs one score per sample, got D output of shape {tuple(out.shape)}")
            k = max(1, int(round(fraction * out.shape[0])))
            return out[out.reshape(-1).topk(k).indices]

        return top_k_scores
