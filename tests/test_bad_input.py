"""Every user error through the CLI: exit code 2, ONE stderr line ``gankit: error: ...``,
no traceback, and no existing run touched (nor a new one started)."""
import hashlib
import pickle
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import torch

import tinynet
from hostile_kit import run_cli
from gankit.training.checkpoint import Checkpoints


def tree(path: Path) -> dict:
    """Every file under ``path`` with its content hash."""
    return {str(p.relative_to(path)): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted(path.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def world(tmp_path_factory, cache_dir):
    """Finished tiny runs (unconditional and conditional) and bad data files, made once."""
    base = tmp_path_factory.mktemp("bad-input")
    root = tinynet.mnist_idx(base / "mnist")
    preset = tinynet.write_preset(base, root)
    over = ["train.steps=4", "train.ckpt_every=2", "train.sample_every=4"]
    assert run_cli(["train", preset, *over, "--out", base / "run", "--quiet"]) == 0
    assert run_cli(["train", preset, *over, "net.conditional=true", "--out", base / "crun", "--quiet"]) == 0
    (base / "nockpt").mkdir()
    shutil.copy(base / "run" / "config.yaml", base / "nockpt" / "config.yaml")
    shutil.copytree(base / "run", base / "corrupt")
    for p in (base / "corrupt" / "checkpoints").glob("*.pt"):
        p.write_bytes(p.read_bytes()[:200])
    (base / "existing.npz").write_bytes(b"keep me")
    # a file with the wrong IDX magic
    (base / "badidx").mkdir()
    (base / "badidx" / "train-images-idx3-ubyte").write_bytes(b"\x12\x34\x08\x03" + bytes(64))
    (base / "badidx" / "train-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01" + bytes(8))
    # SVHN: a valid small .mat and a truncated one
    rng = np.random.default_rng(0)
    (base / "svhn").mkdir()
    scipy.io.savemat(base / "svhn" / "train_32x32.mat",
                     {"X": rng.integers(0, 256, (32, 32, 3, 40), dtype=np.uint8), "y": rng.integers(1, 11, (40, 1))})
    (base / "svhn-cut").mkdir()
    (base / "svhn-cut" / "train_32x32.mat").write_bytes((base / "svhn" / "train_32x32.mat").read_bytes()[:3000])
    # CIFAR-10: a truncated pickle batch
    (base / "cifar").mkdir()
    batch = {b"data": rng.integers(0, 256, (10, 3072), dtype=np.uint8), b"labels": list(range(10))}
    (base / "cifar" / "data_batch_1").write_bytes(pickle.dumps(batch, protocol=2)[:500])
    (base / "broken.yaml").write_text("model: {family: gan\nnet: [")
    return base


# (id, argv with {placeholders} under the fixture's directory, a regex the message must match)
CASES = [
    ("unknown-preset", ["train", "no-such-preset"], r"unknown preset 'no-such-preset'"),
    ("unknown-config-key", ["train", "{preset}", "train.stepz=5"], r"unknown config key 'train.stepz'"),
    ("unknown-section", ["train", "{preset}", "trainer.steps=5"], r"unknown config key 'trainer'"),
    ("wrong-value-type", ["train", "{preset}", "train.steps=many"], r"'train.steps' expects an integer"),
    ("zero-lr", ["train", "{preset}", "optim.g.lr=0"], r"'optim.g.lr' must be > 0"),
    ("negative-lr", ["train", "{preset}", "optim.d.lr=-1e-4"], r"'optim.d.lr' must be > 0"),
    ("override-without-value", ["train", "{preset}", "train.steps"], r"not of the form key=value"),
    ("unknown-net", ["train", "{preset}", "net.name=no-such-net"], r"unknown net 'no-such-net'"),
    ("preset-not-yaml", ["train", "{dir}/broken.yaml"], r"not valid YAML"),
    ("batch-larger-than-dataset", ["train", "{preset}", "data.batch_size=6000"], r"larger than the dataset \(5000"),
    ("missing-data-directory", ["train", "{preset}", "data.root={dir}/nowhere"], r"data directory not found"),
    ("wrong-idx-magic", ["train", "{preset}", "data.root={dir}/badidx"], r"not an IDX file \(bad magic"),
    ("truncated-mat", ["train", "dcgan-svhn", "data.root={dir}/svhn-cut"], r"truncated or corrupt \.mat"),
    ("truncated-pickle", ["train", "{preset}", "data.name=cifar10", "data.root={dir}/cifar"],
     r"truncated or corrupt pickle"),
    ("net-cannot-take-image-size", ["train", "dcgan-mnist", "data.name=svhn", "data.root={dir}/svhn", "data.batch_size=8"],
     r"net 'dcgan-mnist' .*svhn.*3x32x32"),
    ("net-output-shape-mismatch", ["train", "{preset}", "net.wrong_shape=true"],
     r"generates examples of shape \[1, 27, 28\] but data 'mnist' has shape \[1, 28, 28\]"),
    ("tictactoe-board-below-2", ["train", "dwgan-ttt-3x3-2p", "data.board_size=1"], r"'data.board_size' must be >= 2"),
    ("out-is-an-existing-run", ["train", "{preset}", "--out", "{dir}/run"], r"already exists; pass --overwrite"),
    ("resume-other-preset", ["train", "dcgan-mnist", "--resume", "{dir}/run"], r"made with preset '.*tiny.yaml', not 'dcgan-mnist'"),
    ("resume-missing-run", ["train", "--resume", "{dir}/nowhere"], r"run directory not found"),
    ("resume-corrupt-checkpoints-only", ["train", "--resume", "{dir}/corrupt"], r"every checkpoint .* is corrupt"),
    ("resume-and-out-differ", ["train", "--resume", "{dir}/run", "--out", "{dir}/elsewhere"], r"--out and --resume"),
    ("sample-conditional-on-unconditional", ["sample", "{dir}/run", "--label", "3", "--out", "{dir}/s.npz"],
     r"not conditional"),
    ("sample-without-checkpoint", ["sample", "{dir}/nockpt", "--out", "{dir}/s.npz"], r"nothing to sample.*no checkpoint"),
    ("sample-corrupt-checkpoints-only", ["sample", "{dir}/corrupt", "--out", "{dir}/s.npz"], r"every checkpoint .* is corrupt"),
    ("sample-existing-output", ["sample", "{dir}/run", "--out", "{dir}/existing.npz"], r"already exists; pass --overwrite"),
    ("sample-missing-run", ["sample", "{dir}/nowhere", "--out", "{dir}/s.npz"], r"run directory not found"),
    ("sample-not-a-run", ["sample", "{dir}/svhn", "--out", "{dir}/s.npz"], r"not a gankit run"),
    ("sample-bad-labels", ["sample", "{dir}/crun", "--labels", "3,x", "--out", "{dir}/s.npz"], r"comma-separated integers"),
    ("sample-label-out-of-range", ["sample", "{dir}/crun", "--labels", "3,12", "--out", "{dir}/s.npz"], r"label 12 is outside 0..9"),
    ("sample-png-twice", ["sample", "{dir}/run", "--out", "{dir}/s.png", "--png", "{dir}/t.png"], r"--out names a \.png file and --png"),
    ("sample-zero-n", ["sample", "{dir}/run", "--n", "0", "--out", "{dir}/s.npz"], r"--n\) must lie in 1\.\."),
    ("sample-n-not-a-number", ["sample", "{dir}/run", "--n", "lots"], r"invalid int value"),
    ("eval-missing-run", ["eval", "{dir}/nowhere"], r"run directory not found"),
    ("unknown-command", ["fly"], r"invalid choice"),
]


@pytest.mark.parametrize("argv,pattern", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_exit_2(world, argv, pattern, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a default run directory would appear here
    argv = [a.format(dir=world, preset=world / "tiny.yaml") for a in argv]
    runs = {name: tree(world / name) for name in ("run", "crun", "nockpt", "corrupt")}
    existing = (world / "existing.npz").read_bytes()

    code = run_cli(argv)

    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("gankit: error: "), err
    assert "Traceback" not in err
    assert re.search(pattern, lines[0]), lines[0]
    # nothing existing was changed or deleted, nothing new was started
    assert {name: tree(world / name) for name in runs} == runs
    assert (world / "existing.npz").read_bytes() == existing
    assert not (world / "s.npz").exists() and not (world / "elsewhere").exists()
    assert list(tmp_path.iterdir()) == []


def test_non_finite_loss_stops_and_keeps_last_good_checkpoint(world, tmp_path, capsys):
    out = tmp_path / "nan"
    # g_loss is NaN from step 10 on; losses are checked when logged (every 3 steps)
    code = run_cli(["train", world / "tiny.yaml", "model.family=gan-nan-test", "model.nan_at=10",
                    "train.steps=30", "train.log_every=3", "train.ckpt_every=4", "--out", out, "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert re.search(r"loss 'g_loss' is nan at step 12 \(mean of steps 10-12\); last good checkpoint: step_00000008\.pt",
                     err[0]), err[0]
    state = Checkpoints(out / "checkpoints").load_latest()
    assert state["step"] == 8
    assert all(torch.isfinite(v).all() for v in state["model"].values() if v.is_floating_point())


def test_batch_not_divisible_by_processes(world, capsys, tmp_path, monkeypatch):
    # as torchrun --nproc_per_node=3 would set it; the check comes before any process group
    monkeypatch.setenv("WORLD_SIZE", "3")
    monkeypatch.setenv("RANK", "0")
    code = run_cli(["train", world / "tiny.yaml", "--out", tmp_path / "r"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert re.search(r"data.batch_size 16 must be divisible by the number of processes \(3\)", err[0]), err[0]
    assert not (tmp_path / "r").exists()


def test_overrides_may_follow_options(tmp_path, cache_dir):
    """`gankit train PRESET --out DIR k=v`: argparse alone would reject the trailing k=v."""
    preset = tinynet.write_preset(tmp_path, tinynet.mnist_idx(tmp_path / "mnist"))
    out = tmp_path / "run"
    assert run_cli(["train", preset, "--out", out, "--quiet", "train.steps=3", "train.eval_samples=100"]) == 0
    assert "steps: 3\n" in (out / "config.yaml").read_text()
    assert run_cli(["train", preset, "--out", tmp_path / "r2", "--bogus", "train.steps=3"]) == 2
    assert not (tmp_path / "r2").exists()


def test_sample_out_with_png_name_writes_a_png_grid(world, tmp_path, capsys):
    """`gankit sample RUN --out grid.png` writes a PNG picture, not an .npz archive named .png."""
    assert run_cli(["sample", world / "run", "--n", "8", "--out", tmp_path / "grid.png"]) == 0
    assert (tmp_path / "grid.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert run_cli(["sample", world / "run", "--n", "8", "--out", tmp_path / "arrays.npz"]) == 0
    assert np.load(tmp_path / "arrays.npz")["images"].shape[0] == 8
