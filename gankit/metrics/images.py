"""Image-sample metrics on gankit's own classifier: IS and FID (digit-gans.txt 2.3), class coverage,
KID (Binkowski et al. 2018), precision/recall (Kynkaanniemi et al. 2019), density/coverage (Naeem et al. 2020)."""
from __future__ import annotations

import logging
from pathlib import Path

import torch

from gankit.data.base import Dataset
from gankit.errors import GankitError
from gankit.metrics.classifier import FEATURE_DIM, default_cache_dir, get_classifier
from gankit.metrics.scores import (
    class_histogram,
    classes_covered,
    density_coverage,
    feature_stats,
    frechet_distance,
    inception_score,
    kernel_inception_distance,
    label_agreement,
    mean_confidence,
    precision_recall,
)

REFERENCE_SEED = 0  # which training images are the real set of KID, precision/recall, density/coverage
PR_K = 3  # Kynkaanniemi et al. 2019's k
DC_K = 5  # Naeem et al. 2020's k

log = logging.getLogger("gankit")
_warned: set[int] = set()  # one warning per sample count and process



def reference_indices(dataset: Dataset, n: int) -> torch.Tensor:
    """The ``min(n, len(dataset))`` training images that are the real side of KID, precision/recall
    and density/coverage: the first of one fixed permutation (the same for every run)."""
    perm = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(REFERENCE_SEED))
    return perm[:min(n, len(dataset))]


def set_metrics(real_feats, fake_feats) -> dict:
    """KID (mean, std over subsets), precision, recall, density, coverage of two feature sets;
    None for those the sample counts are too small for."""
    n = min(len(real_feats), len(fake_feats))
    out = dict.fromkeys(("kid", "kid_std", "precision", "recall", "density", "coverage"))
    if n >= 2:
        out["kid"], out["kid_std"] = kernel_inception_distance(real_feats, fake_feats)
    if n > PR_K:
        out["precision"], out["recall"] = precision_recall(real_feats, fake_feats, PR_K)
    if len(real_feats) > DC_K:
        out["density"], out["coverage"] = density_coverage(real_feats, fake_feats, DC_K)
    return out


def image_metrics(dataset: Dataset, samples: torch.Tensor, labels=None, cache_dir: Path | str | None = None,
                  device: str | torch.device = "cpu") -> dict:
    """Scores of ``samples`` ([N, C, H, W] in ``dataset.value_range``) as a JSON-serialisable dict.

    FID compares the samples' features with those of all training images (use
    >= 2000 samples for stable numbers; any N works); KID, precision/recall and
    density/coverage compare them with the features of N fixed training images
    (:func:`reference_indices`). ``labels`` (the classes a conditional generator
    was asked for) adds ``label_agreement``.
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
    clf = get_classifier(dataset, default_cache_dir() if cache_dir is None else cache_dir, device=device)
    probs, feats = clf.run(dataset.to_unit(samples.detach()))
    mu, sigma = feature_stats(feats)
    _, real_feats = clf.run(dataset.to_unit(dataset.x[reference_indices(dataset, len(feats))].detach()))
    k = dataset.num_classes
    out = {
        "is": inception_score(probs),
        "fid": frechet_distance(mu, sigma, clf.mu, clf.sigma),
        **set_metrics(real_feats, feats),
        "classes_covered": classes_covered(probs, k),
        "mean_confidence": mean_confidence(probs),
        "class_hist": [round(float(v), 6) for v in class_histogram(probs, k)],
        "min_class_share": float(class_histogram(probs, k).min()),  # the rarest class's share of samples
        "n": int(samples.shape[0]),
        "backbone": f"gankit-cnn {dataset.name} (held-out acc {clf.accuracy:.3f})",
    }
    if labels is not None:
        out["label_agreement"] = label_agreement(probs, labels)
    return out
