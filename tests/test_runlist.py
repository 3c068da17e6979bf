"""gankit.runlist: listing real tiny runs and resolving RUN arguments (runs/PRESET, latest)."""
import json
import os
import time

import pytest

import gankit
from gankit.errors import GankitError
from gankit.runlist import format_runs, list_runs, resolve_run
from gankit.training.rundir import RunLock
from test_folder import shapes_folder

TINY = ["data.batch_size=16", "net.width=4", "train.steps=4", "train.ckpt_every=2", "train.eval_samples=100",
        "train.threads=1", "train.tensorboard=false", "train.log_every=1"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """runs/dcgan-folder/{a,b} and runs/dcgan-folder-64/c (b interrupted), started at known times."""
    tmp = tmp_path_factory.mktemp("runlist")
    root = shapes_folder(tmp / "shapes", per_class=40)
    base = tmp / "runs"
    paths = {}
    for name, preset in (("a", "dcgan-folder"), ("b", "dcgan-folder"), ("c", "dcgan-folder")):
        sub = "dcgan-folder-32" if name == "c" else preset
        paths[name] = gankit.train(preset, out=base / sub / name, overrides=TINY + [f"data.root={root}"]).dir
    # b was killed after its step-2 checkpoint: the final checkpoint and evaluation never came
    (paths["b"] / "checkpoints" / "step_00000004.pt").unlink()
    lines = (paths["b"] / "metrics.jsonl").read_text().splitlines()
    (paths["b"] / "metrics.jsonl").write_text("".join(line + "\n" for line in lines[:-1]))
    now = time.time()
    for i, name in enumerate("abc"):  # started a, b, c in that order, an hour apart
        os.utime(paths[name] / ".gankit-run", (now - 3600 * (3 - i),) * 2)
    return base, paths


def test_list_runs_reads_preset_step_budget_state_and_metrics(runs):
    base, paths = runs
    rows = list_runs(base)
    assert [r.path for r in rows] == [str(paths[n]) for n in "abc"]  # oldest first
    a, b, c = rows
    assert (a.preset, a.step, a.steps, a.state) == ("dcgan-folder", 4, 4, "finished")
    final = json.loads((paths["a"] / "metrics.jsonl").read_text().splitlines()[-1])
    assert (a.is_, a.fid) == (final["is"], final["fid"])
    assert (b.step, b.state, b.fid) == (2, "interrupted", None)
    with RunLock(paths["c"]):
        assert list_runs(base)[2].state == "running"
    assert list_runs(base)[2].state == "finished"
    table = format_runs(rows, now=time.time())
    head, *lines = table.splitlines()
    assert head.split() == ["run", "preset", "step/budget", "state", "IS", "FID", "age"]
    assert "4/4" in lines[0] and "finished" in lines[0] and f"{a.fid:.1f}" in lines[0]
    assert "2/4" in lines[1] and "interrupted" in lines[1]


def test_list_runs_of_a_missing_folder_is_one_line(tmp_path):
    with pytest.raises(GankitError, match="no runs folder"):
        list_runs(tmp_path / "nothing")
    assert format_runs(list_runs(tmp_path)) == "no runs"


def test_resolve_run_preset_folder_latest_and_a_run_itself(runs):
    base, paths = runs
    assert resolve_run(base / "dcgan-folder", base) == paths["b"]  # its newest run
    assert resolve_run("latest", base) == paths["c"]  # the newest of all
    assert resolve_run(str(paths["a"]), base) == paths["a"]


def test_what_is_not_a_run_lists_what_is_inside(runs, tmp_path):
    base, paths = runs
    with pytest.raises(GankitError, match=r"is not a gankit run \(no config.yaml\); it holds: "
                                          r"dcgan-folder/ \(2 runs\), dcgan-folder-32/ \(1 run\)"):
        resolve_run(base, base)
    (tmp_path / "empty").mkdir()
    with pytest.raises(GankitError, match="it is empty"):
        resolve_run(tmp_path / "empty", base)
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(GankitError, match="is a file, not a run directory"):
        resolve_run(tmp_path / "f.txt", base)
    with pytest.raises(GankitError, match=r"run directory not found: dcgan-folder \(did you mean .*runs/dcgan-folder\?\)"):
        resolve_run("dcgan-folder", base)
    with pytest.raises(GankitError, match="there is none"):
        resolve_run("latest", tmp_path / "empty")
