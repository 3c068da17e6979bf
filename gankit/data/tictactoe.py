"""Generalized tic-tac-toe boards (dwgan.txt 5.1 and appendix B.1).

An m x m board holds 0 (empty) or a player 1..P in every cell. A board is
*valid* when one player holds a whole row, a whole column, the main diagonal
or the anti-diagonal (the paper's simplified rule, appendix ``valid``). The
training set is drawn uniformly from the valid boards by rejection sampling
of uniform random boards, vectorized so that 5 x 5 boards with 8 players
(about 0.16% valid) take a fraction of a second.

Boards are stored one-hot, ``x`` float32 [N, m*m, P+1] (class 0 = empty),
``kind='board'``; ``meta`` holds ``board_size`` and ``players``.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch

from gankit.config import DataConfig
from gankit.data.base import Dataset
from gankit.errors import GankitError
from gankit.registry import DATASETS

# RGB of empty cells and players 1..8 in rendered grids; more players cycle through them
_PALETTE = np.array([
    (245, 245, 245), (220, 50, 47), (38, 139, 210), (133, 153, 0), (181, 137, 0),
    (108, 113, 196), (42, 161, 152), (211, 54, 130), (88, 88, 88),
], dtype=np.uint8)


@dataclass
class TicTacToeConfig(DataConfig):
    name: str = "tictactoe"
    board_size: int = 3  # m: boards are m x m
    players: int = 2  # P: cells take 0 (empty) or 1..P
    n_boards: int | None = None  # training boards; None = 10 * m * P as in the appendix
    seed: int = 0  # the training set's own seed (independent of train.seed)

    def validate(self) -> None:
        if self.board_size < 2:
            raise GankitError(f"config key 'data.board_size' must be >= 2, got {self.board_size}")
        if self.players < 1:
            raise GankitError(f"config key 'data.players' must be >= 1, got {self.players}")
        if self.n_boards is not None and self.n_boards < 1:
            raise GankitError(f"config key 'data.n_boards' must be >= 1, got {self.n_boards}")


# ------------------------------------------------------------- board maths
def lines(boards: np.ndarray) -> np.ndarray:
    """Every row, column and both diagonals of int boards [N, m, m] -> [N, 2m+2, m]."""
    b = np.asarray(boards)
    if b.ndim != 3 or b.shape[1] != b.shape[2]:
        raise GankitError(f"boards must have shape [N, m, m], got {list(b.shape)}")
    m = b.shape[1]
    idx = np.arange(m)
    diag = b[:, idx, idx][:, None]
    anti = b[:, idx, m - 1 - idx][:, None]
    return np.concatenate([b, b.transpose(0, 2, 1), diag, anti], axis=1)


def is_valid(boards: np.ndarray) -> np.ndarray:
    """bool [N]: some player (not the empty class) holds a whole line (appendix ``valid``)."""
    ln = lines(boards)
    held = (ln == ln[..., :1]).all(-1) & (ln[..., 0] != 0)
    return held.any(-1)


def max_gain(boards: np.ndarray, players: int) -> np.ndarray:
    """int [N]: the most cells one player holds in one line (appendix ``stats_num``; = m iff valid)."""
    ln = lines(boards)
    counts = np.stack([(ln == p).sum(-1) for p in range(1, players + 1)], axis=-1)  # [N, lines, P]
    return counts.reshape(len(ln), -1).max(-1) if players else np.zeros(len(ln), dtype=np.int64)


def board_symmetries(board_size: int) -> np.ndarray:
    """The 8 symmetries of an m×m board (4 rotations, each optionally transposed) as cell
    permutations, int [8, m*m]: ``flat_boards[:, perm]`` applies one."""
    idx = np.arange(board_size * board_size).reshape(board_size, board_size)
    return np.stack([np.rot90(grid, k).reshape(-1) for grid in (idx, idx.T) for k in range(4)])


def canonical_boards(boards: np.ndarray) -> np.ndarray:
    """int [N, m*m]: one representative per class of boards equal up to a board symmetry and a
    relabelling of the players (players renumbered in order of first appearance, then the
    smallest of the 8 symmetric variants). Both leave validity unchanged (5.1's rule holds
    for any player and maps rows, columns and diagonals onto rows, columns and diagonals)."""
    b = np.asarray(boards)
    n, m = len(b), b.shape[1]
    flat = b.reshape(n, m * m)
    variants = flat[:, board_symmetries(m)]  # [N, 8, m*m]
    seq = variants.reshape(n * 8, m * m)
    classes = int(seq.max(initial=0)) + 1
    present = seq[:, :, None] == np.arange(classes)  # [K, cells, classes]
    first = np.where(present.any(1), present.argmax(1), m * m + np.arange(classes))  # [K, classes]
    first[:, 0] = -1  # the empty class keeps label 0
    label = np.argsort(np.argsort(first, axis=1), axis=1)  # rank of each class by first appearance
    relabelled = np.take_along_axis(label, seq, axis=1).reshape(n, 8, m * m)
    # smallest variant per board: lexicographic order via a stable sort on each column, last first
    order = np.lexsort(relabelled.transpose(2, 0, 1)[::-1].reshape(m * m, -1)).reshape(-1)
    keys = np.empty(n * 8, dtype=np.int64)
    keys[order] = np.arange(n * 8)
    best = keys.reshape(n, 8).argmin(1)
    return relabelled[np.arange(n), best]


@functools.lru_cache(maxsize=None)
def _symmetry_index(board_size: int) -> torch.Tensor:
    """:func:`board_symmetries` as a tensor, built once per board size: the training step
    with ``model.board_symmetry`` draws from it n_critic + 1 times per iteration."""
    return torch.as_tensor(board_symmetries(board_size))


def random_board_symmetry(cells: torch.Tensor, board_size: int) -> torch.Tensor:
    """Each one-hot board of ``cells`` [N, m*m, P+1] under its own random board symmetry and its
    own random relabelling of the players 1..P (class 0, the empty cell, stays): valid boards
    stay valid boards (see :func:`canonical_boards`). Draws from torch's global RNG."""
    n, n_cells, classes = cells.shape
    perms = _symmetry_index(board_size).to(cells.device)
    pick = torch.randint(0, len(perms), (n,), device=cells.device)
    out = cells.gather(1, perms[pick].unsqueeze(-1).expand(n, n_cells, classes))
    players = torch.rand(n, classes - 1, device=cells.device).argsort(1) + 1
    relabel = torch.cat([torch.zeros(n, 1, dtype=torch.long, device=cells.device), players], 1)
    return out.gather(2, relabel.unsqueeze(1).expand(n, n_cells, classes))


def sample_valid_boards(board_size: int, players: int, n: int, seed: int,
                        chunk: int = 1 << 16, max_trials: int = 1 << 30) -> np.ndarray:
    """``n`` boards drawn uniformly from the valid ones: uniform random boards, rejection of invalid."""
    if board_size < 2:
        raise GankitError(f"board size must be >= 2, got {board_size}")
    rng = np.random.default_rng(seed)
    found: list[np.ndarray] = []
    have = trials = 0
    while have < n:
        if trials >= max_trials:
            raise GankitError(
                f"rejection sampling found only {have} of {n} valid {board_size}x{board_size} boards "
                f"with {players} players in {trials} tries"
            )
        cand = rng.integers(0, players + 1, size=(chunk, board_size, board_size), dtype=np.int64)
        keep = cand[is_valid(cand)]
        found.append(keep)
        have += len(keep)
        trials += chunk
    return np.concatenate(found)[:n]


def boards_to_onehot(boards: np.ndarray, players: int) -> torch.Tensor:
    """int [N, m, m] -> float32 one-hot [N, m*m, P+1]."""
    b = torch.as_tensor(np.asarray(boards), dtype=torch.int64)
    return torch.nn.functional.one_hot(b.flatten(1), players + 1).float()


def cells_to_boards(cells: torch.Tensor, board_size: int) -> np.ndarray:
    """One-hot or softmax cells [N, m*m, P+1] -> int boards [N, m, m] (argmax per cell)."""
    if cells.dim() != 3 or cells.shape[1] != board_size * board_size:
        raise GankitError(
            f"board samples must have shape [N, {board_size * board_size}, classes], got {list(cells.shape)}"
        )
    return cells.argmax(-1).reshape(-1, board_size, board_size).cpu().numpy().astype(np.int64)


def render_boards(boards: np.ndarray, cols: int = 10) -> str:
    """Boards side by side, ``cols`` per block, as the appendix's ``print_ttt`` prints them."""
    boards = np.asarray(boards)
    if len(boards) == 0:
        return ""
    m = boards.shape[1]
    width = len(str(int(boards.max()))) if boards.size else 1
    out = []
    for start in range(0, len(boards), cols):
        block = boards[start:start + cols]
        for i in range(m):
            out.append("".join(" ".join(f"{v:>{width}d}" for v in b[i]) + " | " for b in block).rstrip())
        out.append("-" * ((m * (width + 1) + 2) * len(block)))
    return "\n".join(out)


# ------------------------------------------------------------- dataset
@dataclass
class BoardDataset(Dataset):
    """Boards one-hot [N, m*m, P+1] with board-specific conversions for the CLI and grids."""

    def __post_init__(self) -> None:
        self.board_size = int(self.meta["board_size"])
        self.players = int(self.meta["players"])

    def boards(self, samples: torch.Tensor) -> np.ndarray:
        """Generated cells (one-hot or softmax) -> int boards [N, m, m] (argmax per cell)."""
        return cells_to_boards(samples, self.board_size)

    def to_npz(self, samples: torch.Tensor) -> dict[str, np.ndarray]:
        """What ``gankit sample --out F.npz`` writes: ``boards`` int [N, m, m], ``valid`` bool [N]."""
        b = self.boards(samples)
        return {"boards": b, "valid": is_valid(b)}

    def render_text(self, samples: torch.Tensor, cols: int = 10) -> str:
        return render_boards(self.boards(samples), cols)

    def to_uint8(self, samples: torch.Tensor, cell: int = 6) -> torch.Tensor:
        """Boards as RGB images [N, m*cell, m*cell, 3], one colour per player, gaps between cells."""
        b = self.boards(samples)
        rgb = _PALETTE[np.where(b == 0, 0, (b - 1) % (len(_PALETTE) - 1) + 1)]  # [N, m, m, 3]
        img = np.repeat(np.repeat(rgb, cell, axis=1), cell, axis=2)
        img[:, cell - 1::cell, :] = 255  # light grid lines
        img[:, :, cell - 1::cell] = 255
        return torch.from_numpy(np.ascontiguousarray(img))


@DATASETS.register("tictactoe", options=TicTacToeConfig)
def tictactoe(cfg: TicTacToeConfig) -> BoardDataset:
    """Valid generalized tic-tac-toe boards (dwgan.txt 5.1), one-hot [N, m*m, P+1]."""
    cfg.validate()
    m, p = cfg.board_size, cfg.players
    n = cfg.n_boards if cfg.n_boards is not None else 10 * m * p
    boards = sample_valid_boards(m, p, n, cfg.seed)
    return BoardDataset(f"tictactoe-{m}x{m}-{p}p", boards_to_onehot(boards, p), None, num_classes=0,
                        kind="board", value_range=(0.0, 1.0), meta={"board_size": m, "players": p})
