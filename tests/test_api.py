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
