"""The four tic-tac-toe metrics of dwgan.txt 5.1 (appendix ``count_valid``, ``stats_num``,
``count_unique``, ``count_new``), computed on argmaxed boards. Shares are fractions in [0, 1], as every gankit metric in the
files (``metrics.jsonl``); the paper's figures give them as percentages (x 100).

- ``valid``: share of boards where one player holds a row, column or diagonal;
- ``mean_max_gain``: mean over boards of the most cells one player holds in one line
  (equals m exactly when every board is valid);
- ``unique``: share of distinct boards among the samples;
- ``new``: share of samples that are distinct boards absent from the training set
  (the appendix divides the count of new unique boards by the sample count);
- ``new_sym``: as ``new``, but a board also counts as seen when it is a training board
  under a board symmetry and a relabelling of the players (``canonical_boards``): the
  honest novelty measure for runs trained with ``model.board_symmetry``.
"""
from __future__ import annotations

import numpy as np
import torch

from gankit.data.tictactoe import canonical_boards, cells_to_boards, is_valid, max_gain


def board_stats(boards: np.ndarray, train_boards: np.ndarray, players: int) -> dict[str, float]:
    """The four metrics (shares as fractions) of int boards [N, m, m] against the training boards [M, m, m]."""
    boards = np.asarray(boards)
    n = len(boards)
    if n == 0:
        return {"valid": 0.0, "mean_max_gain": 0.0, "unique": 0.0, "new": 0.0, "new_sym": 0.0}
    flat = boards.reshape(n, -1)
    distinct = np.unique(flat, axis=0)
    train = np.asarray(train_boards, dtype=flat.dtype)
    seen = {row.tobytes() for row in train.reshape(len(train), -1)}
    new = sum(row.tobytes() not in seen for row in distinct)
    seen_sym = {row.tobytes() for row in canonical_boards(train)}
    m = boards.shape[1]
    new_sym = sum(row.tobytes() not in seen_sym for row in canonical_boards(distinct.reshape(-1, m, m)))
    return {
        "valid": float(is_valid(boards).mean()),
        "mean_max_gain": float(max_gain(boards, players).mean()),
        "unique": len(distinct) / n,
        "new": new / n,
        "new_sym": new_sym / n,
    }


def board_metrics(dataset, samples: torch.Tensor) -> dict[str, float]:
    """Metrics of generated cells [N, m*m, P+1] (one-hot or softmax) against ``dataset``'s boards."""
    m, players = int(dataset.meta["board_size"]), int(dataset.meta["players"])
    boards = cells_to_boards(torch.as_tensor(samples), m)
    train = cells_to_boards(dataset.x, m)
    return board_stats(boards, train, players)
