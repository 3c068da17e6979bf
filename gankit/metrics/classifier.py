"""gankit's own digit classifier: the backbone of IS and FID.

digit-gans.txt 2.3 scores samples with a pre-trained Inception-v3; those weights
cannot be downloaded here, so gankit trains a small CNN on the dataset's own
labelled training split (90 %, 10 % held out to measure its accuracy) and caches
it, together with the real-data statistics of its penultimate features (for FID),
in ``cache_dir / classifier-<dataset>-<content hash>.pt`` (:func:`default_cache_dir`).
"""
from __future__ import annotations

import hashlib
import os
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from gankit.data.base import Dataset
from gankit.errors import GankitError
from gankit.io import atomic_write, torch_bytes

log = logging.getLogger("gankit")

# Bump when the architecture or the training recipe changes: older cache files are retrained.
RECIPE_VERSION = 2  # 2: at least min_steps (small folders of your own images)
FEATURE_DIM = 128
HOLDOUT_FRAC = 0.1
SEED = 0


@dataclass(frozen=True)
class Recipe:
    """Training hyper-parameters: plain Adam, no augmentation, a few epochs."""

    epochs: int = 4
    max_steps: int = 1500  # caps the cost on large training sets (e.g. 60k MNIST)
    # a floor for small training sets (a folder of 200 images is 2 batches an epoch: 4 epochs
    # left the classifier at chance); the 5,000 embedded digits take 4 x 70 = 280 steps, unchanged
    min_steps: int = 200
    batch_size: int = 64
    lr: float = 1e-3
    width: int = 32


class DigitCNN(nn.Module):
    """conv-pool, conv-pool, FC(128) features, linear class head. Inputs in [0, 1]."""

    def __init__(self, shape: tuple[int, int, int], num_classes: int, width: int = 32,
                 feature_dim: int = FEATURE_DIM):
        super().__init__()
        c, h, w = shape
        self.body = nn.Sequential(
            nn.Conv2d(c, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(),
        )
        self.fc = nn.Linear(2 * width * (h // 4) * (w // 4), feature_dim)
        self.head = nn.Linear(feature_dim, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate activations [N, 128] (the FID feature space)."""
        return F.relu(self.fc(self.body(x * 2 - 1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class Classifier:
    """A trained :class:`DigitCNN` with its held-out accuracy and real-data feature statistics.

    ``trained`` is True when this object was trained by the call that returned it
    (False when it came from the cache).
    """

    def __init__(self, net: DigitCNN, accuracy: float, mu: np.ndarray, sigma: np.ndarray,
                 path: Path, trained: bool, train_seconds: float, dataset: str):
        self.net = net.eval()
        self.accuracy = accuracy
        self.mu = mu
        self.sigma = sigma
        self.path = path
        self.trained = trained
        self.train_seconds = train_seconds
        self.dataset = dataset

    @property
    def device(self) -> torch.device:
        return next(self.net.parameters()).device

    def run(self, x_unit: torch.Tensor, batch_size: int = 500) -> tuple[np.ndarray, np.ndarray]:
        """Class probabilities [N, K] and penultimate features [N, 128] (float64) of images in [0, 1]."""
        probs, feats = [], []
        with torch.inference_mode():
            for start in range(0, x_unit.shape[0], batch_size):
                xb = x_unit[start:start + batch_size].to(self.device, torch.float32)
                f = self.net.features(xb)
                probs.append(F.softmax(self.net.head(f), dim=1).double().cpu())
                feats.append(f.double().cpu())
        k = self.net.head.out_features
        if not probs:
            return np.zeros((0, k)), np.zeros((0, self.net.fc.out_features))
        return torch.cat(probs).numpy(), torch.cat(feats).numpy()


def default_cache_dir() -> Path:
    """Where trained metric classifiers are cached: ``$GANKIT_CACHE``, else the user's cache
    directory (``$XDG_CACHE_HOME/gankit``, else ``~/.cache/gankit``), so every working directory
    and notebook shares one classifier per dataset."""
    if os.environ.get("GANKIT_CACHE"):
        return Path(os.environ["GANKIT_CACHE"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "gankit"


def content_hash(dataset: Dataset) -> str:
    """Short sha256 of the dataset's tensors, so different data gives a different classifier."""
    h = hashlib.sha256()
    for t in (dataset.x, dataset.y):
        a = t.detach().cpu().contiguous().numpy()
        h.update(f"{a.dtype}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()[:16]


def cache_path(dataset: Dataset, cache_dir: Path) -> Path:
    return Path(cache_dir) / f"classifier-{dataset.name}-{content_hash(dataset)}.pt"


def _check(dataset: Dataset) -> None:
    from gankit.data.stacked import StackedDigits

    if isinstance(dataset, StackedDigits):  # 1,000 stacked classes: each channel is scored instead
        raise GankitError(f"dataset '{dataset.name}' is scored channel by channel with the classifier of its "
                          f"source digits (gankit.metrics.modes), not by one trained on its "
                          f"{dataset.num_classes} stacked classes")
    if dataset.kind != "image":
        raise GankitError(f"dataset '{dataset.name}' is not an image dataset (kind '{dataset.kind}')")
    if dataset.y is None or dataset.num_classes < 2:
        raise GankitError(
            f"dataset '{dataset.name}' has no class labels: the metric classifier needs a labelled training split"
        )
    if dataset.x.dim() != 4 or dataset.x.shape[2] < 4 or dataset.x.shape[3] < 4:
        raise GankitError(
            f"dataset '{dataset.name}' images must be [N, C, H, W] with H, W >= 4, got {tuple(dataset.x.shape)}"
        )


def _load(path: Path, dataset: Dataset, device: torch.device) -> Classifier | None:
    """The cached classifier, or None when the file is missing, corrupt or from another recipe."""
    if not path.is_file():
        return None
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
        if blob["version"] != RECIPE_VERSION or list(blob["shape"]) != list(dataset.shape) \
                or blob["num_classes"] != dataset.num_classes:
            return None
        net = DigitCNN(dataset.shape, dataset.num_classes, width=blob["width"])
        net.load_state_dict(blob["state_dict"])
        return Classifier(net.to(device), float(blob["accuracy"]), blob["mu"].numpy(),
                          blob["sigma"].numpy(), path, False, float(blob["train_seconds"]), dataset.name)
    except Exception:  # any unreadable/incomplete cache file is simply retrained
        return None


def _train(dataset: Dataset, recipe: Recipe, device: torch.device) -> tuple[DigitCNN, float, float]:
    """Train on 90 % of the data; return (net, held-out accuracy, seconds)."""
    t0 = time.perf_counter()
    x = dataset.to_unit(dataset.x.detach().cpu())
    y = dataset.y.detach().cpu().long()
    n = x.shape[0]
    n_hold = max(1, int(round(n * HOLDOUT_FRAC)))
    if n - n_hold < recipe.batch_size:
        raise GankitError(f"dataset '{dataset.name}' has too few images ({n}) to train the metric classifier")
    # fork_rng: training must be deterministic and must not disturb the caller's RNG stream.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(SEED)
        perm = torch.randperm(n)
        hold, train = perm[:n_hold], perm[n_hold:]
        xt, yt = x[train].to(device), y[train].to(device)
        net = DigitCNN(dataset.shape, dataset.num_classes, width=recipe.width).to(device)
        opt = torch.optim.Adam(net.parameters(), lr=recipe.lr)
        steps_per_epoch = len(train) // recipe.batch_size
        steps = min(max(recipe.epochs * steps_per_epoch, recipe.min_steps), recipe.max_steps)
        net.train()
        for step in range(steps):
            if step % steps_per_epoch == 0:
                order = torch.randperm(len(train), device=device)
            idx = order[(step % steps_per_epoch) * recipe.batch_size:][:recipe.batch_size]
            loss = F.cross_entropy(net(xt[idx]), yt[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        net.eval()
    clf = Classifier(net, 0.0, np.zeros(0), np.zeros(0), Path(), True, 0.0, dataset.name)
    probs, _ = clf.run(x[hold])
    accuracy = float((probs.argmax(1) == y[hold].numpy()).mean())
    return net, accuracy, time.perf_counter() - t0


def pending(dataset: Dataset, cache_dir: Path | str) -> Path | None:
    """The cache file ``get_classifier`` would train and write for ``dataset`` (None when a valid
    one is cached there), so a caller can say so before the pause."""
    path = cache_path(dataset, Path(cache_dir))
    return None if _load(path, dataset, torch.device("cpu")) is not None else path


def get_classifier(dataset: Dataset, cache_dir: Path | str, device: str | torch.device = "cpu",
                   recipe: Recipe = Recipe()) -> Classifier:
    """The metric classifier of ``dataset``: loaded from ``cache_dir`` or trained and cached there.

    The cache file also holds mu and sigma of the penultimate features over all
    training images (the real side of FID). Thread count is left to the caller.
    """
    from gankit.metrics.scores import feature_stats

    _check(dataset)
    device = torch.device(device)
    path = cache_path(dataset, Path(cache_dir))
    cached = _load(path, dataset, device)
    if cached is not None:
        return cached
    net, accuracy, seconds = _train(dataset, recipe, device)
    clf = Classifier(net, accuracy, np.zeros(0), np.zeros(0), path, True, seconds, dataset.name)
    _, feats = clf.run(dataset.to_unit(dataset.x.detach().cpu()))
    clf.mu, clf.sigma = feature_stats(feats)
    blob = {
        "version": RECIPE_VERSION, "dataset": dataset.name, "shape": list(dataset.shape),
        "num_classes": dataset.num_classes, "width": recipe.width,
        "state_dict": {k: v.detach().cpu() for k, v in net.state_dict().items()},
        "accuracy": accuracy, "train_seconds": seconds,
        "mu": torch.from_numpy(clf.mu), "sigma": torch.from_numpy(clf.sigma),
    }
    try:  # atomic: a concurrent reader never sees half a file
        atomic_write(path, torch_bytes(blob), what="classifier cache")
    except GankitError as exc:  # degrade: the metrics are computed all the same
        log.warning("warning: %s; the metric classifier is kept in memory only (set GANKIT_CACHE "
                    "to a writable directory to cache it)", exc)
    return clf
