"""Malformed checkpoints (issue 21): a run whose only checkpoint is of an unknown format, has a
field of the wrong type, holds NaN weights, belongs to another run or is a crafted pickle is
refused by ``sample``, ``eval`` and ``train --resume`` with ONE line (exit code 2): no
traceback, no torch warning, no code run from the file, and the run left as it was."""
from __future__ import annotations

import pickle
import shutil
import subprocess
import warnings
from pathlib import Path

import pytest
import torch

from hostile_kit import TINY, child_env, finished_tiny_run, gankit_cmd, one_error_line, refused, run_cli, tiny_preset, tree

NEWEST = "step_00000004.pt"


@pytest.fixture(scope="module")
def world(tmp_path_factory, cache_dir):
    """A finished 4-step run whose only checkpoint is the last (the attacks replace it)."""
    base = finished_tiny_run(tmp_path_factory.mktemp("hostile-ckpt"))
    (base / "run" / "checkpoints" / "step_00000002.pt").unlink()
    return base


class Evil:
    """Unpickling it would create the file ``target``."""

    def __init__(self, target: str):
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


def _edit(**fields):
    def attack(state, run):
        state.update(fields)
        return state
    return attack


def _nan_weights(state, run):
    for value in state["model"].values():
        if value.is_floating_point():
            value.fill_(float("nan"))
    return state


def _one_inf(state, run):
    key = next(k for k, v in state["model"].items() if v.is_floating_point() and v.dim() == 2)
    state["model"][key][0, 0] = float("inf")
    return state


def _int_tensor_names(state, run):
    state["model"] = {i: v for i, v in enumerate(state["model"].values())}
    return state


def _evil_inside_torch_zip(state, run):
    state["extra"] = {"x": Evil(str(run / "pwned"))}
    return state


def _raw_pickle(state, run):
    return pickle.dumps({"step": 4, "model": {}, "x": Evil(str(run / "pwned"))})


def _raw_pickle_protocol0(state, run):
    return pickle.dumps({"step": 4, "model": Evil(str(run / "pwned"))}, protocol=0)


def _not_a_dict(state, run):
    return [state]


def _no_model(state, run):
    del state["model"]
    return state


CASES = [  # (id, attack, what the line must say)
    ("format-version-99", _edit(format_version=99), "has format_version 99; this gankit reads version 1"),
    ("format-version-text", _edit(format_version="1"), "has format_version 1; this gankit reads"),
    ("format-version-bool", _edit(format_version=True), "has format_version True"),
    ("step-is-text", _edit(step="4"), "field 'step' has the wrong type (str)"),
    ("step-is-bool", _edit(step=True), "field 'step' has the wrong type (bool)"),
    ("model-is-a-list", _edit(model=[torch.zeros(2)]), "field 'model' has the wrong type (list)"),
    ("optim-is-a-tensor", _edit(optim=torch.zeros(2)), "field 'optim' has the wrong type (Tensor)"),
    ("negative-step", _edit(step=-5), "field 'step' or 'elapsed' is out of range"),
    ("nan-elapsed", _edit(elapsed=float("nan")), "field 'step' or 'elapsed' is out of range"),
    ("tensor-names-are-ints", _int_tensor_names, "field 'model' must map names to tensors"),
    ("all-nan-weights", _nan_weights, "holds non-finite values (NaN/inf) in"),
    ("one-inf-weight", _one_inf, "holds non-finite values (NaN/inf) in"),
    ("no-model", _no_model, "is not a gankit checkpoint"),
    ("not-a-dict", _not_a_dict, "is not a gankit checkpoint"),
    ("crafted-pickle-in-torch-zip", _evil_inside_torch_zip, "is corrupt or truncated (UnpicklingError)"),
    ("raw-crafted-pickle", _raw_pickle, "is corrupt or truncated"),
    ("raw-crafted-pickle-protocol-0", _raw_pickle_protocol0, "is corrupt or truncated"),
]


def attacked(world, tmp_path, attack) -> Path:
    run = Path(shutil.copytree(world / "run", tmp_path / "run"))
    path = run / "checkpoints" / NEWEST
    state = attack(torch.load(path, weights_only=True), run)
    if isinstance(state, bytes):
        path.write_bytes(state)
    else:
        torch.save(state, path)
    return run


@pytest.mark.parametrize("command", ["sample", "eval", "resume"])
@pytest.mark.parametrize("attack,message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_malformed_checkpoint_is_one_line_and_changes_nothing(world, tmp_path, capsys, attack, message, command):
    run = attacked(world, tmp_path, attack)
    before = tree(run)
    argv = {"sample": ["sample", run, "--n", "4", "--out", tmp_path / "s.npz"], "eval": ["eval", run, "--n", "10"],
            "resume": ["train", "--resume", run, "train.steps=6"]}[command]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = refused(capsys, argv)
    assert [str(w.message) for w in caught] == []  # torch's warnings about crafted files stay silent
    assert message in line, line
    assert NEWEST in line, line
    assert not (run / "pwned").exists()  # the pickle's code never ran
    assert tree(run) == before and not (tmp_path / "s.npz").exists()


@pytest.mark.parametrize("field,value", [("preset", "dcgan-mnist"), ("family", "wgan"), ("net", "dcgan-mnist")])
def test_checkpoint_of_another_run_is_refused(world, tmp_path, capsys, field, value):
    run = attacked(world, tmp_path, _edit(**{field: value}))
    before = tree(run)
    for argv in (["sample", run, "--out", tmp_path / "s.npz"], ["train", "--resume", run, "train.steps=6"]):
        line = refused(capsys, argv)
        assert f"is of {field} '{value}', but its run's config has" in line and "belongs to another run" in line, line
    assert tree(run) == before


def test_a_checkpoint_from_another_run_copied_in_is_refused(world, tmp_path, capsys):
    """The real thing: the newest checkpoint of a run of another preset dropped into this run."""
    other_preset = tiny_preset(tmp_path, world / "mnist", name="other.yaml")
    assert run_cli(["train", other_preset, *TINY, "train.steps=6", "--out", tmp_path / "other", "--quiet"]) == 0
    run = Path(shutil.copytree(world / "run", tmp_path / "run"))
    shutil.copy(tmp_path / "other" / "checkpoints" / "step_00000006.pt", run / "checkpoints")
    line = refused(capsys, ["sample", run, "--out", tmp_path / "s.npz"])
    assert "step_00000006.pt is of preset" in line and "belongs to another run" in line, line


def test_crafted_pickle_is_one_line_on_a_real_stderr(world, tmp_path, cache_dir):
    """In a fresh process (torch's warnings and logging as a user sees them): exactly one line."""
    run = attacked(world, tmp_path, _evil_inside_torch_zip)
    proc = subprocess.run(gankit_cmd("sample", run, "--n", "4", "--out", tmp_path / "s.npz"),
                          env=child_env(cache_dir, PYTHONWARNINGS="always"), capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2, proc.stderr
    line = one_error_line(proc.stderr)
    assert "every checkpoint" in line and "is corrupt or truncated (UnpicklingError)" in line, line
    assert not (run / "pwned").exists() and not (tmp_path / "s.npz").exists()
