"""The Python API: train, load, sample and evaluate runs without the shell.

    import gankit
    run = gankit.train("cdcgan-mnist", out="runs/x", overrides={"train.steps": 200})
    run.dir, run.metrics          # the run directory, the final metrics dict
    run = gankit.load("runs/x")   # any finished or interrupted run
    images = run.sample(16, seed=0)
    run.evaluate(n=2000)          # the same dict as `gankit eval`
    run.evaluate(n=26000, modes=True)  # mnist-stacked runs: + modes_covered, modes_kl (`eval --modes`)

Every error is a :class:`gankit.GankitError` with the CLI's one-line message.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np

from gankit.errors import GankitError


def _override_list(overrides: Mapping | Sequence[str] | None) -> list[str]:
    if overrides is None:
        return []
    if isinstance(overrides, Mapping):
        def text(v):
            if v is None:
                return "null"
            if isinstance(v, bool):
                return "true" if v else "false"
            return str(v)
        return [f"{k}={text(v)}" for k, v in overrides.items()]
    if isinstance(overrides, str):
        raise GankitError("overrides must be a mapping or a list of 'key=value' strings, not one string")
    return list(overrides)


def sample_labels(model, n: int, labels: Sequence[int] | int | str | None = None, *,
                  option: str | None = None):
    """The class labels (a tensor [n], or None for an unconditional model) for ``n`` samples.

    ``labels``: None (balanced classes 0, 1, 2, ...), one class for every sample, or a
    sequence of classes repeated to ``n``. ``option`` names the command-line option(s) the
    labels came from (``gankit sample --label/--labels``): ``labels`` is then the option's
    value, an int (``--label``) or comma-separated text (``--labels``), and the errors speak
    of the options; without it, of the ``labels`` argument (:meth:`Run.sample`).
    """
    cycle = label_cycle(model, labels, option=option)
    return None if cycle is None else cycle.repeat(-(-n // len(cycle)))[:n]


def label_cycle(model, labels: Sequence[int] | int | str | None = None, *, option: str | None = None):
    """One period of ``sample_labels``' labels (they repeat it to ``n``): the classes 0..K-1
    by default, else the classes given; None for an unconditional model. What a chunked
    sampler (``training.loop.iter_seeded``) takes, so that ``n`` labels are never all held."""
    import torch

    k = model.data.num_classes
    if labels is None:
        return torch.arange(k) if model.conditional else None
    if not model.conditional:
        raise GankitError(f"{option or 'labels'} given but this run's model is not conditional")
    if isinstance(labels, str) and option is not None:  # the text of --labels
        try:
            values = [int(v) for v in labels.split(",") if v.strip()]
        except ValueError:
            raise GankitError("--labels must be comma-separated integers, e.g. 3,3,7") from None
    else:
        values = [labels] if isinstance(labels, int) else list(labels)
    bad = [v for v in values if not isinstance(v, int) or not 0 <= v < k]
    if not values or bad:
        if option is None:
            raise GankitError(f"labels must be integers in 0..{k - 1}, got {labels!r}")
        raise GankitError(f"label {bad[0]} is outside 0..{k - 1}" if values else "--labels is empty")
    return torch.tensor(values)


class Run:
    """A run directory opened for use: config, dataset, the newest checkpoint's model, metrics."""

    def __init__(self, run_dir: Path):
        from gankit.training.run import open_run

        self._run = open_run(Path(run_dir))
        self.dir: Path = self._run.dir
        self.cfg = self._run.cfg
        self.step: int = self._run.step

    @property
    def model(self):
        return self._run.model

    @property
    def metrics(self) -> dict:
        """The last metrics row of the run (the final evaluation of a finished run); {} if none."""
        from gankit.training.logs import read_metrics

        try:
            rows = read_metrics(self.dir / "metrics.jsonl")
        except ValueError:
            raise GankitError(f"{self.dir / 'metrics.jsonl'} is not valid JSON lines") from None
        return rows[-1] if rows else {}

    def sample(self, n: int, seed: int = 0, labels: Sequence[int] | int | None = None) -> np.ndarray:
        """``n`` samples as numpy: uint8 images [N, H, W] or [N, H, W, 3] (boards: int cells).

        ``labels`` (conditional runs): one class for all, or a sequence repeated to ``n``;
        by default classes are balanced (0, 1, 2, ...)."""
        from gankit.training.loop import generate_seeded

        if not isinstance(n, int) or n <= 0:
            raise GankitError(f"n must be a positive integer, got {n!r}")
        model = self.model
        samples = generate_seeded(model, n, seed, sample_labels(model, n, labels))
        return next(iter(self._run.data.to_npz(samples).values()))

    def evaluate(self, n: int | None = None, modes: bool = False) -> dict:
        """The metrics of ``gankit eval`` (``n`` fresh samples, default ``train.eval_samples``);
        ``modes=True`` adds ``modes_covered`` and ``modes_kl`` (``gankit eval --modes``,
        ``mnist-stacked`` runs only)."""
        from gankit.training.loop import evaluate_model

        n = self.cfg.train.eval_samples if n is None else n
        if not isinstance(n, int) or n <= 0:
            raise GankitError(f"n must be a positive integer, got {n!r}")
        if not isinstance(modes, bool):
            raise GankitError(f"modes must be True or False, got {modes!r}")
        return {"run": str(self.dir), "step": self.step, **evaluate_model(self.model, n, modes=modes)}

    def __repr__(self) -> str:
        return f"gankit.Run('{self.dir}', preset={self.cfg.preset!r}, step={self.step})"


def prepare(preset: str | None, out: str | Path | None, overrides: Mapping | Sequence[str] | None,
            resume: bool = False):
    """(config, run directory) of a new run of ``preset``, or of ``out`` resumed with ``overrides``."""
    from gankit.config import apply_overrides
    from gankit.catalogue import build_config, load_config
    from gankit.training.rundir import default_run_dir
    from gankit.training.run import read_run_config

    over = _override_list(overrides)
    if resume:
        if out is None:
            raise GankitError("resume needs the run directory to continue")
        run_dir = Path(out)
        cfg = read_run_config(run_dir)
        if preset and preset != cfg.preset:
            raise GankitError(f"run {run_dir} was made with preset '{cfg.preset}', not '{preset}'")
        if over:  # written into the run by the loop once its checkpoint has loaded
            cfg = build_config(apply_overrides(cfg.to_dict(), over), cfg.preset)
        return cfg, run_dir
    if not preset:
        raise GankitError("name a preset (see `gankit list --presets`) or pass --resume RUN")
    return load_config(preset, over), Path(out) if out is not None else default_run_dir(preset)


def train(preset: str | None, out: str | Path | None = None, overrides: Mapping | Sequence[str] | None = None, *,
          overwrite: bool = False, resume: bool = False, progress: Callable | None = None) -> Run:
    """Train ``preset`` (a name from ``gankit list`` or a YAML path) into ``out``; returns the run.

    ``overrides`` as in the CLI: ``{"train.steps": 200}`` or ``["train.steps=200"]``. With
    ``resume=True``, ``out`` is an interrupted run continued from its last checkpoint."""
    from gankit.training.loop import train as train_loop

    cfg, run_dir = prepare(preset, out, overrides, resume)
    train_loop(cfg, run_dir, overwrite=overwrite, resume=resume, progress=progress)
    return Run(run_dir)


def load(run_dir: str | Path) -> Run:
    """Open a finished or interrupted run directory."""
    return Run(Path(run_dir))
