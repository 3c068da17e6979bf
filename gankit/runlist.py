"""The runs at hand: what ``runs/`` holds, and the run a short name means.

Read from each run directory's files only (``training/rundir.py`` lists them): the marker
``.gankit-run``, ``config.yaml`` (preset and budget), ``checkpoints/step_*.pt`` (the step a
resume continues from: the file names, nothing is loaded), ``metrics.jsonl`` (the last IS/FID)
and the lock ``.gankit-lock`` (held while a process trains). A run is *finished* when its last
metrics row is the final evaluation (the only one with ``images_per_s``) of its newest
checkpoint's step, *running* while its lock is held, *interrupted* otherwise.

``resolve_run``: a run directory is itself; a folder of runs (``runs/PRESET``) means its newest
run; ``latest`` the newest run under ``runs/``. Newest = started last (the marker's time).
"""
from __future__ import annotations

import fcntl
import json
import os
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from gankit.errors import GankitError
from gankit.training.logs import is_final_row

RUNS_ROOT = Path("runs")
MARKER, LOCK = ".gankit-run", ".gankit-lock"  # training/rundir.py's names
MAX_DEPTH = 3  # runs/PRESET/TIMESTAMP, and one folder more (compare, reproduce outputs)
_STEP = re.compile(r"step_(\d+)\.pt$")


@dataclass
class RunInfo:
    path: str
    preset: str | None
    step: int  # of the newest checkpoint (0: none yet)
    steps: int | None  # train.steps
    seconds: float | None  # train.seconds
    state: str  # finished | interrupted | running | unreadable
    is_: float | None
    fid: float | None
    started: float  # the marker's (or config.yaml's) modification time, seconds since the epoch
    updated: float  # the newest modification time of the run's files
    note: str = ""  # why a run is unreadable

    def as_dict(self) -> dict:
        out = asdict(self)
        out["is"] = out.pop("is_")
        return out


def is_run(path: Path) -> bool:
    return path.is_dir() and ((path / MARKER).is_file() or (path / "config.yaml").is_file())


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def _locked(path: Path) -> bool:
    """Whether a process holds the run's lock (a training or resuming gankit)."""
    lock = path / LOCK
    if not lock.is_file():
        return False
    try:
        fd = os.open(lock, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def run_info(path: Path) -> RunInfo:
    """What one run directory's files say about it (never raises for a damaged run: state 'unreadable')."""
    from gankit.config import read_yaml_mapping

    path = Path(path)
    ckpts = [int(m.group(1)) for p in (path / "checkpoints").glob("step_*.pt") if (m := _STEP.search(p.name))]
    step = max(ckpts, default=0)
    times = [t for t in (_mtime(p) for p in (path / MARKER, path / "config.yaml", path / "metrics.jsonl",
                                                  path / "losses.csv", path / "checkpoints")) if t is not None]
    started = _mtime(path / MARKER) or _mtime(path / "config.yaml") or _mtime(path) or 0.0
    info = RunInfo(str(path), None, step, None, None, "interrupted", None, None, started, max(times, default=started))
    try:
        raw = read_yaml_mapping(path / "config.yaml", "run config") if (path / "config.yaml").is_file() else {}
        train = raw.get("train") if isinstance(raw.get("train"), dict) else {}
        info.preset = raw.get("preset") if isinstance(raw.get("preset"), str) else None
        info.steps = int(train["steps"]) if isinstance(train.get("steps"), int) else None
        info.seconds = _number(train.get("seconds"))
        rows = []
        if (path / "metrics.jsonl").is_file():
            for line in (path / "metrics.jsonl").read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    row = json.loads(line)
                except ValueError:
                    continue  # a half-written last line of a killed process
                if isinstance(row, dict):
                    rows.append(row)
        scored = [r for r in rows if _number(r.get("fid")) is not None or _number(r.get("is")) is not None]
        if scored:
            info.is_, info.fid = _number(scored[-1].get("is")), _number(scored[-1].get("fid"))
        if rows and is_final_row(rows[-1], step) and step > 0:
            info.state = "finished"
    except (GankitError, OSError) as exc:
        info.state, info.note = "unreadable", str(exc)[:200]
    if _locked(path):
        info.state = "running"
    return info


def find_runs(root: Path, depth: int = MAX_DEPTH) -> list[Path]:
    """Run directories under ``root`` (``root`` itself if it is one), ``depth`` folders deep at most."""
    root = Path(root)
    if is_run(root):
        return [root]
    if depth == 0 or not root.is_dir():
        return []
    found = []
    try:
        children = sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith("."))
    except OSError:
        return []
    for child in children:
        found += find_runs(child, depth - 1)
    return found


def list_runs(root: str | Path = RUNS_ROOT) -> list[RunInfo]:
    """Every run under ``root``, oldest first; one line if ``root`` is not a folder."""
    root = Path(root)
    if not root.is_dir():
        raise GankitError(f"no runs folder {root}" + (" (it is a file)" if root.exists() else
                                                      " (train something first: gankit train PRESET)"))
    runs = [run_info(p) for p in find_runs(root)]
    return sorted(runs, key=lambda r: (r.started, r.path))


def _age(seconds: float) -> str:
    seconds = max(0.0, seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:.0f}s"


def format_runs(runs: list[RunInfo], now: float | None = None) -> str:
    """The table ``gankit runs`` prints: run, preset, step/budget, state, IS, FID, age (since the last write)."""
    if not runs:
        return "no runs"
    now = time.time() if now is None else now
    rows = [("run", "preset", "step/budget", "state", "IS", "FID", "age")]
    for r in runs:
        budget = f"{r.step}/{r.steps if r.steps is not None else '?'}" + (f" ({r.seconds:g}s)" if r.seconds else "")
        rows.append((r.path, r.preset or "?", budget, r.state, "-" if r.is_ is None else f"{r.is_:.2f}",
                     "-" if r.fid is None else f"{r.fid:.1f}", _age(now - r.updated)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows)


def _contents(path: Path, limit: int = 8) -> str:
    """What a folder that is not a run holds, for the error: folders of runs with their counts."""
    try:
        entries = sorted(path.iterdir(), key=lambda p: p.name)
    except OSError as exc:
        return f"it cannot be listed ({exc.strerror or exc})"
    entries = [p for p in entries if not p.name.startswith(".")]
    if not entries:
        return "it is empty"
    names = []
    for p in entries[:limit]:
        if p.is_dir():
            n = len(find_runs(p, MAX_DEPTH - 1))
            names.append(f"{p.name}/ ({n} run{'s' if n != 1 else ''})" if n else f"{p.name}/")
        else:
            names.append(p.name)
    more = f" and {len(entries) - limit} more" if len(entries) > limit else ""
    return f"it holds: {', '.join(names)}{more}"


def newest(runs: list[Path]) -> Path:
    return max(runs, key=lambda p: (_mtime(p / MARKER) or _mtime(p / "config.yaml") or 0.0, str(p)))


def resolve_run(text: str | Path, root: str | Path = RUNS_ROOT) -> Path:
    """The run directory ``text`` means: a run itself; ``latest``: the newest run under ``root``;
    a folder whose sub-folders are runs (``runs/PRESET``): its newest. Anything else is one
    ``GankitError`` line that says what the folder holds instead."""
    text, root = str(text), Path(root)
    if text == "latest" and not Path(text).exists():
        runs = find_runs(root)
        if not runs:
            raise GankitError(f"'latest' means the newest run under {root}/, and there is none")
        return newest(runs)
    path = Path(text).expanduser()
    if not path.exists():
        hint = f" (did you mean {root / text}?)" if text and (root / text).exists() else ""
        raise GankitError(f"run directory not found: {path}{hint}")
    if not path.is_dir():
        raise GankitError(f"{path} is a file, not a run directory")
    if is_run(path):
        return path
    children = [p for p in path.iterdir() if is_run(p)] if os.access(path, os.R_OK) else []
    if children:
        return newest(children)
    raise GankitError(f"{path} is not a gankit run (no config.yaml); {_contents(path)}")
