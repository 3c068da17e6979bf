"""train_step runs k critic steps per generator step: the gan family's n_critic and the
adaptive schedule of practical-gan-guide.txt 5.3.1 (cwgangp-mnist: k = 100 for the first 100
generator steps and every 500th, else 5), BinaryGAN's n_critic and DWGAN's Algorithm 1
(n_critic critic steps, then one generator step on a batch of its own).

Counted from the outside: optimizer step hooks record the order of D and G updates, and
``Batches.drawn`` the real examples handed out."""
import pytest
import torch

import tinynet  # noqa: F401  (registers the tiny-bn-test net)
from gankit.catalogue import build_config, load_config
from gankit.data import load_dataset
from gankit.data.base import Batches, Dataset
from gankit.models import build_model


def run_step(model, batches, step):
    """Run ``model.train_step(batches, step)``; the optimizer steps in order ('d'/'g') and the
    number of real batches drawn."""
    order = []
    handles = [opt.register_step_post_hook(lambda *args, name=name: order.append(name))
               for name, opt in model.optimizers().items()]
    drawn = batches.drawn
    try:
        model.train_step(batches, step)
    finally:
        for h in handles:
            h.remove()
    assert (batches.drawn - drawn) % batches.batch_size == 0
    return order, (batches.drawn - drawn) // batches.batch_size


def tiny_digits(n=64, shape=(1, 28, 28)):
    g = torch.Generator().manual_seed(0)
    return Dataset("mnist", torch.rand(n, *shape, generator=g) * 2 - 1, torch.arange(n) % 10, num_classes=10)


@pytest.mark.parametrize("reuse_fake", [True, False])
@pytest.mark.parametrize("k", [1, 3])
def test_gan_takes_n_critic_d_steps_then_one_g_step(k, reuse_fake):
    cfg = build_config({"model": {"family": "gan", "n_critic": k, "reuse_fake": reuse_fake}, "objective": {"name": "wgan-gp"},
                        "net": {"name": "tiny-bn-test", "z_dim": 8, "hidden": 8},
                        "data": {"name": "mnist", "batch_size": 8}}, "tiny")
    torch.manual_seed(0)
    data = tiny_digits()
    model = build_model(cfg, data)
    batches = Batches(data, 8, seed=0)
    for step in range(2):
        order, drawn = run_step(model, batches, step)
        assert order == ["d"] * k + ["g"]
        assert drawn == k  # one fresh real batch per critic step; the G step needs none


def test_adaptive_critic_schedule_drives_train_step():
    # cwgangp-mnist as shipped: n_critic 5, critic_boost 100 for steps 0-99 and every 500th
    cfg = load_config("cwgangp-mnist", ["net.width=1", "net.dense=4", "data.batch_size=2"])
    m = cfg.model
    assert (m.n_critic, m.critic_boost, m.critic_boost_first, m.critic_boost_every) == (5, 100, 100, 500)
    torch.manual_seed(0)
    data = tiny_digits()
    model = build_model(cfg, data)
    batches = Batches(data, 2, seed=0)
    for step, k in ((99, 100), (100, 5), (499, 5), (500, 100), (501, 5)):
        order, drawn = run_step(model, batches, step)
        assert order == ["d"] * k + ["g"], (step, order.count("d"))
        assert drawn == k, step


def test_binarygan_takes_its_five_critic_steps():
    cfg = load_config("binarygan-mlp-dbn", ["data.batch_size=8"])
    assert cfg.model.n_critic == 5
    data = load_dataset(cfg.data)
    torch.manual_seed(0)
    model = build_model(cfg, data)
    batches = Batches(data, 8, seed=0)
    order, drawn = run_step(model, batches, 0)
    assert order == ["d"] * 5 + ["g"] and drawn == 5


@pytest.mark.parametrize("k", [1, 3])
def test_dwgan_takes_n_critic_steps_then_a_generator_step_on_its_own_batch(k):
    cfg = load_config("dwgan-ttt-3x3-2p", [f"model.n_critic={k}", "net.g_hidden=16", "data.batch_size=10"])
    torch.manual_seed(0)
    model = build_model(cfg, load_dataset(cfg.data))
    batches = Batches(model.data, 10, seed=0)
    order, drawn = run_step(model, batches, 0)
    assert order == ["d"] * k + ["g"]
    assert drawn == k + 1  # Algorithm 1: a real batch per critic step and one for the generator step
