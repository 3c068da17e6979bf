"""The ``binarygan`` family (binarygan.txt): a GAN whose generator ends in binary neurons.

The objectives (GAN ``ns``, WGAN ``wgan-clip``, WGAN-GP ``wgan-gp``; sections 2.1 and 4.5),
the critic steps and the optimizers are the ``gan`` family's. This family adds

- slope annealing (section 4.2, "slope annealing trick"): after every epoch the slope of the
  sigmoid-adjusted straight-through estimators is multiplied by ``model.slope_rate``,
  starting from ``model.slope_start`` and optionally capped at ``model.slope_max``; the slope
  is written to checkpoints (``extra_state``) and restored on resume;
- the real-valued model (section 4.4, ``net.output=sigmoid``): trained on probabilities,
  binarized only at sampling time with ``model.post`` = ``threshold`` (0.5) or ``bernoulli``;
- preactivated outputs (section 2.2, Figures 3-4) and the fraction of exactly binary outputs.

``generate`` always returns exactly {0, 1} samples.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from gankit.errors import GankitError
from gankit.eval_mode import eval_mode
from gankit.layers.binary import BinaryNeuron
from gankit.models.gan import GAN, GANConfig
from gankit.registry import MODELS

POSTS = ("threshold", "bernoulli")


@dataclass
class BinaryGANConfig(GANConfig):
    default_objective = "wgan-gp"
    n_critic: int = 5
    slope_start: float = 1.0  # initial slope of sigma(slope * x)
    slope_rate: float = 1.1  # multiplied into the slope after each epoch (1 = no annealing)
    slope_max: float | None = None  # cap of the annealed slope (None = none)
    post: str = "threshold"  # real-valued model only: threshold (0.5) | bernoulli

    def validate(self) -> None:
        super().validate()
        if self.slope_start <= 0:
            raise GankitError(f"config key 'model.slope_start' must be > 0, got {self.slope_start}")
        if self.slope_rate < 1:
            raise GankitError(f"config key 'model.slope_rate' must be >= 1, got {self.slope_rate}")
        if self.slope_max is not None and self.slope_max < self.slope_start:
            raise GankitError(f"config key 'model.slope_max' must be >= model.slope_start, got {self.slope_max}")
        if self.post not in POSTS:
            raise GankitError(f"config key 'model.post' must be threshold or bernoulli, got '{self.post}'")
        if self.info_codes:
            raise GankitError("config key 'model.info_codes' (InfoGAN) is an option of the gan family, not of binarygan")


def binarize(p: torch.Tensor, post: str) -> torch.Tensor:
    """Post-process probabilities into {0, 1}: hard threshold at 0.5, or Bernoulli sampling."""
    if post == "threshold":
        return (p > 0.5).to(p.dtype)
    if post == "bernoulli":
        return (p > torch.rand_like(p)).to(p.dtype)
    raise GankitError(f"unknown post-processing '{post}' (choose threshold or bernoulli)")


@MODELS.register("binarygan", options=BinaryGANConfig)
class BinaryGAN(GAN):
    """GAN with DBN/SBN output neurons (or the real-valued baseline) on binarized MNIST."""

    def build(self) -> None:
        if tuple(self.data.value_range) != (0.0, 1.0):
            raise GankitError(f"the binarygan family needs a {{0,1}} dataset (e.g. mnist-binary), got '{self.data.name}'")
        super().build()
        if not hasattr(self.G, "preactivated"):
            raise GankitError(f"net '{self.cfg.net.name}' has no output neurons for binarygan (use binarygan-mlp or binarygan-cnn)")
        self.binary = any(isinstance(m, BinaryNeuron) for m in self.G.modules())
        self.post = self.cfg.model.post  # the real-valued model's binarization at sampling time
        self.slope = float(self.cfg.model.slope_start)
        self._apply_slope()  # on G; the EMA copy (model.ema), made from G after build, starts alike

    # -- slope annealing ------------------------------------------------
    def neurons(self) -> list[BinaryNeuron]:
        """The output neurons of G (and of its EMA copy, which anneals alike)."""
        nets = [self.G] + ([self.G_ema] if self.G_ema is not None else [])
        return [m for net in nets for m in net.modules() if isinstance(m, BinaryNeuron)]

    def _apply_slope(self) -> None:
        for neuron in self.neurons():
            neuron.set_slope(self.slope)

    def on_epoch_end(self, epoch: int) -> None:
        if not self.binary:
            return
        self.slope *= self.cfg.model.slope_rate
        if self.cfg.model.slope_max is not None:
            self.slope = min(self.slope, self.cfg.model.slope_max)
        self._apply_slope()

    def family_state(self) -> dict:
        return {**super().family_state(), "slope": self.slope}

    def load_family_state(self, state: dict) -> None:
        super().load_family_state(state)
        if "slope" in state:
            self.slope = float(state["slope"])
            self._apply_slope()

    # -- sampling -------------------------------------------------------
    def raw(self, z: torch.Tensor, y=None) -> tuple[torch.Tensor, torch.Tensor]:
        """(generator output, preactivated output) for the same noise (and labels of the label
        source: clusters with ``model.clusters``) of the sampling G."""
        G = self.sampler
        logits = G.logits(z, y)
        return G.out(logits), G.out.preactivate(logits)

    @torch.no_grad()
    def generate(self, n, labels=None, post: str | None = None):
        """``n`` samples in {0, 1}; the real-valued model binarizes with ``post`` (default ``self.post``)."""
        out = super().generate(n, labels)
        if self.binary:
            return out
        return binarize(out, post or self.post)

    @torch.no_grad()
    def generate_with_preactivations(self, n: int, post: str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(binary samples, preactivated outputs sigma(slope*x)) from the same noise (Figure 3)."""
        out, pre = self.raw(*self.inputs(n))
        if not self.binary:
            out = binarize(out, post or self.post)
        return out, pre

    @torch.no_grad()
    def extra_metrics(self, n: int = 500) -> dict:
        """Slope, fraction of exactly-binary raw outputs and of near-0/1 preactivations."""
        with eval_mode(self), torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
            torch.manual_seed(0)
            out, pre = self.raw(*self.inputs(n))
        binary = ((out == 0) | (out == 1)).float().mean()
        extreme = ((pre < 0.05) | (pre > 0.95)).float().mean()
        return {"slope": self.slope if self.binary else 1.0, "binary_fraction": float(binary),
                "preact_extreme": float(extreme)}
