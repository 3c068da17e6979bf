"""Issue 21, a large ``gankit sample --n``: the samples stream to the .npz one chunk at a time
(memory bounded by a chunk, whatever --n), the file is the same as in-memory sampling for the
seed, it is written atomically, and an --n the disk cannot hold is one error line up front."""
import collections
import shutil

import numpy as np
import pytest

import gankit
import gankit.training.sampling as sampling
import tinynet
from gankit.data.base import Dataset
from hostile_kit import TINY, finished_tiny_run, refused, run_cli, tiny_preset


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return finished_tiny_run(tmp_path_factory.mktemp("hostile-sample"))


@pytest.fixture
def calls(monkeypatch):
    """The batch size of every generator call and of every conversion to the .npz arrays."""
    seen = {"G": [], "to_npz": []}
    forward, to_npz = tinynet.TinyG.forward, Dataset.to_npz

    def counted_forward(self, z, y=None):
        seen["G"].append(len(z))
        return forward(self, z, y)

    def counted_to_npz(self, samples):
        seen["to_npz"].append(len(samples))
        return to_npz(self, samples)

    monkeypatch.setattr(tinynet.TinyG, "forward", counted_forward)
    monkeypatch.setattr(Dataset, "to_npz", counted_to_npz)
    return seen


def no_temp_files(directory):
    return not [p for p in directory.rglob("*") if p.name.endswith(".tmp")]


def test_streamed_samples_equal_in_memory_sampling_and_memory_is_one_chunk(world, tmp_path, monkeypatch, calls):
    expected = gankit.load(world / "run").sample(5000, seed=3)  # one tensor, the default chunk
    assert run_cli(["sample", world / "run", "--n", 5000, "--seed", 3, "--out", tmp_path / "a.npz"]) == 0
    with np.load(tmp_path / "a.npz") as f:
        assert f.files == ["images"] and np.array_equal(f["images"], expected)

    # a chunk of 64: 79 generator calls of at most 64 samples, nothing converted in bigger pieces,
    # and the same file: one seeded RNG stream runs through the chunks (on the CPU, torch draws
    # the same normal numbers in pieces of a multiple of 16 values as in one call)
    monkeypatch.setattr(sampling, "SAMPLE_CHUNK", 64)
    calls["G"].clear(), calls["to_npz"].clear()
    assert run_cli(["sample", world / "run", "--n", 5000, "--seed", 3, "--out", tmp_path / "b.npz"]) == 0
    assert len(calls["G"]) == -(-5000 // 64) and max(calls["G"]) == 64 and sum(calls["G"]) == 5000
    assert max(calls["to_npz"]) == 64 and sum(calls["to_npz"]) == 5000
    with np.load(tmp_path / "b.npz") as f:
        assert np.array_equal(f["images"], expected)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npz", "b.npz"]  # no temporary file left


def test_a_grid_of_ten_million_samples_draws_only_the_grid(world, tmp_path, calls):
    assert run_cli(["sample", world / "run", "--n", 10_000_000, "--png", tmp_path / "g.png"]) == 0
    assert calls["G"] == [sampling.SAMPLE_CHUNK]  # the first chunk holds the grid's 100 samples
    assert (tmp_path / "g.png").is_file()


def test_more_samples_than_the_disk_holds_is_one_line_and_no_file(world, tmp_path, capsys, monkeypatch, calls):
    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 10**6, 10**6))
    line = refused(capsys, ["sample", world / "run", "--n", 10_000_000, "--out", tmp_path / "big.npz"])
    assert "10,000,000 samples take 7.8 GB" in line and "1.0 MB free" in line and "--n" in line, line
    assert calls["G"] == [sampling.SAMPLE_CHUNK]  # refused after the first chunk, before writing
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("n", [0, -5, 10**13])
def test_a_sample_count_out_of_range_is_one_line(world, tmp_path, capsys, n):
    line = refused(capsys, ["sample", world / "run", "--n", n, "--out", tmp_path / "x.npz"])
    assert "--n" in line and "1..1,000,000,000,000" in line
    assert list(tmp_path.iterdir()) == []


def test_a_failing_chunk_leaves_no_file(world, tmp_path, monkeypatch):
    def broken(self, samples):
        if broken.calls:
            raise KeyboardInterrupt  # Ctrl-C (or SIGTERM, which gankit unwinds the same way) mid-file
        broken.calls += 1
        return {"images": np.zeros((len(samples), 28, 28), np.uint8)}

    broken.calls = 0
    monkeypatch.setattr(Dataset, "to_npz", broken)
    monkeypatch.setattr(sampling, "SAMPLE_CHUNK", 50)
    assert run_cli(["sample", world / "run", "--n", 500, "--out", tmp_path / "x.npz"]) == 130
    assert list(tmp_path.iterdir()) == []


def test_conditional_labels_stream_with_their_samples(world, tmp_path, monkeypatch):
    preset = tiny_preset(tmp_path, world / "mnist")
    run = tmp_path / "cond"
    assert run_cli(["train", preset, *TINY, "net.conditional=true", "--out", run, "--quiet"]) == 0
    expected = gankit.load(run).sample(150, seed=1, labels=[3, 7, 7])
    monkeypatch.setattr(sampling, "SAMPLE_CHUNK", 32)
    assert run_cli(["sample", run, "--n", 150, "--seed", 1, "--labels", "3,7,7", "--out", tmp_path / "c.npz"]) == 0
    with np.load(tmp_path / "c.npz") as f:
        assert f.files == ["images", "labels"]
        assert f["labels"].dtype == np.int64 and f["labels"].tolist() == [3, 7, 7] * 50
        assert np.array_equal(f["images"], expected)
    assert no_temp_files(tmp_path)
