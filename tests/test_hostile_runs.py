"""Hostile use of run directories (issue 21): data loss, two processes on one run, failed
resumes. Each refusal is ONE line ``gankit: error: ...`` with exit code 2, no traceback, and
leaves every file as it was (nothing overwritten without --overwrite, and --overwrite
replaces only a gankit run)."""
from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hostile_kit import TINY, child_env, finished_tiny_run, gankit_cmd, one_error_line, refused, run_cli, tiny_mnist, tree
from gankit.training.checkpoint import Checkpoints
from gankit.training.rundir import LOCK, MARKER, RunLock


@pytest.fixture(scope="module")
def world(tmp_path_factory, cache_dir):
    """A tiny MNIST, its preset and one finished 4-step run (checkpoints at steps 2 and 4)."""
    base = finished_tiny_run(tmp_path_factory.mktemp("hostile-runs"))
    return base


@pytest.fixture
def run(world, tmp_path) -> Path:
    """A fresh copy of the finished run, for a test to attack."""
    return Path(shutil.copytree(world / "run", tmp_path / "run", symlinks=True))


def losses_steps(run: Path) -> list[int]:
    return [int(line.split(",")[0]) for line in (run / "losses.csv").read_text().splitlines()[1:]]


# ---------------------------------------------------------------- data loss
def _data_root_itself(world, tmp_path):
    root = tiny_mnist(tmp_path / "mnist")
    return root, root, "holds the data root"


def _run_holding_the_data_root(world, tmp_path):
    # a real gankit run (marker and all) that has the data inside it: still never deleted
    run = Path(shutil.copytree(world / "run", tmp_path / "run"))
    return run, tiny_mnist(run / "mnist"), "holds the data root"


def _folder_of_other_files(world, tmp_path):
    out = tmp_path / "thesis"
    (out / "chapters").mkdir(parents=True)
    (out / "chapters" / "1.tex").write_text("\\chapter{GANs}")
    (out / "notes.txt").write_text("do not delete")
    return out, world / "mnist", f"is not a gankit run (no {MARKER} file)"


def _run_lookalike_without_marker(world, tmp_path):
    # config.yaml and checkpoints/ as a run has, plus a file no run writes: not a gankit run
    out = Path(shutil.copytree(world / "run", tmp_path / "lookalike"))
    (out / MARKER).unlink()
    (out / "results.xlsx").write_bytes(b"PK\x03\x04 months of work")
    return out, world / "mnist", "is not a gankit run"


@pytest.mark.parametrize("make", [_data_root_itself, _run_holding_the_data_root, _folder_of_other_files,
                                  _run_lookalike_without_marker])
def test_overwrite_refuses_what_is_not_a_gankit_run(world, tmp_path, capsys, make):
    out, root, message = make(world, tmp_path)
    before = tree(out)
    line = refused(capsys, ["train", world / "tiny.yaml", f"data.root={root}", *TINY, "--out", out, "--overwrite"])
    assert message in line and str(out) in line, line
    assert tree(out) == before


def test_overwrite_refuses_a_symlinked_out_and_replaces_its_target(world, run, tmp_path, capsys):
    link = tmp_path / "link"
    link.symlink_to(run, target_is_directory=True)
    before = tree(run)
    line = refused(capsys, ["train", world / "tiny.yaml", *TINY, "--out", link, "--overwrite"])
    assert "is a symbolic link" in line, line
    assert link.is_symlink() and tree(run) == before
    # the run itself, named by its real path, is replaced (the refusal is not of every --overwrite)
    (run / "checkpoints" / "step_00000002.pt").unlink()
    assert run_cli(["train", world / "tiny.yaml", *TINY, "train.steps=2", "--out", run, "--overwrite", "--quiet"]) == 0
    assert [p.name for p in Checkpoints(run / "checkpoints").paths()] == ["step_00000002.pt"]


@pytest.mark.parametrize("spelling", ["same", "dot", "symlink"])
def test_sample_out_and_png_naming_one_file_is_refused(run, tmp_path, capsys, spelling):
    target = tmp_path / "x.npz"
    target.write_bytes(b"earlier samples")
    other = {"same": target, "dot": tmp_path / "." / "x.npz", "symlink": tmp_path / "alias.npz"}[spelling]
    if spelling == "symlink":
        other.symlink_to(target)
    line = refused(capsys, ["sample", run, "--n", "4", "--out", target, "--png", other, "--overwrite"])
    assert "--out and --png name the same file" in line, line
    assert target.read_bytes() == b"earlier samples"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted({"run", "x.npz", other.name})


def test_preset_path_with_dotdot_makes_its_run_under_runs(world, tmp_path, monkeypatch):
    """Without --out a run goes to runs/<preset file name>/<time>: a preset path through ``..``
    (or a file named ``...yaml``, whose stem is ``..``) never puts it beside runs/."""
    work = tmp_path / "work"
    (work / "sub").mkdir(parents=True)
    shutil.copy(world / "tiny.yaml", tmp_path / "outside.yaml")
    shutil.copy(world / "tiny.yaml", work / "...yaml")
    monkeypatch.chdir(work)
    for preset in ("sub/../../outside.yaml", "...yaml"):
        assert run_cli(["train", preset, *TINY, "train.steps=1", "--quiet"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outside.yaml", "work"]
    assert sorted(p.name for p in work.iterdir()) == ["...yaml", "runs", "sub"]
    assert list((work / "sub").iterdir()) == []
    assert sorted(p.name for p in (work / "runs").iterdir()) == ["outside", "preset"]
    for name in ("outside", "preset"):
        (made,) = (work / "runs" / name).iterdir()
        assert (made / MARKER).is_file() and (made / "checkpoints" / "step_00000001.pt").is_file()


# ---------------------------------------------------------------- two processes on one run
def test_second_process_is_refused_while_the_run_trains_and_a_killed_one_does_not_block(
        world, tmp_path, cache_dir, capsys):
    """A live ``gankit train`` holds its run: a second process (--resume, or --overwrite) is
    refused with one line and deletes nothing. Killed (SIGKILL, before its first checkpoint) it
    leaves a stale lock file that blocks nothing, and --resume starts the run again at step 0."""
    out = tmp_path / "live"
    first = subprocess.Popen(
        gankit_cmd("train", world / "tiny.yaml", "train.steps=1000000", "train.ckpt_every=1000000",
                   "train.log_every=1", "--out", out, "--quiet"),
        env=child_env(cache_dir), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while first.poll() is None and time.monotonic() < deadline:
            if (out / "losses.csv").is_file() and (out / "losses.csv").read_text().count("\n") >= 3:
                break
            time.sleep(0.05)
        assert first.poll() is None, first.communicate()[1]

        second = subprocess.run(gankit_cmd("train", "--resume", out, "--quiet"), env=child_env(cache_dir),
                                capture_output=True, text=True, timeout=120)
        assert second.returncode == 2, second.stderr
        assert "is in use by another gankit process" in one_error_line(second.stderr)

        config = (out / "config.yaml").read_bytes()
        line = refused(capsys, ["train", world / "tiny.yaml", *TINY, "--out", out, "--overwrite"])
        assert "is in use by another gankit process" in line, line
        assert (out / "config.yaml").read_bytes() == config and (out / MARKER).is_file()
        assert (out / "losses.csv").is_file()
        assert first.poll() is None  # the first one trains on, undisturbed
    finally:
        first.kill()
        first.communicate()
    assert first.returncode == -signal.SIGKILL
    assert (out / LOCK).is_file() and not Checkpoints(out / "checkpoints").paths()
    assert len(losses_steps(out)) >= 2

    assert run_cli(["train", "--resume", out, "train.steps=3", "--quiet"]) == 0
    assert losses_steps(out) == [1, 2, 3]  # the killed run's rows are gone: it started again
    assert [p.name for p in Checkpoints(out / "checkpoints").paths()] == ["step_00000003.pt"]
    assert "steps: 3\n" in (out / "config.yaml").read_text()


def test_lock_of_a_live_holder_refuses_and_of_a_dead_one_does_not(run, tmp_path, capsys, cache_dir):
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from gankit.training.rundir import RunLock; RunLock(sys.argv[1]).acquire(); "
         "print('locked', flush=True); time.sleep(600)", str(run)],
        env=child_env(cache_dir), stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        before = tree(run)
        line = refused(capsys, ["train", "--resume", run, "train.steps=6"])
        assert f"run directory {run} is in use" in line, line
        assert tree(run) == before
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.communicate()
    RunLock(run).acquire().release()  # nothing holds it now
    assert run_cli(["train", "--resume", run, "train.steps=6", "--quiet"]) == 0
    assert losses_steps(run) == [1, 2, 3, 4, 5, 6]


# ---------------------------------------------------------------- a failed resume changes nothing
def _bad_metrics_line(run):
    lines = (run / "metrics.jsonl").read_text().splitlines(keepends=True)
    (run / "metrics.jsonl").write_text("".join(['{"step": 2, "fid": 3.5\n', *lines]))
    return [], "metrics.jsonl line 1 is not JSON"


def _bad_losses_row(run):
    with open(run / "losses.csv", "a") as fh:
        fh.write("four,1.0,2.0\n5,1.0,2.0\n")
    return [], "losses.csv line 6 is not a loss row (step 'four')"


def _learning_rate_override(run):
    return ["optim.g.lr=0.5"], "config key 'optim.g.lr' cannot be changed on --resume"


def _net_override(run):
    return ["net.hidden=32", "train.steps=8"], "config key 'net.hidden' cannot be changed on --resume"


def _seed_override(run):
    return ["train.seed=6"], "config key 'train.seed' cannot be changed on --resume"


def _weights_of_another_shape(run):
    # every check of the file passes, loading it into the model does not
    import torch

    path = Checkpoints(run / "checkpoints").paths()[-1]
    state = torch.load(path, weights_only=True)
    key = next(k for k, v in state["model"].items() if v.dim() == 2)
    state["model"][key] = torch.zeros(3, 3)
    torch.save(state, path)
    return [], "does not fit this model"


@pytest.mark.parametrize("attack", [_bad_metrics_line, _bad_losses_row, _learning_rate_override, _net_override,
                                    _seed_override, _weights_of_another_shape])
def test_a_refused_resume_changes_nothing(run, capsys, attack):
    extra, message = attack(run)
    before = tree(run)
    config, losses = (run / "config.yaml").read_bytes(), (run / "losses.csv").read_bytes()
    line = refused(capsys, ["train", "--resume", run, *extra, "train.steps=8"])
    assert message in line, line
    assert (run / "config.yaml").read_bytes() == config and (run / "losses.csv").read_bytes() == losses
    assert tree(run) == before


def test_resume_takes_a_budget_override(run):
    rows = (run / "losses.csv").read_text()
    assert run_cli(["train", "--resume", run, "train.steps=6", "train.eval_samples=120", "--quiet"]) == 0
    assert losses_steps(run) == [1, 2, 3, 4, 5, 6]
    assert (run / "losses.csv").read_text().startswith(rows)  # the first 4 rows as they were
    config = (run / "config.yaml").read_text()
    assert "steps: 6\n" in config and "eval_samples: 120\n" in config
    assert [p.name for p in Checkpoints(run / "checkpoints").paths()][-1] == "step_00000006.pt"
