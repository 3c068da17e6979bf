"""The one training loop. Every model family runs through ``train``.

A family supplies its networks, objective and step (``Model.train_step``); the
loop supplies batches, the budget (whichever of steps, seconds and epochs ends
first), schedule hooks, loss logging, fixed-noise sample grids, metrics,
checkpoints and resume (``_start`` / ``_run`` / ``_finish``).
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
from gankit.io import atomic_write, remove_stale_temps
from gankit.models import build_model
from gankit.models.base import Model
from gankit.training.checkpoint import FORMAT_VERSION, Checkpoints, check_matches, rng_state, set_rng_state
from gankit.training.distributed import TrainingView, World, env_world_size, is_comm_failure, lost_contact, world_from_env
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


SAMPLE_CHUNK = 500  # samples per generator call: the blocks of the seeded stream (and of the memory used)


def generate_seeded(model: Model, n: int, seed: int, labels: torch.Tensor | None = None,
                    chunk: int | None = None) -> torch.Tensor:
    """``n`` samples in eval mode from a fixed seed, without touching the training RNG:
    ``iter_seeded``'s chunks in one tensor (so at most ``check_sample_count``'s limit)."""
    check_sample_count(model, n)
    return torch.cat(list(iter_seeded(model, n, seed, labels, chunk)))


@torch.no_grad()
def iter_seeded(model: Model, n: int, seed: int, labels: torch.Tensor | None = None,
                chunk: int | None = None):
    """The samples of ``generate_seeded`` as CPU tensors of ``chunk`` (default ``SAMPLE_CHUNK``)
    samples each, one generator call at a time: memory stays bounded by a chunk whatever ``n``.
    One seeded RNG stream runs through the chunks; it is set aside between them (what the
    caller does meanwhile draws nothing from it), so the samples are those of one
    ``generate_seeded`` call. ``labels``: [n], or one period of them (e.g. the classes
    0..K-1) repeated to ``n``."""
    check_seed(seed)
    chunk = int(chunk or SAMPLE_CHUNK)
    devices = [model.device] if model.device.type == "cuda" else []
    state = None
    for start in range(0, n, chunk):
        count = min(chunk, n - start)
        lab = None
        if labels is not None:
            lab = labels[torch.arange(start, start + count, device=labels.device) % len(labels)].to(model.device)
        was_training = model.training
        model.eval()
        try:
            with torch.random.fork_rng(devices=devices):
                if state is None:
                    torch.manual_seed(seed)
                else:
                    torch.set_rng_state(state[0])
                    for d, s in zip(devices, state[1]):
                        torch.cuda.set_rng_state(s, d)
                out = model.generate(count, lab).cpu()
                state = (torch.get_rng_state(), [torch.cuda.get_rng_state(d) for d in devices])
        finally:
            model.train(was_training)
        yield out


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


def evaluate_model(model: Model, n: int, cache_dir: Path | None = None, seed: int = EVAL_SEED,
                   modes: bool = False) -> dict:
    """Metrics of ``n`` fresh samples (balanced labels for conditional models); ``modes`` adds
    the mode coverage of the same samples (``mnist-stacked`` runs, :mod:`gankit.metrics.modes`)."""
    from gankit.metrics import evaluate

    if modes:  # refused before any sample is drawn
        from gankit.metrics.modes import check_stacked

        check_stacked(model.data)
    labels = grid_labels(model, n)
    samples = generate_seeded(model, n, seed, labels)
    metrics = evaluate(model.data, samples, labels.cpu() if labels is not None else None, cache_dir)
    metrics.update(model.extra_metrics())
    if modes:
        from gankit.metrics.modes import mode_metrics

        metrics.update(mode_metrics(model.data, samples, cache_dir))
    return metrics


def checkpoint_state(model: Model, batches: Batches, step: int, elapsed: float, cfg: Config,
                     ranks: list[dict] | None = None, pending: dict | None = None) -> dict:
    """Everything a resume needs; ``ranks`` (data-parallel runs) holds each rank's RNG, extra
    state and ``pending`` loss sums (those not logged yet, so the resumed log rows match)."""
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
    the run ends. A rank that dies or falls silent ends the others with one ``GankitError``
    (``distributed.lost_contact``); the run directory keeps its newest checkpoint. ``resume``: True continues ``run_dir`` from its newest checkpoint (a run
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
    except Exception as exc:
        if world.active and is_comm_failure(exc):  # another rank died or fell silent
            raise lost_contact(world, run_dir, exc) from None
        raise
    finally:
        lock.release()
        world.close()


def _train(cfg: Config, run_dir: Path, world: World, device: torch.device, overwrite: bool, resume: bool | str,
           progress, cache_dir, data, lock: RunLock) -> dict:
    """Start or resume the run, run its steps, finish it; returns the final metrics."""
    run = _start(cfg, run_dir, world, device, overwrite, resume, data, lock)
    try:
        _run(run, progress, cache_dir)
        final = _finish(run, cache_dir)
    finally:
        run.log.close()
    if world.is_main:
        _plot_curves(run_dir)
    return {**final, "step": run.step, "run_dir": str(run_dir)}


@dataclass
class _Run:
    """A run in progress: what ``_start`` built and what the steps carry from one to the next."""

    cfg: Config
    run_dir: Path
    world: World
    model: Model  # the plain model: checkpoints, grids, evaluation, finite checks
    view: Model | TrainingView  # what the step runs on (``World.wrap``): the model or its data-parallel view
    batches: Batches
    ckpts: Checkpoints
    log: RunLog | _NoLog
    step: int
    elapsed_before: float  # seconds trained before this process (a resume)
    sums: dict[str, torch.Tensor]  # loss sums on the device since the last log
    count: int  # the steps in ``sums``
    sync: Callable[[], None] | None  # after each step: rank 0's buffers for a family outside DDP
    drawn: int = 0  # batches.drawn at the last log (images/s)
    drawn_at_start: int = 0
    train_time: float = 0.0  # seconds inside train_step since the last log: images/s excludes eval and I/O
    total_time: float = 0.0
    gridded_at: int = -1
    start: float = field(default_factory=time.monotonic)

    def elapsed(self) -> float:
        """Seconds of training so far, those before a resume included."""
        return self.elapsed_before + time.monotonic() - self.start

    def mean_losses(self) -> dict[str, float]:
        """The mean of each loss since the last log (over ranks too): one host sync."""
        return self.world.mean({k: float(v) / self.count for k, v in self.sums.items()})

    def check_losses(self, values: dict[str, float]) -> None:
        """Stop (``TrainingDiverged``) on a NaN or infinite mean loss."""
        _check_finite(values, self.step, self.ckpts, self.count)

    def save_checkpoint(self) -> None:
        """Checkpoint this step (every rank's RNG and pending sums; rank 0 writes), weights checked finite."""
        _check_params_finite(self.model, self.step, self.ckpts)
        log = {"sums": {k: v.cpu() for k, v in self.sums.items()}, "count": self.count}
        world = self.world
        ranks = (world.gather({"rng": rng_state(), "extra": self.model.extra_state(), "log": log})
                 if world.active else None)
        state = checkpoint_state(self.model, self.batches, self.step, self.elapsed(), self.cfg, ranks, log)
        if world.is_main:
            self.ckpts.save(state, self.step)

    def grid(self) -> None:
        """The fixed-noise sample grid of this step (rank 0 writes it and logs it to TensorBoard)."""
        self.gridded_at = self.step
        if self.world.is_main:
            path = self.run_dir / "samples" / f"step_{self.step:06d}.png"
            arr = save_sample_grid(self.model, path, self.cfg.train.grid_size)
            if arr is not None:
                self.log.image("samples", arr, self.step)


def _start(cfg: Config, run_dir: Path, world: World, device: torch.device, overwrite: bool, resume: bool | str,
           data: Dataset | None, lock: RunLock) -> _Run:
    """Build dataset and model, open (or check and restore) the run directory, wrap for the step."""
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
    view = world.wrap(model)
    model.train()
    runlog = RunLog(run_dir, t.tensorboard) if world.is_main else _NoLog()
    sums = {k: v.to(device) for k, v in pending["sums"].items()}
    sync = None if model.ddp else (lambda: world.sync_buffers(model))  # what DDP's broadcast_buffers does
    return _Run(cfg, run_dir, world, model, view, batches, ckpts, runlog, step, elapsed_before, sums,
                int(pending["count"]), sync, drawn=batches.drawn, drawn_at_start=batches.drawn)


def _run(run: _Run, progress: Callable[[Progress], None] | None, cache_dir) -> None:
    """The steps until the budget ends, with the log, grid, evaluation and checkpoint schedules."""
    t, world, batches = run.cfg.train, run.world, run.batches
    while run.step < t.steps:
        if t.seconds is not None and world.any(run.elapsed() >= t.seconds):
            break
        t0 = time.perf_counter()
        epochs_before = batches.epochs_done
        run.step = advance(run.view, batches, run.step, run.sums, run.sync)
        run.count += 1
        step = run.step
        epoch_ended = batches.epochs_done > epochs_before
        last = step == t.steps or (t.epochs is not None and batches.epochs_done >= t.epochs)
        if step % t.log_every == 0 or last:
            _log(run, progress, t0)
        else:
            dt = time.perf_counter() - t0
            run.train_time, run.total_time = run.train_time + dt, run.total_time + dt
        if step % t.sample_every == 0:
            run.grid()
        epoch_eval = epoch_ended and t.eval_every_epochs and batches.epochs_done % t.eval_every_epochs == 0
        # the run's last step is evaluated and checkpointed once, by _finish
        if ((t.eval_every and step % t.eval_every == 0) or epoch_eval) and not last and world.is_main:
            run.log.metrics(step, {"epoch": batches.epochs_done,
                                   **evaluate_model(run.model, t.eval_samples, cache_dir)})
        if step % t.ckpt_every == 0 and not last:
            run.check_losses(run.mean_losses())
            run.save_checkpoint()
        if last:
            break


def _log(run: _Run, progress: Callable[[Progress], None] | None, t0: float) -> None:
    """One log row: the losses' means since the last row (checked finite), ranks checked in step, progress told."""
    t, world, batches = run.cfg.train, run.world, run.batches
    values = run.mean_losses()
    dt = time.perf_counter() - t0
    run.train_time, run.total_time = run.train_time + dt, run.total_time + dt
    run.check_losses(values)
    world.check_in_sync(run.model, run.step)
    run.log.losses(run.step, values)
    if progress is not None and world.is_main:
        ips = world.size * (batches.drawn - run.drawn) / max(run.train_time, 1e-9)
        elapsed = run.elapsed()
        epochs = batches.epoch + batches.pos / len(batches.perm)
        progress(Progress(run.step, t.steps, values, ips, elapsed, done=budget_done(t, run.step, elapsed, epochs)))
    run.sums, run.count = {}, 0
    run.drawn, run.train_time = batches.drawn, 0.0


def _finish(run: _Run, cache_dir) -> dict:
    """The final checkpoint, grid and evaluation (rank 0's metrics; {} on the other ranks)."""
    world, batches = run.world, run.batches
    if run.sums:
        run.check_losses(run.mean_losses())
    world.sync_buffers(run.model)  # every rank ends with rank 0's batch-norm statistics
    run.save_checkpoint()
    if run.gridded_at != run.step:  # a sample step that just ended the run has its grid already
        run.grid()
    if not world.is_main:
        return {}
    final = evaluate_model(run.model, run.cfg.train.eval_samples, cache_dir)
    final["images_per_s"] = world.size * (batches.drawn - run.drawn_at_start) / max(run.total_time, 1e-9)
    final["epoch"] = batches.epochs_done
    run.log.metrics(run.step, final)
    return final


def advance(model: Model, batches: Batches, step: int, sums: dict[str, torch.Tensor], sync=None) -> int:
    """One generator step: ``train_step``, then ``sync()`` if given, the schedule hooks, and the
    step's logs added to ``sums`` on the device (no host sync). Returns the new step count.
    ``model`` is a model or its training view (``World.wrap``). The loop's whole per-step work,
    which ``gankit bench`` times as it is."""
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
        named = [*model.named_parameters(), *model.named_buffers()]  # with batch-norm running statistics
        name = next(n for n, p in named if p.is_floating_point() and not torch.isfinite(p).all())
        last = ckpts.paths()[-1].name if ckpts.paths() else "none"
        raise TrainingDiverged(
            f"training diverged: '{name}' is not finite at step {step}; last good checkpoint: {last}"
        )


def _plot_curves(run_dir: Path) -> None:
    from gankit.report.curves import plot_losses

    if (run_dir / "losses.csv").is_file():
        plot_losses(run_dir / "losses.csv", run_dir / "loss.png")
