"""The tests' shared helpers (first written for the hostile-input tests, tests/test_hostile_*.py):
the CLI in-process and in a subprocess with its environment, a free port for torchrun, the
one-line-error rule, file trees, and a tiny MNIST (200 IDX digits: runs and the metric
classifier train in well under a second). Import them from here; never copy them."""
from __future__ import annotations

import hashlib
import os
import socket
import struct
import sys
from pathlib import Path

import numpy as np

import tinynet
from gankit.cli import main

HERE = Path(__file__).parent
# a few steps, a checkpoint every 2, no grids on the way; 100 samples for the final metrics
TINY = ["train.steps=4", "train.ckpt_every=2", "train.log_every=1", "train.eval_samples=100"]


def run_cli(argv) -> int:
    """``gankit ARGV`` in this process (argparse's SystemExit becomes the exit code)."""
    try:
        return main([str(a) for a in argv])
    except SystemExit as exc:
        return exc.code


def gankit_cmd(*args) -> list[str]:
    """``gankit`` in a fresh interpreter with the tests' tiny net registered."""
    return [sys.executable, str(HERE / "tinynet.py"), *map(str, args)]


def child_env(cache_dir: Path, **extra) -> dict:
    env = dict(os.environ, GANKIT_CACHE=str(cache_dir), OMP_NUM_THREADS="1", **extra)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE.parent), env.get("PYTHONPATH")]))
    return env


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (torchrun's rendezvous)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_error_line(err: str) -> str:
    """The rule: exactly one non-empty stderr line, ``gankit: error: ...``, no traceback."""
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert "Traceback" not in err, err
    assert len(lines) == 1 and lines[0].startswith("gankit: error: "), err
    return lines[0]


def refused(capsys, argv) -> str:
    """Run ``argv`` in-process; assert exit code 2 and one error line; return the line."""
    code = run_cli(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    return one_error_line(err)


def tree(path: Path) -> dict[str, str]:
    """Every file under ``path`` (symbolic links not followed) with its content hash."""
    path = Path(path)
    return {str(p.relative_to(path)): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted(path.rglob("*")) if p.is_file() and not p.is_symlink()}


def idx_bytes(arr: np.ndarray, code: int = 0x08) -> bytes:
    return bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()


def tiny_mnist(directory: Path, every: int = 25) -> Path:
    """Every ``every``-th embedded digit (200, 20 per class) as IDX files under ``directory``."""
    from gankit.data.mnist import load_mnist_arrays

    images, labels = load_mnist_arrays(None)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "train-images-idx3-ubyte").write_bytes(idx_bytes(images[::every].astype(np.uint8)))
    (directory / "train-labels-idx1-ubyte").write_bytes(idx_bytes(labels[::every].astype(np.uint8)))
    return directory


def tiny_preset(directory: Path, root: Path, name: str = "tiny.yaml") -> Path:
    """tests/tinynet.py's preset (net tiny-bn-test) reading the IDX files under ``root``."""
    return tinynet.write_preset(Path(directory), root, name)


def finished_tiny_run(base: Path) -> Path:
    """Under ``base``: a tiny MNIST, its preset and one finished run ``base/run`` of ``TINY``
    (checkpoints at steps 2 and 4). Returns ``base``."""
    root = tiny_mnist(base / "mnist")
    preset = tiny_preset(base, root)
    assert run_cli(["train", preset, *TINY, "--out", base / "run", "--quiet"]) == 0
    return base
