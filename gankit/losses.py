"""GAN objectives (digit-gans.txt 2.1-2.2, practical-gan-guide.txt 2.3 and 5, dwgan.txt 3.2).

Pure loss functions on logits (and the symbolic autoencoder's half-angle cross entropy on
cosines), plus registered ``Objective`` classes, each with its own
options dataclass (the ``objective`` config section, picked by ``objective.name``), that the
model families call: ``d_loss`` / ``g_loss`` take the discriminator so that an objective can
add terms needing it (gradient penalty) and ``after_d_step`` can constrain it (weight
clipping).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from gankit.config import ObjectiveConfig
from gankit.errors import GankitError
from gankit.registry import OBJECTIVES


# ------------------------------------------------------------- pure functions
def bce_d_loss(real_logits, fake_logits, real_target=1.0, fake_target=0.0):
    """-[t log D(x) + (1-t) log(1-D(x))] averaged over real and fake, targets may be tensors."""
    rt = torch.as_tensor(real_target, dtype=real_logits.dtype, device=real_logits.device)
    ft = torch.as_tensor(fake_target, dtype=fake_logits.dtype, device=fake_logits.device)
    return (F.binary_cross_entropy_with_logits(real_logits, rt.expand_as(real_logits))
            + F.binary_cross_entropy_with_logits(fake_logits, ft.expand_as(fake_logits)))


def ns_g_loss(fake_logits):
    """Non-saturating generator loss: -log D(G(z)) (Goodfellow et al.'s trick)."""
    return F.softplus(-fake_logits).mean()


def minimax_g_loss(fake_logits):
    """Original minimax generator loss: log(1 - D(G(z))) (digit-gans Algorithm 1, step 4)."""
    return -F.softplus(fake_logits).mean()


def wasserstein_d_loss(real_out, fake_out):
    """Critic loss E[D(fake)] - E[D(real)] (WGAN, digit-gans 2.1.3)."""
    return fake_out.mean() - real_out.mean()


def wasserstein_g_loss(fake_out):
    return -fake_out.mean()


def gradient_penalty(D, real, fake, y=None, eps=None):
    """E[(||grad_x D(x_hat)||_2 - 1)^2], x_hat = eps*real + (1-eps)*fake, one eps ~ U[0,1] per sample."""
    if eps is None:
        eps = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), device=real.device, dtype=real.dtype)
    x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    out = D(x_hat, y)
    (grad,) = torch.autograd.grad(out.sum(), x_hat, create_graph=True)
    norm = grad.flatten(1).norm(2, dim=1)
    return ((norm - 1) ** 2).mean()


def zero_centered_penalty(D, x, y=None):
    """E[||grad_x D(x)||_2^2] at the samples ``x`` themselves: R1 on real data, R2 on fakes
    (Mescheder et al. 2018; Roth et al. 2017; R3GAN, Huang et al. 2024). The gradient keeps its
    graph so that the penalty trains D."""
    x = x.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(D(x, y).sum(), x, create_graph=True)
    return grad.flatten(1).pow(2).sum(1).mean()


def hinge_d_loss(real_out, fake_out):
    """E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))] (Lim & Ye 2017; SNGAN, Miyato et al. 2018)."""
    return F.relu(1 - real_out).mean() + F.relu(1 + fake_out).mean()


def relativistic_d_loss(real_out, fake_out):
    """Relativistic pairing: E[softplus(-(D(x_i) - D(G(z_i))))], each real paired with one fake
    (Jolicoeur-Martineau 2019, RpGAN; the loss of R3GAN, Huang et al. 2024, eq. 2)."""
    return F.softplus(fake_out - real_out).mean()


def relativistic_g_loss(real_out, fake_out):
    """G's side of the pairing: E[softplus(-(D(G(z_i)) - D(x_i)))]."""
    return F.softplus(real_out - fake_out).mean()


def smoothed_targets(n, real_target, fake_target, flip, device, dtype=torch.float32):
    """Per-sample (real, fake) targets; with probability ``flip`` a sample's two targets swap."""
    rt = torch.full((n,), real_target, device=device, dtype=dtype)
    ft = torch.full((n,), fake_target, device=device, dtype=dtype)
    if flip > 0:
        swap = torch.rand(n, device=device) < flip
        rt, ft = torch.where(swap, ft, rt), torch.where(swap, rt, ft)
    return rt, ft


def half_angle_bce(x, p, eps=1e-4):
    """h(x, p) = -p log((1+x)/2) - (1-p) log((1-x)/2) on cosines x (symbolic-autoencoder.txt 3.5).

    Sigmoid cross entropy on the squared half angle cos^2(theta/2) = (1+x)/2:
    target p=1 pulls two symbols together, p=0 pushes them apart. x is clamped to
    [-1+eps, 1-eps] so that the log stays finite (e.g. a symbol with itself).
    """
    x = x.clamp(-1.0 + eps, 1.0 - eps)
    return -p * torch.log((1 + x) / 2) - (1 - p) * torch.log((1 - x) / 2)


# ------------------------------------------------------------- objectives
@dataclass
class PenaltyOptions(ObjectiveConfig):  # hinge, rpgan (and, through LabelOptions, ns, minimax)
    """Zero-centred gradient penalties added to D's loss: (r1/2) E||grad D(x)||^2 on real data
    and (r2/2) E||grad D(G(z))||^2 on fakes (Mescheder et al. 2018; R3GAN uses both). 0 = off."""

    r1: float = 0.0
    r2: float = 0.0

    def validate(self) -> None:
        for key in ("r1", "r2"):
            v = getattr(self, key)
            if not 0 <= v < math.inf:
                raise GankitError(f"config key 'objective.{key}' must be a finite number >= 0, got {v}")


@dataclass
class LabelOptions(PenaltyOptions):  # ns, minimax
    """Targets of a BCE objective: label smoothing and flipping (digit-gans 2.2, guide 4.1)."""

    smooth_real: float = 0.0  # one-sided label smoothing: real target 1 - smooth_real
    smooth_fake: float = 0.0  # two-sided: fake target smooth_fake
    flip: float = 0.0  # probability of swapping a sample's real/fake targets

    def validate(self) -> None:
        super().validate()
        for key in ("smooth_real", "smooth_fake", "flip"):
            v = getattr(self, key)
            if not 0 <= v < 0.5:
                raise GankitError(f"config key 'objective.{key}' must lie in [0, 0.5), got {v}")


@dataclass
class ClipOptions(ObjectiveConfig):
    name: str = "wgan-clip"
    clip: float = 0.01  # weight bound c (digit-gans 2.1.3; dwgan.txt appendix)

    def validate(self) -> None:
        if not self.clip > 0:
            raise GankitError(f"config key 'objective.clip' must be > 0, got {self.clip}")


@dataclass
class GPOptions(ObjectiveConfig):
    name: str = "wgan-gp"
    gp_weight: float = 10.0  # lambda of the gradient penalty (digit-gans 2.1.4)

    def validate(self) -> None:
        if not self.gp_weight >= 0:
            raise GankitError(f"config key 'objective.gp_weight' must be >= 0, got {self.gp_weight}")


@dataclass
class PairwiseOptions(ObjectiveConfig):
    name: str = "dwgan"
    penalty: float = 0.0  # lambda of the norm penalty, dwgan.txt eq. 8 (appendix B.1: 0; B.2: 1e-2)

    def validate(self) -> None:
        if not self.penalty >= 0:
            raise GankitError(f"config key 'objective.penalty' must be >= 0, got {self.penalty}")


class Objective:
    """Base: ``opts`` is the objective's own options dataclass (the ``objective`` section).

    ``d_loss(D, real, fake, y)`` and ``g_loss(D, fake, y, real)`` return ``(loss, logs)``;
    ``real`` reaches the G loss for objectives that compare with real data (the pairwise
    critic); the others ignore it."""

    #: True when D outputs an unbounded critic value (a Wasserstein objective)
    critic = False
    #: True when D is a pairwise critic h(real, fake) (dwgan.txt Figure 1)
    pairwise = False
    #: True when the G loss compares each fake with a real example (its ``real`` argument)
    pairs_real = False
    #: the default of ``model.reuse_fake``: whether the objective's paper reuses the D step's
    #: fakes for the G step (True for the BCE objectives, False for the critics and hinge/rpgan)
    reuse_fake = False

    def __init__(self, opts):
        self.opts = opts

    def d_loss(self, D, real, fake, y=None):
        raise NotImplementedError

    def g_loss(self, D, fake, y=None, real=None):
        raise NotImplementedError

    def after_d_step(self, D) -> None:
        pass


def with_penalties(loss, logs, opts, D, real, fake, y):
    """``loss`` plus the R1/R2 terms of ``opts`` (a :class:`PenaltyOptions`), logged as r1/r2."""
    if opts.r1:
        r1 = zero_centered_penalty(D, real, y)
        loss, logs = loss + opts.r1 / 2 * r1, {**logs, "r1": r1.detach()}
    if opts.r2:
        r2 = zero_centered_penalty(D, fake, y)
        loss, logs = loss + opts.r2 / 2 * r2, {**logs, "r2": r2.detach()}
    return loss, logs


class _BCEObjective(Objective):
    """Label smoothing (``smooth_real``: real target 1-s; ``smooth_fake``: fake target s)
    and label flipping (``flip``: swap a sample's targets with that probability),
    digit-gans 2.2 and practical-gan-guide 4.1."""

    reuse_fake = True  # practical-gan-guide Algorithm 1, digit-gans Algorithm 1, the DCGAN tutorial

    def d_loss(self, D, real, fake, y=None):
        o = self.opts
        real_logits, fake_logits = D(real, y), D(fake, y)
        rt, ft = smoothed_targets(real.shape[0], 1.0 - o.smooth_real, o.smooth_fake, o.flip,
                                  real.device, real_logits.dtype)
        loss = bce_d_loss(real_logits, fake_logits, rt, ft)
        logs = {"d_real": real_logits.detach().mean(), "d_fake": fake_logits.detach().mean()}
        return with_penalties(loss, logs, o, D, real, fake, y)

    def d_fake_loss(self, D, fake, y=None):
        """BCE of fakes alone against the fake target (the experience-replay step, guide 4.2)."""
        logits = D(fake, y)
        return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, self.opts.smooth_fake))


@OBJECTIVES.register("ns", options=LabelOptions)
class NonSaturating(_BCEObjective):
    """Non-saturating GAN: BCE for D, -log D(G(z)) for G."""

    def g_loss(self, D, fake, y=None, real=None):
        return ns_g_loss(D(fake, y)), {}


@OBJECTIVES.register("minimax", options=LabelOptions)
class Minimax(_BCEObjective):
    """Original minimax GAN: G minimises log(1 - D(G(z)))."""

    def g_loss(self, D, fake, y=None, real=None):
        return minimax_g_loss(D(fake, y)), {}


@OBJECTIVES.register("wgan-clip", options=ClipOptions)
class WGANClip(Objective):
    """WGAN with weight clipping to [-clip, clip] after each critic step (digit-gans 2.1.3)."""

    critic = True

    def d_loss(self, D, real, fake, y=None):
        real_out, fake_out = D(real, y), D(fake, y)
        w = real_out.detach().mean() - fake_out.detach().mean()
        return wasserstein_d_loss(real_out, fake_out), {"wdist": w}

    def g_loss(self, D, fake, y=None, real=None):
        return wasserstein_g_loss(D(fake, y)), {}

    @torch.no_grad()
    def after_d_step(self, D) -> None:
        c = self.opts.clip
        for p in D.parameters():
            p.clamp_(-c, c)


@OBJECTIVES.register("wgan-gp", options=GPOptions)
class WGANGP(Objective):
    """WGAN-GP: critic loss plus gp_weight * gradient penalty (digit-gans 2.1.4)."""

    critic = True

    def d_loss(self, D, real, fake, y=None):
        real_out, fake_out = D(real, y), D(fake, y)
        gp = gradient_penalty(D, real, fake, y)
        w = real_out.detach().mean() - fake_out.detach().mean()
        return wasserstein_d_loss(real_out, fake_out) + self.opts.gp_weight * gp, {"wdist": w, "gp": gp.detach()}

    def g_loss(self, D, fake, y=None, real=None):
        return wasserstein_g_loss(D(fake, y)), {}


@OBJECTIVES.register("hinge", options=PenaltyOptions)
class Hinge(Objective):
    """Hinge loss: D minimises E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))], G minimises
    -E[D(G(z))] (SNGAN, Miyato et al. 2018, eq. 17; BigGAN), optionally with R1/R2."""

    def d_loss(self, D, real, fake, y=None):
        real_out, fake_out = D(real, y), D(fake, y)
        logs = {"d_real": real_out.detach().mean(), "d_fake": fake_out.detach().mean()}
        return with_penalties(hinge_d_loss(real_out, fake_out), logs, self.opts, D, real, fake, y)

    def g_loss(self, D, fake, y=None, real=None):
        return wasserstein_g_loss(D(fake, y)), {}


@OBJECTIVES.register("rpgan", options=PenaltyOptions)
class RelativisticPairing(Objective):
    """Relativistic pairing GAN (RpGAN): each real x_i is compared with one fake G(z_i); with
    ``r1`` and ``r2`` > 0 it is R3GAN's objective (Huang et al. 2024, section 2: RpGAN + R1 + R2).
    G's loss needs the real batch."""

    pairs_real = True

    def d_loss(self, D, real, fake, y=None):
        real_out, fake_out = D(real, y), D(fake, y)
        logs = {"d_real": real_out.detach().mean(), "d_fake": fake_out.detach().mean()}
        return with_penalties(relativistic_d_loss(real_out, fake_out), logs, self.opts, D, real, fake, y)

    def g_loss(self, D, fake, y=None, real=None):
        if real is None:
            raise ValueError("the rpgan objective needs the real batch for the G loss")
        with torch.no_grad():
            real_out = D(real, y)
        return relativistic_g_loss(real_out, D(fake, y)), {}


def dual_objective(h: torch.Tensor, penalty: float) -> torch.Tensor:
    """(1/n) sum_i h_i + lambda sqrt(sum_i h_i^2) (dwgan.txt eq. 8): the critic ascends it, G descends it."""
    return h.mean() + penalty * h.norm() if penalty else h.mean()


@OBJECTIVES.register("dwgan", options=PairwiseOptions)
class PairwiseDWGAN(Objective):
    """Discrete WGAN: a pairwise critic h(real, fake), the critic ascends eq. 8 and G descends it
    (dwgan.txt 3.2, Algorithm 1; the appendix code applies the norm penalty in both steps)."""

    critic = True
    pairwise = True
    pairs_real = True

    def d_loss(self, D, real, fake, y=None):
        objective = dual_objective(D(real, fake), self.opts.penalty)
        return -objective, {"h_d": objective.detach()}  # ascent on eq. 8

    def g_loss(self, D, fake, y=None, real=None):
        if real is None:
            raise ValueError("the pairwise DWGAN objective needs the real batch for the G loss")
        return dual_objective(D(real, fake), self.opts.penalty), {}
