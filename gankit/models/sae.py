"""The ``sae`` family: the symbolic autoencoder (symbolic-autoencoder.txt section 3).

Two encoders E0, E1 (the bi-net ``encoders``, net ``sae-dcgan``; the paper's D_1,
D_2) map an image to symbols on the unit sphere; a generator G maps a symbol back
to an image. One training step is the algorithm of section 3.6, steps 1-16, with
the crossed pathways:

    s_k = E_k(I)             Ĩ_k = G(s_k)            s̃_k = E_k(Ĩ_{1-k})
    A^k = h(s_k s_kᵀ, k)     B = h(s_0 s_1ᵀ, 1)
    C^k = h(s_k s̃_kᵀ, 0)     C̃^k = h(s_k s̃_kᵀ, 1)

with h the half-angle cross entropy (3.5, ``gankit.losses.half_angle_bce``);
l_self^k, l_kernel, l̃_kernel^k are means over all n² pairs, l_shell and
l̃_shell^k means over the diagonal, and

    l_B = l_shell + l_kernel + Σ_k (l_self^k + l̃_kernel^k)   (encoders, optim.d)
    l_G = Σ_k l̃_shell^k                                      (generator, optim.g)

Both gradients come from the same forward pass and both updates happen in the
same step (15-16). Unit 1 (self loss target 1: its symbols attract) is the
*generalizing* unit, unit 0 (target 0: they repel) the *diversifying* one
(3.3). Semantic blurring (3.4): the symbol s_0 that seeds the generalizing
unit's fake image Ĩ_0 (judged by E_1) gets Gaussian noise of std
``model.blur`` and is renormalised onto the sphere.

Note: the diagonal of A^0 is a symbol with itself (x = 1): h clamps it to the
constant -log(eps/2), which shifts the logged l_self0 but carries no gradient.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from gankit.config import Config, ModelConfig
from gankit.layers.augment import random_shift
from gankit.data.base import Batches, Dataset
from gankit.errors import GankitError
from gankit.losses import half_angle_bce
from gankit.eval_mode import eval_mode
from gankit.models.base import Model
from gankit.nets import build_nets
from gankit.registry import MODELS

GENERALIZING, DIVERSIFYING = 1, 0


@dataclass
class SAEConfig(ModelConfig):
    family: str = "sae"
    blur: float = 0.1  # semantic blurring: std of the noise on the generalizing unit's seed (3.4)
    eps: float = 1e-4  # h clamps cosines to [-1+eps, 1-eps]
    sample_unit: int = 0  # generate(): G applied to this unit's symbols of random training images
    grad_through_g: bool = True  # l_B's gradient also reaches the seeding encoder through G (literal 3.6)
    augment: int = 0  # >0: each encoder sees its own random shift of the batch, up to this many pixels (not in the paper)

    def validate(self) -> None:
        super().validate()
        if self.diffaug_policy:
            raise GankitError("config key 'model.diffaug' is for families with a discriminator; the sae family's "
                              "encoders take model.augment (shifted views)")
        if self.blur < 0:
            raise GankitError(f"config key 'model.blur' must be >= 0, got {self.blur}")
        if not 0 < self.eps < 0.5:
            raise GankitError(f"config key 'model.eps' must lie in (0, 0.5), got {self.eps}")
        if self.sample_unit not in (0, 1):
            raise GankitError(f"config key 'model.sample_unit' must be 0 or 1, got {self.sample_unit}")
        if self.augment < 0:
            raise GankitError(f"config key 'model.augment' must be >= 0 (pixels of shift), got {self.augment}")


def sae_losses(s: tuple[torch.Tensor, torch.Tensor], s_fake: tuple[torch.Tensor, torch.Tensor],
               eps: float = 1e-4) -> dict[str, torch.Tensor]:
    """Steps 4-14 of section 3.6 from real symbols s=(s_0, s_1) and fake symbols s_fake=(s̃_0, s̃_1)."""
    out: dict[str, torch.Tensor] = {}
    B = half_angle_bce(s[0] @ s[1].T, 1.0, eps)
    out["l_kernel"] = B.mean()
    out["l_shell"] = B.diagonal().mean()
    l_B = out["l_shell"] + out["l_kernel"]
    l_G = 0.0
    for k in (0, 1):
        A = half_angle_bce(s[k] @ s[k].T, float(k), eps)
        cos_fake = s[k] @ s_fake[k].T
        C = half_angle_bce(cos_fake, 0.0, eps)
        C_t = half_angle_bce(cos_fake.diagonal(), 1.0, eps)  # only tr(C̃^k) is used
        out[f"l_self{k}"] = A.mean()
        out[f"l_kernel_fake{k}"] = C.mean()
        out[f"l_shell_fake{k}"] = C_t.mean()
        l_B = l_B + out[f"l_self{k}"] + out[f"l_kernel_fake{k}"]
        l_G = l_G + out[f"l_shell_fake{k}"]
    out["l_B"] = l_B
    out["l_G"] = l_G
    return out


def blur_symbols(s: torch.Tensor, sigma: float) -> torch.Tensor:
    """Semantic blurring (3.4): s + N(0, sigma²) renormalised onto the sphere."""
    if sigma <= 0:
        return s
    return F.normalize(s + sigma * torch.randn_like(s), dim=1)


@contextlib.contextmanager
def frozen_bn_stats(module: nn.Module):
    """Batch norm keeps normalising with batch statistics but stops updating its running ones.

    The encoders see real and fake batches separately (as in DCGAN); only the real
    passes update the running statistics, so that eval-mode symbols of real images
    (``encode``) match the symbols the losses were computed on.
    """
    bns = [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [m.momentum for m in bns]
    for m in bns:
        m.momentum = 0.0
    try:
        yield
    finally:
        for m, mom in zip(bns, saved):
            m.momentum = mom


@MODELS.register("sae", options=SAEConfig)
class SymbolicAutoencoder(Model):
    """Bi-net ``encoders`` (E0, E1) + symbol-to-image generator ``G`` trained by section 3.6.
    The encoders' optimizer keeps the checkpoint name ``d``, that of its config section ``optim.d``."""

    ddp = False  # gradients come from torch.autograd.grad (steps 15-16), which DDP cannot see

    def build(self) -> None:
        cfg = self.cfg
        self.G, self.encoders = build_nets(cfg.net, self.data)
        if not hasattr(self.encoders, "units"):
            raise GankitError(f"model family 'sae' needs net 'sae-dcgan' (two encoders), got '{cfg.net.name}'")
        self.opt_g = self.add_optimizer("g", self.G.parameters(), cfg.optim.g)
        self.opt_enc = self.add_optimizer("d", self.encoders.parameters(), cfg.optim.d)

    def forward_losses(self, real: torch.Tensor) -> dict[str, torch.Tensor]:
        """Steps 1-14 on one batch of real images."""
        shift, bg = self.cfg.model.augment, self.data.value_range[0]
        E = self.encoders
        s = (E(random_shift(real, shift, bg), 0), E(random_shift(real, shift, bg), 1))  # step 1
        seeds = torch.cat([blur_symbols(s[0], self.cfg.model.blur), s[1]])
        if not self.cfg.model.grad_through_g:
            seeds = seeds.detach()
        fake = self.G(seeds).chunk(2)  # step 2: Ĩ_0, Ĩ_1 (one batch through G)
        with frozen_bn_stats(E):
            s_fake = (E(fake[1], 0), E(fake[0], 1))  # step 3: crossed pathways
        return sae_losses(s, s_fake, self.cfg.model.eps)

    def train_step(self, batches: Batches, step: int) -> dict:
        real, _ = batches.next()
        losses = self.forward_losses(real)
        enc_params = [p for p in self.encoders.parameters() if p.requires_grad]
        g_params = [p for p in self.G.parameters() if p.requires_grad]
        # steps 15-16: each player's gradient of its own loss, from the same forward pass
        enc_grads = torch.autograd.grad(losses["l_B"], enc_params, retain_graph=True, allow_unused=True)
        g_grads = torch.autograd.grad(losses["l_G"], g_params, allow_unused=True)
        for params, grads in ((enc_params, enc_grads), (g_params, g_grads)):
            for p, g in zip(params, grads):
                p.grad = g
        self.opt_enc.step()
        self.opt_g.step()
        return {k: v.detach() for k, v in losses.items()}

    def ema_inputs(self, n: int) -> tuple:
        """Symbols of ``n`` random training images: what G decodes when it samples."""
        idx = torch.randint(0, len(self.data), (n,))
        return (self.encode(self.data.x[idx], self.cfg.model.sample_unit),)

    # -- using the encoder ------------------------------------------------
    @torch.no_grad()
    def encode(self, x: torch.Tensor, unit: int = GENERALIZING, batch_size: int = 500) -> torch.Tensor:
        """Unit ``unit``'s symbols [N, m] of images ``x`` (eval mode, in chunks)."""
        with eval_mode(self):
            out = [self.encoders(x[i:i + batch_size].to(self.device), unit) for i in range(0, len(x), batch_size)]
        return torch.cat(out)

    @torch.no_grad()
    def decode(self, s: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
        with eval_mode(self):
            out = [self.sampler(s[i:i + batch_size].to(self.device)) for i in range(0, len(s), batch_size)]
        return torch.cat(out)

    def reconstruction_agreement(self, unit: int, x: torch.Tensor | None = None,
                                 y: torch.Tensor | None = None) -> float:
        """Share of reconstructions G(E_unit(x)) that the gankit digit classifier puts in
        their input's class y (default: the whole training set)."""
        from gankit.metrics import default_cache_dir
        from gankit.metrics.classifier import get_classifier

        x = self.data.x if x is None else x
        y = self.data.y if y is None else y
        clf = get_classifier(self.data, default_cache_dir())
        probs, _ = clf.run(self.data.to_unit(self.decode(self.encode(x, unit)).cpu()))
        return float((probs.argmax(1) == y.cpu().numpy()).mean())

    def extra_metrics(self) -> dict:
        """Per evaluation: the few-label probe of both units' symbols (10 labels per class,
        logistic regression, scored on all other training images) and both units'
        reconstruction class agreement."""
        from gankit.metrics.probe import probe_accuracy

        if self.data.y is None or self.data.kind != "image":
            return {}
        out = {}
        for unit in (0, 1):
            out[f"probe10_unit{unit}"] = probe_accuracy(self.encode(self.data.x, unit), self.data.y, 10, seed=0)
            out[f"recon_agreement_unit{unit}"] = self.reconstruction_agreement(unit)
        return out

    @torch.no_grad()
    def generate(self, n, labels=None):
        """G(E_u(x)) for n random training images x (u = ``model.sample_unit``).

        G is only trained on symbols the encoders produce, which cover a small
        part of the sphere (the generalizing unit's ring is tight), so uniform
        points on S^(m-1) mostly decode to noise; reconstructions of random
        data are the paper's own samples (section 6.2, "seeded from a constant
        batch of samples").
        """
        idx = torch.randint(0, len(self.data), (n,))
        return self.decode(self.encode(self.data.x[idx], self.cfg.model.sample_unit))
