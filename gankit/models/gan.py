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

import dataclasses
from dataclasses import dataclass

import torch

from gankit.config import Config, ModelConfig
from gankit.data.base import Batches, Dataset
from gankit.errors import GankitError
from gankit.models.base import Model, make_optimizer
from gankit.models.tricks import Clusters, InfoCodes, ReplayBuffer, info_encode
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
    # gradients) instead of drawing a fresh one. None = what the objective's paper does
    # (``Objective.reuse_fake``): reuse for ns/minimax (practical-gan-guide 2.4 Algorithm 1, "we
    # will reuse the last noise samples used to update the discriminator"; digit-gans Algorithm
    # 1; the PyTorch DCGAN tutorial), fresh noise for the critics and hinge/rpgan (WGAN and
    # WGAN-GP's Algorithm 1, the guide's Algorithm 2). For WGAN-GP the two differed by less than
    # the spread of 3 seeds (docs/notes/stabilisers.md). Reuse saves one G forward per step (``gankit bench``).
    reuse_fake: bool | None = None
    # keep 4-D weights (and so conv activations) channels-last: faster oneDNN convolutions
    # on CPU (``gankit bench``); no effect on the maths or on checkpoints' values
    channels_last: bool = True
    # InfoGAN (Chen et al. 2016): the first info_codes entries of z are a categorical code
    # that a head on D's features must recover (models/tricks.py InfoCodes); 0 = off
    info_codes: int = 0
    info_weight: float = 1.0
    # self-conditioning (Liu et al. 2020): G and D are conditioned on k-means clusters of the
    # training images instead of labels (models/tricks.py Clusters); the model stays
    # unconditional to its users (no labels are read). 0 = off, else the number of clusters
    clusters: int = 0

    def validate(self) -> None:
        super().validate()
        if self.info_codes < 0 or self.info_codes == 1:
            raise GankitError(f"config key 'model.info_codes' must be 0 (off) or >= 2, got {self.info_codes}")
        if not 0 <= self.info_weight < float("inf"):
            raise GankitError(f"config key 'model.info_weight' must be a finite number >= 0, got {self.info_weight}")
        if self.clusters < 0 or self.clusters == 1:
            raise GankitError(f"config key 'model.clusters' must be 0 (off) or >= 2, got {self.clusters}")
        if self.n_critic < 1:
            raise GankitError(f"config key 'model.n_critic' must be >= 1, got {self.n_critic}")
        for key in ("critic_boost", "critic_boost_first", "critic_boost_every", "replay_size"):
            if getattr(self, key) < 0:
                raise GankitError(f"config key 'model.{key}' must be >= 0, got {getattr(self, key)}")
        if self.replay_size == 1:
            raise GankitError("config key 'model.replay_size' must be 0 (automatic) or >= 2")

    def validate_with(self, cfg: Config) -> None:
        objective = OBJECTIVES.get(cfg.objective.name)
        if self.reuse_fake is None:  # resolved here, so config.yaml records what the run does
            self.reuse_fake = objective.reuse_fake
        if objective.pairwise:
            raise GankitError(f"objective '{cfg.objective.name}' needs a pairwise critic: use model.family=discrete")
        if self.info_codes and (getattr(cfg.net, "conditional", False) or self.info_codes >= cfg.net.z_dim):
            raise GankitError(f"config key 'model.info_codes' needs an unconditional net with net.z_dim > "
                              f"{self.info_codes} (the codes are z's first entries)")
        if self.clusters and (not hasattr(cfg.net, "conditional") or cfg.net.conditional or self.info_codes):
            raise GankitError(f"config key 'model.clusters' needs a net that can be conditioned (net.conditional "
                              f"exists), left unconditional (net.conditional=false), and no model.info_codes; "
                              f"net '{cfg.net.name}' does not qualify")
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
        self.clusters = None
        if cfg.model.clusters:
            if cfg.model.clusters > len(data):
                raise GankitError(f"config key 'model.clusters' ({cfg.model.clusters}) exceeds the dataset's "
                                  f"{len(data)} examples")
            self.clusters = Clusters(data.x, cfg.model.clusters, cfg.train.seed)
            # the nets are built conditional on the clusters, as on a dataset whose labels they are
            view = dataclasses.replace(data, y=self.clusters.assign(data.x), num_classes=self.clusters.k)
            self.G, self.D = build_nets(dataclasses.replace(cfg.net, conditional=True), view)
        else:
            self.G, self.D = build_nets(cfg.net, data)
        if cfg.model.channels_last:
            self.G.to(memory_format=torch.channels_last)
            self.D.to(memory_format=torch.channels_last)
        self.conditional = bool(getattr(cfg.net, "conditional", False))
        self.objective = OBJECTIVES.get(cfg.objective.name)(cfg.objective)
        self.setup_stabilisers(self.G)
        self.info = None
        if cfg.model.info_codes:
            if not hasattr(self.D, "features"):
                raise GankitError(f"config key 'model.info_codes' needs a net whose D exposes its features "
                                  f"(guide-dcgan), not '{cfg.net.name}'")
            with torch.no_grad():
                dim = self.D.eval().features(torch.zeros(2, *data.shape)).shape[1]
            self.D.train()
            self.info = InfoCodes(cfg.model.info_codes, dim)
            self.opt_q = make_optimizer(self.info.parameters(), cfg.optim.d)
        self.opt_g = make_optimizer(self.G.parameters(), cfg.optim.g)
        self.opt_d = make_optimizer(self.D.parameters(), cfg.optim.d)
        self.replay = ReplayBuffer(cfg.model.replay_size or max(2, len(data) // cfg.data.batch_size))
        self.last_replay_loss = torch.zeros(())

    def optimizers(self):
        opts = {"g": self.opt_g, "d": self.opt_d}
        if self.info is not None:
            opts["q"] = self.opt_q
        return opts

    def n_critic(self, step: int) -> int:
        """D steps before generator step ``step`` (0-based), with the adaptive schedule (5.3.1)."""
        m = self.cfg.model
        if m.critic_boost and (step < m.critic_boost_first
                               or (m.critic_boost_every and step % m.critic_boost_every == 0)):
            return m.critic_boost
        return m.n_critic

    def noise(self, n: int) -> torch.Tensor:
        z = torch.randn(n, self.cfg.net.z_dim, device=self.device)
        k = self.cfg.model.info_codes
        return info_encode(z, k) if k else z

    def inputs(self, n: int) -> tuple:
        """(z, labels) of ``n`` fresh G samples as training draws them: labels None for an
        unconditional G, random classes for a conditional one, drawn clusters with ``clusters``."""
        return self.noise(n), self.fake_labels(n)

    def ema_inputs(self, n: int) -> tuple:
        return self.inputs(n)

    def real_labels(self, real: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor | None:
        """What G and D are conditioned on for a real batch: its clusters, its labels, or None."""
        if self.clusters is not None:
            return self.clusters.assign(real)
        return y if self.conditional else None

    def fake_labels(self, n: int) -> torch.Tensor | None:
        if self.clusters is not None:
            return self.clusters.sample(n).to(self.device)
        if not self.conditional:
            return None
        return torch.randint(0, self.data.num_classes, (n,), device=self.device)

    def d_step(self, real, y, fake=None, z=None) -> dict:
        """One D update on ``real`` and ``fake`` (default: a fresh batch from G without gradients;
        ``z``: the noise of ``fake``, for the InfoGAN codes)."""
        if fake is None:
            z = self.noise(real.shape[0])
            with torch.no_grad():
                fake = self.G(z, y)
        fake = fake.detach()
        loss, logs = self.objective.d_loss(self.critic_view(self.D), real, fake, y)
        if self.info is not None:  # D's features and Q learn to recover the code (InfoGAN 5)
            info = self.info_loss(fake, z)
            loss, logs = loss + self.cfg.model.info_weight * info, {**logs, "info_d": info.detach()}
            self.opt_q.zero_grad(set_to_none=True)
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        if self.info is not None:
            self.opt_q.step()
        self.objective.after_d_step(self.D)
        logs = {"d_loss": loss.detach(), **logs}
        if self.cfg.model.replay:
            self.replay.remember(fake, y)
            if self.replay.full:
                self.last_replay_loss = self.replay_step()
            logs["d_replay"] = self.last_replay_loss
        return logs

    def info_loss(self, fake, z) -> torch.Tensor:
        """CE of Q's guess of the code from D's features of ``fake`` (augmented like D's inputs)."""
        D = getattr(self.D, "module", self.D)  # the plain D: its features, not DDP's forward
        seen = fake if self.augment is None else self.augment(fake)
        return self.info(D.features(seen), z)

    def replay_step(self) -> torch.Tensor:
        """One D step on the buffered past fakes (as fakes), then the buffer starts over (4.2)."""
        x, y = self.replay.drain()
        loss = self.objective.d_fake_loss(self.critic_view(self.D), x, y)
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        self.objective.after_d_step(self.D)
        return loss.detach()

    def g_step(self, n: int, fake=None, y=None, real=None, z=None) -> dict:
        """One G update on ``fake`` (labels ``y``) or, by default, on a fresh batch of ``n``
        (with fresh labels, or the real batch's labels ``y`` for an objective that pairs each
        fake with a real, rpgan); ``real`` is the last D step's batch."""
        if fake is None:
            y = y if self.objective.pairs_real and y is not None else self.fake_labels(n)
            z = self.noise(n)
            fake = self.G(z, y)
        self.D.requires_grad_(False)  # no weight gradients for D (nor InfoGAN's Q) during the G step
        if self.info is not None:
            self.info.requires_grad_(False)
        try:
            loss, logs = self.objective.g_loss(self.critic_view(self.D), fake, y, real)
            if self.info is not None:  # G also minimises the code's cross entropy (D and Q frozen)
                info = self.info_loss(fake, z)
                loss, logs = loss + self.cfg.model.info_weight * info, {**logs, "info": info.detach()}
            self.opt_g.zero_grad(set_to_none=True)
            loss.backward()
            self.opt_g.step()
        finally:
            self.D.requires_grad_(True)
            if self.info is not None:
                self.info.requires_grad_(True)
        return {"g_loss": loss.detach(), **logs}

    def train_step(self, batches: Batches, step: int) -> dict:
        logs, k = {}, self.n_critic(step)
        fake = y = z = None
        for i in range(k):
            real, y = batches.next()
            y = self.real_labels(real, y)
            if self.cfg.model.reuse_fake and i == k - 1:
                z = self.noise(real.shape[0])
                fake = self.G(z, y)  # kept, with its graph, for the G step
            logs = self.d_step(real, y, fake, z)
        if fake is None:
            logs.update(self.g_step(batches.batch_size, y=y, real=real))
        else:
            logs.update(self.g_step(fake.shape[0], fake, y, real, z))
        return logs

    def extra_state(self) -> dict:
        return self.replay.state_dict()

    def load_extra_state(self, state: dict) -> None:
        self.replay.load_state_dict(state, self.device)

    @torch.no_grad()
    def generate(self, n, labels=None):
        if self.clusters is not None:  # unconditional to the user: clusters drawn with their shares
            return self.sampler(*self.inputs(n))
        if self.conditional and labels is None:
            labels = torch.arange(n, device=self.device) % self.data.num_classes
        return self.sampler(self.noise(n), labels if self.conditional else None)
