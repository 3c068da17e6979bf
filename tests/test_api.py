"""The Python API (gankit.training / load / sample / evaluate) and the progress display."""
import types

import numpy as np
import pytest

import gankit
from gankit.training.loop import Progress, budget_done


@pytest.fixture(scope="module")
def run(tmp_path_factory, cache_dir):
    out = tmp_path_factory.mktemp("api") / "run"
    return gankit.train("cdcgan-mnist", out=out, overrides={
        "train.steps": 4, "train.seconds": None, "train.eval_samples": 100, "train.tensorboard": False,
        "train.threads": 1, "net.width": 4, "net.dense": 16})


def test_train_returns_the_run_with_its_final_metrics(run):
    assert run.dir.is_dir() and (run.dir / "config.yaml").is_file()
    assert run.step == 4 and run.metrics["step"] == 4 and run.metrics["n"] == 100
    assert 1.0 <= run.metrics["is"] <= 10.0 and "label_agreement" in run.metrics


def test_load_sample_and_evaluate(run):
    again = gankit.load(run.dir)
    assert again.step == run.step and again.cfg.preset == "cdcgan-mnist"
    images = again.sample(12, seed=0)
    assert images.dtype == np.uint8 and images.shape == (12, 28, 28)
    assert np.array_equal(images, again.sample(12, seed=0))  # seeded: the same images
    assert not np.array_equal(images, again.sample(12, seed=1))
    sevens = again.sample(3, labels=7)
    assert sevens.shape == (3, 28, 28)
    metrics = again.evaluate(n=100)
    assert metrics["step"] == 4 and metrics["n"] == 100 and metrics["run"] == str(run.dir)


@pytest.mark.parametrize("call, message", [
    (lambda r: r.sample(0), "n must be a positive integer"),
    (lambda r: r.sample(4, labels=[3, 12]), "labels must be integers in 0..9"),
    (lambda r: r.evaluate(n=-3), "n must be a positive integer"),
])
def test_bad_arguments_raise_gankit_error(run, call, message):
    with pytest.raises(gankit.GankitError, match=message):
        call(run)


def test_errors_are_the_cli_messages(tmp_path):
    with pytest.raises(gankit.GankitError, match="run directory not found"):
        gankit.load(tmp_path / "nothing")
    with pytest.raises(gankit.GankitError, match="unknown config key"):
        gankit.train("cdcgan-mnist", out=tmp_path / "x", overrides={"train.stepz": 3})
    with pytest.raises(gankit.GankitError, match="not one string"):
        gankit.train("cdcgan-mnist", out=tmp_path / "x", overrides="train.steps=3")


def test_budget_done_follows_the_budget_that_ends_first():
    t = types.SimpleNamespace(steps=100000, seconds=240.0, epochs=None)
    assert budget_done(t, 25, 60.0, 0.3) == pytest.approx(0.25)  # 60 of 240 s, not 25 of 100,000 steps
    t = types.SimpleNamespace(steps=1000, seconds=None, epochs=4)
    assert budget_done(t, 300, 10.0, 1.0) == pytest.approx(0.3)  # steps ahead of epochs (1 of 4)
    assert budget_done(t, 100, 10.0, 2.0) == pytest.approx(0.5)  # epochs ahead of steps
    assert budget_done(t, 2000, 0.0, 0.0) == 1.0


def test_plain_progress_lines_when_not_a_terminal(capsys):
    from gankit.cli import _progress_printer

    show = _progress_printer("demo", quiet=False, every=3600)
    show.tty = False
    for step in (25, 50, 75):
        show(Progress(step, 100000, {"d_loss": 1.25}, 90.0, step / 10, done=step / 240))
    show(Progress(2400, 100000, {"d_loss": 1.0}, 90.0, 240.0, done=1.0))
    show.close()
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2  # the first, then none within `every` seconds, then the last
    assert lines[0].startswith("demo: step 25 (10%)") and "d_loss=1.25" in lines[0]
    assert lines[1].startswith("demo: step 2400 (100%)")


# ------------------------------------------------------------------ Run.write_samples
def test_write_samples_streams_the_samples_of_sample_in_chunks(run, tmp_path, monkeypatch):
    import gankit.training.sampling as sampling

    again = gankit.load(run.dir)
    expected = again.sample(23, seed=4)  # one generator call
    # 23 samples in chunks of 8, 8, 7: one seeded RNG stream runs through them (on the CPU, torch
    # draws the same normal numbers in pieces of a multiple of 16 values as in one call)
    monkeypatch.setattr(sampling, "SAMPLE_CHUNK", 8)
    calls = []
    generate = again.model.generate
    monkeypatch.setattr(again.model, "generate", lambda n, y=None: calls.append(n) or generate(n, y))
    written = again.write_samples(tmp_path / "s.npz", 23, seed=4)
    assert calls == [8, 8, 7]
    assert written.arrays == {"images": (np.dtype(np.uint8), (28, 28)), "labels": (np.dtype(np.int64), ())}
    with np.load(tmp_path / "s.npz") as f:
        assert f.files == ["images", "labels"]
        assert np.array_equal(f["images"], expected)  # one seeded stream through the chunks
        assert f["labels"].tolist() == [*range(10), *range(10), 0, 1, 2]  # balanced by default
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.npz"]  # no temporary file left


def test_write_samples_cycles_the_labels_given(run, tmp_path, monkeypatch):
    import gankit.training.sampling as sampling

    again = gankit.load(run.dir)
    expected = again.sample(11, seed=2, labels=[3, 7, 7])
    monkeypatch.setattr(sampling, "SAMPLE_CHUNK", 8)  # the period (3) does not divide the chunk
    again.write_samples(tmp_path / "c.npz", 11, seed=2, labels=[3, 7, 7])
    with np.load(tmp_path / "c.npz") as f:
        assert f["labels"].tolist() == [3, 7, 7, 3, 7, 7, 3, 7, 7, 3, 7]
        assert np.array_equal(f["images"], expected)
    again.write_samples(tmp_path / "one.npz", 6, labels=9)
    with np.load(tmp_path / "one.npz") as f:
        assert f["labels"].tolist() == [9] * 6


def test_write_samples_refuses_what_the_disk_cannot_hold(run, tmp_path, monkeypatch):
    import collections
    import shutil

    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 10_000, 10_000))
    # 20 samples of 28 x 28 bytes + an 8-byte label each: 15,840 bytes > 10,000 free
    with pytest.raises(gankit.GankitError, match=r"20 samples take 15.8 KB and .* has 10.0 KB free"):
        gankit.load(run.dir).write_samples(tmp_path / "big.npz", 20)
    assert list(tmp_path.iterdir()) == []


def test_write_samples_grid_alone_draws_only_its_chunk(run, tmp_path, monkeypatch):
    again = gankit.load(run.dir)
    calls = []
    generate = again.model.generate
    monkeypatch.setattr(again.model, "generate", lambda n, y=None: calls.append(n) or generate(n, y))
    assert again.write_samples(None, 10**9, seed=1, grid=tmp_path / "g.png").arrays == {}
    assert calls == [500] and (tmp_path / "g.png").is_file()


@pytest.mark.parametrize("call, message", [
    (lambda r, p: r.write_samples(p, 0), r"must lie in 1..1,000,000,000,000, got 0"),
    (lambda r, p: r.write_samples(p, 10**13), r"must lie in 1..1,000,000,000,000"),
    (lambda r, p: r.write_samples(p, 5, labels=[]), "labels is empty"),
    (lambda r, p: r.write_samples(p, 5, labels=[1, 10]), r"label 10 is outside 0..9"),
    (lambda r, p: r.write_samples(None, 5), "nothing to write"),
    (lambda r, p: r.write_samples(p, 5, seed=-1), r"--seed must lie in 0..2\^63-1"),
])
def test_write_samples_bad_arguments_write_nothing(run, tmp_path, call, message):
    with pytest.raises(gankit.GankitError, match=message):
        call(gankit.load(run.dir), tmp_path / "x.npz")
    assert list(tmp_path.iterdir()) == []


def test_a_negative_count_on_a_conditional_run_is_one_line(run, capsys):
    """Issue 33: `gankit eval RUN --n -3` ended in a traceback (the labels of -3 samples)."""
    from gankit.cli import main
    from gankit.training.sampling import evaluate_model

    assert main(["eval", str(run.dir), "--n", "-3"]) == 2
    err = capsys.readouterr().err
    assert err == "gankit: error: the number of samples (--n) must lie in 1..1,000,000, got -3\n"
    with pytest.raises(gankit.GankitError, match="must lie in 1..1,000,000 for this run"):
        evaluate_model(gankit.load(run.dir).model, -3)  # the library refuses it too


def test_eval_prints_four_significant_digits(run, capsys):
    import json

    from gankit.cli import main

    full = gankit.load(run.dir).evaluate(n=100)
    assert main(["eval", str(run.dir), "--n", "100"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["is"] == float(f"{full['is']:.4g}") and shown["fid"] == float(f"{full['fid']:.4g}")
    assert shown["n"] == 100 and shown["step"] == full["step"]
    assert any(isinstance(v, float) and v != float(f"{v:.4g}") for v in full.values())  # so rounding was needed
