"""Open a finished (or interrupted) run: its config, data and latest model weights."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gankit.catalogue import load_all
from gankit.config import Config, read_config_file
from gankit.data import Dataset, load_dataset
from gankit.errors import GankitError
from gankit.models import build_model
from gankit.models.base import Model
from gankit.training.checkpoint import Checkpoints, check_matches, restore
from gankit.training.distributed import select_device


@dataclass
class RestoredRun:
    """A run directory's config and dataset, and its model restored from the newest checkpoint (in eval mode)."""

    dir: Path
    cfg: Config
    data: Dataset
    model: Model
    step: int


def read_run_config(run_dir: Path) -> Config:
    run_dir = Path(run_dir)
    path = run_dir / "config.yaml"
    if not run_dir.is_dir():
        raise GankitError(f"run directory not found: {run_dir}")
    if not path.is_file():
        raise GankitError(f"{run_dir} is not a gankit run (no config.yaml)")
    load_all()  # the config's sections are picked by the registries
    return read_config_file(path, run_dir.name)


def open_run(run_dir: Path, device: str = "cpu") -> RestoredRun:
    """Config, dataset and the model restored from the newest readable checkpoint."""
    run_dir = Path(run_dir)
    cfg = read_run_config(run_dir)
    ckpts = Checkpoints(run_dir / "checkpoints")
    state = ckpts.load_latest(device)
    if state is None:
        raise GankitError(f"run {run_dir} has nothing to sample or evaluate: {ckpts.missing()}")
    check_matches(state, cfg, state["_path"])
    data = load_dataset(cfg.data)
    model = build_model(cfg, data).to(select_device(device))
    restore(model, None, state)
    model.eval()
    return RestoredRun(run_dir, cfg, data, model, int(state["step"]))
