"""Symbolic autoencoder (symbolic-autoencoder.txt 3.5-3.6): h, unit symbols, the loss assembly,
a short real training, and the encode/probe/reconstruct/sphere commands."""
import json
import math

import numpy as np
import pytest
import torch

from gankit.cli import main
from gankit.catalogue import build_config, load_config
from gankit.data import Batches, load_dataset
from gankit.losses import half_angle_bce
from gankit.metrics.probe import few_label_split, probe_accuracy
from gankit.models import build_model
from gankit.models.sae import sae_losses
from gankit.training.loop import train


def test_h_hand_values():
    x = torch.tensor([0.0, 0.5, 0.5, -0.2])
    p = torch.tensor([1.0, 1.0, 0.0, 0.3])
    want = [math.log(2), -math.log(0.75), -math.log(0.25), -0.3 * math.log(0.4) - 0.7 * math.log(0.6)]
    assert half_angle_bce(x, p).tolist() == pytest.approx(want, rel=1e-6)
    # a symbol with itself (x = 1, target 0) is clamped to a finite value
    assert half_angle_bce(torch.tensor(1.0), 0.0, eps=1e-4).item() == pytest.approx(-math.log(0.5e-4), rel=1e-4)


def _cfg(**model):
    return build_config({"model": {"family": "sae", **model},
                         "net": {"name": "sae-dcgan", "z_dim": 8, "width": 8},
                         "data": {"name": "mnist", "batch_size": 32},
                         "optim": {"g": {"lr": 2e-4}, "d": {"lr": 2e-4}}}, "test")


@pytest.fixture(scope="module")
def mnist():
    return load_dataset(load_config("sae-mnist").data)


def test_symbols_have_unit_norm(mnist):
    torch.manual_seed(0)
    model = build_model(_cfg(), mnist)
    for unit in (0, 1):
        s = model.encoders(mnist.x[:16], unit)  # train mode
        assert s.shape == (16, 8)
        assert torch.allclose(s.norm(dim=1), torch.ones(16), atol=1e-5)
        assert torch.allclose(model.encode(mnist.x[:16], unit).norm(dim=1), torch.ones(16), atol=1e-5)
    assert model.generate(4).shape == (4, 1, 28, 28)


def test_loss_assembly_matches_hand_computation():
    gen = torch.Generator().manual_seed(1)
    unit = lambda: torch.nn.functional.normalize(torch.randn(2, 3, generator=gen, dtype=torch.float64), dim=1)
    s, sf = (unit(), unit()), (unit(), unit())
    eps = 1e-4

    def h(x, p):
        x = min(max(x, -1 + eps), 1 - eps)
        return -p * math.log((1 + x) / 2) - (1 - p) * math.log((1 - x) / 2)

    dot = lambda a, b: float((a * b).sum())
    n = 2
    pairs = [(i, j) for i in range(n) for j in range(n)]
    self_k = [sum(h(dot(s[k][i], s[k][j]), k) for i, j in pairs) / n**2 for k in (0, 1)]
    kernel = sum(h(dot(s[0][i], s[1][j]), 1) for i, j in pairs) / n**2
    kernel_fake = [sum(h(dot(s[k][i], sf[k][j]), 0) for i, j in pairs) / n**2 for k in (0, 1)]
    shell = sum(h(dot(s[0][i], s[1][i]), 1) for i in range(n)) / n
    shell_fake = [sum(h(dot(s[k][i], sf[k][i]), 1) for i in range(n)) / n for k in (0, 1)]

    got = {k: float(v) for k, v in sae_losses(s, sf, eps).items()}
    assert got["l_self0"] == pytest.approx(self_k[0]) and got["l_self1"] == pytest.approx(self_k[1])
    assert got["l_kernel"] == pytest.approx(kernel) and got["l_shell"] == pytest.approx(shell)
    assert got["l_kernel_fake0"] == pytest.approx(kernel_fake[0])
    assert got["l_kernel_fake1"] == pytest.approx(kernel_fake[1])
    assert got["l_B"] == pytest.approx(shell + kernel + sum(self_k) + sum(kernel_fake))
    assert got["l_G"] == pytest.approx(sum(shell_fake))


def test_few_label_split_is_balanced_and_disjoint():
    y = torch.arange(100) % 4
    train, test = few_label_split(y, 3, seed=5)
    assert torch.bincount(y[train]).tolist() == [3, 3, 3, 3]
    assert len(set(train.tolist()) | set(test.tolist())) == 100 and len(test) == 88


def test_short_training_lowers_shell_loss_and_improves_probe(mnist):
    torch.manual_seed(0)
    model = build_model(_cfg(), mnist)
    x, y = mnist.x[:2000], mnist.y[:2000]
    before = probe_accuracy(model.encode(x, 0), y, 10, seed=0)
    batches = Batches(mnist, 32, seed=0)
    shell = [float(model.train_step(batches, step)["l_shell"]) for step in range(120)]
    after = probe_accuracy(model.encode(x, 0), y, 10, seed=0)
    assert np.mean(shell[-20:]) < np.mean(shell[:5])
    assert after > before + 0.05, (before, after)


def test_commands_on_a_trained_run(tmp_path, cache_dir, capsys, mnist, monkeypatch):
    import gankit.training.run

    monkeypatch.setattr(gankit.training.run, "load_dataset", lambda cfg: mnist)  # load MNIST once
    run = tmp_path / "run"
    cfg = load_config("sae-mnist-sphere", ["net.width=8", "train.steps=6", "train.sample_every=6",
                                           "train.eval_samples=200", "train.tensorboard=false", "train.threads=null"])
    result = train(cfg, run, data=mnist, cache_dir=cache_dir)
    assert 0 <= result["probe10_unit1"] <= 1 and 0 <= result["recon_agreement_unit0"] <= 1

    assert main(["sae", "encode", str(run), "--out", str(tmp_path / "s.npz"), "--unit", "0"]) == 0
    arrays = np.load(tmp_path / "s.npz")
    assert arrays["symbols"].shape == (5000, 3) and arrays["labels"].dtype == np.int64
    assert np.allclose(np.linalg.norm(arrays["symbols"], axis=1), 1, atol=1e-5)

    capsys.readouterr()
    assert main(["sae", "probe", str(run), "--labels-per-class", "5", "--no-dcgan", "--classifier", "knn"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["n_labelled"] == 50 and 0 <= result["sae"] <= 1 and 0 <= result["pixels"] <= 1
    assert 0 <= result["sae_features_unit0"] <= 1 and 0 <= result["sae_features_unit1"] <= 1

    assert main(["sae", "reconstruct", str(run), "--png", str(tmp_path / "r.png"), "--cols", "4", "--blocks", "2"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert 0 <= result["agreement_unit0"] <= 1 and (tmp_path / "r.png").is_file()

    assert main(["sae", "sphere", str(run), "--png", str(tmp_path / "sphere.png"), "--n", "300"]) == 0
    assert (tmp_path / "sphere.png").is_file()

    # bad input: one line, exit 2
    capsys.readouterr()
    assert main(["sae", "encode", str(tmp_path / "missing"), "--out", str(tmp_path / "x.npz")]) == 2
    assert main(["sae", "sphere", str(run), "--png", str(tmp_path / "sphere.png")]) == 2  # exists, no --overwrite
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("gankit: error:") for line in err)


def test_lambert_azimuthal_projection():
    from gankit.reproduce.sae import lambert_azimuthal

    c = np.array([0.0, 0.0, 1.0])
    pts = np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0], [0.6, 0, -0.8]], dtype=float)
    r = np.linalg.norm(lambert_azimuthal(pts, c), axis=1)
    # radius 2 sin(theta / 2): centre 0, equator sqrt(2), angle acos(-0.8) -> sqrt(2 * 1.8)
    assert r == pytest.approx([0.0, math.sqrt(2), math.sqrt(2), math.sqrt(3.6)])


def test_random_shift_moves_each_image_and_fills_the_border():
    from gankit.layers.augment import random_shift

    x = torch.arange(2 * 5 * 5, dtype=torch.float32).view(2, 1, 5, 5)
    torch.manual_seed(0)
    out = random_shift(x, 2, background=-1.0)
    assert out.shape == x.shape
    for i in range(2):
        # every image is its original moved by one (dy, dx) in [-2, 2]²
        matches = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                   if torch.equal(out[i], _shifted(x[i], dy, dx, -1.0))]
        assert len(matches) == 1
    assert torch.equal(random_shift(x, 0, -1.0), x)


def _shifted(img, dy, dx, bg):
    out = torch.full_like(img, bg)
    h, w = img.shape[-2:]
    out[..., max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        img[..., max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)]
    return out


def test_augment_gives_each_encoder_its_own_view(mnist, monkeypatch):
    cfg = load_config("sae-mnist", ["net.width=8", "data.batch_size=8", "model.augment=2"])
    model = build_model(cfg, mnist)
    seen = []
    real_forward = model.encoders.forward
    monkeypatch.setattr(model.encoders, "forward", lambda x, unit: (seen.append(x), real_forward(x, unit))[1])
    torch.manual_seed(1)
    model.forward_losses(mnist.x[:8])
    assert not torch.equal(seen[0], seen[1])  # E0 and E1 read different shifts of one batch
    assert not torch.equal(seen[0], mnist.x[:8])


def test_crossed_pathways_by_hand(mnist):
    """Section 3.6 steps 1-3 and 3.4: Ĩ_k = G(s_k) with the generalizing unit's seed s_0 blurred,
    and the fake symbols cross over, s̃_0 = E_0(Ĩ_1) and s̃_1 = E_1(Ĩ_0); the adversarial losses
    (l̃_kernel^k, l̃_shell^k) pair each s_k with its s̃_k. Rebuilt by hand from the seeds
    that G was fed (a hook), with the same batches through each net (train-mode batch norm)."""
    torch.manual_seed(0)
    model = build_model(_cfg(blur=0.3), mnist)
    x = mnist.x[:6]
    n, eps = len(x), model.cfg.model.eps
    seeds = []
    hook = model.G.register_forward_pre_hook(lambda module, args: seeds.append(args[0].detach().clone()))
    got = {k: float(v.detach()) for k, v in model.forward_losses(x).items()}
    hook.remove()
    with torch.no_grad():
        s = (model.encoders(x, 0), model.encoders(x, 1))
        assert len(seeds) == 1 and seeds[0].shape == (2 * n, 8)  # one pass of G on both seeds
        seed0, seed1 = seeds[0][:n], seeds[0][n:]
        assert torch.equal(seed1, s[1])  # unit 1's symbols seed Ĩ_1 unchanged
        assert (seed0 - s[0]).abs().max() > 1e-3  # s_0 is blurred (3.4) ...
        assert torch.allclose(seed0.norm(dim=1), torch.ones(n), atol=1e-5)  # ... back onto the sphere
        fake0, fake1 = model.G(seeds[0]).chunk(2)
        crossed = (model.encoders(fake1, 0), model.encoders(fake0, 1))  # s̃_0 = E_0(Ĩ_1), s̃_1 = E_1(Ĩ_0)
        straight = (model.encoders(fake0, 0), model.encoders(fake1, 1))  # what uncrossed pathways would give

    def h(v, p):
        v = min(max(v, -1 + eps), 1 - eps)
        return -p * math.log((1 + v) / 2) - (1 - p) * math.log((1 - v) / 2)

    def adversarial(sk, sfk):
        kernel = sum(h(float(sk[i] @ sfk[j]), 0.0) for i in range(n) for j in range(n)) / n**2
        shell = sum(h(float(sk[i] @ sfk[i]), 1.0) for i in range(n)) / n
        return kernel, shell

    for k in (0, 1):
        kernel, shell = adversarial(s[k], crossed[k])
        assert got[f"l_kernel_fake{k}"] == pytest.approx(kernel, rel=1e-5)
        assert got[f"l_shell_fake{k}"] == pytest.approx(shell, rel=1e-5)
        # the uncrossed route would give other values, well beyond the tolerance above
        assert adversarial(s[k], straight[k]) != pytest.approx((kernel, shell), rel=1e-3)
    assert got["l_G"] == pytest.approx(got["l_shell_fake0"] + got["l_shell_fake1"], rel=1e-6)


def test_weights_that_do_not_fit_are_refused_in_one_line(mnist):
    """A state dict under other network names (the bi-net was ``D`` before 0.1.0; no renames are
    kept) or of another shape fails with one line naming the first key, which the loop's restore
    prefixes with the checkpoint's path."""
    a = build_model(_cfg(), mnist)
    state = a.state_dict()
    renamed = type(state)((("D." + k[len("encoders."):]) if k.startswith("encoders.") else k, v)
                          for k, v in state.items())
    b = build_model(_cfg(), mnist)
    with pytest.raises(RuntimeError) as err:
        b.load_state_dict(renamed)
    first = sorted(k for k in state if k.startswith("encoders."))[0]
    n = sum(k.startswith("encoders.") for k in state)
    assert str(err.value) == f"the checkpoint lacks key '{first}' and {n - 1} more for this sae model"
    key = next(k for k, v in state.items() if v.dim() == 2)
    with pytest.raises(RuntimeError) as err:
        b.load_state_dict({**state, key: torch.zeros(3, 3)})
    line = str(err.value)
    assert "\n" not in line and key in line and "size mismatch" in line
    b.load_state_dict(state)  # the model's own weights load
    assert all(torch.equal(v, b.state_dict()[k]) for k, v in state.items())

