"""Data-parallel training on PyTorch's own engine, started by ``torchrun``.

``torchrun --nproc_per_node=N -m gankit train PRESET`` starts N processes with
``RANK``/``WORLD_SIZE``/``LOCAL_RANK``/``MASTER_ADDR``/``MASTER_PORT`` set. Each
process builds the same model from the same seed, wraps every network of
``Model.networks()`` in DistributedDataParallel (gloo on CPU, nccl on GPU) and
draws its own shard of every global batch (``Batches(rank=, world=)``); DDP
all-reduces the gradients during ``backward`` and broadcasts rank 0's buffers
(batch-norm statistics) before each forward. A family whose gradients bypass
``backward`` (``Model.ddp = False``) gets them averaged just before each optimizer
step instead. ``World.wrap`` returns what the step runs on (a ``TrainingView``); the
loop keeps the plain model for everything else. Only rank 0 writes the run directory.

Everything here is a no-op in a single process (``World()``), so the loop calls
it unconditionally.

A rank that dies (``kill -9``, out of memory) or stops answering ends the others: a
collective on a closed connection fails at once, one on a silent peer after
``GANKIT_DIST_TIMEOUT`` seconds (default 900, longer than any rank-0-only evaluation of
a preset); ``lost_contact`` turns that failure into one :class:`GankitError` line, and the
run directory keeps its newest checkpoint for ``gankit train --resume``.
"""
from __future__ import annotations

import contextlib
import gc
import os
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from gankit.errors import GankitError


class PeerError(GankitError):
    """Another rank (rank 0) failed; it reports the reason, this rank just stops."""


class LostContact(GankitError):
    """Another rank died or fell silent. The group it leaves cannot be torn down cleanly: gloo's
    threads may abort the process at exit (``terminate called without an active exception``), so
    the CLI ends a process that raised this without running C++ destructors, once its line is out."""


DEFAULT_TIMEOUT_S = 900.0


def dist_timeout() -> timedelta:
    """How long a collective waits for a silent rank: ``GANKIT_DIST_TIMEOUT`` seconds (default 900)."""
    text = os.environ.get("GANKIT_DIST_TIMEOUT", "").strip()
    if not text:
        return timedelta(seconds=DEFAULT_TIMEOUT_S)
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not 1 <= seconds <= 7 * 86400:  # NaN fails too
        raise GankitError(f"GANKIT_DIST_TIMEOUT must be a number of seconds in 1..604800, got {text[:30]!r}")
    return timedelta(seconds=seconds)


_COMM_WORDS = re.compile(r"gloo|nccl|connection (reset|closed|refused)|broken pipe|timed out|timeout|"
                         r"socket|peer", re.IGNORECASE)


def is_comm_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is the process group failing (a rank died or fell silent), not a bug of the step."""
    if isinstance(exc, GankitError):
        return False
    dist_error = getattr(dist, "DistError", None)
    if dist_error is not None and isinstance(exc, dist_error):
        return True
    return isinstance(exc, (RuntimeError, ConnectionError)) and bool(_COMM_WORDS.search(str(exc)[:2000]))


def _reason(exc: BaseException) -> str:
    """gloo's message without its source location and its advice: ``Read error ...: Connection reset by peer``."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    text = re.sub(r"^\[[^\]]*\]\s*", "", text)
    return text.split(". This is typically")[0].rstrip(".")[:200]


def lost_contact(world: "World", run_dir: Path, exc: BaseException) -> LostContact:
    """The one error line of a rank whose job lost another rank (every surviving rank prints one)."""
    from gankit.training.checkpoint import Checkpoints  # imported on use: a failure path only

    ckpts = Checkpoints(Path(run_dir) / "checkpoints").paths()
    kept = (f"{run_dir} keeps its checkpoint of step {int(ckpts[-1].stem.split('_')[-1])}"
            if ckpts else f"{run_dir} has no checkpoint yet (a resume starts at step 0)")
    return LostContact(f"process {world.rank} of {world.size} lost contact with the other processes of this "
                       f"torchrun job ({_reason(exc)}); {kept}: continue with gankit train --resume {run_dir}")


class _DDP(DistributedDataParallel):
    """DDP that still answers the wrapped network's own attributes (e.g. ``G.logits``)."""

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self.module, name)


@dataclass
class World:
    """This process's place in the job: ``rank`` of ``size`` (``size == 1``: not distributed)."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0
    owns_group: bool = False  # this module started the process group (and ends it)

    @property
    def active(self) -> bool:
        return self.size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    # -- setup ----------------------------------------------------------------
    def device(self, device: torch.device) -> torch.device:
        """Each rank's own GPU (``LOCAL_RANK``); CPU stays CPU."""
        if self.active and device.type == "cuda":
            return torch.device("cuda", self.local_rank)
        return device

    def close(self, finished: bool = False) -> None:
        """End the process group this module started. ``finished``: every rank got here normally,
        so they first wait for each other (no rank tears its end down while another still talks,
        e.g. rank 0 drawing curves) and drop the DDP wrappers, whose gloo work must not outlive
        the interpreter: left to exit, gloo's threads can abort a process that succeeded."""
        if not (self.owns_group and dist.is_initialized()):
            return
        try:
            if finished:
                dist.barrier()
                gc.collect()
            dist.destroy_process_group()
        except Exception:  # a group that lost a rank may fail to tear down; the process ends anyway
            pass

    # -- agreement ------------------------------------------------------------
    def on_main(self, fn, *args, **kwargs):
        """Run ``fn`` on rank 0 only; a GankitError there stops every rank."""
        error, result = None, None
        if self.is_main:
            try:
                result = fn(*args, **kwargs)
            except GankitError as exc:
                error = str(exc)
        if self.active:
            box = [error]
            dist.broadcast_object_list(box, src=0)
            error = box[0]
        if error is not None:
            raise GankitError(error) if self.is_main else PeerError(error)
        return result

    def broadcast(self, obj):
        """Rank 0's ``obj`` on every rank."""
        if not self.active:
            return obj
        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def gather(self, obj) -> list | None:
        """Every rank's ``obj`` as a list on rank 0 (None elsewhere)."""
        if not self.active:
            return [obj]
        out = [None] * self.size if self.is_main else None
        dist.gather_object(obj, out, dst=0)
        return out

    def mean(self, values: dict[str, float]) -> dict[str, float]:
        """The average over ranks of each logged value (every rank gets the same numbers)."""
        if not self.active or not values:
            return values
        keys = sorted(values)
        t = torch.tensor([float(values[k]) for k in keys], dtype=torch.float64, device=self._comm_device())
        dist.all_reduce(t)
        return {k: float(v) / self.size for k, v in zip(keys, t.tolist())}

    def any(self, flag: bool) -> bool:
        """True on every rank if it is True on any rank (e.g. rank 0's clock says stop)."""
        if not self.active:
            return flag
        t = torch.tensor([1.0 if flag else 0.0], device=self._comm_device())
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item() > 0)

    def _comm_device(self) -> torch.device:
        return torch.device("cuda", self.local_rank) if dist.get_backend() == "nccl" else torch.device("cpu")

    # -- the model ------------------------------------------------------------
    def wrap(self, model: nn.Module) -> nn.Module | TrainingView:
        """What the step runs on (``train_step`` and the schedule hooks): ``model`` itself in a
        single process or for a family that averages its gradients (``ddp = False``), else a
        ``TrainingView`` whose calls see each network in DDP. ``model`` stays plain: checkpoints,
        grids, evaluation and rank-0-only sampling use it as it is."""
        if not self.active:
            return model
        nets = model.networks()
        if not nets:
            raise GankitError(f"model family '{model.cfg.model.family}' exposes no networks to train data-parallel")
        if not getattr(model, "ddp", True):
            for net in nets.values():
                self._broadcast_state(net)
            for opt in model.optimizers().values():
                opt.register_step_pre_hook(self._average_grads)
            return model
        ids = [self.local_rank] if next(model.parameters()).device.type == "cuda" else None
        # find_unused_parameters stays off: every family uses all of a network's parameters in
        # each backward that touches it; D's frozen G-step forward (requires_grad False)
        # registers no gradient hooks and needs no flag.
        return TrainingView(model, {name: _DDP(net, device_ids=ids, broadcast_buffers=True)
                                    for name, net in nets.items()})

    def sync_buffers(self, model: nn.Module) -> None:
        """Rank 0's buffers (batch-norm statistics) on every rank."""
        if self.active:
            for net in model.networks().values():
                bufs = [b for b in net.buffers()]
                if bufs:
                    _broadcast_flat(bufs)

    def _average_grads(self, opt, args, kwargs) -> None:
        grads = [p.grad for group in opt.param_groups for p in group["params"] if p.grad is not None]
        if not grads:
            return
        flat = torch._utils._flatten_dense_tensors(grads)
        dist.all_reduce(flat)
        flat /= self.size
        for g, v in zip(grads, torch._utils._unflatten_dense_tensors(flat, grads)):
            g.copy_(v)

    def _broadcast_state(self, net: nn.Module) -> None:
        tensors = [p.data for p in net.parameters()] + list(net.buffers())
        if tensors:
            _broadcast_flat(tensors)

    def check_in_sync(self, model: nn.Module, step: int) -> None:
        """All ranks must hold the same weights; a family whose gradients escape DDP would drift."""
        if not self.active:
            return
        sums = torch.stack([
            torch.stack([p.detach().double().sum() for p in net.parameters()]).sum()
            for net in model.networks().values()
        ]).to(self._comm_device())
        lo, hi = sums.clone(), sums.clone()
        dist.all_reduce(lo, op=dist.ReduceOp.MIN)
        dist.all_reduce(hi, op=dist.ReduceOp.MAX)
        if not torch.equal(lo, hi):
            raise GankitError(
                f"the ranks' weights differ at step {step}: family '{model.cfg.model.family}' computes gradients "
                "outside backward(); set its class attribute ddp = False"
            )


def _broadcast_flat(tensors: list[torch.Tensor]) -> None:
    """Broadcast from rank 0, one collective per dtype."""
    by_dtype: dict[torch.dtype, list[torch.Tensor]] = {}
    for t in tensors:
        by_dtype.setdefault(t.dtype, []).append(t)
    for group in by_dtype.values():
        flat = torch._utils._flatten_dense_tensors(group)
        dist.broadcast(flat, src=0)
        for t, v in zip(group, torch._utils._unflatten_dense_tensors(flat, group)):
            t.copy_(v)


class TrainingView:
    """A model as its data-parallel step sees it: during ``train_step`` and the schedule hooks
    each network is its DDP wrapper (whose forward broadcasts rank 0's buffers and whose
    backward all-reduces the gradients); between calls the model holds its plain networks
    again, so its state-dict keys, attributes and rank-0-only forwards are a single process's.
    All other state (optimizers, schedules, extra state) is the model's own, never a copy."""

    def __init__(self, model: nn.Module, wrappers: dict[str, nn.Module]):
        self.model = model
        self.wrappers = wrappers

    def train_step(self, batches, step: int) -> dict:
        with self._wrapped():
            return self.model.train_step(batches, step)

    def on_step_end(self, step: int) -> None:
        with self._wrapped():
            self.model.on_step_end(step)

    def on_epoch_end(self, epoch: int) -> None:
        with self._wrapped():
            self.model.on_epoch_end(epoch)

    @contextlib.contextmanager
    def _wrapped(self):
        plain = {name: getattr(self.model, name) for name in self.wrappers}
        for name, wrapper in self.wrappers.items():
            setattr(self.model, name, wrapper)
        try:
            yield
        finally:
            for name, net in plain.items():
                setattr(self.model, name, net)


def select_device(name: str) -> torch.device:
    """``train.device``: ``auto`` is CUDA where there is a device, else the CPU."""
    if name == "cuda" and not torch.cuda.is_available():
        raise GankitError("train.device=cuda but no CUDA device is available")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def env_world_size() -> int:
    """The number of processes ``torchrun`` started (1 without torchrun)."""
    try:
        return max(1, int(os.environ.get("WORLD_SIZE", "1")))
    except ValueError:
        raise GankitError(f"WORLD_SIZE must be an integer (set by torchrun), got {os.environ['WORLD_SIZE']!r}") from None


def world_from_env(device_type: str = "cpu") -> World:
    """The job ``torchrun`` started (``WORLD_SIZE`` > 1), or a single process."""
    size = env_world_size()
    try:
        rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", str(rank)))
    except ValueError:
        raise GankitError("WORLD_SIZE, RANK and LOCAL_RANK must be integers (set by torchrun)") from None
    if size <= 1:
        return World()
    if not 0 <= rank < size:
        raise GankitError(f"RANK={rank} is outside 0..{size - 1}")
    owns = False
    if not dist.is_initialized():
        if device_type == "cuda":
            torch.cuda.set_device(local)
        timeout = dist_timeout()
        try:
            dist.init_process_group("nccl" if device_type == "cuda" else "gloo", timeout=timeout)
        except Exception as exc:
            if not is_comm_failure(exc):
                raise
            raise GankitError(f"process {rank} of {size} cannot join the other processes of this torchrun job "
                              f"({_reason(exc)})") from None
        owns = True
    return World(rank, size, local, owns)
