"""Image-sample metrics: IS and FID (digit-gans.txt 2.3) plus class coverage, on gankit's own classifier."""
from __future__ import annotations

import logging
from pathlib import Path

import torch

from gankit.data.base import Dataset
from gankit.errors import GankitError
from gankit.metrics.classifier import FEATURE_DIM, get_classifier
from gankit.metrics.scores import (
    class_histogram,
    classes_covered,
    feature_stats,
    frechet_distance,
    inception_score,
    label_agreement,
    mean_confidence,
)

log = logging.getLogger("gankit")
_warned: set[int] = set()  # one warning per sample count and process


def image_metrics(dataset: Dataset, samples: torch.Tensor, labels=None, cache_dir: Path | str = Path("runs/.cache"),
                  device: str | torch.device = "cpu") -> dict:
    """Scores of ``samples`` ([N, C, H, W] in ``dataset.value_range``) as a JSON-serialisable dict.

    FID compares the samples' features with those of the training images (use
    >= 2000 samples for stable numbers; any N works). ``labels`` (the classes a
    conditional generator was asked for) adds ``label_agreement``.
    """
    if not torch.is_tensor(samples):
        samples = torch.as_tensor(samples)
    if samples.dim() != 4 or tuple(samples.shape[1:]) != dataset.shape or samples.shape[0] == 0:
        raise GankitError(
            f"samples must be [N, {', '.join(map(str, dataset.shape))}] for dataset '{dataset.name}', "
            f"got {tuple(samples.shape)}"
        )
    if not torch.isfinite(samples).all():
        raise GankitError("samples contain NaN or inf values (did the generator diverge?)")
    n = int(samples.shape[0])
    if n < 2:
        raise GankitError(f"FID and IS need at least 2 samples, got {n}")
    if n < FEATURE_DIM and n not in _warned:
        _warned.add(n)
        log.warning("warning: FID of %d samples (fewer than its %d feature dimensions) is biased high; "
                    "use 2000 or more to compare runs", n, FEATURE_DIM)
    clf = get_classifier(dataset, cache_dir, device=device)
    probs, feats = clf.run(dataset.to_unit(samples.detach()))
    mu, sigma = feature_stats(feats)
    k = dataset.num_classes
    out = {
        "is": inception_score(probs),
        "fid": frechet_distance(mu, sigma, clf.mu, clf.sigma),
        "classes_covered": classes_covered(probs, k),
        "mean_confidence": mean_confidence(probs),
        "class_hist": [round(float(v), 6) for v in class_histogram(probs, k)],
        "n": int(samples.shape[0]),
        "backbone": f"gankit-cnn {dataset.name} (held-out acc {clf.accuracy:.3f})",
    }
    if labels is not None:
        out["label_agreement"] = label_agreement(probs, labels)
    return out
