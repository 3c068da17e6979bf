"""Run directories: ``runs/<preset>/<timestamp>/``, never overwritten without ``overwrite``."""
from __future__ import annotations

import shutil
import time
from pathlib import Path

from gankit.errors import GankitError

RUNS_ROOT = Path("runs")


def default_run_dir(preset: str, root: Path = RUNS_ROOT) -> Path:
    name = Path(preset).stem if preset.endswith((".yaml", ".yml")) else preset
    base = Path(root) / name / time.strftime("%Y%m%d-%H%M%S")
    path, i = base, 1
    while path.exists():
        path = base.with_name(f"{base.name}-{i}")
        i += 1
    return path


def prepare_run_dir(path: Path, overwrite: bool = False) -> Path:
    """Create an empty run directory; an existing non-empty one needs ``overwrite``."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise GankitError(f"run directory {path} exists and is a file")
    if path.is_dir() and any(path.iterdir()):
        if not overwrite:
            raise GankitError(f"run directory {path} already exists; pass --overwrite to replace it or --resume to continue it")
        shutil.rmtree(path)
    (path / "samples").mkdir(parents=True, exist_ok=True)
    return path
