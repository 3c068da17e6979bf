"""The digit-gans / guide objectives against hand computations."""
import math
import pytest

import torch
from torch import nn

from gankit import losses


def test_bce_d_loss_hand_values():
    real = torch.tensor([0.0])  # D = 0.5
    fake = torch.tensor([math.log(3.0)])  # D = 0.75
    got = losses.bce_d_loss(real, fake).item()
    assert math.isclose(got, -math.log(0.5) - math.log(0.25), rel_tol=1e-6)


def test_smoothed_real_target():
    real, fake = torch.tensor([2.0]), torch.tensor([-50.0])
    s = 1 / (1 + math.exp(-2.0))
    want = -(0.9 * math.log(s) + 0.1 * math.log(1 - s))
    got = losses.bce_d_loss(real, fake, 0.9, 0.0).item()
    assert math.isclose(got, want, rel_tol=1e-4)


def test_generator_losses_hand_values():
    logits = torch.tensor([0.0, math.log(3.0)])  # D = 0.5, 0.75
    assert math.isclose(losses.ns_g_loss(logits).item(), (-math.log(0.5) - math.log(0.75)) / 2, rel_tol=1e-6)
    assert math.isclose(losses.minimax_g_loss(logits).item(), (math.log(0.5) + math.log(0.25)) / 2, rel_tol=1e-6)
    out = torch.tensor([1.0, 3.0])
    assert losses.wasserstein_g_loss(out).item() == -2.0
    assert losses.wasserstein_d_loss(torch.tensor([5.0, 7.0]), out).item() == 2.0 - 6.0


def test_label_flip_swaps_targets():
    rt, ft = losses.smoothed_targets(1000, 0.9, 0.1, flip=1.0, device="cpu")
    assert torch.all(rt == 0.1) and torch.all(ft == 0.9)
    torch.manual_seed(0)
    rt, ft = losses.smoothed_targets(20000, 1.0, 0.0, flip=0.05, device="cpu")
    assert abs((rt == 0).float().mean().item() - 0.05) < 0.01
    assert torch.equal(rt + ft, torch.ones_like(rt))


class Linear(nn.Module):
    def __init__(self, w):
        super().__init__()
        self.w = nn.Parameter(torch.tensor(w))

    def forward(self, x, y=None):
        return x.flatten(1) @ self.w


def test_gradient_penalty_linear_critic():
    # D(x) = w.x has gradient w everywhere: penalty = (||w|| - 1)^2 = (5 - 1)^2
    D = Linear([3.0, 4.0])
    real, fake = torch.randn(8, 2), torch.randn(8, 2)
    assert math.isclose(losses.gradient_penalty(D, real, fake).item(), 16.0, rel_tol=1e-5)


def test_gradient_penalty_quadratic_critic_uses_interpolates():
    class Quad(nn.Module):
        def forward(self, x, y=None):
            return (x ** 2).sum(1)

    real = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    fake = torch.tensor([[0.0, 0.0], [0.0, 0.0]])
    eps = torch.tensor([[0.5], [0.25]])
    # x_hat = eps*real: (0.5, 0) and (0, 0.5); grad = 2 x_hat -> norms 1.0 and 1.0
    assert losses.gradient_penalty(Quad(), real, fake, eps=eps).item() < 1e-10
    eps = torch.tensor([[1.0], [1.0]])  # grads (2,0), (0,4): ((2-1)^2 + (4-1)^2)/2 = 5
    assert math.isclose(losses.gradient_penalty(Quad(), real, fake, eps=eps).item(), 5.0, rel_tol=1e-6)


def test_wgan_clip_clamps_after_step():
    D = Linear([3.0, -0.001])
    obj = losses.OBJECTIVES.get("wgan-clip")(losses.ClipOptions(clip=0.01))
    obj.after_d_step(D)
    assert torch.allclose(D.w, torch.tensor([0.01, -0.001]))


def test_wgan_gp_objective_adds_weighted_penalty():
    D = Linear([3.0, 4.0])
    real, fake = torch.ones(4, 2), torch.zeros(4, 2)
    obj = losses.OBJECTIVES.get("wgan-gp")(losses.GPOptions(gp_weight=10.0))
    loss, logs = obj.d_loss(D, real, fake)
    assert math.isclose(loss.item(), (0.0 - 7.0) + 10.0 * 16.0, rel_tol=1e-5)
    assert math.isclose(logs["wdist"].item(), 7.0, rel_tol=1e-6)


def test_gradient_penalty_draws_one_eps_per_sample():
    """With eps drawn inside, each sample gets its own: a single eps for the batch gives another value."""
    class HalfSquare(nn.Module):
        def forward(self, x, y=None):
            return 0.5 * (x ** 2).sum(1)  # grad = x_hat, so ||grad|| = eps_i for real 1, fake 0

    real, fake = torch.ones(6, 1), torch.zeros(6, 1)
    torch.manual_seed(7)
    eps = torch.rand(6, 1)  # what a per-sample draw gives after this seed
    expected = ((eps[:, 0] - 1) ** 2).mean().item()
    torch.manual_seed(7)
    got = losses.gradient_penalty(HalfSquare(), real, fake).item()
    assert math.isclose(got, expected, rel_tol=1e-6)
    assert not math.isclose(got, ((eps[0, 0] - 1) ** 2).item(), rel_tol=1e-3)  # not one eps for all


def test_pairwise_dwgan_objective_by_hand():
    """dwgan.txt eq. 8 with a pairwise critic h(y, y') = sum(y - y'): the critic's loss is minus
    (mean h + lambda ||h||), G's loss is plus the same; G's loss needs the real batch."""
    class PairSum(nn.Module):
        def forward(self, real, fake):
            return (real - fake).sum(1)

    real = torch.tensor([[1.0, 2.0], [0.0, 3.0]])  # h = (3, 3) for fake = 0
    fake = torch.zeros(2, 2)
    obj = losses.OBJECTIVES.get("dwgan")(losses.PairwiseOptions(penalty=0.5))
    assert obj.pairwise and obj.critic
    loss, logs = obj.d_loss(PairSum(), real, fake)
    expected = 3.0 + 0.5 * math.sqrt(18.0)
    assert math.isclose(loss.item(), -expected, rel_tol=1e-6) and math.isclose(logs["h_d"].item(), expected, rel_tol=1e-6)
    g, _ = obj.g_loss(PairSum(), fake, real=real)
    assert math.isclose(g.item(), expected, rel_tol=1e-6)
    with pytest.raises(ValueError, match="real batch"):
        obj.g_loss(PairSum(), fake)
