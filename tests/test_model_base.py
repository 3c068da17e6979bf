"""What ``Model`` wires for every family and the gan family's label sources: each label source
conditions a hand-built batch as it should; a stabiliser a family cannot take is refused in one
line naming its key; the torch LR schedulers give the rates of the hand-computed schedule and
their state goes through a checkpoint; new modules need no import line."""
import math
import warnings

import pytest
import torch
from torch import nn

import tinynet  # noqa: F401  (registers the tiny-bn-test net)
from gankit.catalogue import build_config, load_config
from gankit.config import OptimConfig
from gankit.data.base import Batches, Dataset
from gankit.errors import GankitError
from gankit.models import build_model
from gankit.models.base import Model, lr_factor
from gankit.models.labels import ClassLabels, ClusterLabels, NoLabels, label_source


def digits(n=8, classes=10):
    g = torch.Generator().manual_seed(0)
    return Dataset("mnist", torch.rand(n, 1, 28, 28, generator=g) * 2 - 1, torch.arange(n) % classes,
                   num_classes=classes)


def tiny_cfg(**sections):
    raw = {"model": {"family": "gan"}, "objective": {"name": "ns"},
           "net": {"name": "tiny-bn-test", "z_dim": 8, "hidden": 8}, "data": {"name": "mnist", "batch_size": 4},
           "train": {"steps": 12, "seed": 0}}
    for key, value in sections.items():
        raw[key] = {**raw.get(key, {}), **value}
    return build_config(raw, "tiny")


# ------------------------------------------------------------------ label sources
def test_no_labels_conditions_nothing():
    src = NoLabels()
    x, y = torch.zeros(3, 1, 2, 2), torch.tensor([4, 1, 7])
    assert src.real(x, y) is None and src.fake(3, torch.device("cpu")) is None
    assert src.generate(3, y, torch.device("cpu")) is None and src.conditional is False


def test_class_labels_keep_the_real_class_and_draw_uniform_fakes():
    src = ClassLabels(digits(classes=5))
    x, y = torch.zeros(3, 1, 2, 2), torch.tensor([4, 1, 3])
    assert torch.equal(src.real(x, y), y) and src.conditional is True
    torch.manual_seed(3)
    fake = src.fake(6, torch.device("cpu"))
    torch.manual_seed(3)
    assert torch.equal(fake, torch.randint(0, 5, (6,)))  # one global-RNG draw, uniform over the 5 classes
    assert src.generate(7, None, torch.device("cpu")).tolist() == [0, 1, 2, 3, 4, 0, 1]  # the classes in turn
    assert torch.equal(src.generate(3, y, torch.device("cpu")), y)  # the user's labels as given


def test_class_labels_refuse_a_thousand_classes():
    data = Dataset("mnist-stacked", torch.zeros(4, 3, 2, 2), torch.arange(4), num_classes=1000)
    with pytest.raises(GankitError, match="net.conditional=true takes datasets of at most 100 classes"):
        ClassLabels(data)


def test_cluster_labels_condition_on_the_nearest_centroid_and_draw_with_the_shares():
    # 30 images of zeros and 10 of ones: two clusters, their centroids the two images
    x = torch.cat([torch.zeros(30, 1, 2, 2), torch.ones(10, 1, 2, 2)])
    src = ClusterLabels(x, 2, seed=0)
    ones, zeros = int(src.counts.argmin()), int(src.counts.argmax())
    batch = torch.tensor([0.1, 0.9, 0.4, 0.6]).view(4, 1, 1, 1).expand(4, 1, 2, 2)
    # each image goes to the nearer of 0 and 1; the dataset's labels play no part
    assert src.real(batch, torch.tensor([7, 7, 7, 7])).tolist() == [zeros, ones, zeros, ones]
    torch.manual_seed(1)
    fake = src.fake(5, torch.device("cpu"))
    torch.manual_seed(1)
    assert torch.equal(fake, torch.multinomial(src.counts.float(), 5, replacement=True))
    torch.manual_seed(1)
    assert torch.equal(src.generate(5, torch.tensor([9] * 5), torch.device("cpu")), fake)  # users pass no labels
    assert src.conditional is False


def test_label_source_follows_the_config_and_builds_the_nets_it_conditions():
    data = digits(n=20)
    cfg = load_config("gan-mnist-fast", ["model.clusters=3", "net.width=8"])
    src = label_source(cfg, data)
    assert isinstance(src, ClusterLabels) and src.k == 3
    G, D = src.build_nets(cfg.net, data)
    assert G.fc.in_features == cfg.net.z_dim + 3  # conditional on the 3 clusters, not the 10 classes
    assert isinstance(label_source(load_config("cdcgan-mnist"), data), ClassLabels)
    assert isinstance(label_source(load_config("dcgan-mnist"), data), NoLabels)
    with pytest.raises(GankitError, match=r"config key 'model.clusters' \(21\) exceeds the dataset's 20 examples"):
        label_source(load_config("gan-mnist-fast", ["model.clusters=21"]), data)


def test_gan_step_conditions_real_and_fake_batches_as_its_source_says():
    """Whatever the source answers is what G and D see: the real batch and the D step's fakes
    take ``real(x, y)``, the G step's fresh fakes take ``fake(n)``."""
    cfg = load_config("cdcgan-mnist", ["net.width=4", "net.dense=8", "data.batch_size=4", "model.reuse_fake=false",
                                       "objective.flip=0"])
    data = digits()
    torch.manual_seed(0)
    model = build_model(cfg, data)
    for_real, for_fake = torch.tensor([3, 3, 1, 2]), torch.tensor([9, 8, 7, 6])
    model.labels.real = lambda x, y: for_real
    model.labels.fake = lambda n, device: for_fake[:n]
    seen = {"G": [], "D": []}
    for name in seen:
        getattr(model, name).register_forward_pre_hook(lambda m, args, name=name: seen[name].append(args[1]))
    model.train_step(Batches(data, 4, seed=0), 0)
    assert [y.tolist() for y in seen["G"]] == [for_real.tolist(), for_fake.tolist()]  # D step's fakes, G step's
    assert [y.tolist() for y in seen["D"]] == [for_real.tolist()] * 2 + [for_fake.tolist()]  # real, fake; G step


# ------------------------------------------------------------------ stabilisers wired by Model
class NoCritic(Model):
    """A family with a generator and no discriminator (tests only)."""

    def build(self):
        self.G = nn.Linear(8, 784)
        self.add_optimizer("g", self.G.parameters(), self.cfg.optim.g)


class BareCritic(NoCritic):
    """A family that scores D itself instead of through Model.critic (tests only)."""

    def build(self):
        super().build()
        self.D = nn.Linear(784, 1)

    def train_step(self, batches, step):
        return {"d": self.D(batches.next()[0].flatten(1)).mean()}


def test_a_family_without_d_refuses_diffaug_in_one_line():
    cfg = tiny_cfg(model={"diffaug": "translation"})
    with pytest.raises(GankitError) as err:
        NoCritic(cfg, digits())
    assert str(err.value) == "config key 'model.diffaug' augments a discriminator's inputs; the gan family has no D"
    assert NoCritic(tiny_cfg(model={"ema": 0.9}), digits()).G_ema is not None  # EMA: it has a G


def test_a_family_that_scores_d_around_model_critic_is_refused_at_its_first_step():
    data = digits()
    model = BareCritic(tiny_cfg(model={"diffaug": "translation"}), data)
    model.train_step(Batches(data, 4, seed=0), 0)
    with pytest.raises(GankitError) as err:
        model.on_step_end(1)
    assert "\n" not in str(err.value) and str(err.value).startswith("config key 'model.diffaug' is not wired")


class Counting:
    """Wraps an augmentation and counts its calls."""

    def __init__(self, augment):
        self.augment, self.calls = augment, 0

    def __call__(self, x):
        self.calls += 1
        return self.augment(x)


@pytest.mark.parametrize("preset", ["dcgan-mnist", "binarygan-mlp-dbn", "dwgan-mnist-binary"])
def test_every_family_with_a_d_scores_it_through_model_critic(preset):
    """One step of each family that has a D, DiffAugment on: the augmentation runs, nothing is refused."""
    import dataclasses

    from gankit.data import load_dataset

    cfg = load_config(preset, ["model.diffaug=translation", "data.batch_size=4", "model.n_critic=1"])
    data = load_dataset(cfg.data)
    data = dataclasses.replace(data, x=data.x[:16], y=data.y[:16])
    torch.manual_seed(0)
    model = build_model(cfg, data)
    model.augment = Counting(model.augment)
    model.train_step(Batches(data, 4, seed=0), 0)
    model.on_step_end(1)
    assert model.augment.calls >= 2  # the real and the fake batch at least


# ------------------------------------------------------------------ LR schedulers
def rates(model, steps):
    """The rate of each optimizer for generator steps 0..steps-1 (what on_step_end leaves)."""
    out = {name: [] for name in model.optimizers()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns that no optimizer step came before the first scheduler step
        for t in range(steps):
            for name, opt in model.optimizers().items():
                out[name].append(opt.param_groups[0]["lr"])
            model.on_step_end(t + 1)
    return out


def test_schedulers_give_the_hand_computed_rates():
    cfg = tiny_cfg(optim={"g": {"lr": 1e-3, "warmup": 4, "schedule": "cosine", "decay_steps": 12},
                          "d": {"lr": 2e-3, "schedule": "linear", "decay_steps": 10}})
    model = build_model(cfg, digits())
    r = rates(model, 14)
    # warm-up (t+1)/4, then cosine over steps 4..12: 1 at t=4, 1/2 at t=8, 0 from t=12
    assert r["g"][:5] == pytest.approx([0.25e-3, 0.5e-3, 0.75e-3, 1e-3, 1e-3])
    assert r["g"][6] == pytest.approx(1e-3 * 0.5 * (1 + math.cos(math.pi / 4)))
    assert r["g"][8] == pytest.approx(0.5e-3) and r["g"][12] == pytest.approx(0.0, abs=1e-18)
    # linear from 2e-3 at t=0 to 0 at t=10, then 0
    assert r["d"][0] == 2e-3 and r["d"][5] == pytest.approx(1e-3) and r["d"][10:] == [0.0] * 4
    # the very floats of the former hand-rolled schedule, lr * lr_factor(cfg, t, total), every step
    for name, total in (("g", 12), ("d", 10)):
        opt_cfg = getattr(cfg.optim, name)
        assert r[name] == [opt_cfg.lr * lr_factor(opt_cfg, t, total) for t in range(14)]


def test_lr_decay_multiplies_the_rate_after_every_step():
    cfg = tiny_cfg(optim={"g": {"name": "sgd", "lr": 0.1, "lr_decay": 0.5}})
    model = build_model(cfg, digits())
    r = rates(model, 4)
    assert r["g"] == [0.1, 0.05, 0.025, 0.0125]  # powers of two: exact
    assert r["d"] == [1e-4] * 4 and list(model.schedulers) == ["g"]  # a constant rate has no scheduler


def test_scheduler_state_goes_through_a_checkpoint(tmp_path):
    """extra_state holds each scheduler's state; saved and loaded with weights_only into a fresh
    model (with the optimizers' state, as the loop does) it goes on with the same rates."""
    cfg = tiny_cfg(optim={"g": {"lr": 1e-3, "warmup": 3, "schedule": "cosine"}, "d": {"lr_decay": 0.9}})
    a = build_model(cfg, digits())
    rates(a, 5)
    path = tmp_path / "state.pt"
    torch.save({"extra": a.extra_state(), "optim": {k: o.state_dict() for k, o in a.optimizers().items()}}, path)
    state = torch.load(path, weights_only=True)
    assert state["extra"]["lr_schedulers"]["g"]["last_epoch"] == 5
    b = build_model(cfg, digits())
    for k, o in b.optimizers().items():
        o.load_state_dict(state["optim"][k])
    b.load_extra_state(state["extra"])
    assert rates(b, 7) == rates(a, 7)
    fresh = build_model(cfg, digits())
    with pytest.raises(GankitError, match="no state of the learning-rate scheduler of optimizer 'g'"):
        fresh.load_extra_state({})


# ------------------------------------------------------------------ discovery
def test_packages_import_every_module_they_hold():
    import pkgutil
    import sys

    import gankit.data
    import gankit.models
    import gankit.nets

    for pkg in (gankit.data, gankit.models, gankit.nets):
        for m in pkgutil.iter_modules(pkg.__path__):
            assert f"{pkg.__name__}.{m.name}" in sys.modules
