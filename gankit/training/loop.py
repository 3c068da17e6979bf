"""The one training loop. Every model family runs through ``train``.

A family supplies its networks, objective and step (``Model.train_step``); the loop
supplies batches, the budget (whichever of steps, seconds and epochs ends first), the
schedule hooks and the schedules of logs, grids, metrics and checkpoints: ``_start`` (build,
open or resume), ``_run`` (the steps), ``_finish``. What it calls lives beside it:
``sampling`` (grids, evaluation), ``checkpoint`` (state, restore), ``rundir`` (the run
directory, its lock and the resume bookkeeping), ``logs`` and ``distributed``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch

from gankit.config import Config
from gankit.data import Batches, Dataset, load_dataset
from gankit.errors import GankitError
from gankit.models import build_model
from gankit.models.base import Model
from gankit.training.checkpoint import (Checkpoints, check_losses_finite, check_weights_finite, checkpoint_state,
                                        rank_seed, rank_state, restore, rng_state, seed_everything)
from gankit.training.distributed import (TrainingView, World, env_world_size, is_comm_failure, lost_contact,
                                         select_device, world_from_env)
from gankit.training.logs import FINAL_KEY, NoLog, RunLog, is_final_row, plot_curves
from gankit.training.rundir import (RunLock, commit_resume, is_started, open_for_resume, restart_run_dir,
                                    start_run_dir)
from gankit.training.sampling import check_model_fits_data, evaluate_model, save_sample_grid


@dataclass
class Progress:
    step: int
    total: int
    losses: dict[str, float]
    images_per_s: float
    elapsed: float
    done: float = 0.0  # share of the budget used: the largest of steps, seconds and epochs (whichever ends first)
    stage: str = "train"  # "train": a log row; "evaluate": an evaluation begins; "note": a message to show once
    note: str = ""  # what the stage is doing, in words (evaluate, note)


def budget_done(t, step: int, elapsed: float, epochs: float) -> float:
    """How far a run is through its budget, in [0, 1]: the first of steps/seconds/epochs to end decides."""
    parts = [step / t.steps if t.steps else 0.0]
    if t.seconds:
        parts.append(elapsed / t.seconds)
    if t.epochs:
        parts.append(epochs / t.epochs)
    return min(1.0, max(parts))


def train(cfg: Config, run_dir: Path, *, overwrite: bool = False, resume: bool | str = False,
          progress: Callable[[Progress], None] | None = None, cache_dir: Path | None = None,
          data: Dataset | None = None) -> dict:
    """Train ``cfg`` into ``run_dir``; returns the final metrics (plus ``step`` and ``run_dir``).

    Under ``torchrun`` (``WORLD_SIZE`` > 1) every process calls this: data-parallel
    training of one model (``gankit.training.distributed``); only rank 0 writes ``run_dir``.
    Bad input (data, net/data mismatch, run directory, checkpoint) is detected before
    anything is written. Rank 0 holds the run directory's lock (``RunLock``) from then until
    the run ends. A rank that dies or falls silent ends the others with one ``GankitError``
    (``distributed.lost_contact``); the run directory keeps its newest checkpoint. ``resume``:
    True continues ``run_dir`` from its newest checkpoint (a run killed before its first one
    starts again at step 0); ``"auto"`` resumes ``run_dir`` if it is a run and starts it
    otherwise (for ``torchrun --max-restarts``). A resume checks config, checkpoint and logs
    first and changes nothing unless all are valid; an override of a key outside
    ``config.RESUMABLE`` is refused.
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
    finished = False
    try:
        result = _train(cfg, run_dir, world, world.device(device), overwrite, resume, progress, cache_dir, data, lock)
        finished = True
        return result
    except Exception as exc:
        if world.active and is_comm_failure(exc):  # another rank died or fell silent
            raise lost_contact(world, run_dir, exc) from None
        raise
    finally:
        lock.release()
        world.close(finished)


def _train(cfg: Config, run_dir: Path, world: World, device: torch.device, overwrite: bool, resume: bool | str,
           progress, cache_dir, data, lock: RunLock) -> dict:
    """Start or resume the run, run its steps, finish it; returns the final metrics."""
    run = _start(cfg, run_dir, world, device, overwrite, resume, data, lock)
    try:
        _run(run, progress, cache_dir)
        final = _finish(run, progress, cache_dir)
    finally:
        run.log.close()
    if world.is_main:
        plot_curves(run_dir)
    return {**final, "step": run.step, "run_dir": str(run_dir)}


@dataclass
class RunInProgress:
    """A run in progress: what ``_start`` built and what the steps carry from one to the next."""

    cfg: Config
    run_dir: Path
    world: World
    model: Model  # the plain model: checkpoints, grids, evaluation, finite checks
    view: Model | TrainingView  # what the step runs on (``World.wrap``): the model or its data-parallel view
    batches: Batches
    ckpts: Checkpoints
    log: RunLog | NoLog
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
    told_classifier: bool = False  # whether progress was told (or needed no telling) of the metric classifier
    start: float = field(default_factory=time.monotonic)

    def elapsed(self) -> float:
        """Seconds of training so far, those before a resume included."""
        return self.elapsed_before + time.monotonic() - self.start

    def mean_losses(self) -> dict[str, float]:
        """The mean of each loss since the last log (over ranks too): one host sync."""
        return self.world.mean({k: float(v) / self.count for k, v in self.sums.items()})

    def check_losses(self, values: dict[str, float]) -> None:
        """Stop (``TrainingDiverged``) on a NaN or infinite mean loss."""
        check_losses_finite(values, self.step, self.ckpts, self.count)

    def save_checkpoint(self) -> None:
        """Checkpoint this step (every rank's RNG and pending sums; rank 0 writes), weights checked finite."""
        check_weights_finite(self.model, self.step, self.ckpts)
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
           data: Dataset | None, lock: RunLock) -> RunInProgress:
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
        resume = bool(world.broadcast(world.on_main(is_started, run_dir)))
    state = None
    if resume:
        plan: dict = {}
        state = world.broadcast(world.on_main(open_for_resume, lock, ckpts, run_dir, cfg, plan))
        if state is None:
            world.on_main(restart_run_dir, run_dir, cfg)
    if state is not None:
        restore(model, batches, state, world)
        step, elapsed_before = int(state["step"]), float(state["elapsed"])
        check_not_finished(run_dir, cfg, step, elapsed_before, batches.epochs_done)
        pending = rank_state(state, world).get("log", {"sums": {}, "count": 0})
        world.on_main(commit_resume, run_dir, cfg, plan)
    else:
        if not resume:
            world.on_main(start_run_dir, run_dir, overwrite, cfg, lock)
        if world.active and not world.is_main:
            seed_everything(rank_seed(t.seed, world.rank))  # own noise, dropout and flips per rank
    view = world.wrap(model)
    model.train()
    runlog = RunLog(run_dir, t.tensorboard) if world.is_main else NoLog()
    sums = {k: v.to(device) for k, v in pending["sums"].items()}
    sync = None if model.ddp else (lambda: world.sync_buffers(model))  # what DDP's broadcast_buffers does
    return RunInProgress(cfg, run_dir, world, model, view, batches, ckpts, runlog, step, elapsed_before, sums,
                         int(pending["count"]), sync, drawn=batches.drawn, drawn_at_start=batches.drawn)


def _tell_evaluation(run: RunInProgress, progress: Callable[[Progress], None] | None, cache_dir,
                     final: bool) -> None:
    """Before an evaluation: tell ``progress`` it begins and, once per run, that the metric
    classifier is trained first (a silent pause of about half a minute otherwise)."""
    if progress is None:
        return
    t = run.cfg.train
    elapsed = run.elapsed()
    b = run.batches
    done = 1.0 if final else budget_done(t, run.step, elapsed, b.epoch + b.pos / len(b.perm))

    def tell(stage: str, note: str) -> None:
        progress(Progress(run.step, t.steps, {}, 0.0, elapsed, done=done, stage=stage, note=note))

    if not run.told_classifier:
        from gankit.metrics import classifier_pending

        run.told_classifier = True
        path = classifier_pending(run.model.data, cache_dir)
        if path is not None:
            name = run.model.data.name
            what = "digit" if name.startswith("mnist") else f"'{name}'"
            tell("note", f"training the {what} classifier for metrics, once; cached in {path}")
    tell("evaluate", f"{'final evaluation' if final else 'evaluating'} ({t.eval_samples:,d} samples)")


def check_not_finished(run_dir: Path, cfg: Config, step: int, elapsed: float, epochs: int) -> None:
    """A resume of a run that reached its budget and has its final evaluation would only
    evaluate again and append a second final row: one line instead, naming the key to raise.
    (A run stopped during its final evaluation resumes into that evaluation.)"""
    from gankit.training.logs import read_metrics

    t = cfg.train
    if step >= t.steps:
        key, reached = "train.steps", f"step {step:,d} of train.steps={t.steps}"
    elif t.seconds is not None and elapsed >= t.seconds:
        key, reached = "train.seconds", f"{elapsed:.0f} s of train.seconds={t.seconds:g} at step {step:,d}"
    elif t.epochs is not None and epochs >= t.epochs:
        key, reached = "train.epochs", f"epoch {epochs} of train.epochs={t.epochs:g} at step {step:,d}"
    else:
        return
    try:
        rows = read_metrics(run_dir / "metrics.jsonl")
    except (OSError, ValueError):
        return  # the resume's own log checks report a damaged file
    if rows and is_final_row(rows[-1], step):
        raise GankitError(f"run {run_dir} is finished ({reached}, final metrics written); to train it further, "
                          f"raise {key}: gankit train --resume {run_dir} {key}=...")


def _run(run: RunInProgress, progress: Callable[[Progress], None] | None, cache_dir) -> None:
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
            _tell_evaluation(run, progress, cache_dir, final=False)
            run.log.metrics(step, {"epoch": batches.epochs_done,
                                   **evaluate_model(run.model, t.eval_samples, cache_dir)})
        if step % t.ckpt_every == 0 and not last:
            run.check_losses(run.mean_losses())
            run.save_checkpoint()
        if last:
            break


def _log(run: RunInProgress, progress: Callable[[Progress], None] | None, t0: float) -> None:
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


def _finish(run: RunInProgress, progress: Callable[[Progress], None] | None, cache_dir) -> dict:
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
    _tell_evaluation(run, progress, cache_dir, final=True)
    final = evaluate_model(run.model, run.cfg.train.eval_samples, cache_dir)
    final[FINAL_KEY] = world.size * (batches.drawn - run.drawn_at_start) / max(run.total_time, 1e-9)
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

