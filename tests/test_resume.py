"""Resume: a run killed with SIGKILL at a random step and resumed with ``gankit train --resume``
ends bit-identical to an uninterrupted run; schedule state (binarygan slope) survives a resume."""
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch

import tinynet
from hostile_kit import child_env, gankit_cmd
from gankit.catalogue import load_config
from gankit.training.checkpoint import Checkpoints
from gankit.training.loop import train


@pytest.fixture(scope="module")
def mnist_root(tmp_path_factory):
    return tinynet.mnist_idx(tmp_path_factory.mktemp("mnist-idx"))


def newest_step(run: Path) -> int:
    paths = Checkpoints(run / "checkpoints").paths()
    return int(paths[-1].stem.split("_")[1]) if paths else 0


def assert_same_state(a: dict, b: dict) -> None:
    assert a["step"] == b["step"]
    assert a["model"].keys() == b["model"].keys()
    for key in a["model"]:
        assert torch.equal(a["model"][key], b["model"][key]), key
    for name in a["optim"]:
        sa, sb = a["optim"][name]["state"], b["optim"][name]["state"]
        assert sa.keys() == sb.keys()
        for i in sa:
            for k in sa[i]:
                assert torch.equal(torch.as_tensor(sa[i][k]), torch.as_tensor(sb[i][k])), (name, i, k)


@pytest.mark.slow
def test_sigkill_at_random_step_then_resume_is_bit_identical(tmp_path, cache_dir, mnist_root):
    steps, every = 200, 7
    preset = tinynet.write_preset(tmp_path, mnist_root)
    overrides = [f"train.steps={steps}", f"train.ckpt_every={every}"]
    part = tmp_path / "part"
    target = random.randint(every, steps // 2)  # kill soon after this step's checkpoint
    proc = subprocess.Popen(gankit_cmd("train", str(preset), *overrides, "--out", str(part), "--quiet"),
                            env=child_env(cache_dir), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while newest_step(part) < target and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate()
    assert proc.returncode == -signal.SIGKILL, f"run ended by itself (rc {proc.returncode}): {err}"
    killed = newest_step(part)
    assert every <= killed < steps and killed % every == 0

    done = subprocess.run(gankit_cmd("train", "--resume", str(part), "--quiet"), env=child_env(cache_dir),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr

    threads = torch.get_num_threads()
    try:
        train(load_config(str(preset), overrides), tmp_path / "full", cache_dir=cache_dir)
    finally:
        torch.set_num_threads(threads)
    full = Checkpoints(tmp_path / "full" / "checkpoints").load_latest()
    resumed = Checkpoints(part / "checkpoints").load_latest()
    assert resumed["step"] == steps, f"killed after checkpoint {killed}"
    assert_same_state(full, resumed)
    # the loss log of the killed-and-resumed run is the uninterrupted one, row for row
    assert (part / "losses.csv").read_text() == (tmp_path / "full" / "losses.csv").read_text()


@pytest.mark.slow
def test_binarygan_slope_annealing_survives_resume(tmp_path, cache_dir, mnist_root):
    # 5,000 digits / 100 = 50 batches per epoch = 10 generator steps (5 critic batches each):
    # the slope is annealed at steps 10 and 20, on both sides of the checkpoint at 12
    over = [f"data.root={mnist_root}", "objective.name=ns", "data.batch_size=100", "train.steps=24", "train.ckpt_every=12", "train.eval_samples=100",
            "train.sample_every=1000", "train.tensorboard=false", "train.seed=2"]
    full, part = tmp_path / "full", tmp_path / "part"
    train(load_config("binarygan-mlp-dbn", over), full, cache_dir=cache_dir)
    train(load_config("binarygan-mlp-dbn", [*over, "train.steps=12"]), part, cache_dir=cache_dir)
    train(load_config("binarygan-mlp-dbn", over), part, resume=True, cache_dir=cache_dir)
    a = Checkpoints(full / "checkpoints").load_latest()
    b = Checkpoints(part / "checkpoints").load_latest()
    rate = load_config("binarygan-mlp-dbn").model.slope_rate
    assert a["extra"]["slope"] == b["extra"]["slope"] > 1.0
    assert abs(a["extra"]["slope"] - rate ** 2) < 1e-9
    assert_same_state(a, b)
