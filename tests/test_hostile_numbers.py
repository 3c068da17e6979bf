"""Numbers out of range (issue 21): seeds beyond 64 bits, nets no memory holds, non-finite or
negative optimizer settings and sample counts that metrics cannot use end in ONE line naming
the key or option (exit code 2), before a run directory or an output file is made."""
from __future__ import annotations

import shutil

import pytest

from hostile_kit import finished_tiny_run, refused, run_cli, tree


@pytest.fixture(scope="module")
def world(tmp_path_factory, cache_dir):
    base = finished_tiny_run(tmp_path_factory.mktemp("hostile-numbers"))
    return base


TRAIN_CASES = [  # (override, what the line must say)
    ("train.seed=" + str(10**23), "config key 'train.seed' is out of range (|value| <= 2^63-1), got 100000000000000000000000"),
    ("train.seed=" + str(2**63), "config key 'train.seed' is out of range"),
    ("train.seed=-1", "config key 'train.seed' must lie in 0..2^63-1, got -1"),
    ("train.seed=1.0e+30", "config key 'train.seed' is out of range"),
    ("net.z_dim=2000000000", "config key 'net.z_dim' must be <= 65,536 (what memory can hold), got 2000000000"),
    ("net.hidden=" + str(10**12), "config key 'net.hidden' must be <= 65,536"),
    ("net.z_dim=0", "config key 'net.z_dim' must be > 0, got 0"),
    ("optim.g.eps=nan", "config key 'optim.g.eps' must be a finite number, got 'nan'"),
    ("optim.g.eps=.nan", "config key 'optim.g.eps' must be a finite number, got nan"),
    ("optim.d.eps=0", "config key 'optim.d.eps' must be finite and > 0, got 0.0"),
    ("optim.g.weight_decay=-1", "config key 'optim.g.weight_decay' must be finite and >= 0, got -1.0"),
    ("optim.g.lr=inf", "config key 'optim.g.lr' must be a finite number, got 'inf'"),
    ("optim.g.lr=.inf", "config key 'optim.g.lr' must be a finite number, got inf"),
    ("optim.d.lr=1" + "0" * 400, "config key 'optim.d.lr' must be a finite number"),
    ("optim.g.beta1=1", "config key 'optim.g.beta1/beta2' must lie in [0, 1)"),
    ("optim.g.lr_decay=0", "config key 'optim.g.lr_decay' must lie in (0, 1]"),
    ("data.batch_size=1000000000", "config key 'data.batch_size' must lie in 1..65,536, got 1000000000"),
    ("train.eval_samples=1000000000", "config key 'train.eval_samples' must lie in 1..1,000,000"),
    ("train.eval_samples=0", "config key 'train.eval_samples' must lie in 1..1,000,000, got 0"),
    ("train.steps=-3", "config key 'train.steps' must be > 0, got -3"),
    ("train.seconds=nan", "config key 'train.seconds' expects float | None, got 'nan'"),
    ("train.seconds=-1", "config key 'train.seconds' must be > 0, got -1.0"),
    ("train.threads=100000", "config key 'train.threads' must be <= 4096"),
    ("train.grid_size=1000000", "config key 'train.grid_size' must be <= 1024"),
]


@pytest.mark.parametrize("override,message", TRAIN_CASES, ids=[c[0][:40] for c in TRAIN_CASES])
def test_out_of_range_config_number_is_one_line(world, tmp_path, capsys, monkeypatch, override, message):
    monkeypatch.chdir(tmp_path)
    line = refused(capsys, ["train", world / "tiny.yaml", override, "--out", tmp_path / "run"])
    assert message in line, line
    assert list(tmp_path.iterdir()) == []


def test_out_of_range_override_on_resume_is_one_line(world, tmp_path, capsys):
    run = shutil.copytree(world / "run", tmp_path / "run")
    before = tree(run)
    for override, message in [("train.steps=" + str(10**23), "config key 'train.steps' is out of range"),
                              ("train.eval_samples=-1", "config key 'train.eval_samples' must lie in 1..")]:
        assert message in refused(capsys, ["train", "--resume", run, override])
    assert tree(run) == before


CLI_CASES = [  # (command after RUN, what the line must say)
    (["sample", "--seed", str(10**23)], "--seed must lie in 0..2^63-1, got 100000000000000000000000"),
    (["sample", "--seed", "-1"], "--seed must lie in 0..2^63-1, got -1"),
    # sample streams to its file: the disk's free space bounds --n (eval holds its samples: 1..1,000,000)
    (["sample", "--n", str(10**12)], "1,000,000,000,000 samples take 784.0 TB and"),
    (["sample", "--n", str(10**13)], "the number of samples (--n) must lie in 1..1,000,000,000,000, got 10000000000000"),
    (["sample", "--n", "-3"], "the number of samples (--n) must lie in 1..1,000,000,000,000, got -3"),
    (["sample", "--label", "-1"], "not conditional"),
    (["eval", "--n", "-3"], "the number of samples (--n) must lie in 1..1,000,000, got -3"),
    (["eval", "--n", str(10**12)], "the number of samples (--n) must lie in 1..1,000,000"),
    (["eval", "--n", "1"], "FID and IS need at least 2 samples, got 1"),
    (["eval", "--n", "1e3"], "invalid int value: '1e3'"),
]


@pytest.mark.parametrize("argv,message", CLI_CASES, ids=[" ".join(c[0])[:30] for c in CLI_CASES])
def test_out_of_range_cli_number_is_one_line(world, tmp_path, capsys, argv, message):
    run = world / "run"
    before = tree(run)
    command, *options = argv
    out = ["--out", tmp_path / "s.npz"] if command == "sample" else []
    line = refused(capsys, [command, run, *options, *out])
    assert message in line, line
    assert tree(run) == before and list(tmp_path.iterdir()) == []


def test_eval_of_two_samples_works(world, capsys):
    """The smallest count the metrics take (the refusal above is of n < 2 only)."""
    import json

    assert run_cli(["eval", world / "run", "--n", "2"]) == 0
    assert json.loads(capsys.readouterr().out)["n"] == 2
