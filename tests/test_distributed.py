"""Data-parallel training with ``torchrun``: 2 CPU processes (gloo) train one model."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
from torch import nn

import tinynet
from hostile_kit import child_env, free_port
from gankit.models.base import Model
from gankit.training.checkpoint import Checkpoints
from gankit.training.distributed import _DDP, TrainingView, World
from gankit.training.loop import advance

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def mnist_root(tmp_path_factory):
    return tinynet.mnist_idx(tmp_path_factory.mktemp("mnist-idx"))


def torchrun(nproc: int, *args: str, env: dict) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={nproc}", "--master_addr=127.0.0.1",
           f"--master_port={free_port()}", str(HERE / "tinynet.py"), *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.torchrun
@pytest.mark.slow
def test_two_processes_train_one_model(tmp_path, cache_dir, mnist_root):
    preset = tinynet.write_preset(tmp_path, mnist_root)
    dump = tmp_path / "dump"
    dump.mkdir()
    env = child_env(cache_dir, TINYNET_DUMP=str(dump))
    run = tmp_path / "run"
    over = ["train.steps=6", "train.log_every=2", "train.ckpt_every=3", "train.sample_every=3"]
    done = torchrun(2, "train", str(preset), *over, "--out", str(run), "--quiet", env=env)
    assert done.returncode == 0, done.stderr[-3000:]

    # the ranks end with identical weights (parameters and batch-norm statistics)
    w0, w1 = (torch.load(dump / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    assert w0.keys() == w1.keys() and any("running_mean" in k for k in w0)
    for key in w0:
        assert torch.equal(w0[key], w1[key]), key
    # ... which are the ones rank 0 checkpointed, together with both ranks' RNG streams
    ckpt = Checkpoints(run / "checkpoints").load_latest()
    assert ckpt["step"] == 6 and ckpt["world"] == 2 and len(ckpt["ranks"]) == 2
    assert not torch.equal(ckpt["ranks"][0]["rng"]["torch"], ckpt["ranks"][1]["rng"]["torch"])
    for key in w0:
        assert torch.equal(ckpt["model"][key], w0[key]), key

    # the run directory is written once: one header and one row per logged step, one summary
    rows = (run / "losses.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows] == ["step", "2", "4", "6"]
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 1
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["step_000003.png", "step_000006.png"]
    assert done.stdout.count("run directory:") == 1
    assert json.loads(done.stdout.splitlines()[0])["step"] == 6

    # resume works the same way: 2 more steps on 2 processes
    for r in (0, 1):
        (dump / f"rank{r}.pt").unlink()
    done = torchrun(2, "train", "--resume", str(run), "train.steps=8", "--quiet", env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert Checkpoints(run / "checkpoints").load_latest()["step"] == 8
    w0, w1 = (torch.load(dump / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    assert all(torch.equal(w0[k], w1[k]) for k in w0)
    assert [r.split(",")[0] for r in (run / "losses.csv").read_text().splitlines()] == ["step", "2", "4", "6", "8"]


class _TwoNets(Model):
    """Two small networks and one optimizer; ``train_step`` records what it sees."""

    def __init__(self, fail: bool = False):
        super().__init__(cfg=None, data=None)
        self.G = nn.Linear(2, 2)
        self.D = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
        self.opt = torch.optim.SGD(self.parameters(), lr=0.1)
        self.seen: list = []
        self.fail = fail

    def optimizers(self):
        return {"opt": self.opt}

    def train_step(self, batches, step):
        self.seen.append((type(self.G), type(self.D)))
        self.steps_done = step + 1  # an attribute the step sets lands on the model itself
        if self.fail:
            raise RuntimeError("step failed")
        loss = self.D(self.G(torch.randn(4, 2))).square().mean()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return {"loss": loss}

    def on_step_end(self, step):
        self.seen.append(("end", type(self.G)))


class _Batches:
    epoch = 0


def test_wrap_returns_a_training_view_and_keeps_the_model_plain():
    model = _TwoNets()
    assert World().wrap(model) is model  # a single process trains the model itself
    dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    try:
        view = World(rank=0, size=2).wrap(model)  # active: DDP (over a group of one here)
        assert isinstance(view, TrainingView) and view.model is model
        keys = set(model.state_dict())
        sums: dict = {}
        assert advance(view, _Batches(), 0, sums) == 1 and set(sums) == {"loss"}
        # the step and its hooks ran on DDP networks; the model is plain again afterwards
        assert model.seen == [(_DDP, _DDP), ("end", _DDP)]
        assert type(model.G) is nn.Linear and type(model.D) is nn.Sequential
        assert set(model.state_dict()) == keys and not any(k.startswith("module.") for k in keys)
        assert model.steps_done == 1
        failing = _TwoNets(fail=True)
        with pytest.raises(RuntimeError):
            World(rank=0, size=2).wrap(failing).train_step(_Batches(), 0)
        assert type(failing.G) is nn.Linear and type(failing.D) is nn.Sequential
    finally:
        dist.destroy_process_group()
