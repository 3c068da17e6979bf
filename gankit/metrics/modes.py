"""Mode coverage on stacked digits (``mnist-stacked``): how many of the 1,000 modes a generator reaches.

Each channel of a sample is classified by the ``mnist`` digit classifier of the dataset's source
digits (:func:`gankit.metrics.classifier.get_classifier` on ``StackedDigits.digits``: the same
cached classifier that scores ``mnist`` runs); the three predicted digits ``d0 d1 d2`` make the
sample's mode ``100 * d0 + 10 * d1 + d2``. As in PacGAN (Lin et al. 2018, after VEEGAN and
Metz et al. 2017):

- ``modes_covered``: the number of modes (of 1,000) that at least one sample lands in;
- ``modes_kl``: KL(p || u) in nats, ``p`` the samples' mode histogram, ``u`` uniform over the
  1,000 modes, empty modes contributing 0: 0 for a uniform histogram, ln 1000 = 6.91 when every
  sample falls in one mode.

PacGAN's numbers use 26,000 samples; with N samples at most ``min(N, 1000)`` modes can be
covered, and N uniform samples cover ``1000 * (1 - (1 - 1/1000)^N)`` on average (865 at N = 2,000).

:func:`channel_image_metrics` is what plain evaluation reports for such a dataset: IS, FID and the
rest of :func:`gankit.metrics.images.image_metrics` of the 3N channels as MNIST digits.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from gankit.data.base import Dataset
from gankit.data.stacked import CHANNELS, NUM_MODES, StackedDigits
from gankit.errors import GankitError
from gankit.metrics.classifier import default_cache_dir, get_classifier


def check_stacked(dataset: Dataset) -> StackedDigits:
    """``dataset`` if its examples are stacked digits (``mnist-stacked``), else one GankitError line."""
    if not isinstance(dataset, StackedDigits) or dataset.digits is None:
        shape = "x".join(map(str, dataset.shape))
        raise GankitError(f"mode coverage needs a run on data.name=mnist-stacked (three digits as the channels "
                          f"of a 28x28 image); this run's dataset is '{dataset.name}' ({shape})")
    return dataset


def mode_ids(digits) -> np.ndarray:
    """The mode ``100 * d0 + 10 * d1 + d2`` of each row of digits [N, 3] (each in 0..9)."""
    d = np.asarray(digits, dtype=np.int64)
    if d.ndim != 2 or d.shape[1] != CHANNELS or (d.size and (d.min() < 0 or d.max() > 9)):
        raise GankitError(f"digits must be [N, {CHANNELS}] integers in 0..9, got shape {d.shape}")
    return d @ np.array([100, 10, 1], dtype=np.int64)


def mode_counts(modes, num_modes: int = NUM_MODES) -> np.ndarray:
    """Samples per mode, int64 [num_modes]."""
    m = np.asarray(modes, dtype=np.int64).reshape(-1)
    if m.size and (m.min() < 0 or m.max() >= num_modes):
        raise GankitError(f"modes must lie in 0..{num_modes - 1}")
    return np.bincount(m, minlength=num_modes)


def modes_covered(counts, min_count: int = 1) -> int:
    """Modes holding at least ``min_count`` samples (PacGAN: 1)."""
    return int((np.asarray(counts) >= min_count).sum())


def kl_to_uniform(counts) -> float:
    """KL(p || uniform) in nats of the histogram ``counts`` (empty bins contribute 0)."""
    c = np.asarray(counts, dtype=np.float64)
    total = c.sum()
    if total <= 0:
        raise GankitError("the mode histogram is empty")
    p = c[c > 0] / total
    return float(np.sum(p * np.log(p * c.size)))


def channel_digits(dataset: StackedDigits, samples: torch.Tensor, cache_dir: Path | str | None = None,
                   device: str | torch.device = "cpu") -> tuple[np.ndarray, np.ndarray]:
    """(digit probabilities [N*3, 10], predicted digits [N, 3]) of each channel of ``samples``."""
    n = check_samples(dataset, samples)
    clf = get_classifier(dataset.digits, default_cache_dir() if cache_dir is None else cache_dir, device=device)
    _, h, w = dataset.shape
    probs, _ = clf.run(dataset.to_unit(samples.detach()).reshape(n * CHANNELS, 1, h, w))
    return probs, probs.argmax(1).reshape(n, CHANNELS)


def check_samples(dataset: StackedDigits, samples) -> int:
    """The number of samples, after checking they are finite [N, 3, H, W] of ``dataset``."""
    if not torch.is_tensor(samples) or samples.dim() != 4 or tuple(samples.shape[1:]) != dataset.shape \
            or samples.shape[0] == 0:
        got = tuple(samples.shape) if hasattr(samples, "shape") else type(samples).__name__
        raise GankitError(f"samples must be [N, {', '.join(map(str, dataset.shape))}] for dataset "
                          f"'{dataset.name}', got {got}")
    if not torch.isfinite(samples).all():
        raise GankitError("samples contain NaN or inf values (did the generator diverge?)")
    return int(samples.shape[0])


def mode_metrics(dataset: Dataset, samples, cache_dir: Path | str | None = None,
                 device: str | torch.device = "cpu") -> dict:
    """``modes_covered`` (of 1,000, a mode counts with one sample), ``modes_kl`` and ``n`` of
    ``samples`` ([N, 3, 28, 28] in the dataset's value range)."""
    dataset = check_stacked(dataset)
    samples = torch.as_tensor(samples) if not torch.is_tensor(samples) else samples
    _, digits = channel_digits(dataset, samples, cache_dir, device)
    counts = mode_counts(mode_ids(digits), dataset.num_classes)
    return {"modes_covered": modes_covered(counts), "modes_kl": round(kl_to_uniform(counts), 6),
            "n": int(digits.shape[0])}


def channel_image_metrics(dataset: Dataset, samples, labels=None, cache_dir: Path | str | None = None,
                          device: str | torch.device = "cpu") -> dict:
    """Plain evaluation of stacked digits: :func:`~gankit.metrics.images.image_metrics` of the 3N
    channels as digits of the source dataset (IS over 10 digits, FID against the source digits, ...).
    ``n`` stays the number of stacked samples, ``digits`` is 3N; ``labels`` (a conditional
    generator's modes) adds ``label_agreement``: the share of samples whose three digits are
    the mode asked for."""
    from gankit.metrics.images import image_metrics

    dataset = check_stacked(dataset)
    samples = torch.as_tensor(samples) if not torch.is_tensor(samples) else samples
    n = check_samples(dataset, samples)
    _, h, w = dataset.shape
    cache = default_cache_dir() if cache_dir is None else cache_dir
    out = image_metrics(dataset.digits, samples.detach().reshape(n * CHANNELS, 1, h, w), cache_dir=cache,
                        device=device)
    out["n"], out["digits"] = n, n * CHANNELS
    out["backbone"] += f", each of the {CHANNELS} channels"
    if labels is not None:
        _, digits = channel_digits(dataset, samples, cache, device)
        asked = torch.as_tensor(labels).reshape(-1).cpu().numpy()
        if asked.shape != (n,):
            raise GankitError(f"labels must be one per sample ({n}), got {asked.shape[0]}")
        out["label_agreement"] = float((mode_ids(digits) == asked).mean())
    return out


def expected_covered(n: int, num_modes: int = NUM_MODES) -> float:
    """Modes covered on average by ``n`` samples drawn uniformly over ``num_modes``."""
    return num_modes * -math.expm1(n * math.log1p(-1 / num_modes))
