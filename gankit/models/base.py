"""What every model family provides to the one training loop (``gankit.training.loop``), and
what the base class :class:`Model` wires for every family: the stabilisers (an EMA of G,
``model.ema``; DiffAugment of D's inputs, ``model.diffaug``) and each optimizer's learning-rate
schedule (``optim.*.lr_decay``, ``warmup``, ``schedule``, as torch LR schedulers)."""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.optim.lr_scheduler import ExponentialLR, LambdaLR, LRScheduler

from gankit.config import Config, OptimConfig
from gankit.data.base import Batches, Dataset
from gankit.errors import GankitError
from gankit.layers.augment import DiffAugment
from gankit.models.tricks import AugmentedCritic, ema_copy, ema_update, has_batchnorm, refresh_batchnorm


def _fusable(params) -> bool:
    return bool(params) and all(p.device.type in ("cpu", "cuda") and p.dtype in (torch.float32, torch.float64,
                                                                                 torch.float16, torch.bfloat16)
                                for p in params)


def make_optimizer(params, cfg: OptimConfig) -> torch.optim.Optimizer:
    """The optimizer of ``optim.g``/``optim.d`` at rate ``cfg.lr``; its schedule is
    :func:`make_scheduler`'s."""
    params = [p for p in params if p.requires_grad]
    if cfg.name == "adam":
        # fused: one kernel for the whole update instead of ~10 per tensor (the same maths);
        # ~3x faster optimizer steps on CPU (``gankit bench``)
        return torch.optim.Adam(params, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), eps=cfg.eps,
                                weight_decay=cfg.weight_decay, fused=cfg.fused and _fusable(params))
    if cfg.name == "rmsprop":
        return torch.optim.RMSprop(params, lr=cfg.lr, alpha=cfg.alpha, eps=cfg.eps, weight_decay=cfg.weight_decay)
    return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.beta1, weight_decay=cfg.weight_decay)


def lr_factor(cfg: OptimConfig, step: int, total: int) -> float:
    """The multiple of ``cfg.lr`` used by generator step ``step`` (0-based) of ``total``: linear
    warm-up over ``cfg.warmup`` steps ((step+1)/warmup), then ``cfg.schedule``: constant (1),
    linear or cosine decay from 1 towards 0 at step ``total`` (Loshchilov & Hutter 2017), held
    at 1 until step ``cfg.decay_start`` if that is later than the warm-up (warm-up, stable,
    decay: the decay covers the end of the run only)."""
    if step < cfg.warmup:
        return (step + 1) / cfg.warmup
    start = max(cfg.warmup, cfg.decay_start)
    if cfg.schedule == "constant" or step < start:
        return 1.0
    p = min(1.0, (step - start) / max(1, total - start))
    return 1.0 - p if cfg.schedule == "linear" else 0.5 * (1.0 + math.cos(math.pi * p))


def make_scheduler(opt: torch.optim.Optimizer, cfg: OptimConfig, total: int) -> LRScheduler | None:
    """The torch scheduler of ``opt``'s rate, stepped once per generator step: ``lr_decay``
    multiplies the rate after every step (ExponentialLR); ``warmup``/``schedule`` set step t's
    rate to ``cfg.lr * lr_factor(cfg, t, decay_steps or total)`` (LambdaLR); None = a constant rate.
    (The config allows one of the two.)"""
    if cfg.lr_decay != 1.0:
        return ExponentialLR(opt, gamma=cfg.lr_decay)
    if cfg.warmup or cfg.schedule != "constant":
        steps = cfg.decay_steps or total
        return LambdaLR(opt, lambda t: lr_factor(cfg, t, steps))
    return None


class Model(nn.Module):
    """A model family: its networks (submodules), optimizers, and one training step.

    A family implements :meth:`build`: its networks (the generator as ``G``; a family with a
    discriminator or critic names it ``D`` and sets ``objective``), its components, and its
    optimizers through :meth:`add_optimizer`. After ``build`` the base class wires what every
    family takes: the EMA copy ``G_ema`` (``model.ema``) that :attr:`sampler` returns, the
    DiffAugment that :attr:`critic` applies to D's inputs (``model.diffaug``), and each
    optimizer's LR scheduler, stepped by :meth:`on_step_end` and saved by :meth:`extra_state`.
    A config asking for a stabiliser the family cannot take (no ``D`` to augment, or a step that
    scores D without :attr:`critic`) is refused in one line naming the key.

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
    #: the objective (``gankit.losses``) a family with a ``D`` trains with; its ``pairwise``
    #: flag tells :attr:`critic` whether D's second input is data to augment too
    objective = None

    def __init__(self, cfg: Config, data: Dataset):
        super().__init__()
        self.cfg = cfg
        self.data = data
        # instance attributes: a class attribute would hide the submodule that nn.Module keeps in _modules
        self.G_ema: nn.Module | None = None  # the average of G's weights (model.ema) samples come from
        self.augment: DiffAugment | None = None  # DiffAugment of D's inputs (model.diffaug)
        self._optimizers: dict[str, torch.optim.Optimizer] = {}
        self.schedulers: dict[str, LRScheduler] = {}  # by optimizer name, those with a schedule
        self._critic_seen = False  # set by the critic property: the step scores D through it
        self.build()
        self._wire_stabilisers()

    def build(self) -> None:
        """The family's networks, components and optimizers (:meth:`add_optimizer`); called by
        ``Model.__init__`` before the stabilisers are wired. The base builds nothing."""

    def add_optimizer(self, name: str, params, cfg: OptimConfig) -> torch.optim.Optimizer:
        """A new optimizer of ``params`` saved in checkpoints as ``name``, with the LR scheduler
        of ``cfg`` (:func:`make_scheduler`)."""
        opt = make_optimizer(params, cfg)
        self._optimizers[name] = opt
        sched = make_scheduler(opt, cfg, self.cfg.train.steps)
        if sched is not None:
            self.schedulers[name] = sched
        return opt

    def _wire_stabilisers(self) -> None:
        """EMA of ``G`` (``model.ema``) and DiffAugment of ``D``'s inputs (``model.diffaug``,
        image data only), or one line refusing what the family has no network for."""
        if self.cfg is None:  # a bare Model (a test's stand-in) has no config to wire
            return
        m, family = self.cfg.model, self.cfg.model.family
        if m.ema:
            if not isinstance(getattr(self, "G", None), nn.Module):
                raise GankitError(f"config key 'model.ema' averages a generator G; the {family} family has none")
            self.G_ema = ema_copy(self.G)  # frozen: not one of networks()
        if m.diffaug_policy:
            if not isinstance(getattr(self, "D", None), nn.Module):
                raise GankitError(f"config key 'model.diffaug' augments a discriminator's inputs; "
                                  f"the {family} family has no D")
            self.require_images("model.diffaug")
            self.augment = DiffAugment(m.diffaug_policy, m.diffaug_shift, m.diffaug_cutout,
                                       float(self.data.value_range[0]))

    @property
    def critic(self):
        """D as a family's step must score with it: ``D`` itself, or D after DiffAugment of its
        inputs (``model.diffaug``; both of a pairwise critic's)."""
        self._critic_seen = True
        if self.augment is None:
            return self.D
        return AugmentedCritic(self.D, self.augment, self.objective is not None and self.objective.pairwise)

    def require_images(self, key: str) -> None:
        """One line naming config ``key`` unless the data are images [C, H, W] (an option that
        works on pixels: DiffAugment, the pixel-marginal term)."""
        if self.data.kind != "image" or len(self.data.shape) != 3:
            raise GankitError(f"config key '{key}' needs image data, got '{self.data.name}'")

    @property
    def sampler(self) -> nn.Module:
        """The generator that samples, grids and metrics use: the EMA copy when there is one."""
        return self.G if self.G_ema is None else self.G_ema

    # -- training -------------------------------------------------------
    def networks(self) -> dict[str, nn.Module]:
        """The trainable networks by attribute name (e.g. ``{'G': ..., 'D': ...}``)."""
        return {name: m for name, m in self.named_children() if any(p.requires_grad for p in m.parameters())}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """The optimizers made by :meth:`add_optimizer`, by checkpoint name."""
        return dict(self._optimizers)

    def train_step(self, batches: Batches, step: int) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def on_epoch_end(self, epoch: int) -> None:
        """Schedule hook (e.g. slope annealing); called after each pass over the data."""

    def on_step_end(self, step: int) -> None:
        """Called after every generator step, ``step`` = steps done (so the index of the next
        one): each LR scheduler steps, and the EMA of G (``model.ema``) takes in G."""
        if self.augment is not None and not self._critic_seen:
            raise GankitError(f"config key 'model.diffaug' is not wired by the {self.cfg.model.family} family "
                              f"(its step scores D without Model.critic)")
        for sched in self.schedulers.values():
            sched.step()
        if self.G_ema is not None:
            inputs = self.ema_inputs(self.cfg.data.batch_size) if has_batchnorm(self.G_ema) else None
            ema_update(self.G_ema, self.G, self.cfg.model.ema, step, copy_buffers=inputs is None)
            if inputs is not None:
                refresh_batchnorm(self.G_ema, inputs)

    def ema_inputs(self, n: int) -> tuple | None:
        """Inputs of one generator batch of ``n`` (for the EMA copy's batch-norm statistics,
        :func:`~gankit.models.tricks.refresh_batchnorm`); None = the EMA copies G's statistics."""
        return None

    # -- checkpoints ------------------------------------------------------
    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """``nn.Module.load_state_dict``; a checkpoint whose keys or shapes do not match fails
        with a one-line RuntimeError naming the first mismatch (the loop adds the file's path)."""
        if strict:
            mine, theirs = set(self.state_dict()), set(state_dict)
            for what, keys in (("lacks", sorted(mine - theirs)), ("has unexpected", sorted(theirs - mine))):
                if keys:
                    more = f" and {len(keys) - 1} more" if len(keys) > 1 else ""
                    raise RuntimeError(f"the checkpoint {what} key '{keys[0]}'{more} for this {self.cfg.model.family} model")
        try:
            return super().load_state_dict(state_dict, strict=strict, assign=assign)
        except RuntimeError as exc:  # torch's message: a header line, then one line per problem
            lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
            raise RuntimeError(lines[1] if len(lines) > 1 else lines[0]) from None

    def extra_state(self) -> dict:
        """Training state beyond parameters and buffers (saved in checkpoints): the LR
        schedulers' and the family's own (:meth:`family_state`)."""
        state = self.family_state()
        if self.schedulers:
            state["lr_schedulers"] = {name: s.state_dict() for name, s in self.schedulers.items()}
        return state

    def load_extra_state(self, state: dict) -> None:
        saved = state.get("lr_schedulers", {})
        for name, sched in self.schedulers.items():
            if name not in saved:
                raise GankitError(f"the checkpoint holds no state of the learning-rate scheduler of optimizer "
                                  f"'{name}', which this config's optim section schedules")
            sched.load_state_dict(saved[name])
        self.load_family_state(state)

    def family_state(self) -> dict:
        """The family's own schedule state (a replay buffer, a slope), merged into :meth:`extra_state`."""
        return {}

    def load_family_state(self, state: dict) -> None:
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
