"""practical-gan-guide.txt: minibatch discrimination, VBN, conditioning, the adaptive critic
schedule and the section-4 tricks, each against a hand computation."""
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gankit.catalogue import load_config
from gankit.data.base import Batches, Dataset
from gankit.errors import GankitError
from gankit.layers.minibatch import MinibatchDiscrimination
from gankit.layers.vbn import VirtualBatchNorm, reference_pass
from gankit.models import build_model
from gankit.nets.guide import label_channels


def tiny_data(n=64, shape=(1, 28, 28)):
    g = torch.Generator().manual_seed(0)
    return Dataset("mnist", torch.rand(n, *shape, generator=g) * 2 - 1, torch.arange(n) % 10, num_classes=10)


def tiny_model(preset, *overrides, data=None):
    cfg = load_config(preset, ["net.width=4", "net.dense=16", "data.batch_size=8", *overrides])
    torch.manual_seed(0)
    return build_model(cfg, data or tiny_data())


def test_minibatch_discrimination_matches_hand_computation():
    layer = MinibatchDiscrimination(2, num_kernels=2, kernel_dim=2)
    with torch.no_grad():  # M_i = f_i @ T, viewed as B=2 rows of C=2
        layer.T.copy_(torch.tensor([[1.0, 0.0, 2.0, 0.0], [0.0, 1.0, 0.0, -1.0]]))
    f = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    # M rows: sample 0: b1=(0,0) b2=(0,0); sample 1: b1=(1,0) b2=(2,0); sample 2: b1=(0,2) b2=(0,-2)
    # L1 distances b1: d01=1 d02=2 d12=3; b2: d01=2 d02=2 d12=4; o_ib = sum_j exp(-d_ij) (d_ii=0)
    e = math.exp
    expected_o = torch.tensor([
        [1 + e(-1) + e(-2), 1 + e(-2) + e(-2)],
        [e(-1) + 1 + e(-3), e(-2) + 1 + e(-4)],
        [e(-2) + e(-3) + 1, e(-2) + e(-4) + 1],
    ])
    out = layer(f)
    assert out.shape == (3, 4) and layer.out_features == 4
    assert torch.equal(out[:, :2], f)
    assert torch.allclose(out[:, 2:], expected_o, atol=1e-6)


def test_vbn_normalises_reference_batch_and_uses_the_union():
    torch.manual_seed(0)
    vbn = VirtualBatchNorm(3)
    ref = torch.randn(16, 3, 4, 4) * 2.5 + 4.0
    with reference_pass(vbn):
        out = vbn(ref)
    assert torch.allclose(out.mean((0, 2, 3)), torch.zeros(3), atol=1e-5)
    assert torch.allclose(out.var((0, 2, 3), unbiased=False), torch.ones(3), atol=1e-3)
    cur = torch.randn(8, 3, 4, 4) - 3.0
    union = torch.cat([ref, cur])
    mu, var = union.mean((0, 2, 3), keepdim=True), union.var((0, 2, 3), unbiased=False, keepdim=True)
    assert torch.allclose(vbn(cur), (cur - mu) / torch.sqrt(var + vbn.eps), atol=1e-5)
    with pytest.raises(RuntimeError):
        VirtualBatchNorm(3)(cur)  # no reference pass yet


def test_vbn_generator_keeps_its_reference_noise():
    model = tiny_model("cdcgan-mnist-vbn")
    ref = model.G.ref_z.clone()
    model.train_step(Batches(model.data, 8, 0), 0)
    assert torch.equal(model.G.ref_z, ref) and "G.ref_z" in model.state_dict()


def test_label_channels_and_conditional_shapes():
    # the guide's 5.5 example: label [0, 0, 1, 0] on a 2x2 image -> channels 0, 0, ones, 0
    ch = label_channels(torch.tensor([2]), 4, 2, 2)
    assert ch.shape == (1, 4, 2, 2)
    assert torch.equal(ch[0, 2], torch.ones(2, 2)) and ch[0, [0, 1, 3]].abs().sum() == 0
    data = tiny_data(shape=(3, 32, 32))
    wgan = tiny_model("cwgangp-mnist", data=data)
    assert wgan.D.convs[0].in_channels == 3 + 10  # c + m channels at the critic input
    dcgan = tiny_model("cdcgan-mnist", data=data)
    assert dcgan.G.fc.in_features == 100 + 10  # z ++ one-hot c
    z, y = torch.randn(5, 100), torch.arange(5)
    x = dcgan.G(z, y)
    assert x.shape == (5, 3, 32, 32)
    assert dcgan.D(x, y).shape == (5,) and wgan.D(x, y).shape == (5,)
    with pytest.raises(GankitError):
        dcgan.G(z)  # a conditional generator without labels
    at_input = tiny_model("cdcgan-mnist", "net.cond_at=input")
    assert at_input.D.convs[0].in_channels == 1 + 10 and at_input.D(torch.zeros(2, 1, 28, 28), y[:2]).shape == (2,)


def test_d_width_sets_only_the_discriminators_convs():
    base = tiny_model("gan-mnist-fast", "model.clusters=0")
    wide = tiny_model("gan-mnist-fast", "model.clusters=0", "net.d_width=6")
    # G unchanged: the same shapes and, from the same seed, the same initial weights
    assert [p.shape for p in wide.G.parameters()] == [p.shape for p in base.G.parameters()]
    assert all(torch.equal(a, b) for a, b in zip(wide.G.parameters(), base.G.parameters()))
    convs = [m for m in wide.D.convs if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [6, 12, 24]  # d_width, 2x, 4x; width is 4
    assert wide.D.head.in_features == 24 * 4 * 4  # 28 -> 14 -> 7 -> 4
    critic = tiny_model("cwgangp-mnist", "net.d_width=6")
    assert [m.out_channels for m in critic.D.convs if isinstance(m, nn.Conv2d)] == [6, 12, 24]
    assert wide.D(torch.zeros(3, 1, 28, 28)).shape == (3,)
    with pytest.raises(GankitError, match="net.d_width"):
        tiny_model("gan-mnist-fast", "net.d_width=-1")


def test_d_norm_none_drops_only_the_discriminators_batch_norm():
    base = tiny_model("gan-mnist-fast", "model.clusters=0")
    plain = tiny_model("gan-mnist-fast", "model.clusters=0", "net.d_norm=none")
    assert sum(isinstance(m, nn.BatchNorm2d) for m in base.D.modules()) == 3  # after each conv (3.1.7)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in plain.D.modules())
    assert sum(isinstance(m, nn.BatchNorm2d) for m in plain.G.modules()) == 3  # G keeps its own
    # why it matters: with batch norm, D in training mode cannot tell a batch of first-conv
    # features from the same batch with each channel offset by a constant (what a batch of fakes
    # that all carry more ink shares); without it, it can. D after its first conv:
    h = torch.randn(8, 4, 14, 14)
    shift = torch.tensor([0.5, -0.3, 0.2, 1.0]).view(1, 4, 1, 1)
    for model, blind in ((base, True), (plain, False)):
        model.D.train()
        tail = model.D.convs[1:]  # norm (or not), LeakyReLU, conv 2, ...
        assert torch.allclose(tail(h), tail(h + shift), atol=1e-5) == blind
    with pytest.raises(GankitError, match="net.d_norm"):
        tiny_model("gan-mnist-fast", "net.d_norm=layer")
    with pytest.raises(GankitError, match="net.d_norm"):
        tiny_model("cwgangp-mnist", "net.d_norm=none")


def test_adaptive_critic_schedule():
    model = tiny_model("cwgangp-mnist", "model.n_critic=5", "model.critic_boost=100",
                       "model.critic_boost_first=100", "model.critic_boost_every=500")
    seq = [model.n_critic(s) for s in range(1201)]
    boosted = [s for s, k in enumerate(seq) if k == 100]
    assert boosted == list(range(100)) + [500, 1000]
    assert set(seq) == {5, 100}


def _d_loss_with_logits(model, real_logit, fake_logit, n=20000):
    """The objective's D loss for a discriminator that outputs fixed logits."""
    D = lambda x, y=None: torch.full((x.shape[0],), real_logit if x[0, 0] > 0 else fake_logit)  # noqa: E731
    real, fake = torch.ones(n, 1), -torch.ones(n, 1)
    return model.objective.d_loss(D, real, fake)[0].item()


def bce(logit, target):
    return F.binary_cross_entropy_with_logits(torch.tensor(logit), torch.tensor(target)).item()


def test_label_smoothing_and_noisy_labels_change_targets():
    lr, lf = 1.3, -0.7
    plain = tiny_model("cdcgan-mnist")
    assert _d_loss_with_logits(plain, lr, lf) == pytest.approx(bce(lr, 1.0) + bce(lf, 0.0), rel=1e-5)
    one = tiny_model("cdcgan-mnist-smooth1")  # 4.1: real target alpha = 0.9
    assert _d_loss_with_logits(one, lr, lf) == pytest.approx(bce(lr, 0.9) + bce(lf, 0.0), rel=1e-5)
    two = tiny_model("cdcgan-mnist-smooth2")  # and fake target beta = 0.1
    assert _d_loss_with_logits(two, lr, lf) == pytest.approx(bce(lr, 0.9) + bce(lf, 0.1), rel=1e-5)
    noisy = tiny_model("cdcgan-mnist-noisy")  # 4.5: ~5% of the images get the other side's label
    p = noisy.cfg.objective.flip
    torch.manual_seed(1)
    expected = (1 - p) * (bce(lr, 1.0) + bce(lf, 0.0)) + p * (bce(lr, 0.0) + bce(lf, 1.0))
    assert _d_loss_with_logits(noisy, lr, lf) == pytest.approx(expected, rel=0.02)


def test_experience_replay_buffer():
    model = tiny_model("cdcgan-mnist-replay", "model.replay_size=3")
    batches = Batches(model.data, 8, 0)
    x, y = batches.next()
    model.d_step(x, y)
    model.d_step(x, y)
    assert len(model.replay) == 2 and model.replay.y[0].dtype == torch.int64
    state = model.extra_state()
    assert state["replay_x"].shape == (2, 1, 28, 28)
    before = [p.clone() for p in model.D.parameters()]
    logs = model.d_step(x, y)  # the third fake fills the buffer: one replay D step, buffer empties
    assert len(model.replay) == 0 and logs["d_replay"].item() > 0
    assert any(not torch.equal(a, b) for a, b in zip(before, model.D.parameters()))
    # the replay step scores the buffered fakes against the fake target only
    model.replay.x, model.replay.y = list(x[:3]), list(y[:3])
    expected = F.binary_cross_entropy_with_logits(model.D(x[:3], y[:3]), torch.zeros(3))
    assert model.replay_step().item() == pytest.approx(expected.item(), rel=1e-5)
    fresh = tiny_model("cdcgan-mnist-replay", "model.replay_size=3")
    fresh.load_extra_state(state)
    assert len(fresh.replay) == 2 and torch.equal(fresh.replay.x[1], state["replay_x"][1])
    auto = tiny_model("cdcgan-mnist-replay")
    assert auto.replay.size == 64 // 8  # one image from every batch of an epoch (4.2)
    with pytest.raises(GankitError, match="model.replay"):
        load_config("cwgangp-mnist", ["model.replay=true"])


def test_minibatch_discrimination_head_in_discriminator():
    model = tiny_model("cdcgan-mnist-mbd", "net.mbd_b=6", "net.mbd_c=3")
    head = list(model.D.head)
    mbd = [m for m in head if isinstance(m, MinibatchDiscrimination)]
    assert len(mbd) == 1 and mbd[0].B == 6 and mbd[0].C == 3
    i = head.index(mbd[0])
    assert isinstance(head[i - 2], torch.nn.Linear) and isinstance(head[i + 1], torch.nn.Linear)  # dense both sides


def test_short_training_with_every_trick_improves_fid(tmp_path, cache_dir):
    """A real run through the core loop with smoothing, replay and minibatch discrimination on."""
    from gankit.data import load_dataset
    from gankit.training.loop import train
    from gankit.training.sampling import evaluate_model

    cfg = load_config("cdcgan-mnist-mbd", [
        "net.width=8", "net.mbd_b=16", "model.replay=true",
        "model.replay_size=8", "objective.smooth_real=0.1", "data.batch_size=32", "train.steps=60",
        "train.seconds=null", "train.eval_samples=300", "train.tensorboard=false", "train.seed=1"])
    data = load_dataset(cfg.data)
    torch.manual_seed(1)
    before = evaluate_model(build_model(cfg, data), 300, cache_dir)["fid"]
    result = train(cfg, tmp_path / "run", cache_dir=cache_dir, data=data)
    assert result["step"] == 60 and "label_agreement" in result
    assert result["fid"] < 0.8 * before
    assert "d_replay" in (tmp_path / "run" / "losses.csv").read_text().splitlines()[0]



@pytest.mark.parametrize("k, stride, pad, sn", [(5, 2, 2, False), (5, 2, 2, True), (4, 2, 1, False), (3, 1, 1, False)])
def test_conv_with_label_channels_equals_the_conv_of_the_concatenated_channels(k, stride, pad, sn):
    """D's first conv on [x, one-hot label maps] (practical-gan-guide 5.5), computed per class:
    the same outputs and the same gradients for x and the weights as the concatenation."""
    from torch.nn.utils.parametrizations import spectral_norm

    from gankit.nets.guide import conv_with_label_channels, label_channels

    torch.manual_seed(0)
    classes = 7
    conv = nn.Conv2d(3 + classes, 8, k, stride=stride, padding=pad)
    if sn:
        conv = spectral_norm(conv).eval()  # eval: no power iteration, so both calls see one weight
    x = torch.randn(5, 3, 12, 12, requires_grad=True)
    y = torch.tensor([0, 6, 3, 3, 1])
    ref = conv(torch.cat([x, label_channels(y, classes, 12, 12)], dim=1))
    (gx_ref, *gw_ref) = torch.autograd.grad(ref.square().sum(), [x, *conv.parameters()])
    out = conv_with_label_channels(conv, x, y)
    (gx, *gw) = torch.autograd.grad(out.square().sum(), [x, *conv.parameters()])
    assert out.shape == ref.shape
    assert torch.allclose(out, ref, atol=1e-5)
    assert torch.allclose(gx, gx_ref, atol=1e-4)
    for a, b in zip(gw, gw_ref):
        assert torch.allclose(a, b, atol=1e-3, rtol=1e-4)


def test_label_sets_are_multi_hot_in_g_and_in_ds_first_conv():
    """A label set [N, m] (``model.clusters_by=channel``) conditions as the sum of its one-hots:
    by hand, [[0, 4]] of 5 classes is [1, 0, 0, 0, 1]; D's first conv on the multi-hot channels
    equals the per-class computation summed over the set."""
    from gankit.nets.guide import conv_with_label_channels, label_channels, one_hot

    assert one_hot(torch.tensor([[0, 4], [2, 3]]), 5).tolist() == [[1, 0, 0, 0, 1], [0, 0, 1, 1, 0]]
    assert one_hot(torch.tensor([1]), 3).tolist() == [[0, 1, 0]]
    ch = label_channels(torch.tensor([[1, 2]]), 3, 2, 2)
    assert torch.equal(ch[0, 1], torch.ones(2, 2)) and torch.equal(ch[0, 2], torch.ones(2, 2)) and ch[0, 0].sum() == 0
    torch.manual_seed(0)
    conv = nn.Conv2d(2 + 6, 4, 5, stride=2, padding=2)
    x = torch.randn(3, 2, 10, 10, requires_grad=True)
    y = torch.tensor([[0, 3], [2, 5], [1, 4]])  # channel 0's cluster in 0..2, channel 1's in 3..5
    ref = conv(torch.cat([x, label_channels(y, 6, 10, 10)], dim=1))
    out = conv_with_label_channels(conv, x, y)
    assert torch.allclose(out, ref, atol=1e-5)
    gx_ref, = torch.autograd.grad(ref.square().sum(), [x])
    gx, = torch.autograd.grad(out.square().sum(), [x])
    assert torch.allclose(gx, gx_ref, atol=1e-4)


@pytest.mark.parametrize("labels", [[0, 6, 3, 3, 1], [[0, 4], [2, 5], [1, 4], [0, 3], [2, 5]]])
def test_linear_with_label_equals_the_linear_of_the_concatenated_one_hot(labels):
    """G's first layer on [z, one-hot(y)] (a label set: multi-hot), computed by picking the
    label's weight columns: the same outputs and gradients for z and the weights; by hand, a
    one-hot row adds exactly its class's column."""
    from gankit.nets.guide import linear_with_label, one_hot

    torch.manual_seed(0)
    classes = 7
    fc = nn.Linear(4 + classes, 6, bias=True)
    z = torch.randn(5, 4, requires_grad=True)
    y = torch.tensor(labels)
    ref = fc(torch.cat([z, one_hot(y, classes)], dim=1))
    (gz_ref, *gw_ref) = torch.autograd.grad(ref.square().sum(), [z, *fc.parameters()])
    out = linear_with_label(fc, z, y)
    (gz, *gw) = torch.autograd.grad(out.square().sum(), [z, *fc.parameters()])
    assert torch.allclose(out, ref, atol=1e-6)
    assert torch.allclose(gz, gz_ref, atol=1e-5)
    for a, b in zip(gw, gw_ref):
        assert torch.allclose(a, b, atol=1e-5)
    with torch.no_grad():  # by hand: zero z, class 2 -> column 4 + 2 of the weight plus the bias
        hand = linear_with_label(fc, torch.zeros(1, 4), torch.tensor([2]))
        assert torch.allclose(hand[0], fc.weight[:, 6] + fc.bias)


def test_g_embed_feeds_a_learned_label_embedding_and_sums_a_label_sets():
    """net.g_embed: G's first layer takes [z, E[y]] (BigGAN's class embedding) instead of the
    one-hot, so its width no longer grows with the classes; a label set adds its ids' rows."""
    from gankit.nets.guide import GuideGenerator, GuideNetConfig

    data = tiny_data()
    data = Dataset(name=data.name, x=data.x, y=data.y, num_classes=50, value_range=data.value_range)
    torch.manual_seed(0)
    G = GuideGenerator(GuideNetConfig(conditional=True, width=4, z_dim=6, g_embed=3), data).eval()
    assert G.fc.in_features == 6 + 3 and G.embed.weight.shape == (50, 3)
    z = torch.randn(2, 6)
    seen = {}
    G.fc.register_forward_hook(lambda m, inp, out: seen.update(x=inp[0]))
    G(z, torch.tensor([[1, 4], [0, 49]]))
    E = G.embed.weight
    assert torch.allclose(seen["x"], torch.cat([z, torch.stack([E[1] + E[4], E[0] + E[49]])], dim=1))
    G(z, torch.tensor([7, 7]))
    assert torch.allclose(seen["x"][:, 6:], E[7].expand(2, 3))
    with pytest.raises(GankitError, match="g_embed"):
        GuideNetConfig(g_embed=-1).validate()
    with pytest.raises(GankitError, match="needs net.conditional=true or model.clusters"):
        GuideGenerator(GuideNetConfig(conditional=False, width=4, z_dim=6, g_embed=3), data)
