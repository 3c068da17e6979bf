"""What every model family provides to the one training loop (``gankit.training.loop``)."""
from __future__ import annotations

import torch
from torch import nn

from gankit.config import Config, OptimConfig
from gankit.data.base import Batches, Dataset


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
    return opt


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
        """Schedule hook called after every generator step (e.g. learning-rate decay)."""
        for opt in self.optimizers().values():
            decay = getattr(opt, "lr_decay", 1.0)
            if decay != 1.0:
                for group in opt.param_groups:
                    group["lr"] *= decay

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
