"""A tiny registered net (with batch norm and dropout) and a preset for tests that run
the ``gankit`` command in a subprocess (resume after SIGKILL, torchrun).

Run as a script it is ``gankit`` with this net registered: ``python tests/tinynet.py train ...``.
With ``TINYNET_DUMP=DIR`` every process also writes its final weights to ``DIR/rank<R>.pt``.
"""
from __future__ import annotations

import os
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from gankit.config import NetConfig
from gankit.models.gan import GAN, GANConfig
from gankit.registry import MODELS, NETS


@dataclass
class TinyBNOpts(NetConfig):
    hidden: int = 24
    conditional: bool = False  # the gan family then feeds labels (which these nets ignore)
    wrong_shape: bool = False  # G makes images one row short (a net that does not fit its data)


@dataclass
class NaNGANConfig(GANConfig):
    nan_at: int = 0  # from this generator step on (1-based) the logged g_loss is NaN; 0 = never


if "gan-nan-test" not in MODELS:
    @MODELS.register("gan-nan-test", options=NaNGANConfig)
    class NaNGAN(GAN):
        """The gan family with a loss that turns NaN at ``model.nan_at`` (tests only)."""

        def train_step(self, batches, step):
            logs = super().train_step(batches, step)
            if self.cfg.model.nan_at and step + 1 >= self.cfg.model.nan_at:
                logs["g_loss"] = logs["g_loss"] * float("nan")
            return logs


class TinyG(nn.Module):
    def __init__(self, z: int, shape, hidden: int):
        super().__init__()
        self.shape = tuple(shape)
        size = 1
        for s in shape:
            size *= s
        self.net = nn.Sequential(nn.Linear(z, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, size), nn.Tanh())

    def forward(self, z, y=None):
        return self.net(z).view(-1, *self.shape)


class TinyD(nn.Module):
    def __init__(self, shape, hidden: int):
        super().__init__()
        size = 1
        for s in shape:
            size *= s
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(size, hidden), nn.LeakyReLU(0.2), nn.Dropout(0.3), nn.Linear(hidden, 1))

    def forward(self, x, y=None):
        return self.net(x).squeeze(1)


if "tiny-bn-test" not in NETS:
    @NETS.register("tiny-bn-test", options=TinyBNOpts)
    def tiny_bn(cfg, data):
        """Two-layer MLP pair with batch norm in G and dropout in D (tests only)."""
        shape = (data.shape[0], data.shape[1] - 1, *data.shape[2:]) if cfg.wrong_shape else data.shape
        return TinyG(cfg.z_dim, shape, cfg.hidden), TinyD(data.shape, cfg.hidden)


PRESET = """\
model: {family: gan}
objective: {name: ns, flip: 0.05, smooth_real: 0.1}
net: {name: tiny-bn-test, z_dim: 8, hidden: 24}
data: {name: mnist, batch_size: 16}
optim:
  g: {name: adam, lr: 1.0e-3}
  d: {name: adam, lr: 1.0e-3}
train: {steps: 40, seed: 5, threads: 1, log_every: 5, sample_every: 1000000, ckpt_every: 10,
        keep_checkpoints: 3, eval_samples: 100, grid_size: 16, tensorboard: false}
"""


def write_preset(directory: Path, root: Path | None = None, name: str = "tiny.yaml") -> Path:
    """The tiny preset as a YAML file (``data.root``: MNIST IDX files, see ``mnist_idx``)."""
    path = Path(directory) / name
    text = PRESET if root is None else PRESET.replace("batch_size: 16}", f"batch_size: 16, root: '{root}'}}")
    path.write_text(text)
    return path


_ARRAYS: list = []


def mnist_idx(directory: Path) -> Path:
    """The embedded MNIST digits written as IDX files: a subprocess reads them in milliseconds
    (the embedded CSV takes seconds), and the same pixels share the cached metric classifier."""
    from gankit.data.mnist import load_mnist_arrays

    if not _ARRAYS:
        _ARRAYS.append(load_mnist_arrays(None))
    images, labels = _ARRAYS[0]
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "train-images-idx3-ubyte").write_bytes(
        bytes([0, 0, 8, 3]) + struct.pack(">3I", *images.shape) + images.astype(np.uint8).tobytes())
    (directory / "train-labels-idx1-ubyte").write_bytes(
        bytes([0, 0, 8, 1]) + struct.pack(">I", len(labels)) + labels.astype(np.uint8).tobytes())
    return directory


def _dump_weights(directory: str) -> None:
    import gankit.training.loop as loop

    build = loop.build_model
    built = []

    def capture(cfg, data):
        built.append(build(cfg, data))
        return built[-1]

    loop.build_model = capture
    import atexit

    def dump() -> None:
        if built:
            torch.save(built[-1].state_dict(), Path(directory) / f"rank{os.environ.get('RANK', '0')}.pt")

    atexit.register(dump)


if __name__ == "__main__":
    from gankit.cli import main

    if os.environ.get("TINYNET_DUMP"):
        _dump_weights(os.environ["TINYNET_DUMP"])
    sys.exit(main(sys.argv[1:]))
