"""In-memory datasets and the batch source the trainer draws from."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from gankit.errors import GankitError


# ---------------------------------------------------------------- the input boundary of data files
def pixels_uint8(x, source) -> np.ndarray:
    """Pixel values of a data file as uint8: bytes as they are, floats in [0, 1] scaled by 255,
    other numbers in 0..255 kept; anything else (text, NaN, out of range) is refused."""
    x = np.asarray(x)
    if x.dtype == np.uint8:
        return x if x.flags.writeable else x.copy()
    if x.size == 0 or not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)):
        raise GankitError(f"{source}: images must be numbers (uint8 pixels), got {x.dtype} of shape {x.shape}")
    if np.issubdtype(x.dtype, np.floating):
        if not np.isfinite(x).all():
            raise GankitError(f"{source}: images hold NaN or inf values")
        lo, hi = float(x.min()), float(x.max())
        if lo >= 0 and hi <= 1:  # float images in [0, 1]: the usual alternative to bytes
            return np.rint(x * 255).astype(np.uint8)
        if lo >= 0 and hi <= 255 and np.all(x == np.rint(x)):
            return x.astype(np.uint8)
        raise GankitError(f"{source}: float images must lie in [0, 1] (or be whole numbers in 0..255), "
                          f"got values in [{lo:.4g}, {hi:.4g}]")
    lo, hi = int(x.min()), int(x.max())
    if lo < 0 or hi > 255:
        raise GankitError(f"{source}: pixel values must lie in 0..255, got {lo}..{hi}")
    return x.astype(np.uint8)


def class_labels(y, source, num_classes: int, first: int = 0) -> np.ndarray:
    """Integer labels of a data file as int64, each in ``first..first+num_classes-1``."""
    y = np.asarray(y).reshape(-1)
    last = first + num_classes - 1
    if y.size and not (np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.floating)):
        raise GankitError(f"{source}: labels must be integers {first}..{last}, got {y.dtype}")
    if np.issubdtype(y.dtype, np.floating) and y.size and not np.all(np.isfinite(y) & (y == np.rint(y))):
        raise GankitError(f"{source}: labels must be whole numbers {first}..{last}")
    if y.size and (y.min() < first or y.max() > last):
        raise GankitError(f"{source}: labels must lie in {first}..{last}, got {y.min():.0f}..{y.max():.0f}")
    return y.astype(np.int64)


@dataclass
class Dataset:
    """A whole dataset held in memory.

    ``x``: float32 tensor [N, C, H, W] for images (values in ``value_range``) or
    [N, cells, P+1] one-hot for boards. ``y``: int64 labels [N] (or None).
    """

    name: str
    x: torch.Tensor
    y: torch.Tensor | None
    num_classes: int = 0
    kind: str = "image"  # image | board
    value_range: tuple[float, float] = (-1.0, 1.0)
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return self.x.shape[0]

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of one example."""
        return tuple(self.x.shape[1:])

    def to_uint8(self, x: torch.Tensor) -> torch.Tensor:
        """Images in ``value_range`` -> uint8 [N, H, W] (gray) or [N, H, W, 3] (colour)."""
        lo, hi = self.value_range
        u = ((x.float() - lo) / (hi - lo)).clamp(0, 1).mul(255).round().to(torch.uint8)
        u = u.permute(0, 2, 3, 1)
        return u[..., 0] if u.shape[-1] == 1 else u

    def to_npz(self, samples: torch.Tensor) -> dict:
        """What ``gankit sample --out F.npz`` writes: ``images`` uint8 [N, H, W] or [N, H, W, 3]."""
        import numpy as np

        return {"images": np.asarray(self.to_uint8(samples.cpu()).numpy())}

    def render_text(self, samples: torch.Tensor) -> str:
        """Samples as text (``gankit sample --show K``); only board datasets have one."""
        raise GankitError("--show prints board samples; this run's samples are images (use --png)")

    def to_unit(self, x: torch.Tensor) -> torch.Tensor:
        """Images in ``value_range`` -> float in [0, 1] (what the metric classifier takes)."""
        lo, hi = self.value_range
        return ((x.float() - lo) / (hi - lo)).clamp(0, 1)


class Batches:
    """Random minibatches sliced from in-memory tensors, a fresh permutation each epoch.

    Resumable: ``state_dict`` holds the epoch, the position and the permutation
    generator's state, so a resumed run sees exactly the same batches.
    With ``rank``/``world`` each process takes its own slice of every global batch.
    """

    def __init__(self, data: Dataset, batch_size: int, seed: int, device: torch.device | str = "cpu",
                 rank: int = 0, world: int = 1):
        if batch_size * world > len(data):
            raise GankitError(
                f"data.batch_size {batch_size * world} is larger than the dataset ({len(data)} examples)"
            )
        self.data = data
        self.batch_size = batch_size
        self.rank, self.world = rank, world
        self.device = torch.device(device)
        self.x = data.x.to(self.device)
        self.y = data.y.to(self.device) if data.y is not None else None
        self.gen = torch.Generator().manual_seed(seed)
        self.epoch = 0
        self.pos = 0
        self.drawn = 0  # real examples handed out by this process (for images/s)
        self.perm = torch.randperm(len(data), generator=self.gen)

    @property
    def global_batch(self) -> int:
        return self.batch_size * self.world

    @property
    def epochs_done(self) -> int:
        """Completed passes: the current one counts once too few examples remain for a batch."""
        return self.epoch + (self.pos + self.global_batch > len(self.perm))

    def next(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The next batch (x, y); starts a new epoch (new permutation) when too few remain."""
        if self.pos + self.global_batch > len(self.perm):
            self.epoch += 1
            self.pos = 0
            self.perm = torch.randperm(len(self.data), generator=self.gen)
        start = self.pos + self.rank * self.batch_size
        idx = self.perm[start:start + self.batch_size].to(self.device)
        self.pos += self.global_batch
        self.drawn += self.batch_size
        x = self.x.index_select(0, idx)
        y = self.y.index_select(0, idx) if self.y is not None else None
        return x, y

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "pos": self.pos, "perm": self.perm.clone(), "gen": self.gen.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.epoch = int(state["epoch"])
        self.pos = int(state["pos"])
        self.perm = state["perm"].clone()
        self.gen.set_state(state["gen"])
