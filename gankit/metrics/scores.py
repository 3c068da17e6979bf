"""Sample-quality scores computed from a classifier's outputs (pure functions on arrays).

The Inception Score is digit-gans.txt 2.3; FID (Heusel et al.) is the
Frechet distance between Gaussians fitted to real and generated features.
Inputs may be numpy arrays or torch tensors.
"""
from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg
from scipy.special import xlogy

from gankit.errors import GankitError


def _np(a) -> np.ndarray:
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    return np.asarray(a)


def _probs(probs) -> np.ndarray:
    p = _np(probs).astype(np.float64)
    if p.ndim != 2 or p.shape[0] == 0:
        raise GankitError(f"class probabilities must be a non-empty [N, classes] array, got shape {p.shape}")
    if (p < 0).any() or not np.allclose(p.sum(1), 1.0, atol=1e-4):
        raise GankitError("class probabilities must be non-negative rows summing to 1")
    return p


def _preds(preds_or_probs) -> np.ndarray:
    a = _np(preds_or_probs)
    if a.ndim == 2:
        return _probs(a).argmax(1)
    if a.ndim != 1:
        raise GankitError(f"class predictions must be [N] labels or [N, classes] probabilities, got shape {a.shape}")
    return a.astype(np.int64)


def inception_score(probs, splits: int = 1) -> float:
    """IS = exp(E_x KL(p(y|x) || p(y))) (digit-gans.txt 2.3), mean over ``splits`` equal chunks.

    Equals exp(H(y) - E_x H(y|x)): 1 when all samples get the same class
    distribution, the number of classes for confident predictions spread
    uniformly over the classes.
    """
    p = _probs(probs)
    if not 1 <= splits <= p.shape[0]:
        raise GankitError(f"inception_score splits must be in 1..{p.shape[0]}, got {splits}")
    scores = []
    for chunk in np.array_split(p, splits):
        py = chunk.mean(0, keepdims=True)
        # xlogy: 0 log 0 = 0; py > 0 wherever chunk > 0, so the ratio is defined.
        kl = (xlogy(chunk, chunk) - xlogy(chunk, py)).sum(1)
        scores.append(float(np.exp(kl.mean())))
    return float(np.mean(scores))


def feature_stats(feats) -> tuple[np.ndarray, np.ndarray]:
    """Mean [D] and covariance [D, D] (float64, unbiased) of features [N, D]; FID's Gaussian fit."""
    f = _np(feats).astype(np.float64)
    if f.ndim != 2 or f.shape[0] == 0:
        raise GankitError(f"features must be a non-empty [N, D] array, got shape {f.shape}")
    mu = f.mean(0)
    if f.shape[0] < 2:  # one sample: no spread to estimate
        return mu, np.zeros((f.shape[1], f.shape[1]))
    return mu, np.cov(f, rowvar=False).reshape(f.shape[1], f.shape[1])


def frechet_distance(mu1, sigma1, mu2, sigma2, eps: float = 1e-6) -> float:
    """FID = ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)).

    When the product is near-singular (few samples, dead features) its square
    root can come out non-finite or noticeably complex; then eps*I is added to
    both covariances, as the reference FID implementation does. Tiny imaginary
    parts are numerical noise and dropped.
    """
    mu1, mu2 = _np(mu1).astype(np.float64), _np(mu2).astype(np.float64)
    s1, s2 = np.atleast_2d(_np(sigma1).astype(np.float64)), np.atleast_2d(_np(sigma2).astype(np.float64))
    d = mu1.shape[0]
    if mu1.shape != (d,) or mu2.shape != (d,) or s1.shape != (d, d) or s2.shape != (d, d):
        raise GankitError(
            f"frechet_distance: shapes disagree: mu {mu1.shape}/{mu2.shape}, sigma {s1.shape}/{s2.shape}"
        )
    with warnings.catch_warnings():  # singular products are expected and handled just below
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(s1 @ s2)
        if not np.isfinite(covmean).all() or np.abs(np.imag(covmean)).max(initial=0.0) > 1e-3:
            offset = np.eye(d) * eps
            covmean = linalg.sqrtm((s1 + offset) @ (s2 + offset))
    covmean = np.real(covmean)
    diff = mu1 - mu2
    fid = diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(covmean)
    return float(max(fid, 0.0))  # rounding can push identical distributions a hair below 0


def class_histogram(preds_or_probs, num_classes: int) -> np.ndarray:
    """Fraction of samples assigned to each class (argmax when given probabilities); sums to 1."""
    preds = _preds(preds_or_probs)
    if preds.size == 0:
        raise GankitError("class_histogram needs at least one sample")
    if preds.min() < 0 or preds.max() >= num_classes:
        raise GankitError(f"class predictions must lie in 0..{num_classes - 1}")
    return np.bincount(preds, minlength=num_classes) / preds.size


def classes_covered(preds_or_probs, num_classes: int, min_frac: float | None = None) -> int:
    """Number of classes that receive at least ``min_frac`` of the samples (mode-coverage count).

    Default ``min_frac`` is half a uniform share, 0.5 / num_classes (5 % for
    digits): a collapsed generator whose stray samples land in a class now and
    then does not get credit for covering it.
    """
    if min_frac is None:
        min_frac = 0.5 / num_classes
    hist = class_histogram(preds_or_probs, num_classes)
    return int((hist >= min_frac).sum())


def mean_confidence(probs) -> float:
    """Mean of the top class probability: how sure the classifier is that samples are digits."""
    return float(_probs(probs).max(1).mean())


def label_agreement(preds_or_probs, labels) -> float:
    """Fraction of samples classified as the label they were generated for (conditional models)."""
    preds = _preds(preds_or_probs)
    lab = _np(labels).astype(np.int64).reshape(-1)
    if lab.shape != preds.shape or preds.size == 0:
        raise GankitError(f"labels ({lab.shape[0]}) must match the samples ({preds.shape[0]})")
    return float((preds == lab).mean())
