"""gankit bench (issue 8): the command runs and reports; the speed-ups keep the maths.

No speed assertions here: timings depend on the machine and its load.
"""
import json
import math

import pytest
import torch
from torch import nn

from gankit.cli import main
from gankit.catalogue import load_config
from gankit.data.base import Batches, Dataset
from gankit.layers.dropout import Dropout
from gankit.models import build_model


def test_bench_json_runs_and_prints_the_keys(capsys):
    # tiny: one thread, a narrow net (the bench's cost is a few training steps); the demo
    # preset is conditional, so this also runs the reference loop's cGAN path
    assert main(["bench", "--models", "cdcgan-mnist-demo", "--seconds", "2", "--json", "--threads", "1",
                 "--set", "net.width=4"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert len(lines) == 1
    row = lines[0]
    assert row["model"] == "cdcgan-mnist-demo"
    for key in ("gankit_images_per_s", "reference_images_per_s", "ratio", "gankit_gflop_per_step",
                "reference_gflop_per_step", "matmul_peak_gflop_per_s", "gankit_seconds_to_1000_steps"):
        assert math.isfinite(row[key]) and row[key] > 0, key
    assert row["ratio"] == pytest.approx(row["gankit_images_per_s"] / row["reference_images_per_s"])
    # reusing the D step's fake batch and freezing D in the G step: fewer FLOPs per step
    assert row["gankit_gflop_per_step"] < row["reference_gflop_per_step"]


def test_step_flops_skips_the_reference_epochs_short_last_batch():
    # CI once counted the reference's FLOPs on the epoch's last batch (5,000 % 64 = 8 images):
    # an eighth of a step's cost. Counted at that point, a full batch's FLOPs must come back.
    from gankit.bench import ReferenceArm, bench_config, step_flops
    from gankit.data import load_dataset

    torch.set_num_threads(1)
    cfg = bench_config("cdcgan-mnist-demo", ["net.width=4"])
    data = load_dataset(cfg.data)
    bs = cfg.data.batch_size
    assert len(data.x) % bs, "the embedded set must end its epoch on a short batch for this test"
    arm = ReferenceArm(cfg, data)
    full = step_flops(arm, bs)
    for _ in range(len(data.x) // bs - 1):  # the rest of the first epoch's full batches
        arm.step()
    assert step_flops(arm, bs) == full
    assert full > 0


def test_bench_rejects_unknown_models(capsys):
    assert main(["bench", "--models", "no-such-preset", "--seconds", "1"]) == 2
    assert "unknown bench model 'no-such-preset'" in capsys.readouterr().err


@pytest.mark.parametrize("override", ["model.ema=0.999", "model.diffaug=translation", "net.d_spectral_norm=true",
                                      "model.info_codes=10", "model.clusters=10", "optim.g.schedule=cosine",
                                      "optim.d.warmup=5", "model.replay=true"])
def test_bench_refuses_what_the_reference_loop_lacks(override):
    """Both arms must run one algorithm: a stabiliser only gankit has is one named error."""
    from gankit.bench import bench_config
    from gankit.errors import GankitError

    key = override.split("=")[0]
    with pytest.raises(GankitError, match=key.replace(".", r"\.") + ".*reference loop does not have"):
        bench_config("cdcgan-mnist-demo", ["net.conditional=false", override])


def test_dropout_is_nn_dropout_maths():
    torch.manual_seed(0)
    x = torch.randn(200, 100, requires_grad=True)
    layer = Dropout(0.3)
    y = layer(x)
    kept = y != 0
    assert kept.float().mean().item() == pytest.approx(0.7, abs=0.01)  # Bernoulli(1 - p) mask
    assert torch.allclose(y[kept], x[kept] / 0.7)  # inverted-dropout scaling
    y.sum().backward()
    assert torch.allclose(x.grad, kept.float() / 0.7)  # gradient through the same mask
    layer.eval()
    assert torch.equal(layer(x), x)
    assert isinstance(layer, nn.Dropout) and layer.state_dict() == {}


def _tiny_gan(**model):
    cfg = load_config("dcgan-mnist", ["net.width=0.125", "net.dropout=0", "data.batch_size=16"]
                      + [f"model.{k}={str(v).lower()}" for k, v in model.items()])
    data = Dataset("toy", torch.rand(64, 1, 28, 28) * 2 - 1, torch.arange(64) % 10, num_classes=10)
    torch.manual_seed(0)
    return build_model(cfg, data), data


def test_reuse_fake_runs_the_generator_once_per_step():
    for reuse, forwards in ((True, 1), (False, 2)):
        model, data = _tiny_gan(reuse_fake=reuse)
        calls = []
        model.G.register_forward_hook(lambda *a: calls.append(1))
        before = [p.detach().clone() for p in model.G.parameters()]
        model.train_step(Batches(data, 16, 0), 0)
        assert len(calls) == forwards
        assert any(not torch.equal(b, p) for b, p in zip(before, model.G.parameters()))  # G still trained


def test_channels_last_keeps_the_outputs():
    a, data = _tiny_gan(channels_last=True)
    b, _ = _tiny_gan(channels_last=False)
    b.load_state_dict(a.state_dict())
    a.eval(), b.eval()
    z, x = torch.randn(8, 100), data.x[:8]
    conv = next(m for m in a.D.modules() if isinstance(m, nn.Conv2d) and m.in_channels > 1)
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert not conv.weight.is_contiguous()
    assert torch.allclose(a.G(z), b.G(z), atol=1e-5)
    assert torch.allclose(a.D(x), b.D(x), atol=1e-4)


def test_reference_cgan_feeds_the_batch_labels_to_both_nets():
    from gankit.bench import load_reference

    seen = []

    class Labelled(nn.Module):
        """A linear net on [input, one-hot label] that records the labels it is given."""

        def __init__(self, name, n_in, n_out):
            super().__init__()
            self.name, self.fc = name, nn.Linear(n_in + 3, n_out)

        def forward(self, x, y):
            seen.append((self.name, y.clone()))
            return self.fc(torch.cat([x, nn.functional.one_hot(y, 3).float()], 1)).squeeze(1)

    x, labels = torch.randn(8, 6), torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    loop = load_reference().textbook_gan(Labelled("G", 4, 6), Labelled("D", 6, 1), x, z_dim=4, batch_size=8, labels=labels, num_classes=3)
    images, d_loss, g_loss = next(loop)
    assert images == 8 and math.isfinite(d_loss) and math.isfinite(g_loss)
    (_, y_fake), (_, y_real), (_, y_dfake), (name, y_dg) = seen
    # D step: G and both D passes get the real batch's labels (shuffled, so compare as multisets)
    assert sorted(y_fake.tolist()) == sorted(labels.tolist()) and torch.equal(y_fake, y_real)
    assert torch.equal(y_real, y_dfake)
    # G step (ns): the tutorial's reuse of the D step's fakes: no second G forward, D sees the same labels
    assert name == "D" and torch.equal(y_dg, y_fake)
    seen.clear()
    loop = load_reference().textbook_gan(Labelled("G", 4, 6), Labelled("D", 6, 1), x, z_dim=4, batch_size=8,
                                         labels=labels, num_classes=3, objective="wgan-gp")
    next(loop)
    assert [n for n, _ in seen] == ["G", "D", "D", "D", "G", "D"]  # wgan-gp: D, D, GP pass, then a fresh G
