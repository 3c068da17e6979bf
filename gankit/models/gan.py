"""The ``gan`` family: a generator and a discriminator/critic trained with a registered
objective (ns, minimax, wgan-clip, wgan-gp; digit-gans.txt 2.1-2.2), n_critic critic
steps per generator step. DCGAN, FCC-GAN, WGAN-CLIP, WGAN-GP and SNGAN are this
family with different nets (``net.name``) and objectives (``objective.name``, with the
objective's own options in the ``objective`` section). Tricks of the step are ``model``
options: the adaptive critic schedule (``critic_boost``, guide 5.3.1) and experience replay
(``replay``, guide 4.2, a component of ``gankit.models.tricks``). What G and D are conditioned
on (nothing, class labels, k-means clusters) is the model's label source
(``gankit.models.labels``); InfoGAN's code (``info_codes``) is the :class:`InfoGAN` subclass,
which the ``gan`` entry builds when the option is set. The stabilisers (EMA, DiffAugment, LR
schedules) are wired by ``Model`` for every family.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from gankit.config import Config, ModelConfig
from gankit.data.base import Batches, Dataset
from gankit.errors import GankitError
from gankit.eval_mode import eval_mode
from gankit.models.base import Model
from gankit.models.labels import label_source
from gankit.models.tricks import InfoCodes, PixelMarginal, ReplayBuffer, TopK, frozen, info_encode
from gankit.registry import MODELS, OBJECTIVES


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
    # that a head on D's features must recover (InfoGAN below); 0 = off
    info_codes: int = 0
    info_weight: float = 1.0
    # self-conditioning (Liu et al. 2020): G and D are conditioned on k-means clusters of the
    # training images instead of labels (models/labels.py ClusterLabels); the model stays
    # unconditional to its users (no labels are read). 0 = off, else the number of clusters
    clusters: int = 0
    # what is clustered: "image" (whole images) or "channel" (each channel apart, one cluster id
    # per channel, G and D conditioned on the set: for independent channels, mnist-stacked)
    clusters_by: str = "image"
    # weight of the squared 2-Wasserstein distance between the pixel values of G's batch and
    # the training images', added to G's loss (models/tricks.py PixelMarginal); 0 = off
    pixel_marginal: float = 0.0
    # top-k generator updates (Sinha et al. 2020; models/tricks.py TopK): G's loss on the fakes D
    # scores highest, k from the whole batch times top_k_decay each epoch down to top_k of it
    # (the paper's nu); 0 = off
    top_k: float = 0.0
    top_k_decay: float = 0.99

    def validate(self) -> None:
        super().validate()
        if self.info_codes < 0 or self.info_codes == 1:
            raise GankitError(f"config key 'model.info_codes' must be 0 (off) or >= 2, got {self.info_codes}")
        if not 0 <= self.info_weight < float("inf"):
            raise GankitError(f"config key 'model.info_weight' must be a finite number >= 0, got {self.info_weight}")
        if self.clusters < 0 or self.clusters == 1:
            raise GankitError(f"config key 'model.clusters' must be 0 (off) or >= 2, got {self.clusters}")
        if self.clusters_by not in ("image", "channel"):
            raise GankitError(f"config key 'model.clusters_by' must be image or channel, got '{self.clusters_by}'")
        if not 0 <= self.pixel_marginal < float("inf"):
            raise GankitError(f"config key 'model.pixel_marginal' must be a finite number >= 0, got {self.pixel_marginal}")
        if not 0 <= self.top_k <= 1:
            raise GankitError(f"config key 'model.top_k' must lie in 0..1 (0 = off), got {self.top_k}")
        if not 0 < self.top_k_decay <= 1:
            raise GankitError(f"config key 'model.top_k_decay' must lie in (0, 1], got {self.top_k_decay}")
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
        if self.top_k and objective.pairs_real:
            raise GankitError(f"config key 'model.top_k' needs an objective that scores each fake alone, not "
                              f"'{cfg.objective.name}' (it pairs fakes with reals)")
        if self.replay and not hasattr(objective, "d_fake_loss"):
            raise GankitError(f"config key 'model.replay' needs a BCE objective (ns, minimax), not '{cfg.objective.name}'")


class GAN(Model):
    """Generator + discriminator with a pluggable objective (digit-gans Algorithm 1)."""

    def build(self) -> None:
        cfg, data = self.cfg, self.data
        if cfg.model.pixel_marginal:
            self.require_images("model.pixel_marginal")
        self.labels = label_source(cfg, data)  # what G and D are conditioned on (models/labels.py)
        self.G, self.D = self.labels.build_nets(cfg.net, data)
        if cfg.model.channels_last:
            self.G.to(memory_format=torch.channels_last)
            self.D.to(memory_format=torch.channels_last)
        self.conditional = self.labels.conditional
        self.objective = OBJECTIVES.get(cfg.objective.name)(cfg.objective)
        self.opt_g = self.add_optimizer("g", self.G.parameters(), cfg.optim.g)
        self.opt_d = self.add_optimizer("d", self.D.parameters(), cfg.optim.d)
        self.replay = ReplayBuffer(cfg.model.replay_size or max(2, len(data) // cfg.data.batch_size))
        self.last_replay_loss = torch.zeros(())
        self.pixel_marginal = PixelMarginal(cfg.model.pixel_marginal, data.x)
        self.top_k = TopK(cfg.model.top_k, cfg.model.top_k_decay)

    def n_critic(self, step: int) -> int:
        """D steps before generator step ``step`` (0-based), with the adaptive schedule (5.3.1)."""
        m = self.cfg.model
        if m.critic_boost and (step < m.critic_boost_first
                               or (m.critic_boost_every and step % m.critic_boost_every == 0)):
            return m.critic_boost
        return m.n_critic

    def noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.cfg.net.z_dim, device=self.device)

    def inputs(self, n: int) -> tuple:
        """(z, labels) of ``n`` fresh G samples as training draws them (labels: the label source's)."""
        return self.noise(n), self.labels.fake(n, self.device)

    def ema_inputs(self, n: int) -> tuple:
        return self.inputs(n)

    # -- the algorithm (practical-gan-guide 2.4 Algorithm 1) -----------------------------------
    def train_step(self, batches: Batches, step: int) -> dict:
        """k D steps, each on a fresh real batch, then one G step. With ``reuse_fake`` the last
        D step's fakes are made with their graph and the G step scores them again."""
        self.top_k.epochs = batches.epoch  # top-k's k follows the passes over the data (resumed with them)
        k = self.n_critic(step)
        fake = z = None
        for i in range(k):
            real, y = batches.next()
            y = self.labels.real(real, y)
            if self.cfg.model.reuse_fake and i == k - 1:
                z = self.noise(real.shape[0])
                fake = self.G(z, y)  # kept, with its graph, for the G step
            logs = self.d_step(real, y, fake, z)
        n = batches.batch_size if fake is None else fake.shape[0]
        return {**logs, **self.g_step(n, fake, y, real, z)}

    def d_step(self, real, y, fake=None, z=None) -> dict:
        """One D update on ``real`` and ``fake`` (default: a fresh batch from G without gradients;
        ``z``: the noise of ``fake``), then a replay step when the buffer is full (guide 4.2)."""
        if fake is None:
            z = self.noise(real.shape[0])
            with torch.no_grad():
                fake = self.G(z, y)
        fake = fake.detach()
        loss, logs = self.d_loss(real, fake, y, z)
        self.update(loss, self.d_optimizers())
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
        loss = self.objective.d_fake_loss(self.critic, x, y)
        self.update(loss, [self.opt_d])
        self.objective.after_d_step(self.D)
        return loss.detach()

    def g_step(self, n: int, fake=None, y=None, real=None, z=None) -> dict:
        """One G update on ``fake`` (labels ``y``, noise ``z``) or, by default, on a fresh batch
        of ``n`` (with fresh labels, or the real batch's labels ``y`` for an objective that pairs
        each fake with a real, rpgan); ``real`` is the last D step's batch."""
        if fake is None:
            y = y if self.objective.pairs_real and y is not None else self.labels.fake(n, self.device)
            z = self.noise(n)
            fake = self.G(z, y)
        with frozen(*self.d_networks()):  # no weight gradients for D during the G step
            loss, logs = self.g_loss(fake, y, real, z)
            self.update(loss, [self.opt_g])
        return {"g_loss": loss.detach(), **logs}

    # -- the pieces InfoGAN extends ---------------------------------------------------------
    def d_loss(self, real, fake, y, z) -> tuple[torch.Tensor, dict]:
        """D's loss and logs on a real and a fake batch: the objective's, D seen through :attr:`critic`."""
        return self.objective.d_loss(self.critic, real, fake, y)

    def g_loss(self, fake, y, real, z) -> tuple[torch.Tensor, dict]:
        loss, logs = self.objective.g_loss(self.top_k(self.critic), fake, y, real)
        return self.pixel_marginal(loss, logs, fake)

    def d_networks(self) -> list[nn.Module]:
        """What the D step trains and the G step freezes."""
        return [self.D]

    def d_optimizers(self) -> list[torch.optim.Optimizer]:
        return [self.opt_d]

    @staticmethod
    def update(loss: torch.Tensor, optimizers) -> None:
        """One gradient step of ``loss`` with each of ``optimizers``."""
        for opt in optimizers:
            opt.zero_grad(set_to_none=True)
        loss.backward()
        for opt in optimizers:
            opt.step()

    def family_state(self) -> dict:
        return self.replay.state_dict()

    def load_family_state(self, state: dict) -> None:
        self.replay.load_state_dict(state, self.device)

    @torch.no_grad()
    def generate(self, n, labels=None):
        """``n`` samples; ``labels`` as the label source takes them (classes: the user's or
        0..k-1 in turn; clusters: drawn; none: ignored)."""
        z = self.noise(n)
        return self.sampler(z, self.labels.generate(n, labels, self.device))


class InfoGAN(GAN):
    """The gan family with InfoGAN's categorical code (Chen et al. 2016, section 5;
    ``model.info_codes``): the first k entries of z are a one-hot code c, and a head Q on D's
    features learns to recover c from G(z). D and Q add ``info_weight`` times the code's cross
    entropy to D's loss, G adds it to its own (D and Q frozen), the variational lower bound of
    the mutual information I(c; G(z, c)) (models/tricks.py InfoCodes)."""

    def build(self) -> None:
        super().build()
        if not hasattr(self.D, "features"):
            raise GankitError(f"config key 'model.info_codes' needs a net whose D exposes its features "
                              f"(guide-dcgan), not '{self.cfg.net.name}'")
        with torch.no_grad(), eval_mode(self.D):
            dim = self.D.features(torch.zeros(2, *self.data.shape)).shape[1]
        self.info = InfoCodes(self.cfg.model.info_codes, dim)
        self.opt_q = self.add_optimizer("q", self.info.parameters(), self.cfg.optim.d)

    def noise(self, n: int) -> torch.Tensor:
        return info_encode(super().noise(n), self.cfg.model.info_codes)

    def info_loss(self, fake, z) -> torch.Tensor:
        """CE of Q's guess of the code from D's features of ``fake`` (augmented like D's inputs)."""
        D = getattr(self.D, "module", self.D)  # the plain D: its features, not DDP's forward
        seen = fake if self.augment is None else self.augment(fake)
        return self.info(D.features(seen), z)

    def d_loss(self, real, fake, y, z):
        loss, logs = super().d_loss(real, fake, y, z)
        info = self.info_loss(fake, z)  # D's features and Q learn to recover the code
        return loss + self.cfg.model.info_weight * info, {**logs, "info_d": info.detach()}

    def g_loss(self, fake, y, real, z):
        loss, logs = super().g_loss(fake, y, real, z)
        info = self.info_loss(fake, z)  # G makes its code recoverable
        return loss + self.cfg.model.info_weight * info, {**logs, "info": info.detach()}

    def d_networks(self) -> list[nn.Module]:
        return [self.D, self.info]

    def d_optimizers(self) -> list[torch.optim.Optimizer]:
        return [self.opt_d, self.opt_q]


@MODELS.register("gan", options=GANConfig)
def gan(cfg: Config, data: Dataset) -> GAN:
    """Generator + discriminator with a pluggable objective (digit-gans Algorithm 1)."""
    return (InfoGAN if cfg.model.info_codes else GAN)(cfg, data)
