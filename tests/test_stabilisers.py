"""Issue 17's stabilisers, each against a hand computation: hinge and relativistic losses,
R1/R2, DiffAugment (translation, cutout; binary-safe), spectral norm for any net, EMA in every
family, learning-rate warm-up and decay; and the one-line errors of their options."""
import math

import pytest
import torch
from torch import nn

import tinynet  # noqa: F401  (registers the tiny-bn-test net)
from gankit.catalogue import build_config
from gankit.errors import GankitError
from gankit.layers.augment import DiffAugment, cutout, cutout_mask, random_shift
from gankit.losses import (Hinge, PenaltyOptions, RelativisticPairing, hinge_d_loss, relativistic_d_loss,
                           relativistic_g_loss, zero_centered_penalty)
from gankit.models.base import lr_factor
from gankit.training.checkpoint import Checkpoints
from gankit.training.loop import train


class Linear1(nn.Module):
    """D(x) = sum_j w_j x_j: its input gradient is w for every sample."""

    def __init__(self, w):
        super().__init__()
        self.w = nn.Parameter(torch.tensor(w))

    def forward(self, x, y=None):
        return (x.flatten(1) * self.w).sum(1)


# ------------------------------------------------------------------ losses
def test_hinge_d_loss_by_hand():
    real, fake = torch.tensor([0.5, 2.0]), torch.tensor([-2.0, 0.3])
    # real: max(0, 0.5) + max(0, -1) = 0.5 -> mean 0.25; fake: max(0, -1) + max(0, 1.3) -> mean 0.65
    assert hinge_d_loss(real, fake).item() == pytest.approx(0.25 + 0.65)


def test_relativistic_losses_by_hand():
    real, fake = torch.tensor([1.0, -0.5]), torch.tensor([0.0, 0.5])
    sp = lambda v: math.log1p(math.exp(v))  # noqa: E731
    assert relativistic_d_loss(real, fake).item() == pytest.approx((sp(0 - 1) + sp(0.5 + 0.5)) / 2)
    assert relativistic_g_loss(real, fake).item() == pytest.approx((sp(1 - 0) + sp(-0.5 - 0.5)) / 2)


def test_zero_centered_penalty_is_the_squared_input_gradient():
    D = Linear1([1.0, -2.0, 2.0])
    x = torch.randn(5, 3)
    assert zero_centered_penalty(D, x).item() == pytest.approx(1 + 4 + 4)

    class Square(nn.Module):  # D(x) = sum x^2: gradient 2x, penalty mean_i ||2 x_i||^2
        def forward(self, x, y=None):
            return (x ** 2).sum(1)

    x = torch.tensor([[1.0, 2.0], [0.0, -1.0]])
    assert zero_centered_penalty(Square(), x).item() == pytest.approx((4 * 5 + 4 * 1) / 2)


def test_hinge_objective_adds_r1_and_r2_halves():
    D = Linear1([1.0, -2.0, 2.0])  # ||grad||^2 = 9 everywhere
    real, fake = torch.randn(4, 3), torch.randn(4, 3)
    plain, _ = Hinge(PenaltyOptions(name="hinge")).d_loss(D, real, fake)
    loss, logs = Hinge(PenaltyOptions(name="hinge", r1=0.2, r2=0.1)).d_loss(D, real, fake)
    assert loss.item() == pytest.approx(plain.item() + 0.1 * 9 + 0.05 * 9)
    assert logs["r1"].item() == pytest.approx(9) and logs["r2"].item() == pytest.approx(9)
    g, _ = Hinge(PenaltyOptions(name="hinge")).g_loss(D, fake)
    assert g.item() == pytest.approx(-D(fake).mean().item())
    # the penalty trains D: its gradient reaches the weights (d/dw of r1/2 ||w||^2 = r1 w)
    D.zero_grad()
    Hinge(PenaltyOptions(name="hinge", r1=1.0)).d_loss(D, real, fake)[0].backward()
    D2 = Linear1([1.0, -2.0, 2.0])
    Hinge(PenaltyOptions(name="hinge")).d_loss(D2, real, fake)[0].backward()
    torch.testing.assert_close(D.w.grad - D2.w.grad, D.w.detach())


def test_rpgan_pairs_each_fake_with_a_real_and_needs_it():
    D = Linear1([1.0, 1.0])
    real, fake = torch.tensor([[1.0, 0.0], [0.0, 0.0]]), torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    obj = RelativisticPairing(PenaltyOptions(name="rpgan"))
    d, _ = obj.d_loss(D, real, fake)
    assert d.item() == pytest.approx(relativistic_d_loss(torch.tensor([1.0, 0.0]), torch.tensor([0.0, 2.0])).item())
    g, _ = obj.g_loss(D, fake, real=real)
    assert g.item() == pytest.approx(relativistic_g_loss(torch.tensor([1.0, 0.0]), torch.tensor([0.0, 2.0])).item())
    with pytest.raises(ValueError, match="real batch"):
        obj.g_loss(D, fake)


# ------------------------------------------------------------------ DiffAugment
def test_cutout_mask_is_the_square_around_its_centre():
    m = cutout_mask(2, 5, 5, 2, "cpu", centers=torch.tensor([[2, 0], [3, 0]]))
    expect0 = torch.zeros(5, 5, dtype=torch.bool)
    expect0[1:3, 2:4] = True  # side 2 starts at centre - 1
    expect1 = torch.zeros(5, 5, dtype=torch.bool)
    expect1[0:1, 0:1] = True  # clipped by the top-left border
    assert torch.equal(m[0, 0], expect0) and torch.equal(m[1, 0], expect1)


def test_cutout_fills_one_square_with_the_background():
    torch.manual_seed(0)
    x = torch.ones(50, 1, 8, 8)
    out = cutout(x, 4, background=0.0)
    erased = (out == 0).flatten(1).sum(1)
    assert erased.max() == 16 and erased.min() >= 4  # a full square, or one clipped to >= 2x2
    assert set(out.unique().tolist()) <= {0.0, 1.0}


def test_translation_moves_by_at_most_the_shift_and_keeps_binary_values():
    torch.manual_seed(1)
    x = torch.zeros(64, 1, 28, 28)
    x[:, :, 14, 14] = 1.0  # one lit pixel per image
    aug = DiffAugment(("translation",), shift=0.125, cutout=0.5, background=0.0)  # 28/8 = 3.5 -> 4 px
    out = aug(x)
    rows, cols = (out[:, 0] == 1).nonzero()[:, 1], (out[:, 0] == 1).nonzero()[:, 2]
    assert len(rows) == 64  # the pixel never leaves the image at this shift
    assert (rows - 14).abs().max() <= 4 and (cols - 14).abs().max() <= 4
    assert (rows != 14).any() and (cols != 14).any()
    both = DiffAugment(("translation", "cutout"), 0.125, 0.5, 0.0)(torch.bernoulli(torch.full((32, 1, 28, 28), 0.3)))
    assert set(both.unique().tolist()) <= {0.0, 1.0}


def test_augmentation_passes_gradients_to_the_kept_pixels():
    torch.manual_seed(2)
    x = torch.randn(4, 1, 6, 6, requires_grad=True)
    out = random_shift(x, 2, background=-1.0)
    out.sum().backward()
    # each input pixel that is still in the image gets gradient 1, the shifted-out ones 0
    assert set(x.grad.unique().tolist()) <= {0.0, 1.0}
    assert x.grad.sum().item() == (out != -1.0).sum().item()  # randn never draws exactly -1


# ------------------------------------------------------------------ schedules
def test_lr_factor_by_hand():
    from gankit.config import OptimConfig

    warm = OptimConfig(warmup=4)
    assert [lr_factor(warm, t, 100) for t in range(6)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    lin = OptimConfig(schedule="linear")
    assert [lr_factor(lin, t, 4) for t in range(4)] == [1.0, 0.75, 0.5, 0.25]
    cos = OptimConfig(schedule="cosine", warmup=2)
    assert lr_factor(cos, 2, 12) == pytest.approx(1.0) and lr_factor(cos, 7, 12) == pytest.approx(0.5)
    assert lr_factor(cos, 12, 12) == pytest.approx(0.0, abs=1e-12)
    # warm-up, stable, decay: held at 1 through step 5, then linear over steps 6..9 of 10
    wsd = OptimConfig(schedule="linear", warmup=2, decay_start=6)
    assert [lr_factor(wsd, t, 10) for t in range(11)] == [0.5, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.75, 0.5, 0.25, 0.0]
    # a decay_start inside the warm-up changes nothing: the decay starts where the warm-up ends
    assert [lr_factor(OptimConfig(schedule="linear", warmup=2, decay_start=1), t, 4) for t in range(4)] == \
        [lr_factor(OptimConfig(schedule="linear", warmup=2), t, 4) for t in range(4)]


def test_decay_start_needs_a_decay():
    from gankit.catalogue import load_config

    with pytest.raises(GankitError, match="optim.g.decay_start"):
        load_config("gan-mnist-fast", ["optim.g.decay_start=100"])
    with pytest.raises(GankitError, match="optim.d.decay_start"):
        load_config("gan-mnist-fast", ["optim.d.schedule=linear", "optim.d.decay_start=-1"])
    cfg = load_config("gan-mnist-fast", ["optim.d.schedule=linear", "optim.d.decay_start=100"])
    assert cfg.optim.d.decay_start == 100


# ------------------------------------------------------------------ runs
def tiny(model=None, objective=None, net=None, optim=None, steps=6, **train_keys):
    raw = {"model": {"family": "gan", **(model or {})}, "objective": objective or {"name": "ns"},
           "net": {"name": "tiny-bn-test", "z_dim": 8, "hidden": 16, **(net or {})},
           "data": {"name": "mnist", "batch_size": 16}, "optim": optim or {},
           "train": {"steps": steps, "log_every": 2, "sample_every": 100, "ckpt_every": 3, "eval_samples": 100,
                     "tensorboard": False, "seed": 5, **train_keys}}
    return build_config(raw, "tiny")


def test_schedule_sets_each_steps_rate(tmp_path, cache_dir):
    cfg = tiny(optim={"g": {"lr": 1e-3, "warmup": 8}, "d": {"lr": 2e-3, "schedule": "linear", "decay_steps": 8}},
               steps=6, ckpt_every=3)
    train(cfg, tmp_path / "r", cache_dir=cache_dir)
    # after 3 and 6 steps the next step (index 3, 6) runs at lr * factor(3), factor(6)
    for step, ckpt in ((3, "step_00000003.pt"), (6, "step_00000006.pt")):
        state = torch.load(tmp_path / "r" / "checkpoints" / ckpt, weights_only=True)
        assert state["optim"]["g"]["param_groups"][0]["lr"] == pytest.approx(1e-3 * (step + 1) / 8)
        assert state["optim"]["d"]["param_groups"][0]["lr"] == pytest.approx(2e-3 * (1 - step / 8))
        # torch's schedulers, their state in the checkpoint: ``step`` steps taken
        assert {k: v["last_epoch"] for k, v in state["extra"]["lr_schedulers"].items()} == {"g": step, "d": step}


def test_all_stabilisers_on_resume_bit_exactly(tmp_path, cache_dir):
    """hinge+R1, DiffAugment, SN on a net without it, EMA, warm-up/cosine, the pixel-marginal
    term: 6 steps in one go equal 3 steps, a stop and a resume."""
    kw = dict(model={"ema": 0.9, "diffaug": "translation,cutout", "pixel_marginal": 10.0},
              objective={"name": "rpgan", "r1": 1.0, "r2": 1.0},
              net={"d_spectral_norm": True}, optim={"g": {"warmup": 2, "schedule": "cosine", "decay_steps": 6}})
    full, part = tmp_path / "full", tmp_path / "part"
    train(tiny(**kw, steps=6), full, cache_dir=cache_dir)
    train(tiny(**kw, steps=3), part, cache_dir=cache_dir)
    (part / "config.yaml").write_text(tiny(**kw, steps=6).to_yaml())
    train(tiny(**kw, steps=6), part, resume=True, cache_dir=cache_dir)
    a = Checkpoints(full / "checkpoints").load_latest()["model"]
    b = Checkpoints(part / "checkpoints").load_latest()["model"]
    assert a.keys() == b.keys() and any(k.startswith("G_ema.") for k in a)
    assert any("parametrizations.weight" in k for k in a if k.startswith("D."))
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_spectral_norm_for_any_net_bounds_each_weight():
    from gankit.catalogue import load_all
    from gankit.data import load_dataset
    from gankit.nets import build_nets, spectral_normalize

    load_all()
    cfg = build_config({"net": {"name": "dcgan-mnist", "d_spectral_norm": True}}, "x")
    data = load_dataset(cfg.data)
    _, D = build_nets(cfg.net, data)
    layers = [m for m in D.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert layers and all(hasattr(m, "parametrizations") for m in layers)
    D.train()
    for _ in range(30):  # power iterations converge in training mode
        D(torch.randn(4, *data.shape))
    D.eval()
    for m in layers:
        w = m.weight.flatten(1)
        assert torch.linalg.matrix_norm(w, ord=2).item() == pytest.approx(1.0, rel=0.05)
    assert spectral_normalize(D) == 0  # never a second time (SNGAN's tables have it built in)


@pytest.mark.parametrize("preset", ["binarygan-mlp-dbn", "dwgan-mnist-binary", "sae-mnist"])
def test_every_family_samples_from_its_ema(preset, tmp_path, cache_dir):
    from gankit.catalogue import load_config
    from gankit.training.run import open_run

    cfg = load_config(preset, ["model.ema=0.5", "train.steps=3", "train.eval_samples=100", "train.tensorboard=false",
                               "train.sample_every=100"])
    train(cfg, tmp_path / "r", cache_dir=cache_dir)
    model = open_run(tmp_path / "r").model
    assert model.G_ema is not None and model.sampler is model.G_ema
    assert any(not torch.equal(a, b) for a, b in zip(model.G_ema.parameters(), model.G.parameters()))
    calls = {"G": 0, "G_ema": 0}
    for name in calls:
        getattr(model, name).register_forward_pre_hook(lambda m, i, name=name: calls.__setitem__(name, calls[name] + 1))
    model.generate(4)
    assert calls["G_ema"] >= 1 and calls["G"] == 0  # samples come from the average only


@pytest.mark.parametrize("raw, key", [
    ({"model": {"diffaug": "rotate"}}, "model.diffaug"),
    ({"model": {"diffaug_shift": 2.0}}, "model.diffaug_shift"),
    ({"model": {"ema": -0.1}}, "model.ema"),
    ({"model": {"pixel_marginal": -1.0}}, "model.pixel_marginal"),
    ({"model": {"pixel_marginal": float("inf")}}, "model.pixel_marginal"),
    ({"model": {"top_k": 1.5}}, "model.top_k"),
    ({"model": {"top_k": -0.1}}, "model.top_k"),
    ({"model": {"top_k": 0.5, "top_k_decay": 0.0}}, "model.top_k_decay"),
    ({"model": {"top_k": 0.5}, "objective": {"name": "rpgan"}}, "model.top_k"),
    ({"objective": {"name": "hinge", "r1": -1.0}}, "objective.r1"),
    ({"objective": {"name": "rpgan", "r2": float("nan")}}, "objective.r2"),
    ({"objective": {"name": "ns", "r1": float("inf")}}, "objective.r1"),
    ({"optim": {"g": {"schedule": "step"}}}, "optim.g.schedule"),
    ({"optim": {"d": {"warmup": -1}}}, "optim.d.warmup"),
    ({"optim": {"g": {"schedule": "cosine", "lr_decay": 0.99}}}, "optim.g.lr_decay"),
    ({"model": {"family": "sae", "diffaug": "cutout"}, "net": {"name": "sae-dcgan"}}, "model.diffaug"),
])
def test_stabiliser_options_out_of_range_name_their_key(raw, key):
    with pytest.raises(GankitError, match=key.replace(".", r"\.")):
        build_config(raw, "x")


def test_marginal_w2_pairs_pixel_values_by_rank_by_hand():
    from gankit.models.tricks import marginal_w2

    fake = torch.tensor([[[[0.0, 3.0]]], [[[2.0, 1.0]]]], requires_grad=True)  # [2, 1, 1, 2]: 0 1 2 3 by rank
    target = torch.tensor([[0.0, 0.0, 1.0, 3.0]])  # sorted; 4 values: the k-th pairs with the k-th
    w2 = marginal_w2(fake, target)
    assert w2.item() == pytest.approx((0 + 1 + 1 + 0) / 4)  # pairs (0,0) (1,0) (2,1) (3,3)
    w2.backward()  # d/dv of mean (v - partner)^2 = 2 (v - partner) / 4, at v's place
    assert torch.allclose(fake.grad.flatten(), torch.tensor([0.0, 0.0, 0.5, 0.5]))
    # a longer target is read at the ranks' mid-quantiles: 2 values of 8 pair with entries 2 and 6
    two = torch.tensor([5.0, 1.0]).view(2, 1, 1, 1)
    assert marginal_w2(two, torch.arange(8.0)[None]).item() == pytest.approx(((1 - 2) ** 2 + (5 - 6) ** 2) / 2)
    # two channels: each channel's values against its own target, the two distances averaged
    a = torch.tensor([[[[1.0]], [[5.0]]], [[[0.0]], [[4.0]]]])  # channel 0: 0 1, channel 1: 4 5
    targets = torch.tensor([[0.0, 0.0], [6.0, 6.0]])
    assert marginal_w2(a, targets).item() == pytest.approx(((0 + 1) / 2 + (4 + 1) / 2) / 2)
    with pytest.raises(ValueError, match=r"\[N, 2, H, W\]"):
        marginal_w2(torch.zeros(2, 1, 2, 2), targets)


def test_pixel_marginal_adds_its_weighted_distance_to_g_loss_or_nothing():
    from gankit.models.tricks import PixelMarginal, marginal_w2

    data = torch.rand(50, 1, 3, 3)
    fake = torch.rand(4, 1, 3, 3)
    loss = torch.tensor(0.7)
    off = PixelMarginal(0.0, data)
    same, logs = off(loss, {"a": 1}, fake)
    assert same is loss and logs == {"a": 1} and off.quantiles is None
    on = PixelMarginal(5.0, data, images=20)  # the target: the sorted values of 20 of the 50 images
    assert on.quantiles.shape == (1, 20 * 9) and torch.all(on.quantiles[0, 1:] >= on.quantiles[0, :-1])
    assert torch.equal(on.quantiles, PixelMarginal(5.0, data, images=20).quantiles)  # a fixed choice
    out, logs = on(loss, {"a": 1}, fake)
    assert out.item() == pytest.approx(0.7 + 5.0 * marginal_w2(fake, on.quantiles).item())
    assert logs["a"] == 1 and logs["pixel_w2"].item() == pytest.approx(marginal_w2(fake, on.quantiles).item())


def test_top_k_keeps_the_fakes_d_scores_highest_by_hand():
    """Sinha et al. 2020: G's loss on the k best-scored fakes; k = max(floor, decay^epochs) x batch."""
    from gankit.models.tricks import TopK

    scores = torch.tensor([0.3, -1.0, 2.0, 0.1, -0.5, 1.2, 0.0, 0.7])
    fake = torch.zeros(8, 1, requires_grad=True)

    def critic(x, y=None):  # D's score of each fake: a fixed number plus the fake's value
        return scores + x[:, 0]

    top = TopK(0.5, 0.8)
    assert top.fraction() == 1.0  # epoch 0: the whole batch
    top.epochs = 2
    assert top.fraction() == pytest.approx(0.64)
    top.epochs = 10
    assert top.fraction() == 0.5  # 0.8^10 = 0.107: held at the floor
    hinge = Hinge(PenaltyOptions())
    loss, _ = hinge.g_loss(top(critic), fake)
    assert loss.item() == pytest.approx(-(2.0 + 1.2 + 0.7 + 0.3) / 4)  # the 4 highest of 8
    loss.backward()
    kept = torch.tensor([1, 0, 1, 0, 0, 1, 0, 1], dtype=torch.bool)
    assert torch.allclose(fake.grad[kept, 0], torch.full((4,), -0.25)) and torch.all(fake.grad[~kept] == 0)
    top.epochs = 2  # 0.64 x 8 = 5.12: k = 5
    loss, _ = hinge.g_loss(top(critic), fake)
    assert loss.item() == pytest.approx(-(2.0 + 1.2 + 0.7 + 0.3 + 0.1) / 5)
    off = TopK(0.0, 0.99)
    assert off(critic) is critic  # off: D as it is


def test_top_k_epochs_follow_the_batches_and_resume_bit_exactly(tmp_path, cache_dir):
    """The shrinking k follows the passes over the data: each step reads them from the batches
    (which checkpoints keep), and 24 steps in one go equal 12, a stop and a resume (10 steps an
    epoch: k moves twice)."""
    from gankit.data import load_dataset
    from gankit.data.base import Batches
    from gankit.models import build_model

    def cfg(steps):
        c = tiny(model={"top_k": 0.25, "top_k_decay": 0.5}, steps=steps, ckpt_every=12)
        c.data.batch_size = 500
        return c

    full, part = tmp_path / "full", tmp_path / "part"
    train(cfg(24), full, cache_dir=cache_dir)
    train(cfg(12), part, cache_dir=cache_dir)
    stopped = Checkpoints(part / "checkpoints").load_latest()
    assert stopped["batches"]["epoch"] == 1  # 12 steps of 10 an epoch
    (part / "config.yaml").write_text(cfg(24).to_yaml())
    train(cfg(24), part, resume=True, cache_dir=cache_dir)
    a, b = (Checkpoints(r / "checkpoints").load_latest() for r in (full, part))
    assert a["batches"]["epoch"] == b["batches"]["epoch"] == 2
    for key in a["model"]:
        assert torch.equal(a["model"][key], b["model"][key]), key
    # the step takes the count from its batches: after two passes k is the floor's quarter
    c = cfg(1)
    data = load_dataset(c.data)
    model = build_model(c, data)
    batches = Batches(data, c.data.batch_size, seed=0)
    batches.load_state_dict({**batches.state_dict(), "epoch": 2})
    model.train_step(batches, 0)
    assert model.top_k.epochs == 2 and model.top_k.fraction() == 0.25


def test_pixel_marginal_refuses_data_that_are_not_images(tmp_path, cache_dir):
    from gankit.catalogue import load_config

    cfg = load_config("gan-mnist-fast", ["data.name=tictactoe", "model.clusters=0", "model.pixel_marginal=1",
                                         "train.steps=1"])
    with pytest.raises(GankitError, match="model.pixel_marginal.*image"):
        train(cfg, tmp_path / "r", cache_dir=cache_dir)


@pytest.mark.slow
def test_pixel_marginal_run_brings_samples_pixel_values_to_the_data(tmp_path, cache_dir):
    """A short real run of gan-mnist-fast's recipe with and without ``model.pixel_marginal``:
    with it, G's samples' pixel values are nearer the training images' (squared W2 of the two
    marginals, 512 samples each), and the term is in the logged losses."""
    from gankit.catalogue import load_config
    from gankit.models.tricks import marginal_w2
    from gankit.training.run import open_run

    dist = {}
    for weight in (0, 100):
        cfg = load_config("gan-mnist-fast", ["model.clusters=10", "model.ema=0", "train.eval_samples=200",
                                             "train.tensorboard=false", "train.sample_every=1000",
                                             "train.log_every=20", "train.ckpt_every=60", "train.seconds=null",
                                             "train.seed=3", "train.steps=60", f"model.pixel_marginal={weight}"])
        run_dir = tmp_path / f"w{weight}"
        train(cfg, run_dir, cache_dir=cache_dir)
        run = open_run(run_dir)
        torch.manual_seed(0)
        data_values = run.data.x[:512].transpose(0, 1).flatten(1).sort(dim=1).values
        dist[weight] = marginal_w2(run.model.generate(512), data_values).item()
        assert ("pixel_w2" in (run_dir / "losses.csv").read_text().splitlines()[0]) == bool(weight)
    assert dist[100] < 0.7 * dist[0], dist  # measured 0.069 against 0.155


def test_diffaug_refuses_data_that_are_not_images(tmp_path, cache_dir):
    from gankit.catalogue import load_config

    cfg = load_config("wgan-ttt-3x3-2p", ["model.diffaug=translation", "train.steps=1"])
    with pytest.raises(GankitError, match="model.diffaug.*image"):
        train(cfg, tmp_path / "r", cache_dir=cache_dir)


def test_ema_batchnorm_statistics_follow_the_average():
    """refresh_batchnorm: one training-mode forward moves the running mean by momentum 0.1
    towards the batch mean of the average's own activations, and leaves it in eval mode."""
    from gankit.models.tricks import ema_update, has_batchnorm, refresh_batchnorm

    avg = nn.Sequential(nn.Linear(2, 2, bias=False), nn.BatchNorm1d(2)).eval()
    with torch.no_grad():
        avg[0].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 2.0]]))
    x = torch.tensor([[1.0, 1.0], [3.0, 5.0]])  # activations [[1, 2], [3, 10]]: batch mean [2, 6]
    refresh_batchnorm(avg, (x,))
    torch.testing.assert_close(avg[1].running_mean, torch.tensor([0.2, 0.6]))
    assert not avg.training and has_batchnorm(avg) and not has_batchnorm(avg[0])
    cur = nn.Sequential(nn.Linear(2, 2, bias=False), nn.BatchNorm1d(2))
    cur[1].running_mean.fill_(5.0)
    ema_update(avg, cur, 0.5, step=100, copy_buffers=False)  # the average keeps its own statistics
    torch.testing.assert_close(avg[1].running_mean, torch.tensor([0.2, 0.6]))
    ema_update(avg, cur, 0.5, step=100)
    torch.testing.assert_close(avg[1].running_mean, torch.full((2,), 5.0))


def test_info_codes_by_hand():
    from gankit.models.tricks import InfoCodes, info_codes_of, info_encode

    torch.manual_seed(0)
    info = InfoCodes(3, feature_dim=4)
    raw = torch.randn(6, 5)
    z = info_encode(raw, 3)
    assert torch.equal(z[:, :3].sum(1), torch.ones(6)) and set(z[:, :3].unique().tolist()) == {0.0, 1.0}
    assert torch.equal(z[:, 3:], raw[:, 3:])  # the rest of z is untouched noise
    c = info_codes_of(z, 3)
    assert torch.equal(z[torch.arange(6), c], torch.ones(6))
    feats = torch.randn(6, 4)
    logits = info.Q(feats)
    expected = -(logits.log_softmax(1)[torch.arange(6), c]).mean()
    assert info(feats, z).item() == pytest.approx(expected.item())


@pytest.mark.slow
def test_info_codes_train_q_and_resume_bit_exactly(tmp_path, cache_dir):
    """A short real run with InfoGAN codes: the code's cross entropy falls well below chance
    (ln 10) as G and Q learn; a stop plus a resume equals one run."""
    import csv

    from gankit.catalogue import load_config

    over = ["model.info_codes=10", "model.clusters=0", "net.cond_at=dense", "model.ema=0", "objective.name=ns", "net.d_spectral_norm=false",
            "optim.g.lr=2e-4", "optim.d.lr=2e-4", "train.eval_samples=100", "train.tensorboard=false",
            "train.sample_every=1000", "train.log_every=20", "train.ckpt_every=20", "train.seconds=null", "train.seed=1"]
    cfg = lambda steps: load_config("gan-mnist-fast", over + [f"train.steps={steps}"])  # noqa: E731
    long = tmp_path / "long"
    train(cfg(400), long, cache_dir=cache_dir)
    info = [float(r["info"]) for r in csv.DictReader(open(long / "losses.csv"))]
    assert info[0] > 2.0 and info[-1] < 0.5 * math.log(10), info  # chance is ln 10 = 2.30
    full, part = tmp_path / "full", tmp_path / "part"
    train(cfg(40), full, cache_dir=cache_dir)
    train(cfg(20), part, cache_dir=cache_dir)
    (part / "config.yaml").write_text(cfg(40).to_yaml())
    train(cfg(40), part, resume=True, cache_dir=cache_dir)
    a = Checkpoints(full / "checkpoints").load_latest()
    b = Checkpoints(part / "checkpoints").load_latest()
    assert "q" in b["optim"] and any(k.startswith("info.Q.") for k in b["model"])
    for key in a["model"]:
        assert torch.equal(a["model"][key], b["model"][key]), key


@pytest.mark.parametrize("over, key", [
    (["model.info_codes=1"], "model.info_codes"),
    (["model.info_codes=200"], "model.info_codes"),
    (["model.info_weight=-1"], "model.info_weight"),
])
def test_info_codes_bad_options(over, key):
    from gankit.catalogue import load_config

    with pytest.raises(GankitError, match=key.replace(".", r"\.")):
        load_config("gan-mnist-fast", ["model.clusters=0", *over])


@pytest.mark.parametrize("objective, expected", [("ns", True), ("minimax", True), ("wgan-gp", False),
                                                 ("wgan-clip", False), ("hinge", False), ("rpgan", False)])
def test_reuse_fake_defaults_to_what_the_objectives_algorithm_does(objective, expected):
    """model.reuse_fake unset: the guide's/digit-gans' Algorithm 1 reuses the D step's fakes for
    the BCE objectives; WGAN's, WGAN-GP's and the guide's Algorithm 2 draw a fresh G batch. The
    resolved value is what config.yaml records; an explicit value stays."""
    cfg = build_config({"model": {"family": "gan"}, "objective": {"name": objective}}, "x")
    assert cfg.model.reuse_fake is expected and f"reuse_fake: {str(expected).lower()}" in cfg.to_yaml()
    pinned = build_config({"model": {"family": "gan", "reuse_fake": not expected}, "objective": {"name": objective}}, "x")
    assert pinned.model.reuse_fake is (not expected)
