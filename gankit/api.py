"""The Python API: train, load, sample and evaluate runs without the shell.

    import gankit
    run = gankit.train("cdcgan-mnist", out="runs/x", overrides={"train.steps": 200})
    run.dir, run.metrics          # the run directory, the final metrics dict
    run = gankit.load("runs/x")   # any finished or interrupted run
    images = run.sample(16, seed=0)
    run.write_samples("s.npz", 100_000, seed=0)  # streamed to disk one chunk at a time
    run.evaluate(n=2000)          # the same dict as `gankit eval`
    run.evaluate(n=26000, modes=True)  # mnist-stacked runs: + modes_covered, modes_kl (`eval --modes`)

Every error is a :class:`gankit.GankitError` with the CLI's one-line message.
"""
from __future__ import annotations

from dataclasses import dataclass, field
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


MAX_SAMPLE_FILE = 10**12  # `Run.write_samples` (`gankit sample --n`): the disk's free space is the real limit
GRID_SAMPLES = 100  # the sample grid of `write_samples(grid=...)`: the stream's first 100 samples


def label_cycle(model, labels: Sequence[int] | int | None = None):
    """One period of the class labels of a run's samples, repeated to their number: the classes
    0..K-1 by default (balanced), else one class or the sequence given; None for an
    unconditional model. What the chunked sampler (``training.sampling.iter_seeded``) takes,
    so that ``n`` labels are never all held."""
    import torch

    k = model.data.num_classes
    if labels is None:
        return torch.arange(k) if model.conditional else None
    if not model.conditional:
        raise GankitError("class labels given (labels, --label/--labels) but this run's model is not conditional")
    values = [labels] if isinstance(labels, int) else list(labels)
    bad = [v for v in values if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < k]
    if not values:
        raise GankitError("labels is empty")
    if bad:
        raise GankitError(f"label {bad[0]!r} is outside 0..{k - 1} (labels must be integers in 0..{k - 1})")
    return torch.tensor(values)


@dataclass
class Written:
    """What :meth:`Run.write_samples` wrote: the ``.npz`` arrays, ``{name: (dtype, shape)}``
    ({} without a path), and the first samples as text (``text=K``; boards print as grids)."""

    arrays: dict = field(default_factory=dict)
    text: str = ""


class Run:
    """A run directory opened for use: config, dataset, the newest checkpoint's model, metrics."""

    def __init__(self, run_dir: Path):
        from gankit.training.run import open_run

        self._restored = open_run(Path(run_dir))
        self.dir: Path = self._restored.dir
        self.cfg = self._restored.cfg
        self.step: int = self._restored.step

    @property
    def model(self):
        return self._restored.model

    @property
    def metrics(self) -> dict:
        """The last metrics row of the run (the final evaluation of a finished run); {} if none."""
        from gankit.training.logs import read_metrics

        try:
            rows = read_metrics(self.dir / "metrics.jsonl")
        except ValueError:
            raise GankitError(f"{self.dir / 'metrics.jsonl'} is not valid JSON lines") from None
        return rows[-1] if rows else {}

    def _chunks(self, n: int, seed: int, labels):
        """The ``n`` samples of ``seed`` one generator call at a time (``iter_seeded``): pairs of
        the chunk's samples (model tensors, CPU) and their class labels (int64 numpy; None for
        an unconditional run): ``labels``' period repeated, so the classes of the samples."""
        from gankit.training.sampling import iter_seeded

        cycle = label_cycle(self.model, labels)
        period = cycle.numpy().astype(np.int64) if cycle is not None else None
        start = 0
        for samples in iter_seeded(self.model, n, seed, cycle):
            classes = None if period is None else period[np.arange(start, start + len(samples)) % len(period)]
            start += len(samples)
            yield samples, classes

    def sample(self, n: int, seed: int = 0, labels: Sequence[int] | int | None = None) -> np.ndarray:
        """``n`` samples as numpy: uint8 images [N, H, W] or [N, H, W, 3] (boards: int cells).

        ``labels`` (conditional runs): one class for all, or a sequence repeated to ``n``;
        by default classes are balanced (0, 1, 2, ...). The first array of ``write_samples``'
        file for the same arguments; ``n`` is at most what memory holds (``check_sample_count``)."""
        from gankit.training.sampling import check_sample_count

        if not isinstance(n, int) or n <= 0:
            raise GankitError(f"n must be a positive integer, got {n!r}")
        check_sample_count(self.model, n)
        to_npz = self._restored.data.to_npz
        return np.concatenate([next(iter(to_npz(samples).values())) for samples, _ in self._chunks(n, seed, labels)])

    def write_samples(self, path: str | Path | None, n: int, seed: int = 0,
                      labels: Sequence[int] | int | None = None, *, grid: str | Path | None = None,
                      text: int = 0) -> Written:
        """Write ``n`` samples of ``seed`` to ``path`` as ``.npz``: the dataset's arrays (``images``
        uint8; ``boards`` int64 and ``valid`` for board runs) and, for conditional runs,
        ``labels`` int64 [n], the samples' classes (``labels`` as in :meth:`sample`).

        The samples are those of ``sample(n, seed, labels)``, drawn and written one chunk at a
        time (memory bounded by a chunk whatever ``n``, up to ``MAX_SAMPLE_FILE``); the file is
        written atomically, and refused up front (one error, nothing written) when its size,
        known from the first chunk, exceeds the disk's free space. ``grid``: also a PNG of the
        first 100 samples (a column per class for a conditional run's balanced labels);
        ``text``: the first ``text`` samples as text in the result. Without a ``path``, only the
        chunks that ``grid`` and ``text`` need are drawn."""
        import torch

        from gankit.io import atomic_write, write_npz_chunks

        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_SAMPLE_FILE:
            raise GankitError(f"the number of samples (--n) must lie in 1..{MAX_SAMPLE_FILE:,d}, got {str(n)[:30]}")
        if isinstance(text, bool) or not isinstance(text, int) or text < 0:
            raise GankitError(f"text must be a count of samples >= 0, got {text!r}")
        if path is None and grid is None and not text:
            raise GankitError("nothing to write: name a path, a grid or a text count")
        data = self._restored.data
        # the grid and the text need the stream's first samples only: kept as they pass
        keep = min(n, max(GRID_SAMPLES if grid is not None else 0, text))
        head: list = []
        kept = 0

        def arrays():
            nonlocal kept
            for samples, classes in self._chunks(n, seed, labels):
                if kept < keep:
                    head.append(samples[: keep - kept])
                    kept += len(head[-1])
                if path is None:
                    if kept >= keep:
                        return
                    continue
                chunk = data.to_npz(samples)
                if classes is not None:
                    chunk["labels"] = classes
                yield chunk

        written = Written()
        if path is None:
            for _ in arrays():
                pass
        else:
            path = Path(path)

            def fits(first: dict) -> None:  # the first chunk tells the size of a sample
                import shutil

                rows = len(next(iter(first.values())))
                need = n * sum(a.nbytes for a in first.values()) // rows
                free = shutil.disk_usage(path.parent).free
                if need > free:
                    raise GankitError(f"cannot write samples {path}: {n:,d} samples take {_size(need)} and "
                                      f"{path.parent} has {_size(free)} free (ask for fewer with --n)")

            atomic_write(path, lambda fh: written.arrays.update(
                write_npz_chunks(fh, n, arrays(), check=fits, spill_dir=path.parent)), what="samples")
        if grid is not None:
            from gankit.report.grid import save_grid
            from gankit.training.sampling import render

            model = self.model
            columns = data.num_classes if model.conditional and labels is None else None
            save_grid(render(model, torch.cat(head)[:GRID_SAMPLES]), Path(grid), nrow=columns)
        if text:
            written.text = data.render_text(torch.cat(head)[:text])
        return written

    def evaluate(self, n: int | None = None, modes: bool = False) -> dict:
        """The metrics of ``gankit eval`` (``n`` fresh samples, default ``train.eval_samples``);
        ``modes=True`` adds ``modes_covered`` and ``modes_kl`` (``gankit eval --modes``,
        ``mnist-stacked`` runs only)."""
        from gankit.training.sampling import evaluate_model

        n = self.cfg.train.eval_samples if n is None else n
        if not isinstance(n, int) or n <= 0:
            raise GankitError(f"n must be a positive integer, got {n!r}")
        if not isinstance(modes, bool):
            raise GankitError(f"modes must be True or False, got {modes!r}")
        return {"run": str(self.dir), "step": self.step, **evaluate_model(self.model, n, modes=modes)}

    def __repr__(self) -> str:
        return f"gankit.Run('{self.dir}', preset={self.cfg.preset!r}, step={self.step})"


def _size(nbytes: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if nbytes < 1000 or unit == "TB":
            return f"{nbytes:,.0f} {unit}" if unit == "bytes" else f"{nbytes:,.1f} {unit}"
        nbytes /= 1000


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
