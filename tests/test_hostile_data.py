"""Malformed data files under ``data.root`` (issue 21): MNIST IDX, SVHN .mat and CIFAR-10
pickles that lie about their contents end in ONE line naming the file and the problem (exit
code 2), before any run directory is made and without allocating what a header claims."""
from __future__ import annotations

import gzip
import pickle
import struct
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import torch

from hostile_kit import idx_bytes, refused, tiny_preset
from gankit.data import load_dataset
from gankit.data.mnist import read_idx
from gankit.data.svhn import SVHNConfig
from gankit.errors import GankitError

scipy_io = pytest.importorskip("scipy.io", reason="SVHN .mat files need scipy")

IMAGES, LABELS = "train-images-idx3-ubyte", "train-labels-idx1-ubyte"
RNG = np.random.default_rng(21)


def header(code: int, dims) -> bytes:
    return bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)


def mnist_dir(tmp_path: Path, images: bytes | None = None, labels: bytes | None = None, n: int = 20) -> Path:
    root = tmp_path / "idx"
    root.mkdir()
    good_x = RNG.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    good_y = (np.arange(n) % 10).astype(np.uint8)
    (root / IMAGES).write_bytes(idx_bytes(good_x) if images is None else images)
    (root / LABELS).write_bytes(idx_bytes(good_y) if labels is None else labels)
    return root


def train_refused(tmp_path, capsys, monkeypatch, argv) -> str:
    """``gankit train`` with a bad data file: one line, and no run directory anywhere."""
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    line = refused(capsys, ["train", *argv, "--out", tmp_path / "run"])
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    return line


# ---------------------------------------------------------------- MNIST IDX
IDX_CASES = [  # (id, images file or None, labels file or None, what the line must say, the file it names)
    ("label-out-of-range", None, idx_bytes(np.array([0, 3, 12, 9] * 5, np.uint8)), "labels must lie in 0..9, got 0..12",
     LABELS),
    ("negative-label", None, idx_bytes(np.array([0, 3, -1, 9] * 5, np.int8), code=0x09),
     "labels must lie in 0..9, got -1..9", LABELS),
    ("float-labels", None, idx_bytes(np.full(20, 2.5, ">f4"), code=0x0D), "labels must be whole numbers 0..9", LABELS),
    ("pixels-out-of-range", idx_bytes(np.full((20, 28, 28), 300, ">i2"), code=0x0B), None,
     "pixel values must lie in 0..255, got 300..300", IMAGES),
    ("nan-pixels", idx_bytes(np.full((20, 28, 28), np.nan, ">f4"), code=0x0D), None, "images hold NaN or inf values",
     IMAGES),
    ("dims-overflow", header(0x08, [0xFFFFFFFF] * 3) + bytes(64), None,
     "the IDX header declares 79,228,162,458,924,105,385,300,197,375 bytes", IMAGES),
    ("dims-overflow-4d-float", header(0x0E, [0xFFFFFFFF] * 4) + bytes(64), None, "than the 2,147,483,648 gankit reads",
     IMAGES),
    ("no-dims", bytes([0, 0, 8, 0]) + bytes(20), None, "an IDX header with 0 dimensions (1..4 expected)", IMAGES),
    ("too-many-dims", header(0x08, [1] * 9) + bytes(1), None, "an IDX header with 9 dimensions", IMAGES),
    ("a-zero-dim", header(0x08, [0, 28, 28]), None, "the IDX header declares no values (shape [0, 28, 28])", IMAGES),
    ("unknown-type", bytes([0, 0, 0x07, 1]) + struct.pack(">I", 4) + bytes(4), None, "not an IDX file (bad magic",
     IMAGES),
    ("more-data-than-declared", idx_bytes(np.zeros((20, 28, 28), np.uint8)) + bytes(10), None,
     "is larger than its IDX header declares", IMAGES),
    ("truncated-claim-of-2GB", header(0x08, [2_739_000, 28, 28]) + bytes(100), None,
     "is truncated: expected 2147376000 values", IMAGES),
    ("images-and-labels-disagree", None, idx_bytes(np.zeros(7, np.uint8)), "disagree: images (20, 28, 28), labels (7,)",
     ""),
    ("labels-are-images", None, idx_bytes(np.zeros((20, 28, 28), np.uint8)), "disagree", ""),
]


@pytest.mark.parametrize("images,labels,message,names", [c[1:] for c in IDX_CASES], ids=[c[0] for c in IDX_CASES])
def test_malformed_idx_is_one_line(tmp_path, capsys, monkeypatch, images, labels, message, names):
    root = mnist_dir(tmp_path, images, labels)
    preset = tiny_preset(tmp_path, root)
    line = train_refused(tmp_path, capsys, monkeypatch, [preset])
    assert message in line and str(root / names) in line, line
    assert len(line) < 400, line


def _peak_mb(fn) -> float:
    tracemalloc.start()
    try:
        fn()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak / 2**20


def test_idx_claiming_a_huge_size_is_refused_before_it_allocates(tmp_path):
    """A 116-byte file whose header claims 2 GB (within the size gankit reads), plain and gzip:
    refused as truncated with memory bounded by the data, not by the claim."""
    claim = header(0x08, [2_739_000, 28, 28]) + bytes(100)
    plain, packed = tmp_path / IMAGES, tmp_path / f"{IMAGES}.gz"
    plain.write_bytes(claim)
    packed.write_bytes(gzip.compress(claim))
    for path in (plain, packed):
        def read(path=path):
            with pytest.raises(GankitError, match="is truncated: expected 2147376000 values"):
                read_idx(path)
        assert _peak_mb(read) < 64, path
    # beyond the size gankit reads at all: refused from the header alone
    beyond = tmp_path / "beyond.gz"
    beyond.write_bytes(gzip.compress(header(0x08, [1 << 20, 1 << 20, 1 << 20]) + bytes(100)))
    with pytest.raises(GankitError, match="than the 2,147,483,648 gankit reads"):
        read_idx(beyond)


def test_gzip_bomb_is_decompressed_only_to_the_declared_size(tmp_path):
    """The header claims 20 images; the stream expands to 200 MB: refused, never inflated whole."""
    path = tmp_path / f"{IMAGES}.gz"
    with gzip.open(path, "wb", compresslevel=1) as fh:
        fh.write(header(0x08, [20, 28, 28]))
        zeros = bytes(1 << 24)
        for _ in range(12):
            fh.write(zeros)
    assert path.stat().st_size < 2_000_000

    def read():
        with pytest.raises(GankitError, match="holds more data than its IDX header declares"):
            read_idx(path)
    assert _peak_mb(read) < 64


# ---------------------------------------------------------------- SVHN .mat
def svhn_dir(tmp_path: Path, x, y) -> Path:
    root = tmp_path / "svhn"
    root.mkdir()
    scipy_io.savemat(root / "train_32x32.mat", {"X": x, "y": y})
    return root


SVHN_X = RNG.integers(0, 256, (32, 32, 3, 8), dtype=np.uint8)
SVHN_CASES = [
    ("string-labels", SVHN_X, np.array(list("12345678")), "labels must be integers 0..10, got <U1"),
    ("cell-labels", SVHN_X, np.array(list("12345678"), dtype=object).reshape(8, 1), "labels must be integers"),
    ("label-out-of-range", SVHN_X, np.array([[1], [2], [3], [4], [5], [6], [7], [42]]), "labels must lie in 0..10"),
    ("float-images-beyond-1", SVHN_X / 127.5 - 1.0, np.ones((8, 1)), "float images must lie in [0, 1]"),
    ("nan-images", np.full((32, 32, 3, 8), np.nan), np.ones((8, 1)), "images hold NaN or inf values"),
    ("text-images", np.array(["pixels"] * 8, dtype=object), np.ones((8, 1)), "expected X [32, 32, 3, N]"),
    ("negative-pixels", SVHN_X.astype(np.int16) - 1, np.ones((8, 1)), "pixel values must lie in 0..255, got -1"),
]


@pytest.mark.parametrize("x,y,message", [c[1:] for c in SVHN_CASES], ids=[c[0] for c in SVHN_CASES])
def test_malformed_svhn_mat_is_one_line(tmp_path, capsys, monkeypatch, x, y, message):
    root = svhn_dir(tmp_path, x, y)
    line = train_refused(tmp_path, capsys, monkeypatch, ["dcgan-svhn", f"data.root={root}"])
    assert message in line and str(root / "train_32x32.mat") in line, line


def test_svhn_float_images_in_unit_range_are_pixels(tmp_path):
    """The usual alternative to bytes is accepted, as the same pixels (not refused, not as [-1, 1])."""
    root = svhn_dir(tmp_path, SVHN_X / 255.0, np.arange(1, 9).reshape(8, 1))
    ds = load_dataset(SVHNConfig(name="svhn", root=str(root)))
    want = torch.from_numpy(np.transpose(SVHN_X, (3, 2, 0, 1)).astype(np.float32)).div(127.5).sub(1)
    assert torch.allclose(ds.x, want, atol=1e-6)
    assert ds.y.tolist() == [1, 2, 3, 4, 5, 6, 7, 8]


# ---------------------------------------------------------------- CIFAR-10 pickles
def cifar_dir(tmp_path: Path, batch1: dict) -> Path:
    root = tmp_path / "cifar"
    root.mkdir()
    for i in range(1, 6):
        batch = batch1 if i == 1 else {b"data": RNG.integers(0, 256, (4, 3072), dtype=np.uint8), b"labels": [1] * 4}
        (root / f"data_batch_{i}").write_bytes(pickle.dumps(batch, protocol=2))
    return root


CIFAR_DATA = RNG.integers(0, 256, (4, 3072), dtype=np.uint8)
CIFAR_CASES = [
    ("string-labels", {b"data": CIFAR_DATA, b"labels": ["cat", "dog", "cat", "ship"]}, "labels must be integers 0..9"),
    ("label-out-of-range", {b"data": CIFAR_DATA, b"labels": [0, 1, 10, 2]}, "labels must lie in 0..9, got 0..10"),
    ("not-a-dict", [CIFAR_DATA, [0, 1, 2, 3]], "is not a CIFAR-10 batch"),
    ("rows-of-the-wrong-width", {b"data": CIFAR_DATA[:, :3000], b"labels": [0, 1, 2, 3]},
     "expected [N, 3072] and N labels"),
    ("string-data", {b"data": np.array([["x"] * 3072] * 4), b"labels": [0, 1, 2, 3]}, "images must be numbers"),
]


@pytest.mark.parametrize("batch,message", [c[1:] for c in CIFAR_CASES], ids=[c[0] for c in CIFAR_CASES])
def test_malformed_cifar_batch_is_one_line(tmp_path, capsys, monkeypatch, batch, message):
    root = cifar_dir(tmp_path, batch)
    preset = tiny_preset(tmp_path, root)
    line = train_refused(tmp_path, capsys, monkeypatch, [preset, "data.name=cifar10", f"data.root={root}"])
    assert message in line and str(root / "data_batch_1") in line, line
