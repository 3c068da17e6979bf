"""The one training loop. Every model family runs through ``train``.

A family supplies its networks, objective and step (``Model.train_step``); the
loop supplies batches, the budget (steps and/or seconds), schedule hooks,
loss logging, fixed-noise sample grids, metrics and checkpoints.
"""
from __future__ import annotations

import logging
import math
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from gankit.config import Config
from gankit.data import Batches, Dataset, load_dataset
from gankit.errors import GankitError
from gankit.models import build_model
from gankit.models.base import Model
from gankit.train.checkpoint import Checkpoints, rng_state, set_rng_state
from gankit.train.logs import RunLog
from gankit.train.rundir import prepare_run_dir

log = logging.getLogger("gankit")

GRID_SEED = 1234  # the fixed noise of the sample grids (same for every run and resume)
EVAL_SEED = 4321


class TrainingDiverged(GankitError):
    """A loss became NaN or infinite."""


@dataclass
class Progress:
    step: int
    total: int
    losses: dict[str, float]
    images_per_s: float
    elapsed: float
    extra: dict = field(default_factory=dict)


def select_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise GankitError("train.device=cuda but no CUDA device is available")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def grid_labels(model: Model, n: int) -> torch.Tensor | None:
    if not model.conditional:
        return None
    return torch.arange(n, device=model.device) % model.data.num_classes


@torch.no_grad()
def generate_seeded(model: Model, n: int, seed: int, labels: torch.Tensor | None = None,
                    chunk: int = 500) -> torch.Tensor:
    """``n`` samples in eval mode from a fixed seed, without touching the training RNG."""
    was_training = model.training
    model.eval()
    out = []
    try:
        with torch.random.fork_rng(devices=[model.device] if model.device.type == "cuda" else []):
            torch.manual_seed(seed)
            for start in range(0, n, chunk):
                lab = labels[start:start + chunk] if labels is not None else None
                out.append(model.generate(min(chunk, n - start), lab).cpu())
    finally:
        model.train(was_training)
    return torch.cat(out)


def render(model: Model, samples: torch.Tensor):
    """uint8 images for a grid: the family's own renderer, else the dataset's conversion."""
    hook = getattr(model, "render_samples", None)
    if hook is not None:
        return hook(samples)
    if model.data.kind != "image":
        return None
    return model.data.to_uint8(samples)


def save_sample_grid(model: Model, path: Path, n: int) -> Path | None:
    from gankit.report.grid import save_grid

    images = render(model, generate_seeded(model, n, GRID_SEED, grid_labels(model, n)))
    if images is None:
        return None
    nrow = model.data.num_classes if model.conditional else None
    return save_grid(images, path, nrow=nrow)


def evaluate_model(model: Model, n: int, cache_dir: Path | None = None, seed: int = EVAL_SEED) -> dict:
    """Metrics of ``n`` fresh samples (balanced labels for conditional models)."""
    from gankit.metrics import evaluate

    labels = grid_labels(model, n)
    samples = generate_seeded(model, n, seed, labels)
    metrics = evaluate(model.data, samples, labels.cpu() if labels is not None else None, cache_dir)
    extra = getattr(model, "extra_metrics", None)
    if extra is not None:
        metrics.update(extra())
    return metrics


def checkpoint_state(model: Model, batches: Batches, step: int, elapsed: float, cfg: Config) -> dict:
    return {
        "step": step,
        "elapsed": elapsed,
        "preset": cfg.preset,
        "family": cfg.model.family,
        "model": model.state_dict(),
        "optim": {k: opt.state_dict() for k, opt in model.optimizers().items()},
        "extra": model.extra_state(),
        "batches": batches.state_dict(),
        "rng": rng_state(),
    }


def restore(model: Model, batches: Batches | None, state: dict) -> None:
    try:
        model.load_state_dict(state["model"])
        for key, opt in model.optimizers().items():
            opt.load_state_dict(state["optim"][key])
    except (KeyError, RuntimeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise GankitError(f"checkpoint {state.get('_path', '')} does not fit this model: {first[:200]}") from None
    model.load_extra_state(state.get("extra", {}))
    if batches is not None:
        batches.load_state_dict(state["batches"])
        set_rng_state(state["rng"])


def train(cfg: Config, run_dir: Path, *, overwrite: bool = False, resume: bool = False,
          progress: Callable[[Progress], None] | None = None, cache_dir: Path | None = None,
          data: Dataset | None = None) -> dict:
    """Train ``cfg`` into ``run_dir``; returns the final metrics (plus ``step`` and ``run_dir``)."""
    run_dir = Path(run_dir)
    t = cfg.train
    if t.threads:
        torch.set_num_threads(t.threads)
    device = select_device(t.device)
    if not resume:
        prepare_run_dir(run_dir, overwrite)
        (run_dir / "config.yaml").write_text(cfg.to_yaml())
    seed_everything(t.seed)
    data = data if data is not None else load_dataset(cfg.data)
    model = build_model(cfg, data).to(device)
    batches = Batches(data, cfg.data.batch_size, t.seed, device)
    ckpts = Checkpoints(run_dir / "checkpoints", t.keep_checkpoints)
    step, elapsed_before = 0, 0.0
    if resume:
        state = ckpts.load_latest(device)
        if state is None:
            raise GankitError(f"no readable checkpoint under {run_dir / 'checkpoints'} to resume from")
        restore(model, batches, state)
        step, elapsed_before = int(state["step"]), float(state["elapsed"])
    model.train()
    runlog = RunLog(run_dir, t.tensorboard)
    sums: dict[str, torch.Tensor] = {}
    count = 0
    train_time = 0.0  # seconds inside train_step since the last log: images/s excludes eval and I/O
    total_time = 0.0
    drawn = drawn_at_start = batches.drawn
    start = time.monotonic()
    final: dict = {}
    try:
        while step < t.steps:
            if t.seconds is not None and elapsed_before + time.monotonic() - start >= t.seconds:
                break
            epoch, t0 = batches.epoch, time.perf_counter()
            logs = model.train_step(batches, step)
            step += 1
            model.on_step_end(step)
            for e in range(epoch, batches.epoch):
                model.on_epoch_end(e)
            for key, value in logs.items():
                sums[key] = sums[key] + value.detach() if key in sums else value.detach().clone()
            count += 1
            if step % t.log_every == 0 or step == t.steps:
                values = {k: float(v) / count for k, v in sums.items()}  # one host sync per log
                dt = time.perf_counter() - t0
                train_time, total_time = train_time + dt, total_time + dt
                _check_finite(values, step, ckpts)
                runlog.losses(step, values)
                if progress is not None:
                    ips = (batches.drawn - drawn) / max(train_time, 1e-9)
                    progress(Progress(step, t.steps, values, ips, elapsed_before + time.monotonic() - start))
                sums, count = {}, 0
                drawn, train_time = batches.drawn, 0.0
            else:
                dt = time.perf_counter() - t0
                train_time, total_time = train_time + dt, total_time + dt
            if step % t.sample_every == 0:
                save_sample_grid(model, run_dir / "samples" / f"step_{step:06d}.png", t.grid_size)
            if t.eval_every and step % t.eval_every == 0:
                runlog.metrics(step, evaluate_model(model, t.eval_samples, cache_dir))
            if step % t.ckpt_every == 0:
                _check_finite({k: float(v) for k, v in sums.items()}, step, ckpts)
                ckpts.save(checkpoint_state(model, batches, step, elapsed_before + time.monotonic() - start, cfg), step)
        if sums:
            _check_finite({k: float(v) / count for k, v in sums.items()}, step, ckpts)
        ckpts.save(checkpoint_state(model, batches, step, elapsed_before + time.monotonic() - start, cfg), step)
        save_sample_grid(model, run_dir / "samples" / f"step_{step:06d}.png", t.grid_size)
        final = evaluate_model(model, t.eval_samples, cache_dir)
        final["images_per_s"] = (batches.drawn - drawn_at_start) / max(total_time, 1e-9)
        runlog.metrics(step, final)
    finally:
        runlog.close()
    _plot_curves(run_dir)
    return {**final, "step": step, "run_dir": str(run_dir)}


def _check_finite(values: dict[str, float], step: int, ckpts: Checkpoints) -> None:
    for key, value in values.items():
        if not math.isfinite(value):
            last = ckpts.paths()[-1].name if ckpts.paths() else "none"
            raise TrainingDiverged(
                f"training diverged: loss '{key}' is {value} at step {step} (last good checkpoint: {last})"
            )


def _plot_curves(run_dir: Path) -> None:
    from gankit.report.curves import plot_losses

    if (run_dir / "losses.csv").is_file():
        plot_losses(run_dir / "losses.csv", run_dir / "loss.png")
