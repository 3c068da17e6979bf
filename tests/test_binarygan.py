"""BinaryGAN (binarygan.txt): binary neurons, slope annealing, nets, family, short training."""
import json
import math

import pytest
import torch

from gankit.catalogue import load_config
from gankit.data import Batches, Dataset, load_dataset
from gankit.errors import GankitError
from gankit.reproduce.binarygan import hist_shape, record_model
from gankit.layers.binary import BinaryNeuron, binary_neuron
from gankit.models import build_model


def sigmoid(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v))


@pytest.fixture(scope="module")
def data():
    return load_dataset(load_config("binarygan-mlp-dbn").data)


def small_model(data, preset="binarygan-mlp-dbn", *overrides):
    torch.manual_seed(0)
    return build_model(load_config(preset, list(overrides)), data)


# ------------------------------------------------------------- estimator
@pytest.mark.parametrize("stochastic", [False, True])
def test_gradient_is_slope_times_sigmoid_derivative(stochastic):
    xs = [-3.0, -0.7, -0.1, 0.0, 0.2, 1.5, 4.0]
    weights = [0.5, -1.0, 2.0, 1.0, -0.3, 0.8, 1.2]
    slope = 2.5
    x = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    out = binary_neuron(x, slope, stochastic)
    (out * torch.tensor(weights, dtype=torch.float64)).sum().backward()
    hand = [w * slope * sigmoid(slope * v) * (1 - sigmoid(slope * v)) for v, w in zip(xs, weights)]
    assert x.grad.tolist() == pytest.approx(hand, rel=1e-12, abs=1e-15)


def test_forward_is_exactly_binary():
    torch.manual_seed(0)
    x = torch.randn(4000) * 3
    dbn = binary_neuron(x, 1.7, stochastic=False)
    sbn = binary_neuron(x, 1.7, stochastic=True)
    for out in (dbn, sbn):
        assert set(out.unique().tolist()) == {0.0, 1.0}
    assert torch.equal(dbn, (x > 0).float())  # eq. 6: sigma(s x) > 0.5 iff x > 0


def test_sbn_fires_at_rate_sigmoid_of_slope_times_x():
    torch.manual_seed(1)
    xs = torch.tensor([-2.0, -0.5, 0.0, 0.3, 1.0, 2.5])
    slope, draws = 1.5, 20000
    rate = binary_neuron(xs.repeat(draws, 1), slope, stochastic=True).mean(0)
    for r, v in zip(rate.tolist(), xs.tolist()):
        p = sigmoid(slope * v)
        assert abs(r - p) < 5 * math.sqrt(p * (1 - p) / draws)  # binomial 5-sigma band


def test_slope_in_use_changes_forward_and_backward():
    x = torch.linspace(-2, 2, 9)
    layer = BinaryNeuron("sbn")
    grads, rates, pres = [], [], []
    for slope in (1.0, 4.0):
        layer.set_slope(slope)
        torch.manual_seed(0)
        xi = x.clone().requires_grad_(True)
        layer(xi).sum().backward()
        grads.append(xi.grad.clone())
        rates.append(layer(x.repeat(5000, 1)).mean(0))
        pres.append(layer.preactivate(x))
    assert grads[1][4] == pytest.approx(4 * 0.25) and grads[0][4] == pytest.approx(0.25)
    assert grads[1][0] < grads[0][0]  # a steeper sigmoid passes less gradient far from 0
    assert rates[1][0] < rates[0][0] - 0.05 and rates[1][-1] > rates[0][-1] + 0.05  # SBN fires more decisively
    assert pres[1][-1] > pres[0][-1]


# ------------------------------------------------------------- family
def test_slope_annealing_hook_and_checkpoint_state(data, tmp_path):
    model = small_model(data, "binarygan-mlp-sbn", "model.slope_rate=1.1", "model.slope_max=1.25")
    neuron = model.G.out
    for epoch in range(2):
        model.on_epoch_end(epoch)
    assert model.slope == pytest.approx(1.21)
    assert float(neuron.slope) == pytest.approx(1.21)  # the layer actually uses the annealed slope
    model.on_epoch_end(2)
    assert model.slope == pytest.approx(1.25)  # capped at slope_max
    path = tmp_path / "ck.pt"
    torch.save({"extra": model.extra_state()}, path)
    fresh = small_model(data, "binarygan-mlp-sbn")
    assert float(fresh.G.out.slope) == 1.0
    fresh.load_extra_state(torch.load(path, weights_only=True)["extra"])
    assert fresh.slope == pytest.approx(1.25) and float(fresh.G.out.slope) == pytest.approx(1.25)


def test_generator_batch_norm_uses_batch_statistics_in_training(data):
    model = small_model(data, "binarygan-mlp-dbn")
    bn = model.G.body[1]
    seen = {}
    bn.register_forward_hook(lambda m, i, o: seen.update(out=o.detach()))
    model.train()
    model.G(torch.randn(64, 128) * 3 + 2)  # off-centre noise: only batch stats re-centre it
    assert seen["out"].mean(0).abs().max() < 1e-4
    assert seen["out"].var(0, unbiased=False).mean() == pytest.approx(1.0, abs=0.01)
    before = bn.running_mean.clone()
    model.train_step(Batches(data, 64, seed=0), 0)
    assert not torch.equal(before, bn.running_mean)  # training updated the running statistics


@pytest.mark.parametrize("preset", ["binarygan-mlp-dbn", "binarygan-cnn-sbn", "realvalued-mlp"])
def test_generate_is_exactly_binary(data, preset):
    model = small_model(data, preset).eval()
    x, pre = model.generate_with_preactivations(8)
    assert x.shape == pre.shape == (8, 1, 28, 28)
    assert set(model.generate(8).unique().tolist()) <= {0.0, 1.0}
    assert ((pre >= 0) & (pre <= 1)).all()


def test_real_valued_post_processing(data):
    model = small_model(data, "realvalued-mlp").eval()
    torch.manual_seed(5)
    p = model.G(model.noise(16))
    torch.manual_seed(5)
    thr = model.generate(16, post="threshold")
    assert torch.equal(thr, (p > 0.5).float())
    torch.manual_seed(5)
    bern = model.generate(16, post="bernoulli")
    assert set(bern.unique().tolist()) <= {0.0, 1.0} and not torch.equal(bern, thr)
    assert model.extra_metrics()["binary_fraction"] < 0.01  # raw outputs are probabilities


def test_bad_options_are_one_line_errors(data):
    with pytest.raises(GankitError, match="net.output"):
        load_config("binarygan-mlp-dbn", ["net.output=tanh"])
    with pytest.raises(GankitError, match="model.post"):
        load_config("realvalued-mlp", ["model.post=round"])
    grey = Dataset("mnist", torch.zeros(64, 1, 28, 28), None, num_classes=10, value_range=(-1.0, 1.0))
    with pytest.raises(GankitError, match="mnist-binary"):
        build_model(load_config("binarygan-mlp-dbn", ["data.name=mnist"]), grey)


@pytest.mark.slow
def test_record_model_writes_eval_histogram_and_figure(data, tmp_path, cache_dir):
    for preset, posts in (("binarygan-mlp-sbn", ["-"]), ("realvalued-mlp", ["threshold", "bernoulli"])):
        model = small_model(data, preset)
        folder = tmp_path / preset
        record_model(preset, model, 7, folder, n=50, cache_dir=cache_dir)
        ev = json.loads((folder / "eval.json").read_text())
        assert ev["step"] == 7 and [r["post"] for r in ev["rows"]] == posts
        assert all(r["n"] == 50 and "precision" in r and len(r["class_hist"]) == 10 for r in ev["rows"])
        assert ev["rows"][0]["binary_fraction"] == (1.0 if posts == ["-"] else pytest.approx(0.0, abs=0.01))
        assert (folder / "preactivations.png").is_file()
        lines = (folder / "preactivation_hist.csv").read_text().splitlines()
        assert lines[0] == "bin_left,bin_right,density" and len(lines) == 51
        density = [float(row.split(",")[2]) for row in lines[1:]]
        assert sum(density) / 50 == pytest.approx(1.0, rel=1e-4)  # a density over [0, 1]


# ------------------------------------------------------------- training
@pytest.mark.slow
def test_short_training_improves_fid(data, tmp_path, cache_dir):
    from gankit.training.loop import train
    from gankit.training.sampling import EVAL_SEED, evaluate_model

    cfg = load_config("binarygan-mlp-dbn", ["train.steps=150", "train.tensorboard=false",
                                            "train.eval_samples=500", "train.sample_every=1000"])
    torch.manual_seed(cfg.train.seed)
    untrained = evaluate_model(build_model(cfg, data), 500, cache_dir, EVAL_SEED)
    result = train(cfg, tmp_path / "run", cache_dir=cache_dir, data=data)
    assert result["binary_fraction"] == 1.0
    assert result["slope"] > 1.0  # epochs passed, so the slope was annealed
    assert result["fid"] < 0.8 * untrained["fid"]


def test_hist_shape_by_hand():
    # 10 bins of width 0.1: centres 0.05 .. 0.95; densities integrate to 1
    h = [3, 0, 1, 1, 0.5, 0.5, 1, 1, 0, 2]
    s = hist_shape(h)
    assert s["edge"] == pytest.approx((3 + 2) * 0.1)  # bins centred at 0.05 and 0.95
    assert s["middle"] == pytest.approx((1 + 1 + 0.5 + 0.5 + 1 + 1) * 0.1)  # centres 0.25 .. 0.75
    flat = [1.0] * 50  # 50 bins of width 0.02 (the report's histograms)
    flat[24] = flat[25] = 0.5  # the two bins around 0.5 at half the density of those at 0.4 and 0.6
    assert hist_shape(flat)["notch"] == pytest.approx(0.5)
