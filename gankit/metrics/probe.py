"""Few-label probes: how well a fixed feature map separates classes with k labels per class.

The semi-supervised test the symbolic autoencoder paper names as its next step
(symbolic-autoencoder.txt section 5): pick ``per_class`` labelled examples of
every class, fit a simple classifier on their features, and score it on all
other examples. Two classifiers: multinomial logistic regression (L2, L-BFGS)
on z-scored features, and k-nearest neighbours by cosine similarity.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from gankit.errors import GankitError

CLASSIFIERS = ("logreg", "knn")


def few_label_split(y: torch.Tensor, per_class: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices (labelled, rest): ``per_class`` random examples of every class, and all others."""
    y = torch.as_tensor(y).long().cpu()
    if per_class < 1:
        raise GankitError(f"labels per class must be >= 1, got {per_class}")
    gen = torch.Generator().manual_seed(seed)
    picked = []
    for c in torch.unique(y):
        idx = torch.nonzero(y == c).flatten()
        if len(idx) <= per_class:
            raise GankitError(f"class {int(c)} has only {len(idx)} examples: cannot hold out {per_class} labels")
        picked.append(idx[torch.randperm(len(idx), generator=gen)[:per_class]])
    train = torch.cat(picked).sort().values
    mask = torch.ones(len(y), dtype=torch.bool)
    mask[train] = False
    return train, torch.nonzero(mask).flatten()


def standardize(x: torch.Tensor) -> torch.Tensor:
    """Z-score every feature over all examples (unsupervised: uses no labels)."""
    return (x - x.mean(0)) / x.std(0).clamp_min(1e-6)


def logreg_predict(x_train, y_train, x_test, num_classes: int, l2: float = 1e-2, iters: int = 200) -> torch.Tensor:
    """Multinomial logistic regression: mean cross entropy + l2/2 ||W||², L-BFGS; predicted classes."""
    x_train, x_test = x_train.double(), x_test.double()
    w = torch.zeros(x_train.shape[1], num_classes, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(num_classes, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1.0, max_iter=iters, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(x_train @ w + b, y_train) + 0.5 * l2 * (w * w).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        return (x_test @ w + b).argmax(1)


def knn_predict(x_train, y_train, x_test, num_classes: int, k: int = 1) -> torch.Tensor:
    """Majority vote of the k nearest labelled examples by cosine similarity."""
    sim = F.normalize(x_test.double(), dim=1) @ F.normalize(x_train.double(), dim=1).T
    nearest = sim.topk(min(k, x_train.shape[0]), dim=1).indices
    votes = F.one_hot(y_train[nearest], num_classes).sum(1).double()
    votes += 1e-3 * F.one_hot(y_train[nearest[:, 0]], num_classes)  # ties go to the nearest
    return votes.argmax(1)


def probe_accuracy(features: torch.Tensor, labels: torch.Tensor, per_class: int = 10, seed: int = 0,
                   classifier: str = "logreg") -> float:
    """Accuracy on all non-labelled examples of a classifier fit on ``per_class`` labels per class."""
    features = torch.as_tensor(features).detach().cpu().flatten(1).double()
    labels = torch.as_tensor(labels).long().cpu()
    if features.shape[0] != labels.shape[0]:
        raise GankitError(f"probe: {features.shape[0]} feature rows but {labels.shape[0]} labels")
    if classifier not in CLASSIFIERS:
        raise GankitError(f"probe classifier must be one of {', '.join(CLASSIFIERS)}, got '{classifier}'")
    train, test = few_label_split(labels, per_class, seed)
    k = int(labels.max()) + 1
    if classifier == "logreg":
        z = standardize(features)
        pred = logreg_predict(z[train], labels[train], z[test], k)
    else:
        pred = knn_predict(features[train], labels[train], features[test], k)
    return float((pred == labels[test]).double().mean())
