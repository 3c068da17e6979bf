"""Sample-quality scores computed from a classifier's outputs (pure functions on arrays).

The Inception Score is digit-gans.txt 2.3; FID (Heusel et al.) is the
Frechet distance between Gaussians fitted to real and generated features;
KID (Binkowski et al. 2018), improved precision/recall (Kynkaanniemi et al.
2019) and density/coverage (Naeem et al. 2020) compare the two feature sets
directly. Inputs may be numpy arrays or torch tensors.
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


# ---------------------------------------------------------------- feature-set metrics (KID, PR, density/coverage)
_CHUNK = 2048  # rows of a kernel or distance matrix held at once (2048 x 10k float64: 160 MB)


def _feats(a, name: str) -> np.ndarray:
    f = _np(a).astype(np.float64)
    if f.ndim != 2 or f.shape[0] == 0 or not np.isfinite(f).all():
        raise GankitError(f"{name} features must be a non-empty finite [N, D] array, got shape {f.shape}")
    return f


def _pair(real, fake) -> tuple[np.ndarray, np.ndarray]:
    r, f = _feats(real, "real"), _feats(fake, "generated")
    if r.shape[1] != f.shape[1]:
        raise GankitError(f"real and generated features differ in width: {r.shape[1]} vs {f.shape[1]}")
    return r, f


def kid_subsets(n: int, size: int, subsets: int, seed: int) -> np.ndarray:
    """[subsets, size] indices into 0..n-1, each row drawn without replacement (fixed ``seed``)."""
    rng = np.random.default_rng(seed)
    return np.stack([rng.choice(n, size, replace=False) for _ in range(subsets)])


def _subset_masks(n: int, size: int, subsets: int, seed: int) -> np.ndarray:
    masks = np.zeros((subsets, n))
    np.put_along_axis(masks, kid_subsets(n, size, subsets, seed), 1.0, axis=1)
    return masks


def _masked_sums(x: np.ndarray, y: np.ndarray, sx: np.ndarray, sy: np.ndarray) -> np.ndarray:
    """sum_{i,j} sx[s,i] k(x_i, y_j) sy[s,j] for every subset s, in row blocks of the kernel matrix."""
    total = np.zeros(sx.shape[0])
    for start in range(0, x.shape[0], _CHUNK):
        block = polynomial_kernel(x[start:start + _CHUNK], y)  # [chunk, N_y]
        total += ((block @ sy.T) * sx[:, start:start + _CHUNK].T).sum(0)
    return total


def polynomial_kernel(x, y) -> np.ndarray:
    """k(x, y) = (x.y / D + 1) ** 3 for all pairs, KID's kernel (Binkowski et al. 2018, section 4)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def _kernel_diag(x: np.ndarray) -> np.ndarray:
    """k(x_i, x_i) for every row."""
    return (np.einsum("ij,ij->i", x, x) / x.shape[1] + 1.0) ** 3


def kernel_inception_distance(real, fake, subsets: int = 100, subset_size: int = 1000,
                              seed: int = 0) -> tuple[float, float]:
    """KID: mean and standard deviation over random subsets of the unbiased MMD^2 estimate.

    Binkowski et al. 2018 ("Demystifying MMD GANs"), section 4: with the cubic
    polynomial kernel k and m real x, m generated y per subset,
    MMD^2 = sum_{i!=j} [k(x_i,x_j) + k(y_i,y_j)] / (m(m-1)) - 2 sum_{i,j} k(x_i,y_j) / m^2.
    Unbiased, so it can be slightly negative when the two sets match; subsets of
    ``min(subset_size, N_real, N_gen)`` points are drawn with a fixed ``seed``.
    """
    r, f = _pair(real, fake)
    m = min(subset_size, r.shape[0], f.shape[0])
    if m < 2 or subsets < 1:
        raise GankitError(f"KID needs >= 2 real and generated samples and >= 1 subset, got m={m}, subsets={subsets}")
    sr = _subset_masks(r.shape[0], m, subsets, seed)
    sf = _subset_masks(f.shape[0], m, subsets, seed + 1)
    # the i == j terms k(x_i, x_i) are taken out of the within-set sums
    within_r = _masked_sums(r, r, sr, sr) - sr @ _kernel_diag(r)
    within_f = _masked_sums(f, f, sf, sf) - sf @ _kernel_diag(f)
    across = _masked_sums(r, f, sr, sf)
    mmd = (within_r + within_f) / (m * (m - 1)) - 2.0 * across / (m * m)
    return float(mmd.mean()), float(mmd.std())


def _distances(a: np.ndarray, b: np.ndarray):
    import torch

    return torch.cdist(torch.from_numpy(a), torch.from_numpy(b))  # float64 [len(a), len(b)]


def knn_radii(feats, k: int) -> np.ndarray:
    """Distance from each point to its k-th nearest other point in the same set [N]."""
    f = _feats(feats, "the")
    if not 1 <= k < f.shape[0]:
        raise GankitError(f"k-NN radii need 1 <= k < N, got k={k} for N={f.shape[0]}")
    # the (k+1)-th smallest distance of a row: the point itself comes first
    return np.concatenate([_distances(f[i:i + _CHUNK], f).kthvalue(k + 1, dim=1).values.numpy()
                           for i in range(0, f.shape[0], _CHUNK)])


def _ball_counts(r: np.ndarray, r_rad: np.ndarray, f: np.ndarray, f_rad: np.ndarray | None = None):
    """One pass over the real-generated distances. Returns how many real balls B(r_i, r_rad_i)
    hold each generated point [N_gen], whether each real ball holds any generated point
    [N_real], and (with ``f_rad``) whether each real point lies in any generated ball [N_real].
    On a boundary counts as inside."""
    count = np.zeros(f.shape[0], np.int64)
    hit, covered = [], []
    for i in range(0, r.shape[0], _CHUNK):
        d = _distances(r[i:i + _CHUNK], f).numpy()  # [chunk, N_gen]
        inside = d <= r_rad[i:i + _CHUNK, None]
        count += inside.sum(0)
        hit.append(inside.any(1))
        if f_rad is not None:
            covered.append((d <= f_rad[None, :]).any(1))
    return count, np.concatenate(hit), (np.concatenate(covered) if f_rad is not None else None)


def precision_recall(real, fake, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkaanniemi et al. 2019, section 3).

    Each set's manifold is the union of balls around its points with radius the
    distance to the point's k-th nearest neighbour in the same set. Precision:
    fraction of generated points inside the real manifold (quality). Recall:
    fraction of real points inside the generated manifold (diversity). A point on
    a ball's boundary counts as inside (the paper's <=).
    """
    r, f = _pair(real, fake)
    in_real, _, in_fake = _ball_counts(r, knn_radii(r, k), f, knn_radii(f, k))
    return float((in_real > 0).mean()), float(in_fake.mean())


def density_coverage(real, fake, k: int = 5) -> tuple[float, float]:
    """Density and coverage (Naeem et al. 2020, section 3), on the real k-NN balls only.

    Density: the number of real balls holding each generated point, summed and
    divided by k * N_gen (about 1 when the sets match; above 1 when samples crowd
    dense real regions). Coverage: fraction of real points whose ball holds at
    least one generated point. Boundary points count as inside (<=).
    """
    r, f = _pair(real, fake)
    count, hit, _ = _ball_counts(r, knn_radii(r, k), f)
    return float(count.sum() / (k * f.shape[0])), float(hit.mean())
