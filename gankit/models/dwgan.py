"""The ``dwgan`` family: Discrete Wasserstein GAN (dwgan.txt 3.2, Algorithm 1, eq. 8) and,
on the same nets, the section-2 WGAN baseline for discrete data.

- ``objective: dwgan`` (net ``dwgan-mlp``): the critic is the pairwise h_w(y, y') of
  Figure 1; n_critic ascent steps on (1/n) sum h + lambda sqrt(sum h^2) (eq. 8, the
  norm penalty; lambda = ``penalty``), then one generator descent step on the same
  quantity (Algorithm 1, lines 3-10; the appendix code applies the penalty in both).
- ``objective: wgan-clip | wgan-gp`` (net ``wgan-mlp``): the standard WGAN critic f(x)
  reads the generator's softmax output directly (section 2), using the registered
  objectives of :mod:`gankit.losses`.

Both sample by rounding the softmax to its argmax per cell, and both report the paper's
protocol (metrics of 100 samples from one fixed noise batch) as ``fixed100_*`` metrics
next to the loop's fresh-sample metrics.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from gankit.config import Config, ModelConfig
from gankit.data.base import Batches, Dataset
from gankit.data.tictactoe import random_board_symmetry
from gankit.errors import GankitError
from gankit.models.base import Model, make_optimizer
from gankit.nets import build_nets
from gankit.nets.dwgan import CellView, PairCritic, filter_u
from gankit.registry import MODELS, OBJECTIVES


@dataclass
class DWGANConfig(ModelConfig):
    family: str = "dwgan"
    objective: str = "dwgan"  # dwgan (Algorithm 1) | wgan-clip | wgan-gp (section-2 baseline)
    n_critic: int = 5  # appendix: c_iter = 5
    penalty: float = 0.0  # lambda of the norm penalty, eq. 8 (appendix B.1: 0; B.2: 1e-2)
    clip: float = 0.01  # wgan-clip weight bound
    gp_weight: float = 10.0  # wgan-gp lambda
    fixed_noise: int = 100  # size of the fixed noise batch of the paper's metric protocol (0 = off)
    board_symmetry: bool = False  # each real board under a random symmetry + player relabelling (not in the paper)

    def validate(self) -> None:
        if self.objective != "dwgan" and self.objective not in ("wgan-clip", "wgan-gp"):
            raise GankitError(f"config key 'model.objective' must be dwgan, wgan-clip or wgan-gp, got '{self.objective}'")
        if self.n_critic < 1:
            raise GankitError(f"config key 'model.n_critic' must be >= 1, got {self.n_critic}")
        if self.penalty < 0:
            raise GankitError(f"config key 'model.penalty' must be >= 0, got {self.penalty}")
        if self.clip <= 0 or self.gp_weight < 0:
            raise GankitError("config keys 'model.clip' must be > 0 and 'model.gp_weight' >= 0")
        if self.fixed_noise < 0:
            raise GankitError(f"config key 'model.fixed_noise' must be >= 0, got {self.fixed_noise}")


def dual_objective(h: torch.Tensor, penalty: float) -> torch.Tensor:
    """(1/n) sum_i h_i + lambda sqrt(sum_i h_i^2) (eq. 8): the critic ascends it, the generator descends it."""
    return h.mean() + penalty * h.norm() if penalty else h.mean()


@MODELS.register("dwgan", options=DWGANConfig)
class DWGAN(Model):
    """Generator with scaled softmax per cell + pairwise critic (Algorithm 1), or the WGAN baseline."""

    def __init__(self, cfg: Config, data: Dataset):
        super().__init__(cfg, data)
        self.view = CellView(data)
        self.G, self.D = build_nets(cfg.net, data)
        self.pairwise = cfg.model.objective == "dwgan"
        if self.pairwise != isinstance(self.D, PairCritic):
            need = "dwgan-mlp (pairwise critic)" if self.pairwise else "a single-input critic such as wgan-mlp"
            raise GankitError(f"config key 'net.name' must be {need} for model.objective={cfg.model.objective}, "
                              f"got '{cfg.net.name}'")
        if not self.view.categorical:
            raise GankitError(f"the dwgan family needs categorical data (tictactoe or mnist-binary), got '{data.name}'")
        self.objective = None if self.pairwise else OBJECTIVES.get(cfg.model.objective)(cfg.model)
        self.opt_g = make_optimizer(self.G.parameters(), cfg.optim.g)
        self.opt_d = make_optimizer(self.D.parameters(), cfg.optim.d)
        if cfg.model.board_symmetry and data.kind != "board":
            raise GankitError(f"config key 'model.board_symmetry' needs board data, got '{data.name}'")
        gen = torch.Generator().manual_seed(cfg.train.seed)
        self.register_buffer("fixed_z", torch.randn(cfg.model.fixed_noise, cfg.net.z_dim, generator=gen))

    def optimizers(self):
        return {"g": self.opt_g, "d": self.opt_d}

    def noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.cfg.net.z_dim, device=self.device)

    # -- Algorithm 1 -----------------------------------------------------
    def d_step(self, real: torch.Tensor) -> dict:
        with torch.no_grad():
            fake = self.G(self.noise(real.shape[0]))
        if self.pairwise:
            objective = dual_objective(self.D(real, fake), self.cfg.model.penalty)
            loss, logs = -objective, {"h_d": objective.detach()}  # ascent on eq. 8
        else:
            loss, logs = self.objective.d_loss(self.D, real, fake)
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        if not self.pairwise:
            self.objective.after_d_step(self.D)
        u = filter_u(self.view.to_cells(real), self.view.to_cells(fake))
        return {"d_loss": loss.detach(), "hamming": u.sum(1).mean(), **logs}

    def g_step(self, real: torch.Tensor) -> dict:
        self.D.requires_grad_(False)  # no weight gradients for the critic during the G step
        try:
            fake = self.G(self.noise(real.shape[0]))
            if self.pairwise:
                loss = dual_objective(self.D(real, fake), self.cfg.model.penalty)
            else:
                loss, _ = self.objective.g_loss(self.D, fake)
            self.opt_g.zero_grad(set_to_none=True)
            loss.backward()
            self.opt_g.step()
        finally:
            self.D.requires_grad_(True)
        return {"g_loss": loss.detach()}

    def real_batch(self, batches: Batches) -> torch.Tensor:
        """The next real batch; with ``board_symmetry`` each board under its own random board
        symmetry and player relabelling. Validity is invariant under both, so this augments the
        10·m·P training boards (up to 8·P! variants each) without leaving the valid set."""
        real = batches.next()[0]
        if self.cfg.model.board_symmetry:
            real = random_board_symmetry(real, int(self.data.meta["board_size"]))
        return real

    def train_step(self, batches: Batches, step: int) -> dict:
        logs = {}
        for _ in range(self.cfg.model.n_critic):
            logs = self.d_step(self.real_batch(batches))
        logs.update(self.g_step(self.real_batch(batches)))
        return logs

    # -- sampling and metrics ---------------------------------------------
    @torch.no_grad()
    def generate(self, n, labels=None):
        """Discrete samples: the generator's softmax rounded to its argmax per cell."""
        return self.view.harden(self.G(self.noise(n)))

    @torch.no_grad()
    def generate_fixed(self) -> torch.Tensor:
        """Samples of the fixed noise batch (the paper's 100-sample protocol, appendix ``fixed_z``)."""
        return self.view.harden(self.G(self.fixed_z))

    def extra_metrics(self) -> dict:
        """Board metrics of the fixed noise batch, prefixed ``fixed100_`` (merged into each evaluation)."""
        if self.data.kind != "board" or len(self.fixed_z) == 0:
            return {}
        from gankit.metrics.boards import board_metrics  # imported on use: only board runs need it

        n = len(self.fixed_z)
        return {f"fixed{n}_{k}": v for k, v in board_metrics(self.data, self.generate_fixed().cpu()).items()}
