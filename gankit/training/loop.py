"""The one training loop. Every model family runs through ``train``.

A family supplies its networks, objective and step (``Model.train_step``); the
loop supplies batches, the budget (steps and/or seconds), schedule hooks,
loss logging, fixed-noise sample grids, metrics and checkpoints.
"""
from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from gankit.config import MAX_SAMPLES, Config, check_seed, read_config_file, resume_changes
from gankit.data import Batches, Dataset, load_dataset
from gankit.errors import GankitError, first_line
from gankit.io import atomic_write
from gankit.models import build_model
from gankit.models.base import Model
from gankit.training.checkpoint import FORMAT_VERSION, Checkpoints, check_matches, rng_state, set_rng_state
from gankit.training.distributed import World, env_world_size, unwrapped, world_from_env
from gankit.io import remove_stale_temps
from gankit.training.logs import RunLog, planned_logs, write_planned
from gankit.training.rundir import MARKER, RunLock, clear_run, prepare_run_dir


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
    done: float = 0.0  # share of the budget used: the largest of steps, seconds and epochs (whichever ends first)


def budget_done(t, step: int, elapsed: float, epochs: float) -> float:
    """How far a run is through its budget, in [0, 1]: the first of steps/seconds/epochs to end decides."""
    parts = [step / t.steps if t.steps else 0.0]
    if t.seconds:
        parts.append(elapsed / t.seconds)
    if t.epochs:
        parts.append(epochs / t.epochs)
    return min(1.0, max(parts))


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
    check_sample_count(model, n)
    check_seed(seed)
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


SAMPLE_BYTES = 4 * 2**30  # the generated float samples of one call stay below this


def check_sample_count(model: Model, n: int) -> None:
    """A count of samples in 1..the most that memory holds (stated in the error)."""
    size = 4 * max(1, math.prod(model.data.shape))
    limit = max(1, min(MAX_SAMPLES, SAMPLE_BYTES // size))
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= limit:
        raise GankitError(f"the number of samples (--n) must lie in 1..{limit:,d} for this run "
                          f"({SAMPLE_BYTES // 2**30} GiB of samples at most), got {str(n)[:30]}")


def render(model: Model, samples: torch.Tensor):
    """uint8 images for a grid: the dataset's conversion (boards render as coloured cells)."""
    return model.data.to_uint8(samples.cpu())


def save_sample_grid(model: Model, path: Path, n: int):
    """The fixed-noise grid as a PNG at ``path``: a full square (one column per class for
    conditional models) of at most ``n`` images, enlarged when small. Returns the uint8 array
    written (for TensorBoard)."""
    from gankit.report.grid import grid_array, square_grid, upscale, write_png

    count, columns = square_grid(n, model.data.num_classes if model.conditional else None)
    images = render(model, generate_seeded(model, count, GRID_SEED, grid_labels(model, count)))
    arr = upscale(grid_array(images, nrow=columns))
    write_png(arr, path)
    return arr


def evaluate_model(model: Model, n: int, cache_dir: Path | None = None, seed: int = EVAL_SEED) -> dict:
    """Metrics of ``n`` fresh samples (balanced labels for conditional models)."""
    from gankit.metrics import evaluate

    labels = grid_labels(model, n)
    samples = generate_seeded(model, n, seed, labels)
    metrics = evaluate(model.data, samples, labels.cpu() if labels is not None else None, cache_dir)
    metrics.update(model.extra_metrics())
    return metrics


def checkpoint_state(model: Model, batches: Batches, step: int, elapsed: float, cfg: Config,
                     ranks: list[dict] | None = None, pending: dict | None = None) -> dict:
    """Everything a resume needs; ``ranks`` (data-parallel runs) holds each rank's RNG, extra
    state and ``pending`` loss sums (those not logged yet, so the resumed log rows match)."""
    with unwrapped(model):
        state = {
            "format_version": FORMAT_VERSION,
            "step": step,
            "elapsed": elapsed,
            "preset": cfg.preset,
            "family": cfg.model.family,
            "net": cfg.net.name,
            "model": model.state_dict(),
            "optim": {k: opt.state_dict() for k, opt in model.optimizers().items()},
            "extra": model.extra_state(),
            "batches": batches.state_dict(),
            "rng": rng_state(),
            "log": pending or {"sums": {}, "count": 0},
        }
    if ranks is not None:
        state["world"] = len(ranks)
        state["ranks"] = ranks
    return state


def restore(model: Model, batches: Batches | None, state: dict, world: World | None = None) -> None:
    """Load a checkpoint into ``model`` (and, to resume, ``batches`` and this rank's RNG streams)."""
    world = world or World()
    path = state.get("_path", "")
    family = state.get("family")
    if family is not None and family != model.cfg.model.family:
        raise GankitError(f"checkpoint {path} is of model family '{family}', not '{model.cfg.model.family}'")
    try:
        with unwrapped(model):
            model.load_state_dict(state["model"])
        for key, opt in model.optimizers().items():
            opt.load_state_dict(state["optim"][key])
    except (KeyError, RuntimeError, ValueError) as exc:
        first = first_line(exc)
        raise GankitError(f"checkpoint {path} does not fit this model: {first[:200]}") from None
    mine = rank_state(state, world)
    model.load_extra_state(mine.get("extra", {}))
    if batches is None:
        return
    batches.load_state_dict(state["batches"])
    if mine is not state or world.is_main:
        set_rng_state(mine["rng"])
    else:  # resumed on more processes than wrote the checkpoint: a fresh stream for this rank
        seed_everything(rank_seed(model.cfg.train.seed, world.rank) + int(state["step"]))


def rank_state(state: dict, world: World) -> dict:
    """This rank's part of a checkpoint (rank 0's when the number of processes changed)."""
    ranks = state.get("ranks")
    return ranks[world.rank] if ranks and len(ranks) == world.size else state


def rank_seed(seed: int, rank: int) -> int:
    """Rank r's RNG seed in a data-parallel run (rank 0 keeps ``train.seed``)."""
    return seed + 1_000_003 * rank


class _NoLog:
    """What ranks other than 0 log: nothing."""

    def losses(self, step, values) -> None:
        pass

    def metrics(self, step, values) -> None:
        pass

    def image(self, tag, arr, step) -> None:
        pass

    def close(self) -> None:
        pass


def _open_for_resume(lock: RunLock, ckpts: Checkpoints, run_dir: Path, cfg: Config, plan: dict) -> dict | None:
    """Lock the run, then check its config, newest checkpoint and logs; nothing is written yet.
    None: the run has no checkpoint at all (killed before its first one) and starts at step 0."""
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


def _start_run_dir(run_dir: Path, overwrite: bool, cfg: Config, lock: RunLock) -> None:
    prepare_run_dir(run_dir, overwrite, lock, protect=(cfg.data.root,))
    atomic_write(run_dir / "config.yaml", cfg.to_yaml(), what="run config")


def _restart_run_dir(run_dir: Path, cfg: Config) -> None:
    """A run killed before its first checkpoint: what it logged goes, it starts again at step 0."""
    clear_run(run_dir)
    atomic_write(run_dir / MARKER, "gankit run directory\n", what="run marker")
    (run_dir / "samples").mkdir(parents=True, exist_ok=True)
    atomic_write(run_dir / "config.yaml", cfg.to_yaml(), what="run config")


def _commit_resume(run_dir: Path, cfg: Config, plan: dict) -> None:
    """Once every check passed and the state loaded: record the applied changes, trim the logs."""
    path = run_dir / "config.yaml"
    if plan.get("changes") or not path.is_file():
        atomic_write(path, cfg.to_yaml(), what="run config")
    write_planned(plan.get("logs", {}))


def _is_run(run_dir: Path) -> bool:
    """``resume="auto"``: resume a directory that already is a gankit run, else start it."""
    return (Path(run_dir) / "config.yaml").is_file()


def train(cfg: Config, run_dir: Path, *, overwrite: bool = False, resume: bool | str = False,
          progress: Callable[[Progress], None] | None = None, cache_dir: Path | None = None,
          data: Dataset | None = None) -> dict:
    """Train ``cfg`` into ``run_dir``; returns the final metrics (plus ``step`` and ``run_dir``).

    Under ``torchrun`` (``WORLD_SIZE`` > 1) every process calls this: data-parallel
    training of one model (``gankit.training.distributed``); only rank 0 writes ``run_dir``.
    Bad input (data, net/data mismatch, run directory, checkpoint) is detected before
    anything is written. Rank 0 holds the run directory's lock (``RunLock``) from then until
    the run ends. ``resume``: True continues ``run_dir`` from its newest checkpoint (a run
    killed before its first one starts again at step 0); ``"auto"`` resumes ``run_dir`` if
    it is a run and starts it otherwise (for ``torchrun --max-restarts``). A resume checks
    config, checkpoint and logs first and changes nothing unless all are valid; an override
    of a key outside ``config.RESUMABLE`` is refused.
    """
    run_dir = Path(run_dir)
    t = cfg.train
    if t.threads:
        torch.set_num_threads(t.threads)
    device = select_device(t.device)
    if cfg.data.batch_size % env_world_size():  # before any process waits for the others
        raise GankitError(f"data.batch_size {cfg.data.batch_size} must be divisible by the number of "
                          f"processes ({env_world_size()}): it is the global batch, split among them")
    world = world_from_env(device.type)
    lock = RunLock(run_dir)
    try:
        return _train(cfg, run_dir, world, world.device(device), overwrite, resume, progress, cache_dir, data, lock)
    finally:
        lock.release()
        world.close()


def _train(cfg: Config, run_dir: Path, world: World, device: torch.device, overwrite: bool, resume: bool,
           progress, cache_dir, data, lock: RunLock) -> dict:
    t = cfg.train
    seed_everything(t.seed)  # the same initial weights on every rank
    data = data if data is not None else load_dataset(cfg.data)
    model = build_model(cfg, data).to(device)
    batches = Batches(data, cfg.data.batch_size // world.size, t.seed, device, world.rank, world.size)
    check_model_fits_data(model)
    ckpts = Checkpoints(run_dir / "checkpoints", t.keep_checkpoints)
    step, elapsed_before = 0, 0.0
    pending = {"sums": {}, "count": 0}
    if resume == "auto":
        resume = bool(world.broadcast(world.on_main(_is_run, run_dir)))
    state = None
    if resume:
        plan: dict = {}
        state = world.broadcast(world.on_main(_open_for_resume, lock, ckpts, run_dir, cfg, plan))
        if state is None:
            world.on_main(_restart_run_dir, run_dir, cfg)
    if state is not None:
        restore(model, batches, state, world)
        step, elapsed_before = int(state["step"]), float(state["elapsed"])
        pending = rank_state(state, world).get("log", {"sums": {}, "count": 0})
        world.on_main(_commit_resume, run_dir, cfg, plan)
    else:
        if not resume:
            world.on_main(_start_run_dir, run_dir, overwrite, cfg, lock)
        if world.active and not world.is_main:
            seed_everything(rank_seed(t.seed, world.rank))  # own noise, dropout and flips per rank
    world.wrap(model)
    model.train()
    runlog = RunLog(run_dir, t.tensorboard) if world.is_main else _NoLog()
    sums: dict[str, torch.Tensor] = {k: v.to(device) for k, v in pending["sums"].items()}
    count = int(pending["count"])
    train_time = 0.0  # seconds inside train_step since the last log: images/s excludes eval and I/O
    total_time = 0.0
    drawn = drawn_at_start = batches.drawn
    start = time.monotonic()
    final: dict = {}

    def save_checkpoint() -> None:
        _check_params_finite(model, step, ckpts)
        log = {"sums": {k: v.cpu() for k, v in sums.items()}, "count": count}
        ranks = world.gather({"rng": rng_state(), "extra": model.extra_state(), "log": log}) if world.active else None
        state = checkpoint_state(model, batches, step, elapsed_before + time.monotonic() - start, cfg, ranks, log)
        if world.is_main:
            ckpts.save(state, step)

    gridded_at = -1

    def grid() -> None:
        nonlocal gridded_at
        gridded_at = step
        if world.is_main:
            with unwrapped(model):
                arr = save_sample_grid(model, run_dir / "samples" / f"step_{step:06d}.png", t.grid_size)
            if arr is not None:
                runlog.image("samples", arr, step)

    # what DDP's broadcast_buffers does for the others
    sync = None if model.ddp else (lambda: world.sync_buffers(model))
    try:
        while step < t.steps:
            if t.seconds is not None and world.any(elapsed_before + time.monotonic() - start >= t.seconds):
                break
            t0 = time.perf_counter()
            epochs_before = batches.epochs_done
            step = advance(model, batches, step, sums, sync)
            count += 1
            epoch_ended = batches.epochs_done > epochs_before
            last = step == t.steps or (t.epochs is not None and batches.epochs_done >= t.epochs)
            if step % t.log_every == 0 or last:
                # one host sync per log; data-parallel runs log the mean over ranks
                values = world.mean({k: float(v) / count for k, v in sums.items()})
                dt = time.perf_counter() - t0
                train_time, total_time = train_time + dt, total_time + dt
                _check_finite(values, step, ckpts, count)
                world.check_in_sync(model, step)
                runlog.losses(step, values)
                if progress is not None and world.is_main:
                    ips = world.size * (batches.drawn - drawn) / max(train_time, 1e-9)
                    elapsed = elapsed_before + time.monotonic() - start
                    epochs = batches.epoch + batches.pos / len(batches.perm)
                    progress(Progress(step, t.steps, values, ips, elapsed, done=budget_done(t, step, elapsed, epochs)))
                sums, count = {}, 0
                drawn, train_time = batches.drawn, 0.0
            else:
                dt = time.perf_counter() - t0
                train_time, total_time = train_time + dt, total_time + dt
            if step % t.sample_every == 0:
                grid()
            epoch_eval = epoch_ended and t.eval_every_epochs and batches.epochs_done % t.eval_every_epochs == 0
            if ((t.eval_every and step % t.eval_every == 0) or (epoch_eval and not last)) and world.is_main:
                with unwrapped(model):
                    runlog.metrics(step, {"epoch": batches.epochs_done,
                                          **evaluate_model(model, t.eval_samples, cache_dir)})
            if step % t.ckpt_every == 0:
                _check_finite(world.mean({k: float(v) / count for k, v in sums.items()}), step, ckpts, count)
                save_checkpoint()
            if last:
                break
        if sums:
            _check_finite(world.mean({k: float(v) / count for k, v in sums.items()}), step, ckpts, count)
        world.sync_buffers(model)  # every rank ends with rank 0's batch-norm statistics
        save_checkpoint()
        if gridded_at != step:  # a sample step that just ended the run has its grid already
            grid()
        if world.is_main:
            with unwrapped(model):
                final = evaluate_model(model, t.eval_samples, cache_dir)
            final["images_per_s"] = world.size * (batches.drawn - drawn_at_start) / max(total_time, 1e-9)
            final["epoch"] = batches.epochs_done
            runlog.metrics(step, final)
    finally:
        runlog.close()
    if world.is_main:
        _plot_curves(run_dir)
    return {**final, "step": step, "run_dir": str(run_dir)}


def advance(model: Model, batches: Batches, step: int, sums: dict[str, torch.Tensor], sync=None) -> int:
    """One generator step: ``train_step``, then ``sync()`` if given, the schedule hooks, and the
    step's logs added to ``sums`` on the device (no host sync). Returns the new step count.
    The loop's whole per-step work, which ``gankit bench`` times as it is."""
    epoch = batches.epoch
    logs = model.train_step(batches, step)
    if sync is not None:
        sync()
    step += 1
    model.on_step_end(step)
    for e in range(epoch, batches.epoch):
        model.on_epoch_end(e)
    for key, value in logs.items():
        sums[key] = sums[key] + value.detach() if key in sums else value.detach().clone()
    return step


def check_model_fits_data(model: Model) -> None:
    """Two samples must come out in the data's shape: a net built for other images
    (e.g. 28x28 MNIST nets on 32x32 SVHN) fails here, before anything is written."""
    try:
        with unwrapped(model):
            out = generate_seeded(model, 2, 0, grid_labels(model, 2))
    except (RuntimeError, ValueError, IndexError) as exc:
        first = first_line(exc)
        raise GankitError(f"net '{model.cfg.net.name}' cannot generate data '{model.data.name}' "
                          f"of shape {list(model.data.shape)}: {first[:200]}") from None
    if tuple(out.shape[1:]) != model.data.shape:
        raise GankitError(f"net '{model.cfg.net.name}' generates examples of shape {list(out.shape[1:])} but data "
                          f"'{model.data.name}' has shape {list(model.data.shape)}")


def _check_finite(values: dict[str, float], step: int, ckpts: Checkpoints, count: int = 1) -> None:
    """``values`` are means over the last ``count`` steps (losses are synced only when logged)."""
    for key, value in values.items():
        if not math.isfinite(value):
            last = ckpts.paths()[-1].name if ckpts.paths() else "none"
            window = f" (mean of steps {step - count + 1}-{step})" if count > 1 else ""
            raise TrainingDiverged(
                f"training diverged: loss '{key}' is {value} at step {step}{window}; "
                f"last good checkpoint: {last}"
            )


def _check_params_finite(model: Model, step: int, ckpts: Checkpoints) -> None:
    """Never write a checkpoint of non-finite weights over the last good one."""
    tensors = list(model.parameters()) + [b for b in model.buffers() if b.is_floating_point()]
    if tensors and not bool(torch.stack([torch.isfinite(p).all() for p in tensors]).all()):
        with unwrapped(model):  # parameters and buffers (batch-norm running statistics)
            named = [*model.named_parameters(), *model.named_buffers()]
            name = next(n for n, p in named if p.is_floating_point() and not torch.isfinite(p).all())
        last = ckpts.paths()[-1].name if ckpts.paths() else "none"
        raise TrainingDiverged(
            f"training diverged: '{name}' is not finite at step {step}; last good checkpoint: {last}"
        )


def _plot_curves(run_dir: Path) -> None:
    from gankit.report.curves import plot_losses

    if (run_dir / "losses.csv").is_file():
        plot_losses(run_dir / "losses.csv", run_dir / "loss.png")
