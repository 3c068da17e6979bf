"""Checkpoints: everything needed to resume, written atomically, the last N kept.

Files are plain ``torch.save`` dicts of tensors and Python scalars/lists, so they
load with ``torch.load(weights_only=True)``. ``checkpoint_state`` gathers a run's state
(weights, optimizers, data order, every RNG stream), ``restore`` puts it back: a resumed
run goes on bit-exactly.
"""
from __future__ import annotations

import logging
import math
import random
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from gankit.errors import GankitError, first_line
from gankit.io import atomic_write, torch_bytes
from gankit.training.distributed import World

if TYPE_CHECKING:  # annotations only: opening a run's checkpoints needs no model code
    from gankit.config import Config
    from gankit.data import Batches
    from gankit.models.base import Model

log = logging.getLogger("gankit")

FORMAT_VERSION = 1  # bump when the layout changes; a checkpoint without the field is version 1


def rng_state() -> dict:
    """torch, CUDA, numpy and Python RNG states in weights_only-loadable form."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": {"keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "gauss": float(gauss)},
        "python": [list(x) if isinstance(x, tuple) else x for x in random.getstate()],
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state(("MT19937", n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"]))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def rank_seed(seed: int, rank: int) -> int:
    """Rank r's RNG seed in a data-parallel run (rank 0 keeps ``train.seed``)."""
    return seed + 1_000_003 * rank


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


class TrainingDiverged(GankitError):
    """A loss or a weight became NaN or infinite (the message names the last good checkpoint)."""


def check_losses_finite(values: dict[str, float], step: int, ckpts: Checkpoints, count: int = 1) -> None:
    """Stop on a NaN or infinite loss. ``values`` are means over the last ``count`` steps (losses are synced only when logged)."""
    for key, value in values.items():
        if not math.isfinite(value):
            last = ckpts.paths()[-1].name if ckpts.paths() else "none"
            window = f" (mean of steps {step - count + 1}-{step})" if count > 1 else ""
            raise TrainingDiverged(
                f"training diverged: loss '{key}' is {value} at step {step}{window}; "
                f"last good checkpoint: {last}"
            )


def check_weights_finite(model: Model, step: int, ckpts: Checkpoints) -> None:
    """Never write a checkpoint of non-finite weights over the last good one."""
    tensors = list(model.parameters()) + [b for b in model.buffers() if b.is_floating_point()]
    if tensors and not bool(torch.stack([torch.isfinite(p).all() for p in tensors]).all()):
        named = [*model.named_parameters(), *model.named_buffers()]  # with batch-norm running statistics
        name = next(n for n, p in named if p.is_floating_point() and not torch.isfinite(p).all())
        last = ckpts.paths()[-1].name if ckpts.paths() else "none"
        raise TrainingDiverged(
            f"training diverged: '{name}' is not finite at step {step}; last good checkpoint: {last}"
        )


def atomic_save(obj, path: Path) -> None:
    """torch.save, written atomically (:func:`gankit.io.atomic_write`): a crash never leaves
    half a file, a full disk is one line naming the file."""
    atomic_write(path, torch_bytes(obj), what="checkpoint")


class Checkpoints:
    """``DIR/step_NNNNNNNN.pt`` files; ``load_latest`` falls back past corrupt ones."""

    def __init__(self, directory: Path, keep: int = 3):
        self.dir = Path(directory)
        self.keep = keep

    def paths(self) -> list[Path]:
        if not self.dir.is_dir():
            return []
        return sorted(self.dir.glob("step_*.pt"))

    def save(self, state: dict, step: int) -> Path:
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.dir / f"step_{step:08d}.pt"
        atomic_save(state, path)
        for old in self.paths()[:-self.keep]:
            old.unlink(missing_ok=True)
        return path

    def load_latest(self, map_location="cpu") -> dict | None:
        """The newest readable checkpoint; a corrupt newer one is skipped with a warning.

        None when there is none; ``self.unreadable`` then names the corrupt files.
        """
        self.unreadable: list[str] = []
        for path in reversed(self.paths()):
            try:
                state = load_checkpoint(path, map_location)
            except GankitError as exc:
                self.unreadable.append(path.name)
                skipped = exc
                self.reason = str(exc)
                continue
            if self.unreadable:
                log.warning("warning: %s; using %s", skipped, path.name)
            state["_path"] = str(path)
            return state
        return None

    def missing(self) -> str:
        """Why ``load_latest`` found nothing, for an error message."""
        if getattr(self, "unreadable", None):
            return (f"every checkpoint under {self.dir} is corrupt or unusable ({', '.join(self.unreadable)}; "
                    f"the newest: {self.reason.split(' ', 2)[-1][:120]})")
        return f"no checkpoint under {self.dir}"


def load_checkpoint(path: Path, map_location="cpu") -> dict:
    """A checkpoint whose schema (version, field types) and weights (finite) are checked:
    anything else is a one-line ``GankitError`` naming the file."""
    try:
        with warnings.catch_warnings():  # torch warns (two lines) about some crafted files
            warnings.simplefilter("ignore")
            state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises many types for truncated/corrupt files
        raise GankitError(f"checkpoint {path} is corrupt or truncated ({type(exc).__name__})") from None
    if not isinstance(state, dict) or "model" not in state or "step" not in state:
        raise GankitError(f"checkpoint {path} is not a gankit checkpoint")
    check_schema(state, path)
    return state


_SCHEMA = {  # field: (types, required)
    "step": (int, True), "elapsed": ((int, float), False), "preset": ((str, type(None)), False),
    "family": ((str, type(None)), False), "net": (str, False), "model": (dict, True), "optim": (dict, False),
    "extra": (dict, False), "batches": (dict, False), "rng": (dict, False), "log": (dict, False),
    "world": (int, False), "ranks": (list, False),
}


def check_schema(state: dict, path: Path) -> None:
    version = state.get("format_version", 1)
    if isinstance(version, bool) or version != FORMAT_VERSION:
        raise GankitError(f"checkpoint {path} has format_version {str(version)[:20]}; this gankit reads "
                          f"version {FORMAT_VERSION}")
    for key, (types, required) in _SCHEMA.items():
        if key not in state:
            if required:
                raise GankitError(f"checkpoint {path} lacks the field '{key}'")
            continue
        value = state[key]
        if not isinstance(value, types) or isinstance(value, bool):
            raise GankitError(f"checkpoint {path}: field '{key}' has the wrong type ({type(value).__name__})")
    if state["step"] < 0 or not math.isfinite(float(state.get("elapsed", 0.0))):
        raise GankitError(f"checkpoint {path}: field 'step' or 'elapsed' is out of range")
    for name, value in state["model"].items():
        if not isinstance(name, str) or not isinstance(value, torch.Tensor):
            raise GankitError(f"checkpoint {path}: field 'model' must map names to tensors")
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            raise GankitError(f"checkpoint {path} holds non-finite values (NaN/inf) in '{name[:80]}'")


def check_matches(state: dict, cfg, path) -> None:
    """A checkpoint belongs to the run of ``cfg``: same preset, model family and net."""
    for field, want in (("preset", cfg.preset), ("family", cfg.model.family), ("net", cfg.net.name)):
        have = state.get(field)
        if have is not None and have != want:
            raise GankitError(f"checkpoint {path} is of {field} '{str(have)[:60]}', but its run's config has "
                              f"'{want}': it belongs to another run")
