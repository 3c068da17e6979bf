"""DWGAN and generalized tic-tac-toe (dwgan.txt 3.2, 5.1): boards, metrics, critic, training."""
import json

import numpy as np
import pytest
import torch

from gankit.catalogue import load_config
from gankit.data import load_dataset
from gankit.data.tictactoe import (board_symmetries, boards_to_onehot, canonical_boards, cells_to_boards,
                                   is_valid, max_gain, random_board_symmetry, render_boards,
                                   sample_valid_boards)
from gankit.errors import GankitError
from gankit.metrics.boards import board_stats
from gankit.nets.dwgan import CellView, PairCritic, filter_u

B = np.array


def test_validity_rows_columns_diagonals_and_empty_lines():
    boards = B([
        [[1, 1, 1], [2, 0, 2], [0, 2, 0]],  # row of player 1
        [[2, 1, 0], [2, 0, 1], [2, 1, 0]],  # column of player 2
        [[1, 2, 0], [2, 1, 0], [0, 2, 1]],  # main diagonal of player 1
        [[1, 0, 2], [0, 2, 1], [2, 1, 0]],  # anti-diagonal of player 2
        [[0, 0, 0], [1, 2, 1], [2, 1, 2]],  # a full row of empty cells is no win
        [[0, 1, 2], [0, 2, 1], [0, 1, 2]],  # a full column of empty cells is no win
        [[0, 1, 2], [1, 0, 2], [2, 1, 0]],  # an empty diagonal is no win
        [[1, 2, 1], [2, 1, 2], [2, 1, 2]],  # full board, nobody holds a line
    ])
    assert is_valid(boards).tolist() == [True, True, True, True, False, False, False, False]
    assert max_gain(boards, 2).tolist() == [3, 3, 3, 3, 2, 2, 2, 2]
    big = np.zeros((1, 5, 5), dtype=int)
    big[0, 1, :4] = 3  # 4 of 5 in a row: not valid, gain 4
    assert not is_valid(big)[0] and max_gain(big, 8)[0] == 4


def test_rejection_sampling_is_valid_seeded_and_fast_enough_for_5x5_8p():
    boards = sample_valid_boards(5, 8, 400, seed=1)
    assert boards.shape == (400, 5, 5) and is_valid(boards).all()
    assert boards.max() == 8 and boards.min() == 0
    assert np.array_equal(boards, sample_valid_boards(5, 8, 400, seed=1))
    assert not np.array_equal(boards, sample_valid_boards(5, 8, 400, seed=2))


def test_dataset_shape_default_size_and_bad_board_size():
    cfg = load_config("dwgan-ttt-3x3-2p")
    data = load_dataset(cfg.data)
    assert data.kind == "board" and tuple(data.x.shape) == (60, 9, 3)  # 10*m*P boards, one-hot
    assert torch.all(data.x.sum(-1) == 1)
    with pytest.raises(GankitError, match="board_size"):
        load_config("dwgan-ttt-3x3-2p", ["data.board_size=1"])


def test_board_metrics_on_hand_made_sets():
    train = B([[[1, 1, 1], [0, 0, 0], [2, 2, 0]]])
    samples = B([
        [[1, 1, 1], [0, 0, 0], [2, 2, 0]],  # valid, in the training set
        [[1, 1, 1], [0, 0, 0], [2, 2, 0]],  # duplicate
        [[2, 0, 1], [2, 0, 1], [2, 0, 0]],  # valid, new: the training board transposed, players swapped
        [[1, 2, 0], [0, 0, 0], [0, 0, 0]],  # invalid, new, gain 1
    ])
    stats = board_stats(samples, train, players=2)
    # the third sample is new, but not new up to symmetry
    # shares are fractions, as the image metrics (3 of 4 valid: 0.75, not 75 %)
    assert stats == {"valid": 0.75, "mean_max_gain": (3 + 3 + 3 + 1) / 4, "unique": 0.75, "new": 0.5,
                     "new_sym": 0.25}


def test_board_symmetries_are_the_eight_rotations_and_reflections():
    perms = board_symmetries(3)
    grid = np.arange(9).reshape(3, 3)
    assert perms.shape == (8, 9) and len({tuple(p) for p in perms}) == 8
    assert perms[0].tolist() == list(range(9))  # identity first
    assert grid.reshape(-1)[perms[1]].reshape(3, 3).tolist() == [[2, 5, 8], [1, 4, 7], [0, 3, 6]]  # 90° left
    assert grid.reshape(-1)[perms[4]].reshape(3, 3).tolist() == [[0, 3, 6], [1, 4, 7], [2, 5, 8]]  # transpose


def test_canonical_boards_identify_symmetries_and_player_relabellings():
    board = B([[1, 1, 1], [0, 2, 0], [2, 0, 0]])
    turned = np.rot90(board).copy()
    swapped = np.where(board == 0, 0, 3 - board)  # players 1 <-> 2
    mirrored_swapped = np.where(board.T == 0, 0, 3 - board.T)
    other = B([[1, 1, 1], [0, 2, 0], [0, 2, 0]])  # same counts, different shape
    c = canonical_boards(np.stack([board, turned, swapped, mirrored_swapped, other]))
    assert (c[1:4] == c[0]).all() and not (c[4] == c[0]).all()
    # players renumbered by first appearance: the smallest variant starts with the empty class
    assert c[0].tolist() == [0, 0, 1, 0, 1, 0, 2, 2, 2]


def test_random_board_symmetry_keeps_boards_valid_and_in_their_class():
    boards = sample_valid_boards(5, 8, 300, seed=3)
    torch.manual_seed(0)
    cells = random_board_symmetry(boards_to_onehot(boards, 8), 5)
    out = cells_to_boards(cells, 5)
    assert torch.all(cells.sum(-1) == 1) and is_valid(out).all()
    assert np.array_equal(canonical_boards(out), canonical_boards(boards))
    assert (out != boards).reshape(300, -1).any(1).mean() > 0.95  # almost every board moved
    assert np.array_equal((out == 0).reshape(300, -1).sum(1), (boards == 0).reshape(300, -1).sum(1))


def test_board_symmetry_option_feeds_transformed_real_boards():
    from gankit.data.base import Batches
    from gankit.models import build_model

    cfg = load_config("dwgan-ttt-3x3-2p", ["model.board_symmetry=false"])
    data = load_dataset(cfg.data)
    train = {r.tobytes() for r in cells_to_boards(data.x, 3).reshape(60, -1)}
    train_classes = {r.tobytes() for r in canonical_boards(cells_to_boards(data.x, 3))}
    for on in (False, True):
        cfg = load_config("dwgan-ttt-3x3-2p", [f"model.board_symmetry={str(on).lower()}"])
        model = build_model(cfg, data)
        torch.manual_seed(0)
        boards = cells_to_boards(model.real_batch(Batches(data, 60, 0, torch.device("cpu"), 0, 1)), 3)
        seen = np.mean([b.tobytes() in train for b in boards.reshape(60, -1)])
        assert seen == 1.0 if not on else seen < 0.5  # 16 variants per board: most are not training boards
        assert {r.tobytes() for r in canonical_boards(boards)} <= train_classes
    cfg = load_config("dwgan-mnist-binary", ["model.board_symmetry=true"])
    with pytest.raises(GankitError, match="model.board_symmetry"):
        build_model(cfg, load_dataset(cfg.data))


def test_render_like_print_ttt():
    text = render_boards(B([[[1, 0], [2, 2]], [[0, 0], [1, 1]]]))
    assert text.splitlines() == ["1 0 | 0 0 |", "2 2 | 1 1 |", "-" * 12]


def _view(cells=9, classes=3):
    from gankit.data.base import Dataset

    x = torch.zeros(1, cells, classes)
    return CellView(Dataset("b", x, None, kind="board", value_range=(0.0, 1.0)))


def test_filter_u_marks_cells_where_rounded_fake_differs():
    real = boards_to_onehot(B([[[1, 0], [2, 2]]]), 2).view(1, 4, 3)
    fake = torch.tensor([[[0.1, 0.8, 0.1],    # argmax 1 == real 1
                          [0.2, 0.5, 0.3],    # argmax 1 != real 0
                          [0.3, 0.3, 0.4],    # argmax 2 == real 2
                          [0.6, 0.2, 0.2]]])  # argmax 0 != real 2
    assert filter_u(real, fake).tolist() == [[0.0, 1.0, 0.0, 1.0]]


def _random_pairs(n=64, cells=9, classes=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    real = torch.nn.functional.one_hot(torch.randint(0, classes, (n, cells), generator=g), classes).float()
    fake = torch.softmax(3 * torch.randn(n, cells, classes, generator=g), -1)
    return real, fake


def test_critic_bounded_by_hamming_distance_on_random_pairs():
    torch.manual_seed(0)
    critic = PairCritic(_view(), hidden=32)
    with torch.no_grad():
        for p in critic.parameters():
            p.mul_(20)  # saturate tanh: the bound must hold by construction, not by small weights
    real, fake = _random_pairs()
    hamming = (real.argmax(-1) != fake.argmax(-1)).sum(1).float()
    h = critic(real, fake)
    assert (h.abs() <= hamming + 1e-5).all() and (h <= hamming + 1e-5).all()
    with torch.no_grad():  # v = tanh(large) = 1 on every cell: h reaches the bound exactly
        critic.fc.weight.zero_()
        critic.fc.bias.fill_(20.0)
    keep = torch.zeros(len(real), dtype=torch.bool)
    assert torch.allclose(critic(real, fake, swap=keep), hamming)
    same = critic(real, real.clone())
    assert torch.all(same == 0)  # d(x, x) = 0 forces h(x, x) = 0


def test_critic_antisymmetric_under_swap():
    torch.manual_seed(1)
    critic = PairCritic(_view(), hidden=16)
    a, b = _random_pairs(seed=3)
    b = torch.nn.functional.one_hot(b.argmax(-1), 3).float()  # two discrete samples
    keep = torch.zeros(len(a), dtype=torch.bool)
    h_ab = critic(a, b, swap=keep)
    h_ba = critic(b, a, swap=~keep)  # inputs exchanged and the swap flag set: sign flips
    assert torch.allclose(h_ab, -h_ba, atol=1e-6)
    assert h_ab.abs().sum() > 0


def test_wrong_net_for_objective_is_a_user_error():
    from gankit.models import build_model

    cfg = load_config("dwgan-ttt-3x3-2p", ["net.name=wgan-mlp"])
    with pytest.raises(GankitError, match="net.name"):
        build_model(cfg, load_dataset(cfg.data))


def test_short_training_raises_valid_fraction_and_cli_outputs(tmp_path, capsys):
    from gankit.cli import main
    from gankit.metrics.boards import board_metrics
    from gankit.models import build_model
    from gankit.training.loop import train

    cfg = load_config("dwgan-ttt-3x3-2p", ["train.steps=300", "train.eval_every=100",
                                           "train.eval_samples=1000", "train.tensorboard=false"])
    data = load_dataset(cfg.data)
    torch.manual_seed(cfg.train.seed)
    untrained = build_model(cfg, data)
    torch.manual_seed(0)
    before = board_metrics(data, untrained.generate(1000))["valid"]
    out = tmp_path / "run"
    result = train(cfg, out, data=data)
    assert result["valid"] > before + 0.10, (before, result["valid"])  # 10 points of the valid share
    assert all(0.0 <= result[k] <= 1.0 for k in ("valid", "unique", "new", "fixed100_valid", "fixed100_unique"))
    assert {"fixed100_valid", "fixed100_unique", "fixed100_new", "fixed100_mean_max_gain"} <= set(result)
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 3  # steps 100, 200 and the final 300 (once)

    npz = tmp_path / "boards.npz"
    assert main(["sample", str(out), "--n", "50", "--out", str(npz), "--show", "3"]) == 0
    arrays = np.load(npz)
    assert arrays["boards"].shape == (50, 3, 3) and arrays["boards"].dtype == np.int64
    assert arrays["valid"].tolist() == is_valid(arrays["boards"]).tolist()
    printed = capsys.readouterr().out
    assert printed.count(" | ") >= 6  # three boards side by side, three rows
    assert main(["eval", str(out), "--n", "500"]) == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for key in ("valid", "mean_max_gain", "unique", "new"):
        assert key in line and f"fixed100_{key}" in line


def test_norm_penalty_of_eq_8_by_hand():
    from gankit.losses import dual_objective

    h = torch.tensor([3.0, -1.0, 0.0, 2.0])
    # (1/n) sum h = 4/4 = 1; sqrt(sum h^2) = sqrt(9 + 1 + 0 + 4) = sqrt(14)
    assert dual_objective(h, 0.0).item() == pytest.approx(1.0)
    assert dual_objective(h, 0.5).item() == pytest.approx(1.0 + 0.5 * 14 ** 0.5)


def test_discrete_family_names_the_registrys_critic_objectives():
    with pytest.raises(GankitError) as err:
        load_config("dwgan-ttt-3x3-2p", ["objective.name=ns"])
    assert "(dwgan, wgan-clip, wgan-gp), got 'ns'" in str(err.value)  # the objectives whose D is a critic
