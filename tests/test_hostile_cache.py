"""A classifier cache that cannot be written (issue 21): GANKIT_CACHE a read-only directory (or
under a file) makes ``eval`` print one warning line and its metrics all the same, exit code 0:
the classifier is kept in memory, nothing is left in the cache directory."""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess

import pytest

from hostile_kit import TINY, child_env, gankit_cmd, run_cli, tiny_mnist, tiny_preset


@pytest.fixture(scope="module")
def run(tmp_path_factory, cache_dir):
    base = tmp_path_factory.mktemp("hostile-cache")
    # its own digits (every 23rd): a classifier no cache holds yet, so eval must train one
    root = tiny_mnist(base / "mnist", every=23)
    preset = tiny_preset(base, root)
    assert run_cli(["train", preset, *TINY, "--out", base / "run", "--quiet"]) == 0
    return base / "run"


@pytest.fixture
def read_only_dir(tmp_path):
    """An empty directory nobody can write, root included (chmod, and chattr +i for root)."""
    path = tmp_path / "cache"
    path.mkdir()
    path.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    immutable = False
    if os.access(path, os.W_OK):  # root ignores the mode bits
        chattr = shutil.which("chattr")
        if chattr is None or subprocess.run([chattr, "+i", str(path)], capture_output=True).returncode != 0:
            path.chmod(0o755)
            pytest.skip("cannot make a directory read-only for this user (root without chattr +i)")
        immutable = True
    try:
        yield path
    finally:
        if immutable:
            subprocess.run([shutil.which("chattr"), "-i", str(path)], check=True)
        path.chmod(0o755)


def eval_with_cache(run, cache):
    proc = subprocess.run(gankit_cmd("eval", run, "--n", "150"), env=child_env(cache), capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    metrics = json.loads(proc.stdout)
    assert metrics["n"] == 150 and metrics["fid"] >= 0 and 0 < metrics["is"] <= 10
    # eval's one fixed note on KID's scale aside, the cache problem is the one line
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip() and not ln.startswith("note: kid")]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_read_only_cache_dir_warns_and_evaluates(run, read_only_dir):
    line = eval_with_cache(run, read_only_dir)
    assert line.startswith(f"warning: cannot write classifier cache {read_only_dir}/classifier-mnist-"), line
    assert "kept in memory only" in line
    assert list(read_only_dir.iterdir()) == []


def test_cache_dir_under_a_file_warns_and_evaluates(run, tmp_path, capsys, caplog, monkeypatch):
    (tmp_path / "a-file").write_text("not a directory")
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path / "a-file" / "cache"))
    assert run_cli(["eval", run, "--n", "150"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["n"] == 150 and err.startswith("note: kid") and len(err.splitlines()) == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and warnings[0].startswith("warning: cannot write classifier cache"), warnings
    assert "Not a directory" in warnings[0]
