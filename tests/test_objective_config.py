"""The ``objective`` config section: each objective's own options, old-shape configs (objective
keys in ``model``, family ``dwgan``) read as the same config, switching objectives."""
import logging

import pytest
import torch

from gankit import losses
from gankit.catalogue import build_config, load_config
from gankit.config import read_config_file
from gankit.errors import GankitError


def test_each_objective_has_its_own_options():
    assert type(load_config("dcgan-mnist").objective) is losses.LabelOptions
    assert type(load_config("wgan-clip-mnist").objective) is losses.ClipOptions
    assert type(load_config("wgangp-mnist").objective) is losses.GPOptions
    cfg = load_config("dwgan-mnist-binary")
    assert type(cfg.objective) is losses.PairwiseOptions and cfg.objective.penalty == 0.01
    assert cfg.model.family == "discrete" and not hasattr(cfg.model, "penalty")
    assert not hasattr(load_config("dcgan-mnist").model, "smooth_real")


def test_option_of_another_objective_is_an_unknown_key():
    with pytest.raises(GankitError, match="unknown config key 'objective.clip'"):
        load_config("dcgan-mnist", ["objective.clip=0.05"])


@pytest.mark.parametrize("override,needle", [
    ("objective.smooth_real=0.6", "objective.smooth_real"), ("objective.flip=-0.1", "objective.flip"),
])
def test_label_options_are_range_checked(override, needle):
    with pytest.raises(GankitError, match=needle):
        load_config("dcgan-mnist", [override])


def test_clip_gp_penalty_are_range_checked():
    for preset, override, needle in (("wgan-clip-mnist", "objective.clip=0", "objective.clip"),
                                     ("wgangp-mnist", "objective.gp_weight=-1", "objective.gp_weight"),
                                     ("dwgan-ttt-3x3-2p", "objective.penalty=-1", "objective.penalty")):
        with pytest.raises(GankitError, match=needle):
            load_config(preset, [override])


def test_family_default_objective():
    assert build_config({"model": {"family": "gan"}}, "x").objective.name == "ns"
    assert build_config({"model": {"family": "binarygan"}, "net": {"name": "binarygan-mlp"},
                         "data": {"name": "mnist-binary"}}, "x").objective.name == "wgan-gp"
    assert build_config({"model": {"family": "discrete"}, "net": {"name": "dwgan-mlp"},
                         "data": {"name": "tictactoe"}}, "x").objective.name == "dwgan"


def test_family_and_objective_must_fit():
    with pytest.raises(GankitError, match="pairwise critic"):
        load_config("dcgan-mnist", ["objective.name=dwgan"])
    with pytest.raises(GankitError, match="objective.name"):
        load_config("dwgan-ttt-3x3-2p", ["objective.name=ns"])
    with pytest.raises(GankitError, match="model.replay"):
        load_config("wgangp-mnist", ["model.replay=true"])


def test_switching_objective_keeps_only_the_options_it_has():
    cfg = load_config("dcgan-mnist", ["objective.name=wgan-gp"])  # smoothing means nothing to WGAN-GP
    assert type(cfg.objective) is losses.GPOptions and cfg.objective.gp_weight == 10.0
    cfg = load_config("dcgan-mnist", ["objective.name=minimax"])  # same options: kept
    assert (cfg.objective.smooth_real, cfg.objective.flip) == (0.1, 0.05)
    cfg = load_config("dcgan-mnist", ["objective.name=minimax", "objective.flip=0.2"])
    assert (cfg.objective.smooth_real, cfg.objective.flip) == (0.1, 0.2)
    # a child preset naming another objective than its base's: the base's penalty is not carried
    cfg = load_config("wgan-ttt-3x3-2p")
    assert type(cfg.objective) is losses.ClipOptions and cfg.objective.clip == 0.01


OLD_SHAPE = """preset: dwgan-ttt-3x3-2p
model: {family: dwgan, objective: dwgan, n_critic: 1, penalty: 0.0, clip: 0.01, gp_weight: 10.0,
        fixed_noise: 100, board_symmetry: true}
net: {name: dwgan-mlp, z_dim: 32, g_hidden: 1024, d_hidden: 0, softmax_scale: 1.0}
data: {name: tictactoe, root: null, batch_size: 60, board_size: 3, players: 2}
optim:
  g: {name: sgd, lr: 0.05, beta1: 0.0, lr_decay: 0.9995}
  d: {name: sgd, lr: 0.2, beta1: 0.0, lr_decay: 1.0}
train: {steps: 2000, threads: 1, log_every: 10, eval_every: 10, eval_samples: 2000, sample_every: 500,
        ckpt_every: 1000, grid_size: 100}
"""


def test_run_config_of_the_old_shape_reads_as_the_preset(tmp_path):
    """config.yaml of a run made before the objective section (every objective key in model,
    family dwgan) is the same config as the preset now: resume, sample and reuse work on it."""
    path = tmp_path / "config.yaml"
    path.write_text(OLD_SHAPE)
    have = read_config_file(path)
    want = load_config("dwgan-ttt-3x3-2p")
    assert have.to_dict() == want.to_dict()


def test_old_keys_in_overrides_still_work_with_a_note(caplog):
    with caplog.at_level(logging.WARNING, logger="gankit"):
        cfg = load_config("dcgan-mnist", ["model.objective=wgan-clip", "model.clip=0.02", "model.flip=0.1"])
    assert type(cfg.objective) is losses.ClipOptions and cfg.objective.clip == 0.02
    assert "model.objective" in caplog.text and "objective.name" in caplog.text
    cfg = load_config("dcgan-mnist", ["model.smooth_real=0.2"])
    assert cfg.objective.smooth_real == 0.2 and cfg.objective.flip == 0.05


def test_checkpoint_of_the_old_family_name_loads(tmp_path):
    from gankit.training.checkpoint import FORMAT_VERSION, check_matches, load_checkpoint

    state = {"format_version": FORMAT_VERSION, "step": 3, "family": "dwgan", "preset": "dwgan-ttt-3x3-2p",
             "net": "dwgan-mlp", "model": {"w": torch.zeros(2)}}
    torch.save(state, tmp_path / "step_00000003.pt")
    loaded = load_checkpoint(tmp_path / "step_00000003.pt")
    assert loaded["family"] == "discrete"
    check_matches(loaded, load_config("dwgan-ttt-3x3-2p"), tmp_path)  # no "another run" error
