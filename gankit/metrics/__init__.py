"""Sample metrics: ``evaluate`` picks the scorer for the dataset's kind.

Images: IS/FID/class coverage on gankit's own digit classifier
(:mod:`gankit.metrics.images`; images without labels: FID and the feature-set metrics on an
untrained seeded CNN); stacked digits (``mnist-stacked``) channel by channel on the
digit classifier, and their mode coverage (:mod:`gankit.metrics.modes`). Boards:
:mod:`gankit.metrics.boards`.
"""
from __future__ import annotations

from pathlib import Path

from gankit.data.base import Dataset
from gankit.errors import GankitError
from gankit.metrics.classifier import default_cache_dir


def evaluate(dataset: Dataset, samples, labels=None, cache_dir: Path | str | None = None) -> dict:
    """Metrics of generated ``samples`` (in the dataset's value range) as a JSON-serialisable dict."""
    from gankit.data.stacked import StackedDigits

    if isinstance(dataset, StackedDigits):  # scored per channel: no classifier of 1,000 stacked classes
        from gankit.metrics.modes import channel_image_metrics

        return channel_image_metrics(dataset, samples, labels=labels,
                                     cache_dir=default_cache_dir() if cache_dir is None else Path(cache_dir))
    if dataset.kind == "image":
        from gankit.metrics.images import image_metrics

        return image_metrics(dataset, samples, labels=labels,
                             cache_dir=default_cache_dir() if cache_dir is None else Path(cache_dir))
    if dataset.kind == "board":
        from gankit.metrics.boards import board_metrics

        return board_metrics(dataset, samples)
    raise GankitError(f"no metrics for dataset kind '{dataset.kind}' (dataset '{dataset.name}')")


def classifier_pending(dataset: Dataset, cache_dir: Path | str | None = None) -> Path | None:
    """Where ``evaluate`` on ``dataset`` will first train and cache its metric classifier (about
    half a minute on a CPU), or None when it needs none or one is cached already."""
    from gankit.data.stacked import StackedDigits
    from gankit.metrics.classifier import pending
    from gankit.metrics.images import has_classifier

    cache_dir = default_cache_dir() if cache_dir is None else Path(cache_dir)
    if isinstance(dataset, StackedDigits):  # scored on the classifier of its source digits
        dataset = dataset.digits
    if dataset.kind != "image" or not has_classifier(dataset):
        return None
    return pending(dataset, cache_dir)


__all__ = ["classifier_pending", "default_cache_dir", "evaluate"]
