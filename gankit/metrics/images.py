"""Image-sample metrics on gankit's own classifier: IS and FID (digit-gans.txt 2.3), class coverage,
KID (Binkowski et al. 2018), precision/recall (Kynkaanniemi et al. 2019), density/coverage (Naeem et al. 2020).

Images without class labels (a ``folder`` dataset without class sub-folders, or one too small
to train a classifier on) have no classifier: they are scored on the features of an untrained, seeded CNN instead
(:func:`random_features`), which gives FID, KID, precision/recall and density/coverage but no IS
or class metrics (docs/metrics.md, "Unlabelled images")."""
from __future__ import annotations

import logging
from pathlib import Path

import torch

from gankit.data.base import Dataset
from gankit.errors import GankitError
from gankit.metrics.classifier import FEATURE_DIM, HOLDOUT_FRAC, SEED, DigitCNN, Recipe, default_cache_dir, get_classifier
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
RANDOM_SIDE = 32  # unlabelled images are average-pooled to at most 32x32 before the random CNN
RANDOM_BACKBONE = (f"random-cnn: untrained gankit CNN (seed {SEED}) on images pooled to at most "
                   f"{RANDOM_SIDE}x{RANDOM_SIDE}; no labels, so no IS or class metrics")
_real_stats: dict = {}  # (dataset content, shape) -> mu, sigma of the real images' random features


def reference_indices(dataset: Dataset, n: int) -> torch.Tensor:
    """The ``min(n, len(dataset))`` training images that are the real side of KID, precision/recall
    and density/coverage: the first of one fixed permutation (the same for every run)."""
    perm = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(REFERENCE_SEED))
    return perm[:min(n, len(dataset))]


def set_metrics(real_feats, fake_feats) -> dict:
    """KID (mean, std over subsets), precision, recall, density, coverage of two feature sets;
    None for those the sample counts are too small for. Both sets are cut to the smaller's
    size (the first samples): the k-NN metrics compare sets of equal size (Kynkaanniemi et al.
    2019; Naeem et al. 2020), and the real side is at most the dataset, so ``eval --n 26000``
    on 5,000 digits (78,000 channel digits of ``mnist-stacked``) no longer spends minutes on
    k-NN radii of 78,000 samples against 5,000 real ones."""
    n = min(len(real_feats), len(fake_feats))
    real_feats, fake_feats = real_feats[:n], fake_feats[:n]
    out = dict.fromkeys(("kid", "kid_std", "precision", "recall", "density", "coverage"))
    if n >= 2:
        out["kid"], out["kid_std"] = kernel_inception_distance(real_feats, fake_feats)
    if n > PR_K:
        out["precision"], out["recall"] = precision_recall(real_feats, fake_feats, PR_K)
    if len(real_feats) > DC_K:
        out["density"], out["coverage"] = density_coverage(real_feats, fake_feats, DC_K)
    return out


def has_classifier(dataset: Dataset) -> bool:
    """Whether gankit's metric classifier can be trained on ``dataset``: class labels, and enough
    images for one batch after the held-out tenth. Other image data is scored on
    :class:`RandomFeatures`."""
    n = len(dataset)
    return (dataset.y is not None and dataset.num_classes >= 2
            and n - max(1, round(n * HOLDOUT_FRAC)) >= Recipe().batch_size)


class RandomFeatures:
    """A fixed feature map for images without labels: gankit's metric CNN (``DigitCNN``) left
    untrained at the seeded initialisation ``SEED``, its 128 penultimate ReLU units read on the
    images average-pooled to at most ``RANDOM_SIDE`` pixels a side. Untrained convolutional
    features still separate image statistics (colour, edges, layout), so a Frechet distance on
    them ranks sample sets; their values are comparable only with the same map (and dataset)."""

    def __init__(self, shape: tuple[int, int, int]):
        c, h, w = shape
        self.factor = max(1, -(-max(h, w) // RANDOM_SIDE))  # ceil: 64 -> 2, 128 -> 4, 28 -> 1
        with torch.random.fork_rng(devices=[]):  # the same weights in every process; the caller's RNG untouched
            torch.manual_seed(SEED)
            self.net = DigitCNN((c, h // self.factor, w // self.factor), 2).eval()

    def run(self, x_unit: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
        feats = []
        with torch.inference_mode():
            for start in range(0, x_unit.shape[0], batch_size):
                xb = x_unit[start:start + batch_size].float()
                if self.factor > 1:
                    xb = torch.nn.functional.avg_pool2d(xb, self.factor)
                feats.append(self.net.features(xb).double())
        return torch.cat(feats).numpy()


def random_features(dataset: Dataset, samples: torch.Tensor) -> dict:
    """FID (against all training images), KID, precision/recall and density/coverage of
    ``samples`` on :class:`RandomFeatures`; the real statistics are kept for the process."""
    import hashlib

    fmap = RandomFeatures(dataset.shape)
    feats = fmap.run(dataset.to_unit(samples.detach().cpu()))
    x = dataset.x.detach().cpu().contiguous()
    key = (hashlib.sha256(x.numpy().tobytes()).hexdigest(), tuple(x.shape))
    if key not in _real_stats:
        _real_stats.clear()  # one dataset at a time: a long session does not pile them up
        _real_stats[key] = feature_stats(fmap.run(dataset.to_unit(x)))
    mu_real, sigma_real = _real_stats[key]
    mu, sigma = feature_stats(feats)
    real_feats = fmap.run(dataset.to_unit(dataset.x[reference_indices(dataset, len(feats))].detach().cpu()))
    return {"fid": frechet_distance(mu, sigma, mu_real, sigma_real), **set_metrics(real_feats, feats),
            "n": int(samples.shape[0]), "backbone": RANDOM_BACKBONE}


def image_metrics(dataset: Dataset, samples: torch.Tensor, labels=None, cache_dir: Path | str | None = None,
                  device: str | torch.device = "cpu") -> dict:
    """Scores of ``samples`` ([N, C, H, W] in ``dataset.value_range``) as a JSON-serialisable dict.

    FID compares the samples' features with those of all training images (use
    >= 2000 samples for stable numbers; any N works); KID, precision/recall and
    density/coverage compare them with the features of N fixed training images
    (:func:`reference_indices`). ``labels`` (the classes a conditional generator
    was asked for) adds ``label_agreement``. A dataset without labels is scored by
    :func:`random_features` (no IS, no class metrics).
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
    if not has_classifier(dataset):
        return random_features(dataset, samples)
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
