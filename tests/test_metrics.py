"""Metrics: IS/FID/coverage maths against hand computations, the cached digit classifier, image_metrics."""
import json
import math

import numpy as np
import pytest
import torch

from gankit.data import Dataset, load_dataset
from gankit.data.mnist import MNISTConfig
from gankit.errors import GankitError
from gankit.metrics import default_cache_dir, evaluate
from gankit.metrics.classifier import cache_path, get_classifier
from gankit.metrics.images import image_metrics
from gankit.metrics import scores


# ---------------------------------------------------------------- Inception Score
def test_is_confident_and_uniform_is_num_classes():
    assert scores.inception_score(np.eye(10)) == pytest.approx(10.0)


def test_is_identical_predictions_is_one():
    probs = np.tile([0.2, 0.5, 0.3], (7, 1))
    assert scores.inception_score(probs) == pytest.approx(1.0)
    assert scores.inception_score(np.tile(np.eye(4)[2], (5, 1))) == pytest.approx(1.0)


def test_is_two_class_hand_example():
    probs = np.array([[0.9, 0.1], [0.2, 0.8]])
    py = [0.55, 0.45]
    kl1 = 0.9 * math.log(0.9 / py[0]) + 0.1 * math.log(0.1 / py[1])
    kl2 = 0.2 * math.log(0.2 / py[0]) + 0.8 * math.log(0.8 / py[1])
    assert scores.inception_score(torch.tensor(probs)) == pytest.approx(math.exp((kl1 + kl2) / 2))


def test_is_splits_average_per_chunk():
    probs = np.concatenate([np.eye(4), np.tile(np.eye(4)[0], (4, 1))])  # chunk 1: IS 4, chunk 2: IS 1
    assert scores.inception_score(probs, splits=2) == pytest.approx(2.5)


def test_is_rejects_non_distributions():
    with pytest.raises(GankitError):
        scores.inception_score(np.array([[0.5, 0.6]]))
    with pytest.raises(GankitError):
        scores.inception_score(np.ones(3) / 3)


# ---------------------------------------------------------------- FID
def test_fid_diagonal_gaussians_closed_form():
    mu1, mu2 = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.5, 0.0])
    s1, s2 = np.array([1.0, 4.0, 0.25]), np.array([2.0, 1.0, 1.0])
    expected = ((mu1 - mu2) ** 2).sum() + (s1 + s2 - 2 * np.sqrt(s1 * s2)).sum()
    assert scores.frechet_distance(mu1, np.diag(s1), mu2, np.diag(s2)) == pytest.approx(expected)


def test_fid_of_identical_features_is_zero_and_shift_adds_squared_norm():
    feats = np.random.default_rng(0).normal(size=(500, 8)) @ np.random.default_rng(1).normal(size=(8, 8))
    mu, sigma = scores.feature_stats(feats)
    assert scores.frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-6)
    mu2, sigma2 = scores.feature_stats(feats + 3.0)
    assert scores.frechet_distance(mu, sigma, mu2, sigma2) == pytest.approx(8 * 9.0, rel=1e-6)


def test_fid_handles_singular_covariances():
    feats = np.random.default_rng(0).normal(size=(5, 16))  # 5 samples, 16 dims: rank-4 covariance
    mu, sigma = scores.feature_stats(feats)
    fid = scores.frechet_distance(mu, sigma, np.zeros(16), np.eye(16))
    assert math.isfinite(fid) and fid > 0


def test_feature_stats_by_hand():
    feats = np.array([[1.0, 2.0], [3.0, 6.0], [5.0, 4.0]])
    mu, sigma = scores.feature_stats(feats)
    np.testing.assert_allclose(mu, [3.0, 4.0])
    # unbiased: sum of products of deviations / (n - 1)
    np.testing.assert_allclose(sigma, [[(4 + 0 + 4) / 2, (4 + 0 + 0) / 2], [(4 + 0 + 0) / 2, (4 + 4 + 0) / 2]])


def test_fid_shape_mismatch_is_user_error():
    with pytest.raises(GankitError, match="shapes"):
        scores.frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))


# ---------------------------------------------------------------- coverage / confidence / agreement
def test_histogram_coverage_agreement_on_hand_arrays():
    preds = np.array([0] * 10 + [1] * 6 + [2] * 3 + [3] * 1)  # 20 samples
    np.testing.assert_allclose(scores.class_histogram(preds, 5), [0.5, 0.3, 0.15, 0.05, 0.0])
    assert scores.classes_covered(preds, 5) == 3  # default: >= half a uniform share = 10 %
    assert scores.classes_covered(preds, 5, min_frac=0.05) == 4
    assert scores.label_agreement(preds, np.array([0] * 10 + [1] * 5 + [9] * 5)) == pytest.approx(0.75)
    probs = np.array([[0.7, 0.3], [0.4, 0.6], [0.9, 0.1]])
    np.testing.assert_allclose(scores.class_histogram(probs, 2), [2 / 3, 1 / 3])
    assert scores.mean_confidence(probs) == pytest.approx((0.7 + 0.6 + 0.9) / 3)
    with pytest.raises(GankitError):
        scores.label_agreement(preds, np.zeros(3))
    with pytest.raises(GankitError):
        scores.class_histogram(np.array([0, 7]), 5)


# ---------------------------------------------------------------- the digit classifier
@pytest.fixture(scope="session")
def mnist():
    return load_dataset(MNISTConfig())


@pytest.fixture(scope="session")
def mnist_classifier(mnist, cache_dir):
    return get_classifier(mnist, cache_dir)


def test_classifier_is_accurate_and_cached(mnist, mnist_classifier, cache_dir):
    assert mnist_classifier.accuracy >= 0.95
    assert mnist_classifier.path == cache_path(mnist, cache_dir) and mnist_classifier.path.is_file()
    again = get_classifier(mnist, cache_dir)
    assert not again.trained and again.accuracy == mnist_classifier.accuracy
    np.testing.assert_allclose(again.mu, mnist_classifier.mu)


def small_mnist(mnist, n=320, name="mnist-small"):
    idx = torch.randperm(len(mnist), generator=torch.Generator().manual_seed(0))[:n]
    return Dataset(name, mnist.x[idx].clone(), mnist.y[idx].clone(), num_classes=10)


def test_classifier_deterministic_rng_neutral_and_corrupt_cache_retrained(mnist, tmp_path):
    data = small_mnist(mnist)
    torch.manual_seed(123)
    first = get_classifier(data, tmp_path)
    after = torch.rand(3)
    torch.manual_seed(123)
    assert torch.equal(after, torch.rand(3)), "training must not consume the caller's RNG"
    assert first.trained and first.path.is_file()

    first.path.write_bytes(b"not a torch file")
    second = get_classifier(data, tmp_path)
    assert second.trained  # retrained, not a crash
    for (k, a), b in zip(first.net.state_dict().items(), second.net.state_dict().values()):
        assert torch.equal(a, b), f"retraining gave different weights for {k}"
    assert not get_classifier(data, tmp_path).trained


def test_different_data_gets_a_different_cache_file(mnist, tmp_path):
    a = small_mnist(mnist)
    b = Dataset(a.name, a.x.flip(0).clone(), a.y.flip(0).clone(), num_classes=10)
    assert cache_path(a, tmp_path) != cache_path(b, tmp_path)
    assert cache_path(a, tmp_path).name.startswith("classifier-mnist-small-")


def test_unlabelled_dataset_is_user_error(mnist, tmp_path):
    with pytest.raises(GankitError, match="labels"):
        get_classifier(Dataset("nolabels", mnist.x[:100], None), tmp_path)


# ---------------------------------------------------------------- image_metrics / evaluate
def test_real_digits_score_far_better_than_noise(mnist, mnist_classifier, cache_dir):
    idx = torch.randperm(len(mnist), generator=torch.Generator().manual_seed(1))[:500]
    real = image_metrics(mnist, mnist.x[idx], labels=mnist.y[idx], cache_dir=cache_dir)
    noise = image_metrics(mnist, torch.rand(500, 1, 28, 28, generator=torch.Generator().manual_seed(2)) * 2 - 1,
                          cache_dir=cache_dir)
    json.dumps(real)
    assert real["n"] == 500 and len(real["class_hist"]) == 10
    assert real["min_class_share"] == pytest.approx(min(real["class_hist"]), abs=1e-6) and real["min_class_share"] > 0.05
    assert real["fid"] * 10 < noise["fid"]
    assert real["is"] > 2 * noise["is"]
    assert real["classes_covered"] == 10 and noise["classes_covered"] < 10
    assert real["label_agreement"] > 0.95 and "label_agreement" not in noise
    assert real["kid"] * 10 < noise["kid"]
    for key in ("precision", "recall", "density", "coverage"):
        assert real[key] > 0.5 > noise[key] >= 0, key
    assert f"{mnist_classifier.accuracy:.3f}" in real["backbone"]


def test_evaluate_dispatches_and_checks_input(mnist, mnist_classifier, cache_dir, monkeypatch):
    monkeypatch.setenv("GANKIT_CACHE", str(cache_dir))
    assert default_cache_dir() == cache_dir
    out = evaluate(mnist, mnist.x[:50])
    assert out["n"] == 50 and "fid" in out
    few = evaluate(mnist, mnist.x[:3])  # KID needs 2 samples; k-NN radii need more than k
    assert few["kid"] is not None and few["precision"] is None and few["density"] is None
    with pytest.raises(GankitError, match="samples must be"):
        evaluate(mnist, torch.zeros(4, 3, 28, 28))
    with pytest.raises(GankitError, match="NaN"):
        evaluate(mnist, torch.full((4, 1, 28, 28), float("nan")))
    odd = Dataset("odd", mnist.x[:10], mnist.y[:10], num_classes=10, kind="sound")
    with pytest.raises(GankitError, match="kind"):
        evaluate(odd, mnist.x[:10])


# ---------------------------------------------------------------- KID, precision/recall, density/coverage
def test_kid_by_hand_on_two_points_each():
    # 2-D, k(a, b) = (a.b / 2 + 1)^3; one subset of all m = 2 points, so std is 0
    real, fake = np.array([[0.0, 0.0], [2.0, 0.0]]), np.array([[2.0, 2.0], [0.0, 2.0]])
    within_real = 2 * (0 / 2 + 1) ** 3 / (2 * 1)             # the one pair, both orders: 1
    within_fake = 2 * (4 / 2 + 1) ** 3 / (2 * 1)             # (2,2).(0,2) = 4: 27
    across = 2 * (1 + 1 + (4 / 2 + 1) ** 3 + (0 / 2 + 1) ** 3) / (2 * 2)  # 2 * 30 / 4 = 15
    kid, std = scores.kernel_inception_distance(torch.tensor(real), fake, subsets=3, subset_size=5)
    assert kid == pytest.approx(within_real + within_fake - across) and kid == pytest.approx(13.0)
    assert std == pytest.approx(0.0)


def kid_reference(real, fake, subsets, size, seed):
    """Straightforward unbiased MMD^2 with the cubic kernel, subset by subset (Binkowski et al. 2018)."""
    d = real.shape[1]
    values = []
    for ir, jf in zip(scores.kid_subsets(len(real), size, subsets, seed),
                      scores.kid_subsets(len(fake), size, subsets, seed + 1)):
        x, y = real[ir], fake[jf]
        kxx, kyy, kxy = [(a @ b.T / d + 1) ** 3 for a, b in ((x, x), (y, y), (x, y))]
        values.append((kxx.sum() - np.trace(kxx)) / (size * (size - 1))
                      + (kyy.sum() - np.trace(kyy)) / (size * (size - 1)) - 2 * kxy.mean())
    return np.mean(values), np.std(values)


def test_kid_matches_an_independent_implementation_and_orders_distributions():
    rng = np.random.default_rng(0)
    real = np.maximum(rng.normal(size=(300, 16)), 0)  # ReLU-like features, as the classifier's
    near = np.maximum(rng.normal(size=(250, 16)), 0)
    far = np.maximum(rng.normal(0.5, 1.0, size=(250, 16)), 0)
    kid, std = scores.kernel_inception_distance(real, far, subsets=20, subset_size=100, seed=3)
    ref_kid, ref_std = kid_reference(real, far, 20, 100, 3)
    assert kid == pytest.approx(ref_kid, rel=1e-9) and std == pytest.approx(ref_std, rel=1e-9)
    same = scores.kernel_inception_distance(real, near, subsets=20, subset_size=100)[0]
    assert same == pytest.approx(kid_reference(real, near, 20, 100, 0)[0], rel=1e-9)
    assert abs(same) < 0.1 * kid  # same distribution: unbiased estimate near 0


def test_kid_rejects_too_few_or_mismatched_features():
    with pytest.raises(GankitError, match="KID"):
        scores.kernel_inception_distance(np.zeros((1, 3)), np.zeros((5, 3)))
    with pytest.raises(GankitError, match="width"):
        scores.kernel_inception_distance(np.zeros((4, 3)), np.zeros((4, 2)))


def test_precision_recall_density_coverage_by_hand_on_a_line():
    # points on the x axis of a 2-D feature space; k = 1
    real = np.array([[-5.0, 0], [0, 0], [1, 0], [3, 0]])
    fake = np.array([[0.5, 0], [2.5, 0], [6, 0], [20, 0]])
    np.testing.assert_allclose(scores.knn_radii(real, 1), [5, 1, 1, 2])
    np.testing.assert_allclose(scores.knn_radii(fake, 1), [2, 2, 3.5, 14])
    # real balls [-10, 0], [-1, 1], [0, 2], [1, 5]: 0.5 and 2.5 are inside, 6 and 20 are not
    # generated balls [-1.5, 2.5], [0.5, 4.5], [2.5, 9.5], [6, 34]: all real points but -5 are inside
    assert scores.precision_recall(real, fake, k=1) == pytest.approx((2 / 4, 3 / 4))
    # 0.5 lies in 2 real balls, 2.5 in 1: density 3 / (k * 4); the balls of 0, 1 and 3 hold a sample
    assert scores.density_coverage(real, torch.tensor(fake), k=1) == pytest.approx((3 / 4, 3 / 4))


def test_precision_density_coverage_by_hand_on_a_square():
    real = np.array([[0.0, 0], [2, 0], [0, 2], [2, 2]])  # k = 1 and k = 2: every radius is 2
    fake = np.array([[1.0, 1], [3, 3], [4, 0], [1, -3]])
    np.testing.assert_allclose(scores.knn_radii(real, 2), [2, 2, 2, 2])
    np.testing.assert_allclose(scores.knn_radii(real, 3), [8 ** 0.5] * 4)  # the far corner
    # (1,1) is sqrt 2 from every corner (4 balls); (3,3) is in (2,2)'s ball only; (4,0) lies on
    # the boundary of (2,0)'s ball (inside); (1,-3) is sqrt 10 > 2 from (0,0) and (2,0)
    precision, recall = scores.precision_recall(real, fake, k=2)
    assert precision == pytest.approx(3 / 4)
    # generated 2-NN radius of (1,1) is sqrt 10 [to (4,0)] and every corner is sqrt 2 from it
    assert recall == pytest.approx(1.0)
    density, coverage = scores.density_coverage(real, fake, k=2)
    assert density == pytest.approx((4 + 1 + 1 + 0) / (2 * 4))
    assert coverage == pytest.approx(1.0)
    # a copy of the real set: every point is the centre of a ball of its own
    assert scores.precision_recall(real, real, k=1) == pytest.approx((1.0, 1.0))


def test_knn_metrics_reject_too_few_points():
    with pytest.raises(GankitError, match="k-NN"):
        scores.precision_recall(np.zeros((3, 2)), np.zeros((8, 2)), k=3)
    with pytest.raises(GankitError, match="features"):
        scores.density_coverage(np.full((8, 2), np.nan), np.zeros((8, 2)))


def test_default_cache_dir_is_the_users_cache_unless_gankit_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("GANKIT_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "gankit"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "gankit"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/dir")  # the XDG spec: relative paths are ignored
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "gankit"
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path / "mine"))
    assert default_cache_dir() == tmp_path / "mine"


def test_classifier_pending_names_the_cache_file_until_it_is_written(tmp_path):
    """What the loop tells before the first evaluation: the file the classifier will be cached in,
    None once it is there, None for data scored without a classifier (boards, unlabelled or too
    few images: 71 labelled images are one batch of 64 after the held-out tenth)."""
    import torch

    from gankit.data.base import Dataset
    from gankit.metrics import classifier_pending
    from gankit.metrics.classifier import cache_path, get_classifier
    from gankit.metrics.images import has_classifier

    g = torch.Generator().manual_seed(0)
    x = torch.rand(71, 1, 8, 8, generator=g) * 2 - 1
    small = Dataset("tiny", x, torch.arange(71) % 2, num_classes=2)
    assert has_classifier(small) and not has_classifier(Dataset("tiny", x[:70], torch.arange(70) % 2, num_classes=2))
    assert not has_classifier(Dataset("nolabels", x, None))
    assert classifier_pending(Dataset("nolabels", x, None), tmp_path) is None
    assert classifier_pending(small, tmp_path) == cache_path(small, tmp_path)
    get_classifier(small, tmp_path)
    assert classifier_pending(small, tmp_path) is None
