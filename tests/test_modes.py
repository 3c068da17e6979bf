"""mnist-stacked (three MNIST digits as the channels of one image, 1,000 modes) and its mode
coverage metric (gankit.metrics.modes, `gankit eval --modes`, Run.evaluate(modes=True))."""
import json
import math

import numpy as np
import pytest
import torch

from hostile_kit import finished_tiny_run, refused, run_cli, tiny_mnist
from gankit.catalogue import load_config
from gankit.data import load_dataset
from gankit.data.mnist import MNISTConfig
from gankit.data.stacked import StackedDigits, StackedMNISTConfig
from gankit.errors import GankitError
from gankit.metrics.modes import (
    expected_covered,
    kl_to_uniform,
    mode_counts,
    mode_ids,
    mode_metrics,
    modes_covered,
)


# ---------------------------------------------------------------- hand computations
def test_kl_to_uniform_by_hand():
    counts = np.zeros(1000, dtype=np.int64)
    counts[[3, 500]] = [3, 1]  # p = (3/4, 1/4) on two of 1,000 modes, the rest empty (contribute 0)
    by_hand = 0.75 * math.log(0.75 * 1000) + 0.25 * math.log(0.25 * 1000)
    assert kl_to_uniform(counts) == pytest.approx(by_hand, rel=1e-12)
    # = ln 1000 - H(p): 6.9078 - 0.5623
    assert by_hand == pytest.approx(math.log(1000) + 0.75 * math.log(0.75) + 0.25 * math.log(0.25))
    assert by_hand == pytest.approx(6.3454, abs=1e-4)
    one = np.zeros(1000)
    one[7] = 26
    assert kl_to_uniform(one) == pytest.approx(math.log(1000))  # all in one mode: ln 1000 = 6.9078
    assert kl_to_uniform(np.full(1000, 4)) == pytest.approx(0.0, abs=1e-12)  # uniform: 0
    half = np.zeros(1000)
    half[:500] = 2  # uniform over half the modes: ln 2
    assert kl_to_uniform(half) == pytest.approx(math.log(2))
    with pytest.raises(GankitError, match="empty"):
        kl_to_uniform(np.zeros(1000))


def test_modes_covered_counts_a_mode_with_one_sample():
    modes = mode_ids([[1, 2, 3], [0, 0, 7], [1, 2, 3], [9, 9, 9]])
    assert modes.tolist() == [123, 7, 123, 999]
    counts = mode_counts(modes)
    assert counts.shape == (1000,) and counts.sum() == 4 and counts[123] == 2
    assert modes_covered(counts) == 3  # PacGAN's convention: at least one sample
    assert modes_covered(counts, min_count=2) == 1
    with pytest.raises(GankitError, match="0..9"):
        mode_ids([[1, 2, 10]])
    with pytest.raises(GankitError, match=r"\[N, 3\]"):
        mode_ids([[1, 2]])
    with pytest.raises(GankitError, match="0..999"):
        mode_counts([1000])
    assert expected_covered(1) == pytest.approx(1.0)
    assert expected_covered(2000) == pytest.approx(1000 * (1 - 0.999 ** 2000))  # about 865


# ---------------------------------------------------------------- the dataset
def test_stacked_channels_and_labels_are_the_source_digits():
    ds = load_dataset(StackedMNISTConfig(name="mnist-stacked", size=300, seed=3))
    src = load_dataset(MNISTConfig(name="mnist"))
    assert isinstance(ds, StackedDigits) and ds.name == "mnist-stacked"
    assert ds.x.shape == (300, 3, 28, 28) and ds.x.dtype == torch.float32
    assert ds.num_classes == 1000 and ds.value_range == (-1.0, 1.0) and ds.kind == "image"
    assert ds.picks.shape == (300, 3)
    for i in (0, 17, 299):
        for c in range(3):
            assert torch.equal(ds.x[i, c], src.x[ds.picks[i, c], 0])  # same pixels, same [-1, 1] scale
        d = [int(src.y[ds.picks[i, c]]) for c in range(3)]
        assert int(ds.y[i]) == 100 * d[0] + 10 * d[1] + d[2]
    assert torch.equal(ds.digits.x, src.x)  # the mnist dataset itself: the same classifier cache key
    again = load_dataset(StackedMNISTConfig(name="mnist-stacked", size=300, seed=3))
    assert torch.equal(again.x, ds.x) and torch.equal(again.y, ds.y)
    other = load_dataset(StackedMNISTConfig(name="mnist-stacked", size=300, seed=4))
    assert not torch.equal(other.picks, ds.picks)
    # the default: 25,600 examples (VEEGAN/PacGAN), every one of the 1,000 modes present
    full = load_dataset(StackedMNISTConfig(name="mnist-stacked"))
    assert len(full) == 25_600 and int((torch.bincount(full.y, minlength=1000) > 0).sum()) == 1000


def test_stacked_reads_idx_files_under_root(tmp_path):
    root = tiny_mnist(tmp_path / "mnist")  # 200 digits
    ds = load_dataset(StackedMNISTConfig(name="mnist-stacked", root=str(root), size=50))
    assert len(ds.digits) == 200 and int(ds.picks.max()) < 200
    with pytest.raises(GankitError, match="t10k-images-idx3-ubyte"):
        load_dataset(StackedMNISTConfig(name="mnist-stacked", root=str(root), split="test", size=5))


@pytest.mark.parametrize("override, key", [("data.size=0", "data.size"), ("data.size=200001", "data.size"),
                                           ("data.seed=-1", "data.seed"), ("data.split=val", "data.split")])
def test_stacked_options_are_range_checked(override, key):
    with pytest.raises(GankitError, match=key.replace(".", r"\.")):
        load_config("cdcgan-mnist-demo", ["data.name=mnist-stacked", "net.conditional=false", override])


def test_no_classifier_is_trained_on_the_1000_stacked_classes(cache_dir):
    from gankit.metrics.classifier import get_classifier

    ds = load_dataset(StackedMNISTConfig(name="mnist-stacked", size=100))
    with pytest.raises(GankitError, match="channel by channel"):
        get_classifier(ds, cache_dir)
    assert not list(cache_dir.glob("classifier-mnist-stacked*"))


# ---------------------------------------------------------------- the metric on real and collapsed digits
def test_mode_metrics_of_real_stacked_digits_and_of_a_collapsed_set(cache_dir):
    from gankit.metrics.modes import channel_digits

    ds = load_dataset(StackedMNISTConfig(name="mnist-stacked", size=2000, seed=1))
    _, digits = channel_digits(ds, ds.x)
    agree = float((mode_ids(digits) == ds.y.numpy()).mean())
    assert agree > 0.85  # per-digit accuracy about 0.98 on the digits it was trained from
    real = mode_metrics(ds, ds.x)
    assert real["n"] == 2000
    true_counts = mode_counts(ds.y.numpy())
    assert abs(real["modes_covered"] - modes_covered(true_counts)) <= 40
    assert abs(real["modes_covered"] - expected_covered(2000)) <= 50
    assert real["modes_kl"] == pytest.approx(kl_to_uniform(true_counts), abs=0.1)
    collapsed = mode_metrics(ds, ds.x[:1].repeat(500, 1, 1, 1))
    assert collapsed == {"modes_covered": 1, "modes_kl": pytest.approx(math.log(1000), abs=1e-6), "n": 500}
    assert not list(cache_dir.glob("classifier-mnist-stacked*"))
    with pytest.raises(GankitError, match=r"\[N, 3, 28, 28\]"):
        mode_metrics(ds, ds.x[:, :1])
    with pytest.raises(GankitError, match="NaN"):
        mode_metrics(ds, torch.full((2, 3, 28, 28), float("nan")))
    with pytest.raises(GankitError, match="mnist-stacked"):
        mode_metrics(load_dataset(MNISTConfig(name="mnist")), ds.x)


# ---------------------------------------------------------------- a real run, the CLI and the API
STACKED = ["data.size=256", "data.batch_size=16", "net.width=4", "net.dense=16", "train.steps=2", "train.eval_samples=40", "train.sample_every=1000",
           "train.ckpt_every=1000", "train.tensorboard=false", "train.threads=1"]


@pytest.fixture(scope="module")
def stacked_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("stacked")
    root = tiny_mnist(base / "mnist")
    out = base / "run"
    assert run_cli(["train", "dcgan-mnist-stacked", *STACKED, f"data.root={root}", "--out", out, "--quiet"]) == 0
    return out


def test_eval_modes_on_a_stacked_run(stacked_run, capsys, cache_dir):
    capsys.readouterr()
    assert run_cli(["eval", stacked_run, "--modes", "--n", "60"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["step"] == 2 and row["n"] == 60 and row["digits"] == 180
    assert 1 <= row["modes_covered"] <= 60 and isinstance(row["modes_covered"], int)
    assert 0.0 <= row["modes_kl"] <= float(f"{math.log(1000):.4g}")  # printed to 4 significant digits
    assert "each of the 3 channels" in row["backbone"] and len(row["class_hist"]) == 10  # digits, not modes
    assert run_cli(["eval", stacked_run, "--n", "60"]) == 0  # plain eval: per-channel IS/FID, no modes
    plain = json.loads(capsys.readouterr().out)
    assert "modes_covered" not in plain and plain["fid"] == pytest.approx(row["fid"])
    assert not list(cache_dir.glob("classifier-mnist-stacked*"))
    final = [json.loads(line) for line in (stacked_run / "metrics.jsonl").read_text().splitlines()][-1]
    assert final["digits"] == 120  # the loop's own evaluation (40 samples) scored the channels too


def test_api_evaluate_modes(stacked_run):
    import gankit

    run = gankit.load(stacked_run)
    row = run.evaluate(n=30, modes=True)
    assert row["n"] == 30 and 1 <= row["modes_covered"] <= 30
    assert row == run.evaluate(n=30, modes=True)  # the same seeded samples
    with pytest.raises(GankitError, match="True or False"):
        run.evaluate(n=30, modes="yes")


def test_eval_modes_refuses_a_run_that_is_not_stacked(tmp_path, capsys):
    import gankit

    run = finished_tiny_run(tmp_path) / "run"  # tests/tinynet.py's net on 200 MNIST digits
    capsys.readouterr()
    line = refused(capsys, ["eval", run, "--modes"])
    assert "mnist-stacked" in line and "'mnist' (1x28x28)" in line
    with pytest.raises(GankitError, match="mnist-stacked"):
        gankit.load(run).evaluate(n=10, modes=True)


def test_a_conditional_model_of_1000_stacked_classes_is_refused(tmp_path, capsys):
    line = refused(capsys, ["train", "dcgan-mnist-stacked", *STACKED, "net.conditional=true",
                            "--out", tmp_path / "run", "--quiet"])
    assert "net.conditional=true" in line and "1000" in line
    assert not (tmp_path / "run" / "checkpoints").exists()
