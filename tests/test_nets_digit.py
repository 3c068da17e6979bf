"""digit-gans.txt Appendix A nets: shapes, parameter counts from the tables, spectral norm,
shape errors, and every digit-gans preset doing a real training step."""
import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from gankit.config import build_dataclass
from gankit.catalogue import load_config
from gankit.data.base import Batches, Dataset
from gankit.errors import GankitError
from gankit.models import build_model
from gankit.nets import NETS, count_params, describe

MNIST, SVHN = (1, 28, 28), (3, 32, 32)


def fake_data(shape, n=16, name="fake"):
    return Dataset(name, torch.rand(n, *shape) * 2 - 1, torch.randint(0, 10, (n,)), num_classes=10)


def build(name, shape, **opts):
    entry = NETS.entry(name)
    cfg = build_dataclass(entry.options, {"name": name, **opts}, "net")
    return entry.obj(cfg, fake_data(shape))


# Parameter counts worked out by hand from the tables. Conventions (gankit/nets/digit.py):
# no bias on a layer followed by BN, a bias everywhere else; BN has 2 parameters per
# feature; conv weight = c_in * c_out * k * k; 'same' convs, so a 28x28 input ends at 4x4.
FCC_MNIST_G = (100 * 64 + 64 + 64 * 512 + 512            # FC(64) ReLU, FC(512) ReLU
               + 512 * 1152 + 2 * 1152                   # FC(1152), BN
               + 128 * 64 * 9 + 2 * 64                   # CONVT(64, 3, 2), BN
               + 64 * 32 * 9 + 2 * 32                    # CONVT(32, 3, 2), BN
               + 32 * 1 * 9 + 1)                         # CONVT(1, 3, 2), Tanh
DCGAN_MNIST_D = (1 * 128 * 9 + 2 * 128 + 128 * 256 * 9 + 2 * 256 + 256 * 512 * 9 + 2 * 512
                 + 512 * 4 * 4 + 1)                      # Flatten(8192), FC(1)
FCC_MNIST_D = (1 * 32 * 9 + 2 * 32 + 32 * 64 * 9 + 2 * 64 + 64 * 128 * 9 + 2 * 128
               + 128 * 4 * 4 * 512 + 512 + 512 * 64 + 64 + 64 * 16 + 16 + 16 + 1)
FCC_SVHN_HEAD = 100 * 64 + 64 + 64 * 512 + 512 + 512 * 4096 + 2 * 4096
FCC_SVHN_G = (FCC_SVHN_HEAD + 256 * 128 * 16 + 2 * 128 + 128 * 64 * 16 + 2 * 64
              + 64 * 3 * 16 + 3)                         # CONVT(3, 4, 2): bias, no BN
FC_TAIL_4096 = 4096 * 512 + 512 + 512 * 64 + 64 + 64 * 16 + 16 + 16 + 1
WGAN_CLIP_G_BODY = (100 * 64 + 64 + 64 * 512 + 512 + 512 * 1152 + 2 * 1152
                    + 128 * 64 * 9 + 2 * 64 + 64 * 32 * 9 + 2 * 32)


def wgan_clip_d(c):
    return (c * 256 * 16 + 2 * 256 + 256 * 512 * 16 + 2 * 512 + 512 * 1024 * 16 + 2 * 1024
            + 1024 * 4 * 4 + 1)                          # Flatten(16384), FC(1)


EXPECTED = {
    # Table A.1
    "dcgan-mnist": (MNIST, 100 * 12544 + 2 * 12544 + 256 * 128 * 9 + 2 * 128 + 128 * 64 * 9 + 2 * 64
                    + 64 * 1 * 9 + 1, DCGAN_MNIST_D),
    # Table A.1 at width 0.375: channels 256/128/64 -> 96/48/24, 128/256/512 -> 48/96/192
    "dcgan-mnist-fast": (MNIST, 100 * 96 * 49 + 2 * 96 * 49 + 96 * 48 * 9 + 2 * 48 + 48 * 24 * 9 + 2 * 24
                         + 24 * 9 + 1,
                         1 * 48 * 9 + 2 * 48 + 48 * 96 * 9 + 2 * 96 + 96 * 192 * 9 + 2 * 192 + 192 * 16 + 1),
    "fccgan-mnist": (MNIST, FCC_MNIST_G, FCC_MNIST_D),                      # Table A.2
    "fccg-mnist": (MNIST, FCC_MNIST_G, DCGAN_MNIST_D),                      # Table A.3
    "wgan-clip-mnist": (MNIST, WGAN_CLIP_G_BODY + 32 * 1 * 16 + 1, wgan_clip_d(1)),   # Table A.6
    "wgangp-mnist": (MNIST, FCC_MNIST_G, FCC_MNIST_D),                      # Table A.8
    "sngan-mnist": (MNIST,                                                  # Table A.10
                    100 * 12544 + 2 * 12544 + 256 * 128 * 25 + 2 * 128 + 128 * 64 * 25 + 2 * 64
                    + 64 * 1 * 25 + 1,
                    1 * 64 * 25 + 64 + 64 * 128 * 25 + 128 + 6272 + 1),
    "dcgan-svhn": (SVHN,                                                    # Table A.4
                   100 * 4096 + 2 * 4096 + 256 * 128 * 16 + 2 * 128 + 128 * 64 * 16 + 2 * 64 + 64 * 3 * 16 + 3,
                   3 * 128 * 16 + 2 * 128 + 128 * 256 * 16 + 2 * 256 + 256 * 512 * 16 + 2 * 512 + 8192 + 1),
    "fccgan-svhn": (SVHN, FCC_SVHN_G,                                       # Table A.5
                    3 * 64 * 16 + 2 * 64 + 64 * 128 * 16 + 2 * 128 + 128 * 256 * 16 + 2 * 256 + FC_TAIL_4096),
    "wgan-clip-svhn": (SVHN, WGAN_CLIP_G_BODY + 32 * 3 * 16 + 3, wgan_clip_d(3)),     # Table A.7
    "wgangp-svhn": (SVHN, FCC_SVHN_G,                                       # Table A.9 (pooled convs)
                    3 * 64 * 16 + 2 * 64 + 64 * 128 * 16 + 2 * 128 + 128 * 256 * 16 + 2 * 256 + FC_TAIL_4096),
    "sngan-svhn": (SVHN, FCC_SVHN_G,                                        # Table A.11: FCs w/o BN keep bias
                   3 * 64 * 16 + 64 + 64 * 128 * 16 + 128 + 128 * 256 * 16 + 256 + FC_TAIL_4096),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shapes_and_parameter_counts(name):
    shape, g_expected, d_expected = EXPECTED[name]
    torch.manual_seed(0)
    G, D = build(name, shape)
    x = G(torch.randn(3, 100))
    assert x.shape == (3, *shape)
    assert D(x).shape == (3,)
    assert count_params(G) == g_expected
    assert count_params(D) == d_expected


def test_every_digit_net_is_covered_and_described():
    rows = {r["name"]: r for r in describe()}
    digit = {n for n, r in rows.items() if NETS.get(n).__module__ == "gankit.nets.digit"}
    assert digit == set(EXPECTED)
    for name, (shape, g, d) in EXPECTED.items():
        assert (rows[name]["input_shape"], rows[name]["g_params"], rows[name]["d_params"]) == (shape, g, d)
        assert rows[name]["doc"].startswith("Table A.")


def test_tanh_output_in_range_and_sngan_linear():
    torch.manual_seed(0)
    G, _ = build("dcgan-mnist", MNIST)
    assert isinstance(G.net[-1], nn.Tanh)
    G, _ = build("sngan-mnist", MNIST)
    assert isinstance(G.net[-1], nn.ConvTranspose2d)  # no output activation in Table A.10


def test_wgan_clip_mnist_crops_and_pads_with_background():
    """G's 32x32 output is cropped to 28x28 centrally; D pads real 28x28 images with the
    background value so they look like G's uncropped 32x32 frames."""
    torch.manual_seed(0)
    G, D = build("wgan-clip-mnist", MNIST)
    G.eval()
    z = torch.randn(2, 100)
    full = G.net[:-1](z)
    assert full.shape == (2, 1, 32, 32)
    assert torch.equal(G(z), full[..., 2:30, 2:30])
    padded = D.net[0](torch.zeros(1, 1, 28, 28))
    assert padded.shape == (1, 1, 32, 32)
    assert padded[0, 0, 0, 0] == -1 and padded[0, 0, 2, 2] == 0


@pytest.mark.parametrize("name,shape", [("sngan-mnist", MNIST), ("sngan-svhn", SVHN)])
def test_spectral_norm_on_every_d_layer(name, shape):
    torch.manual_seed(0)
    G, D = build(name, shape)
    layers = [m for m in D.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert layers and all(parametrize.is_parametrized(m, "weight") for m in layers)
    assert not any(parametrize.is_parametrized(m) for m in G.modules())
    # scale the raw weights far from norm 1: the normalised weights must not care
    with torch.no_grad():
        for m in layers:
            m.parametrizations.weight.original.mul_(7.0)
    D.train()
    x = torch.randn(4, *shape)
    for _ in range(30):  # one power iteration per training forward pass
        D(x)
    D.eval()
    for m in layers:
        sigma = torch.linalg.matrix_norm(m.weight.detach().flatten(1), ord=2)
        assert abs(sigma.item() - 1) < 0.03, (m, sigma)


def test_wrong_image_shape_is_a_gankit_error():
    cfg = load_config("sngan-mnist")
    with pytest.raises(GankitError, match=r"net 'sngan-mnist' takes 1x28x28 images, dataset 'svhn' has 3x32x32"):
        build_model(cfg, fake_data(SVHN, name="svhn"))
    with pytest.raises(GankitError, match=r"takes 3x32x32 images"):
        build("dcgan-svhn", MNIST)


@pytest.mark.parametrize("override", ["net.width=0", "net.dropout=1.5"])
def test_bad_options_name_the_key(override):
    key = override.split("=")[0]
    with pytest.raises(GankitError, match=key.replace(".", r"\.")):
        load_config("dcgan-mnist", [override])


def test_width_scales_channels():
    torch.manual_seed(0)
    G, D = build("fccgan-mnist", MNIST, width=0.5)
    assert G(torch.randn(2, 100)).shape == (2, *MNIST)
    convs = [m.out_channels for m in D.modules() if isinstance(m, nn.Conv2d)]
    assert convs == [16, 32, 64]
    assert count_params(G) < FCC_MNIST_G / 3


PRESETS = ["dcgan-mnist", "fccgan-mnist", "fccg-mnist", "wgan-clip-mnist", "wgangp-mnist", "sngan-mnist",
           "dcgan-svhn", "fccgan-svhn", "wgan-clip-svhn", "wgangp-svhn", "sngan-svhn"]


@pytest.mark.parametrize("preset", PRESETS)
def test_preset_builds_and_trains_one_step(preset):
    cfg = load_config(preset, ["data.batch_size=4"])
    assert cfg.net.name == preset
    shape = SVHN if preset.endswith("svhn") else MNIST
    assert cfg.data.name == ("svhn" if shape == SVHN else "mnist")
    torch.manual_seed(0)
    data = fake_data(shape)
    model = build_model(cfg, data)
    before = {k: [p.detach().clone() for p in net.parameters()] for k, net in (("G", model.G), ("D", model.D))}
    if cfg.objective.name == "wgan-clip":  # clipping alone moves D's weights: compare with clipped ones
        before["D"] = [p.clamp(-cfg.objective.clip, cfg.objective.clip) for p in before["D"]]
    logs = model.train_step(Batches(data, 4, seed=0), 0)
    assert all(torch.isfinite(v).all() for v in logs.values())
    assert "g_loss" in logs and "d_loss" in logs
    for k, net in (("G", model.G), ("D", model.D)):  # each optimiser stepped its own net
        changed = [not torch.equal(a, p) for a, p in zip(before[k], net.parameters())]
        assert sum(changed) > len(changed) // 2, f"{k} barely changed: {sum(changed)}/{len(changed)} tensors"
