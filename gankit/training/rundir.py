"""Run directories: ``runs/<preset>/<timestamp>/``, never overwritten without ``overwrite``.

A run directory holds gankit's marker file (``.gankit-run``, written when the run is
created) and a lock file (``.gankit-lock``): the process that trains into the
directory (``train``, ``train --resume``) holds an OS lock on it for the run's whole
life, so a second one is refused instead of writing into the same files. ``sample``
and ``eval`` need no lock: every file is replaced atomically, so they read a whole
checkpoint. ``overwrite`` replaces only a gankit run: never a directory that holds
the data root, never through a symbolic link, never a directory of other files.

The bookkeeping of a run's start and resume is here too (``start_run_dir``,
``open_for_resume`` / ``commit_resume``, ``restart_run_dir``): a resume checks the run's
config, newest checkpoint and logs before it changes anything.
"""
from __future__ import annotations

import errno
import fcntl
import os
import shutil
import time
from pathlib import Path

from gankit.config import Config, read_config_file, resume_changes
from gankit.errors import GankitError
from gankit.io import atomic_write, remove_stale_temps
from gankit.training.checkpoint import Checkpoints, check_matches
from gankit.training.logs import planned_logs, write_planned

RUNS_ROOT = Path("runs")
MARKER = ".gankit-run"
LOCK = ".gankit-lock"
# what a run of gankit writes; a directory of only these (and a config.yaml) is a run of an
# older gankit that wrote no marker
RUN_ENTRIES = {MARKER, LOCK, "config.yaml", "checkpoints", "samples", "losses.csv", "metrics.jsonl", "tb",
               "loss.png"}


def default_run_dir(preset: str, root: Path = RUNS_ROOT) -> Path:
    """``root/<preset name>/<timestamp>``: the preset's file name only, so a path with ``..``
    (or a directory part) never puts the run outside ``root``."""
    name = Path(preset).stem if preset.endswith((".yaml", ".yml")) else Path(preset).name
    if name in ("", ".", "..") or name.startswith("."):
        name = "preset"
    base = Path(root) / name / time.strftime("%Y%m%d-%H%M%S")
    path, i = base, 1
    while path.exists():
        path = base.with_name(f"{base.name}-{i}")
        i += 1
    return path


def is_gankit_run(path: Path) -> bool:
    path = Path(path)
    if (path / MARKER).is_file():
        return True
    names = {p.name for p in path.iterdir()}
    return "config.yaml" in names and names <= RUN_ENTRIES


def _contents(path: Path) -> list[Path]:
    return [p for p in path.iterdir() if p.name != LOCK] if path.is_dir() else []


def _check_replaceable(path: Path, protect: tuple) -> None:
    """Refuse ``overwrite`` of anything but a gankit run."""
    if path.is_symlink():
        raise GankitError(f"run directory {path} is a symbolic link; --overwrite replaces only a real run "
                          "directory (name its target)")
    here = path.resolve()
    for root in protect:
        if root is None:
            continue
        data = Path(root).expanduser().resolve()
        if data == here or here in data.parents:
            raise GankitError(f"run directory {path} holds the data root {root}; --overwrite never deletes data")
    if not is_gankit_run(path):
        raise GankitError(f"run directory {path} is not a gankit run (no {MARKER} file); --overwrite replaces "
                          "only a gankit run, so move or delete it yourself")


def _refuse_existing(path: Path, overwrite: bool, protect: tuple) -> None:
    if path.exists() and not path.is_dir():
        raise GankitError(f"run directory {path} exists and is a file")
    if _contents(path):
        if not overwrite:
            raise GankitError(f"run directory {path} already exists; pass --overwrite to replace it or "
                              "--resume to continue it")
        _check_replaceable(path, protect)


class RunLock:
    """An exclusive ``flock`` on ``DIR/.gankit-lock``, released by :meth:`release` or when the
    process ends (however it ends: the OS drops the lock of a killed process)."""

    def __init__(self, run_dir: Path):
        self.dir = Path(run_dir)
        self.fd: int | None = None

    def acquire(self) -> "RunLock":
        if self.fd is not None:
            return self
        path = self.dir / LOCK
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
            except OSError as exc:
                if exc.errno not in (errno.EROFS, errno.EACCES, errno.EPERM) or not path.is_file():
                    raise
                fd = os.open(path, os.O_RDONLY)  # a read-only run can still be locked (and refused below)
        except OSError as exc:
            raise GankitError(f"cannot lock run directory {self.dir}: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise GankitError(f"run directory {self.dir} is in use by another gankit process (train or --resume); "
                              "wait for it to end") from None
        self.fd = fd
        if not os.access(self.dir, os.W_OK):
            self.release()
            raise GankitError(f"run directory {self.dir} is not writable")
        return self

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor drops the flock
            self.fd = None

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def prepare_run_dir(path: Path, overwrite: bool = False, lock: RunLock | None = None,
                    protect: tuple = ()) -> Path:
    """Create an empty run directory (with gankit's marker) and lock it with ``lock``.

    An existing non-empty directory needs ``overwrite`` and must be a gankit run that does not
    hold any of the ``protect`` paths (the data root). The checks run again once the lock is
    held, so of two processes started into one directory at once exactly one goes on.
    """
    path = Path(path)
    _refuse_existing(path, overwrite, protect)  # before the lock: a refusal creates nothing
    lock = lock or RunLock(path)
    lock.acquire()
    _refuse_existing(path, overwrite, protect)
    for entry in _contents(path):  # an overwritten run: everything but the lock we hold
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    atomic_write(path / MARKER, "gankit run directory\n", what="run marker")
    (path / "samples").mkdir(parents=True, exist_ok=True)
    return path


def clear_run(path: Path, keep: tuple[str, ...] = ()) -> None:
    """Delete what a run wrote (not its marker, lock or ``keep``): a run restarted at step 0."""
    for entry in _contents(Path(path)):
        if entry.name in (MARKER, *keep):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def start_run_dir(run_dir: Path, overwrite: bool, cfg: Config, lock: RunLock) -> None:
    """A new run: an empty, locked directory (``prepare_run_dir``) with the run's config."""
    prepare_run_dir(run_dir, overwrite, lock, protect=(cfg.data.root,))
    atomic_write(run_dir / "config.yaml", cfg.to_yaml(), what="run config")


def is_started(run_dir: Path) -> bool:
    """``resume="auto"``: resume a directory that already is a gankit run (it has its config), else start it."""
    return (Path(run_dir) / "config.yaml").is_file()


def open_for_resume(lock: RunLock, ckpts: Checkpoints, run_dir: Path, cfg: Config, plan: dict) -> dict | None:
    """Lock the run, then check its config, newest checkpoint and logs; nothing is written yet
    (``plan`` collects what ``commit_resume`` writes). None: the run has no checkpoint at all
    (killed before its first one) and starts at step 0."""
    if not run_dir.is_dir():
        raise GankitError(f"run directory not found: {run_dir}")
    lock.acquire()
    remove_stale_temps(ckpts.dir)  # what a writer killed mid-checkpoint left
    recorded = read_config_file(run_dir / "config.yaml", run_dir.name) if (run_dir / "config.yaml").is_file() else None
    if recorded is None:
        raise GankitError(f"{run_dir} is not a gankit run (no config.yaml)")
    plan["changes"] = resume_changes(recorded, cfg)
    state = ckpts.load_latest("cpu")
    if state is None:
        if ckpts.unreadable:
            raise GankitError(f"cannot resume {run_dir}: {ckpts.missing()}")
        return None
    check_matches(state, cfg, state["_path"])
    plan["logs"] = planned_logs(run_dir, int(state["step"]))
    return state


def restart_run_dir(run_dir: Path, cfg: Config) -> None:
    """A run killed before its first checkpoint: what it logged goes, it starts again at step 0."""
    clear_run(run_dir)
    atomic_write(run_dir / MARKER, "gankit run directory\n", what="run marker")
    (run_dir / "samples").mkdir(parents=True, exist_ok=True)
    atomic_write(run_dir / "config.yaml", cfg.to_yaml(), what="run config")


def commit_resume(run_dir: Path, cfg: Config, plan: dict) -> None:
    """Once every check passed and the state loaded: record the applied changes, trim the logs."""
    path = run_dir / "config.yaml"
    if plan.get("changes") or not path.is_file():
        atomic_write(path, cfg.to_yaml(), what="run config")
    write_planned(plan.get("logs", {}))
