"""The ``gan`` family: a generator and a discriminator/critic trained with a registered
objective (ns, minimax, wgan-clip, wgan-gp; digit-gans.txt 2.1-2.2), n_critic critic
steps per generator step. DCGAN, FCC-GAN, WGAN-CLIP, WGAN-GP and SNGAN are this
family with different nets (``net.name``) and objectives (``objective.name``, with the
objective's own options in the ``objective`` section). Tricks of the step are ``model``
options: the adaptive critic schedule (``critic_boost``, guide 5.3.1), experience replay
(``replay``, guide 4.2) and an EMA of G (``ema``); the last two are components of
``gankit.models.tricks``.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from gankit.config import Config, ModelConfig
from gankit.data.base import Batches, Dataset
from gankit.errors import GankitError
from gankit.models.base import Model, make_optimizer
from gankit.models.tricks import ReplayBuffer
from gankit.nets import build_nets
from gankit.registry import MODELS, OBJECTIVES

MAX_CONDITIONAL_CLASSES = 100  # mnist-stacked's 1,000 modes train unconditionally


@dataclass
class GANConfig(ModelConfig):
    n_critic: int = 1  # D steps per G step
    # adaptive critic schedule (practical-gan-guide 5.3.1): critic_boost D steps for the first
    # critic_boost_first generator steps and every critic_boost_every-th step; 0 = off
    critic_boost: int = 0
    critic_boost_first: int = 100
    critic_boost_every: int = 500
    # experience replay (practical-gan-guide 4.2): one random fake per D batch goes to a buffer;
    # when it holds replay_size images, D takes an extra step on them as fakes and it empties.
    replay: bool = False
    replay_size: int = 0  # 0 = examples // batch size: one image from every batch of an epoch
    # the G step reuses the last D step's fake batch (the same z, generated once, with
    # gradients) instead of a fresh one: practical-gan-guide 2.4, Algorithm 1 ("we will reuse
    # the last noise samples used to update the discriminator") and digit-gans Algorithm 1 (one
    # minibatch of z for both steps, every model of that paper). G is unchanged between the
    # two steps, so G(z) is the same; one G forward per step fewer (``gankit bench``). The
    # guide's WGAN-GP (Algorithm 2) draws fresh noise: its presets set this false. For WGAN-GP
    # reuse measured no quality cost over 3 seeds (docs/notes/stabilisers.md).
    reuse_fake: bool = True
    # keep 4-D weights (and so conv activations) channels-last: faster oneDNN convolutions
    # on CPU (``gankit bench``); no effect on the maths or on checkpoints' values
    channels_last: bool = True

    def validate(self) -> None:
        super().validate()
        if self.n_critic < 1:
            raise GankitError(f"config key 'model.n_critic' must be >= 1, got {self.n_critic}")
        for key in ("critic_boost", "critic_boost_first", "critic_boost_every", "replay_size"):
            if getattr(self, key) < 0:
                raise GankitError(f"config key 'model.{key}' must be >= 0, got {getattr(self, key)}")
        if self.replay_size == 1:
            raise GankitError("config key 'model.replay_size' must be 0 (automatic) or >= 2")

    def validate_with(self, cfg: Config) -> None:
        objective = OBJECTIVES.get(cfg.objective.name)
        if objective.pairwise:
            raise GankitError(f"objective '{cfg.objective.name}' needs a pairwise critic: use model.family=discrete")
        if self.replay and not hasattr(objective, "d_fake_loss"):
            raise GankitError(f"config key 'model.replay' needs a BCE objective (ns, minimax), not '{cfg.objective.name}'")


@MODELS.register("gan", options=GANConfig)
class GAN(Model):
    """Generator + discriminator with a pluggable objective (digit-gans Algorithm 1)."""

    def __init__(self, cfg: Config, data: Dataset):
        super().__init__(cfg, data)
        if getattr(cfg.net, "conditional", False) and data.num_classes > MAX_CONDITIONAL_CLASSES:
            # grids and balanced evaluations have one column/share per class: 1,000 classes -> 10^6 images
            raise GankitError(f"net.conditional=true takes datasets of at most {MAX_CONDITIONAL_CLASSES} classes; "
                              f"'{data.name}' has {data.num_classes} (train it unconditionally)")
        self.G, self.D = build_nets(cfg.net, data)
        if cfg.model.channels_last:
            self.G.to(memory_format=torch.channels_last)
            self.D.to(memory_format=torch.channels_last)
        self.conditional = bool(getattr(cfg.net, "conditional", False))
        self.objective = OBJECTIVES.get(cfg.objective.name)(cfg.objective)
        self.setup_stabilisers(self.G)
        self.opt_g = make_optimizer(self.G.parameters(), cfg.optim.g)
        self.opt_d = make_optimizer(self.D.parameters(), cfg.optim.d)
        self.replay = ReplayBuffer(cfg.model.replay_size or max(2, len(data) // cfg.data.batch_size))
        self.last_replay_loss = torch.zeros(())

    def optimizers(self):
        return {"g": self.opt_g, "d": self.opt_d}

    def n_critic(self, step: int) -> int:
        """D steps before generator step ``step`` (0-based), with the adaptive schedule (5.3.1)."""
        m = self.cfg.model
        if m.critic_boost and (step < m.critic_boost_first
                               or (m.critic_boost_every and step % m.critic_boost_every == 0)):
            return m.critic_boost
        return m.n_critic

    def noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.cfg.net.z_dim, device=self.device)

    def ema_inputs(self, n: int) -> tuple:
        return self.noise(n), self.fake_labels(n)

    def fake_labels(self, n: int) -> torch.Tensor | None:
        if not self.conditional:
            return None
        return torch.randint(0, self.data.num_classes, (n,), device=self.device)

    def d_step(self, real, y, fake=None) -> dict:
        """One D update on ``real`` and ``fake`` (default: a fresh batch from G without gradients)."""
        if fake is None:
            with torch.no_grad():
                fake = self.G(self.noise(real.shape[0]), y)
        fake = fake.detach()
        loss, logs = self.objective.d_loss(self.critic_view(self.D), real, fake, y)
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        self.objective.after_d_step(self.D)
        logs = {"d_loss": loss.detach(), **logs}
        if self.cfg.model.replay:
            self.replay.remember(fake, y)
            if self.replay.full:
                self.last_replay_loss = self.replay_step()
            logs["d_replay"] = self.last_replay_loss
        return logs

    def replay_step(self) -> torch.Tensor:
        """One D step on the buffered past fakes (as fakes), then the buffer starts over (4.2)."""
        x, y = self.replay.drain()
        loss = self.objective.d_fake_loss(self.critic_view(self.D), x, y)
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        self.objective.after_d_step(self.D)
        return loss.detach()

    def g_step(self, n: int, fake=None, y=None, real=None) -> dict:
        """One G update on ``fake`` (labels ``y``) or, by default, on a fresh batch of ``n``
        (with fresh labels, or the real batch's labels ``y`` for an objective that pairs each
        fake with a real, rpgan); ``real`` is the last D step's batch."""
        if fake is None:
            y = y if self.objective.pairs_real and y is not None else self.fake_labels(n)
            fake = self.G(self.noise(n), y)
        self.D.requires_grad_(False)  # no weight gradients for D during the G step
        try:
            loss, logs = self.objective.g_loss(self.critic_view(self.D), fake, y, real)
            self.opt_g.zero_grad(set_to_none=True)
            loss.backward()
            self.opt_g.step()
        finally:
            self.D.requires_grad_(True)
        return {"g_loss": loss.detach(), **logs}

    def train_step(self, batches: Batches, step: int) -> dict:
        logs, k = {}, self.n_critic(step)
        fake = y = None
        for i in range(k):
            real, y = batches.next()
            y = y if self.conditional else None
            if self.cfg.model.reuse_fake and i == k - 1:
                fake = self.G(self.noise(real.shape[0]), y)  # kept, with its graph, for the G step
            logs = self.d_step(real, y, fake)
        if fake is None:
            logs.update(self.g_step(batches.batch_size, y=y, real=real))
        else:
            logs.update(self.g_step(fake.shape[0], fake, y, real))
        return logs

    def extra_state(self) -> dict:
        return self.replay.state_dict()

    def load_extra_state(self, state: dict) -> None:
        self.replay.load_state_dict(state, self.device)

    @torch.no_grad()
    def generate(self, n, labels=None):
        if self.conditional and labels is None:
            labels = torch.arange(n, device=self.device) % self.data.num_classes
        return self.sampler(self.noise(n), labels if self.conditional else None)
