"""The ``objective`` config section: each objective's own options, the family's default and
the pairing check, switching objectives."""
import pytest

from gankit import losses
from gankit.catalogue import build_config, load_config
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


@pytest.mark.parametrize("override,message", [
    ("model.objective=wgan-clip", "unknown config key 'model.objective'"),
    ("model.clip=0.02", "unknown config key 'model.clip'"),
    ("model.smooth_real=0.2", "unknown config key 'model.smooth_real'"),
])
def test_objective_keys_live_only_in_the_objective_section(override, message):
    """gankit 0.1.0 was never released: no config of another shape is read (the objective and
    its options are never ``model`` keys)."""
    with pytest.raises(GankitError, match=message):
        load_config("dcgan-mnist", [override])
    with pytest.raises(GankitError, match="unknown model family 'dwgan'"):
        build_config({"model": {"family": "dwgan"}, "net": {"name": "dwgan-mlp"}, "data": {"name": "tictactoe"}}, "x")
