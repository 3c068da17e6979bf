"""The ``discrete`` family: GANs on categorical data (dwgan.txt). The generator ends in a
scaled softmax per cell; samples are its argmax per cell. Trained by Algorithm 1's schedule:
n_critic critic steps, then one generator step, with a registered critic objective:

- ``objective.name: dwgan`` (net ``dwgan-mlp``): the Discrete WGAN, a pairwise critic
  h_w(y, y') (Figure 1) on eq. 8 with its norm penalty (``objective.penalty``), 3.2;
- ``objective.name: wgan-clip | wgan-gp`` (net ``wgan-mlp``): the section-2 WGAN baseline,
  whose critic f(x) reads the generator's softmax output directly.

On board data both report the paper's protocol (metrics of 100 samples from one fixed noise
batch, ``model.fixed_noise``) as ``fixed100_*`` metrics next to the loop's fresh-sample
metrics. (Family name before 2026-12-03: ``dwgan``, still accepted.)
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from gankit.config import Config, ModelConfig
from gankit.data.base import Batches
from gankit.data.tictactoe import random_board_symmetry
from gankit.errors import GankitError
from gankit.models.base import Model
from gankit.nets import build_nets
from gankit.nets.dwgan import CellView, PairCritic, filter_u
from gankit.registry import MODELS, OBJECTIVES


@dataclass
class DiscreteConfig(ModelConfig):
    default_objective = "dwgan"

    family: str = "discrete"
    n_critic: int = 5  # appendix: c_iter = 5
    fixed_noise: int = 100  # size of the fixed noise batch of the paper's metric protocol (0 = off)
    board_symmetry: bool = False  # each real board under a random symmetry + player relabelling (not in the paper)

    def validate(self) -> None:
        super().validate()
        if self.n_critic < 1:
            raise GankitError(f"config key 'model.n_critic' must be >= 1, got {self.n_critic}")
        if self.fixed_noise < 0:
            raise GankitError(f"config key 'model.fixed_noise' must be >= 0, got {self.fixed_noise}")

    def validate_with(self, cfg: Config) -> None:
        if not OBJECTIVES.get(cfg.objective.name).critic:
            critics = [name for name in OBJECTIVES.names() if OBJECTIVES.get(name).critic]
            raise GankitError(f"config key 'objective.name' must be a critic objective for the discrete family "
                              f"({', '.join(critics)}), got '{cfg.objective.name}'")


@MODELS.register("discrete", options=DiscreteConfig)
class DiscreteGAN(Model):
    """Generator with a scaled softmax per cell and a critic (pairwise or not), Algorithm 1."""

    def build(self) -> None:
        cfg, data = self.cfg, self.data
        self.view = CellView(data)
        self.G, self.D = build_nets(cfg.net, data)
        self.objective = OBJECTIVES.get(cfg.objective.name)(cfg.objective)
        if self.objective.pairwise != isinstance(self.D, PairCritic):
            need = "dwgan-mlp (pairwise critic)" if self.objective.pairwise else "a single-input critic such as wgan-mlp"
            raise GankitError(f"config key 'net.name' must be {need} for objective.name={cfg.objective.name}, "
                              f"got '{cfg.net.name}'")
        if not self.view.categorical:
            raise GankitError(f"the discrete family needs categorical data (tictactoe or mnist-binary), got '{data.name}'")
        self.opt_g = self.add_optimizer("g", self.G.parameters(), cfg.optim.g)
        self.opt_d = self.add_optimizer("d", self.D.parameters(), cfg.optim.d)
        if cfg.model.board_symmetry and data.kind != "board":
            raise GankitError(f"config key 'model.board_symmetry' needs board data, got '{data.name}'")
        gen = torch.Generator().manual_seed(cfg.train.seed)
        self.register_buffer("fixed_z", torch.randn(cfg.model.fixed_noise, cfg.net.z_dim, generator=gen))

    def noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.cfg.net.z_dim, device=self.device)

    def ema_inputs(self, n: int) -> tuple:
        return (self.noise(n),)

    # -- Algorithm 1 -----------------------------------------------------
    def d_step(self, real: torch.Tensor) -> dict:
        with torch.no_grad():
            fake = self.G(self.noise(real.shape[0]))
        loss, logs = self.objective.d_loss(self.critic, real, fake)
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        self.objective.after_d_step(self.D)
        u = filter_u(self.view.to_cells(real), self.view.to_cells(fake))
        return {"d_loss": loss.detach(), "hamming": u.sum(1).mean(), **logs}

    def g_step(self, real: torch.Tensor) -> dict:
        """One generator step; ``real`` (drawn for every objective) reaches the pairwise critic."""
        self.D.requires_grad_(False)  # no weight gradients for the critic during the G step
        try:
            fake = self.G(self.noise(real.shape[0]))
            loss, _ = self.objective.g_loss(self.critic, fake, real=real)
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
        return self.view.harden(self.sampler(self.noise(n)))

    @torch.no_grad()
    def generate_fixed(self) -> torch.Tensor:
        """Samples of the fixed noise batch (the paper's 100-sample protocol, appendix ``fixed_z``)."""
        return self.view.harden(self.sampler(self.fixed_z))

    def extra_metrics(self) -> dict:
        """Board metrics of the fixed noise batch, prefixed ``fixed100_`` (merged into each evaluation)."""
        if self.data.kind != "board" or len(self.fixed_z) == 0:
            return {}
        from gankit.metrics.boards import board_metrics  # imported on use: only board runs need it

        n = len(self.fixed_z)
        return {f"fixed{n}_{k}": v for k, v in board_metrics(self.data, self.generate_fixed().cpu()).items()}
