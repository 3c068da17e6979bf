"""What every model family provides to the one training loop (``gankit.training.loop``)."""
from __future__ import annotations

import math

import torch
from torch import nn

from gankit.config import Config, OptimConfig
from gankit.data.base import Batches, Dataset
from gankit.layers.augment import DiffAugment
from gankit.models.tricks import AugmentedCritic, ema_copy, ema_update, has_batchnorm, refresh_batchnorm


def _fusable(params) -> bool:
    return bool(params) and all(p.device.type in ("cpu", "cuda") and p.dtype in (torch.float32, torch.float64,
                                                                                 torch.float16, torch.bfloat16)
                                for p in params)


def make_optimizer(params, cfg: OptimConfig) -> torch.optim.Optimizer:
    """The optimizer of ``optim.g``/``optim.d``; ``lr_decay`` is applied by ``Model.on_step_end``."""
    params = [p for p in params if p.requires_grad]
    if cfg.name == "adam":
        # fused: one kernel for the whole update instead of ~10 per tensor (the same maths);
        # ~3x faster optimizer steps on CPU (``gankit bench``)
        opt = torch.optim.Adam(params, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), eps=cfg.eps,
                               weight_decay=cfg.weight_decay, fused=cfg.fused and _fusable(params))
    elif cfg.name == "rmsprop":
        opt = torch.optim.RMSprop(params, lr=cfg.lr, alpha=cfg.alpha, eps=cfg.eps,
                                  weight_decay=cfg.weight_decay)
    else:
        opt = torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.beta1, weight_decay=cfg.weight_decay)
    opt.lr_decay = cfg.lr_decay
    opt.schedule = cfg  # read by Model.on_step_end: the rate of each step is lr * lr_factor(...)
    if cfg.warmup:
        for group in opt.param_groups:
            group["lr"] = cfg.lr * lr_factor(cfg, 0, 1)
    return opt


def lr_factor(cfg: OptimConfig, step: int, total: int) -> float:
    """The multiple of ``cfg.lr`` used by generator step ``step`` (0-based) of ``total``: linear
    warm-up over ``cfg.warmup`` steps ((step+1)/warmup), then ``cfg.schedule``: constant (1),
    linear or cosine decay from 1 towards 0 at step ``total`` (Loshchilov & Hutter 2017)."""
    if step < cfg.warmup:
        return (step + 1) / cfg.warmup
    if cfg.schedule == "constant":
        return 1.0
    p = min(1.0, (step - cfg.warmup) / max(1, total - cfg.warmup))
    return 1.0 - p if cfg.schedule == "linear" else 0.5 * (1.0 + math.cos(math.pi * p))


def rename_state_keys(state: dict, renamed: dict[str, str]) -> dict:
    """``state`` with the keys ``OLD.rest`` (and ``OLD`` itself) of each ``OLD -> NEW`` in
    ``renamed`` as ``NEW.rest``; ``state`` itself when nothing is renamed. The copy keeps the
    per-module ``_metadata`` (layer versions), renamed alike."""
    if not renamed or not any(k.split(".", 1)[0] in renamed for k in state):
        return state

    def new(key: str) -> str:
        head, dot, rest = key.partition(".")
        return renamed[head] + dot + rest if head in renamed else key

    out = type(state)((new(k), v) for k, v in state.items())
    meta = getattr(state, "_metadata", None)
    if meta is not None:
        out._metadata = type(meta)((new(k), v) for k, v in meta.items())
    return out


class Model(nn.Module):
    """A model family: its networks (submodules), optimizers, and one training step.

    The loop calls ``train_step`` once per generator step; the family draws as
    many batches as it needs from ``batches`` (e.g. n_critic of them). Everything
    returned by ``train_step`` is logged (scalar tensors; the loop syncs them
    only every ``train.log_every`` steps).
    """

    conditional: bool = False
    #: data-parallel training wraps ``networks()`` in DistributedDataParallel. A family
    #: that computes parameter gradients with ``torch.autograd.grad`` (which DDP's hooks
    #: never see) sets this False: its gradients are then averaged before each optimizer step.
    ddp: bool = True
    #: networks a family renamed, old attribute name -> new: the state-dict keys of
    #: checkpoints written under the old name load (:meth:`load_state_dict` maps them)
    renamed_state: dict[str, str] = {}

    def __init__(self, cfg: Config, data: Dataset):
        super().__init__()
        self.cfg = cfg
        self.data = data
        # set by setup_stabilisers (instance attributes: a class attribute would hide the
        # submodule that nn.Module keeps in _modules)
        self.G_ema: nn.Module | None = None  # the average of G's weights (model.ema) samples come from
        self.augment: DiffAugment | None = None  # DiffAugment of D's inputs (model.diffaug)
        self._pairwise = False

    def setup_stabilisers(self, G: nn.Module, pairwise: bool = False) -> None:
        """The stabilisers every family takes, once its generator ``G`` exists: EMA of ``G``
        (``model.ema``) and DiffAugment (``model.diffaug``, image data only)."""
        from gankit.errors import GankitError

        m = self.cfg.model
        if m.ema:
            self.G_ema = ema_copy(G)  # frozen: not one of networks()
        if m.diffaug_policy:
            if self.data.kind != "image" or len(self.data.shape) != 3:
                raise GankitError(f"config key 'model.diffaug' needs image data, got '{self.data.name}'")
            self.augment = DiffAugment(m.diffaug_policy, m.diffaug_shift, m.diffaug_cutout,
                                       float(self.data.value_range[0]))
        self._pairwise = pairwise

    def critic_view(self, D: nn.Module):
        """What the objective calls as D: ``D`` itself, or D after DiffAugment of its inputs."""
        return D if self.augment is None else AugmentedCritic(D, self.augment, self._pairwise)

    @property
    def sampler(self) -> nn.Module:
        """The generator that samples, grids and metrics use: the EMA copy when there is one."""
        return self.G if self.G_ema is None else self.G_ema

    # -- training -------------------------------------------------------
    def networks(self) -> dict[str, nn.Module]:
        """The trainable networks by attribute name (e.g. ``{'G': ..., 'D': ...}``)."""
        return {name: m for name, m in self.named_children() if any(p.requires_grad for p in m.parameters())}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        raise NotImplementedError

    def train_step(self, batches: Batches, step: int) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def on_epoch_end(self, epoch: int) -> None:
        """Schedule hook (e.g. slope annealing); called after each pass over the data."""

    def on_step_end(self, step: int) -> None:
        """Schedule hook called after every generator step, ``step`` = steps done (so the index of
        the next one): learning-rate decay or schedule
        (``optim.*.lr_decay``, ``warmup``, ``schedule``) and the EMA of G (``model.ema``)."""
        for opt in self.optimizers().values():
            decay = getattr(opt, "lr_decay", 1.0)
            if decay != 1.0:
                for group in opt.param_groups:
                    group["lr"] *= decay
            sched = getattr(opt, "schedule", None)
            if sched is not None and (sched.warmup or sched.schedule != "constant"):
                for group in opt.param_groups:
                    group["lr"] = sched.lr * lr_factor(sched, step, sched.decay_steps or self.cfg.train.steps)
        if self.G_ema is not None:
            inputs = self.ema_inputs(self.cfg.data.batch_size) if has_batchnorm(self.G_ema) else None
            ema_update(self.G_ema, self.G, self.cfg.model.ema, step, copy_buffers=inputs is None)
            if inputs is not None:
                refresh_batchnorm(self.G_ema, inputs)

    def ema_inputs(self, n: int) -> tuple | None:
        """Inputs of one generator batch of ``n`` (for the EMA copy's batch-norm statistics,
        :func:`~gankit.models.tricks.refresh_batchnorm`); None = the EMA copies G's statistics."""
        return None

    def load_state_dict(self, state_dict, *args, **kwargs):
        """``nn.Module.load_state_dict``, after mapping keys under a renamed network to its new name."""
        return super().load_state_dict(rename_state_keys(state_dict, self.renamed_state), *args, **kwargs)

    def extra_state(self) -> dict:
        """Schedule state beyond parameters and buffers (saved in checkpoints)."""
        return {}

    def load_extra_state(self, state: dict) -> None:
        pass

    def extra_metrics(self) -> dict:
        """Family-specific metrics merged into every evaluation (e.g. binary fraction, fixed-noise boards)."""
        return {}

    # -- sampling -------------------------------------------------------
    @torch.no_grad()
    def generate(self, n: int, labels: torch.Tensor | None = None) -> torch.Tensor:
        """``n`` samples in the dataset's space, drawn from the global torch RNG (seed it first)."""
        raise NotImplementedError

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device
