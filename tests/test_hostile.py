"""Hostile input, faults and concurrent use (issue 21): each kind ends in ONE line
``gankit: error: ...`` and exit 2 (or one warning line and a correct result), with no
traceback, no partial or temporary file and no changed run."""
from __future__ import annotations

import resource
import signal
import subprocess
from pathlib import Path

import pytest

import tinynet
from hostile_kit import child_env, gankit_cmd, one_error_line, run_cli

HERE = Path(__file__).parent
FAST = ["train.eval_samples=100", "train.log_every=2"]


def all_files(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(Path(path).rglob("*")) if p.is_file()}


def temps(path: Path) -> list[str]:
    return [str(p) for p in Path(path).rglob("*") if p.name.endswith(".tmp")]


@pytest.fixture(scope="module")
def mnist_root(tmp_path_factory):
    return tinynet.mnist_idx(tmp_path_factory.mktemp("mnist-idx"))


@pytest.fixture(scope="module")
def done_run(tmp_path_factory, mnist_root, cache_dir):
    """A finished tiny run (made once for the module)."""
    base = tmp_path_factory.mktemp("hostile")
    preset = tinynet.write_preset(base, mnist_root)
    assert run_cli(["train", preset, "train.steps=4", "train.ckpt_every=2", *FAST, "--out", base / "run", "--quiet"]) == 0
    return base / "run"


# ---------------------------------------------------------------- full disk: atomic writes
def _limit_file_size(limit: int):
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_full_disk_during_training_is_one_line_and_leaves_no_partial_file(tmp_path, mnist_root, cache_dir):
    preset = tinynet.write_preset(tmp_path, mnist_root)
    out = tmp_path / "run"
    proc = subprocess.run(gankit_cmd("train", preset, "train.steps=20", *FAST, "--out", out, "--quiet"),
                          env=child_env(cache_dir), capture_output=True, text=True, timeout=120,
                          preexec_fn=_limit_file_size(64_000))  # a checkpoint is ~0.5 MB
    assert proc.returncode == 2, proc.stderr
    line = one_error_line(proc.stderr)
    assert "cannot write checkpoint" in line and "step_00000010.pt" in line, line
    assert temps(out) == [] and not list((out / "checkpoints").glob("*.pt"))
    assert (out / "losses.csv").read_text().count("\n") == 1 + 5  # header and the rows up to step 10


def test_full_disk_while_sampling_leaves_no_partial_npz(tmp_path, done_run, cache_dir):
    out = tmp_path / "s.npz"
    proc = subprocess.run(gankit_cmd("sample", done_run, "--n", "500", "--out", out),
                          env=child_env(cache_dir), capture_output=True, text=True, timeout=120,
                          preexec_fn=_limit_file_size(100_000))  # 500 images are 392 kB
    assert proc.returncode == 2, proc.stderr
    assert f"cannot write samples {out}" in one_error_line(proc.stderr)
    assert list(tmp_path.iterdir()) == []
