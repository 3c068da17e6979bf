"""Presets, overrides and typed validation of the configuration."""
import pytest

from gankit.config import apply_overrides, preset_names, read_preset
from gankit.catalogue import build_config, load_config
from gankit.errors import GankitError


def test_every_preset_loads():
    names = preset_names()
    assert "cdcgan-mnist-demo" in names and "dcgan-mnist-fast" not in names and "dcgan-mnist" in names
    for name in names:
        cfg = load_config(name)
        assert cfg.preset == name


def test_overrides_are_typed():
    cfg = load_config("dcgan-mnist", ["train.steps=123", "optim.g.lr=2e-4", "data.batch_size=32", "train.seconds=5"])
    assert cfg.train.steps == 123 and cfg.optim.g.lr == 2e-4
    assert cfg.data.batch_size == 32 and cfg.train.seconds == 5.0


@pytest.mark.parametrize("override,needle", [
    (["train.stepz=5"], "train.stepz"),
    (["train.steps=abc"], "train.steps"),
    (["optim.g.lr=-1"], "optim.g.lr"),
    (["optim.d.lr=0"], "optim.d.lr"),
    (["data.batch_size=0"], "data.batch_size"),
    (["bogus.key=1"], "bogus"),
    (["objective.name=nope"], "nope"),
    (["net.name=nope"], "nope"),
    (["train.steps"], "key=value"),
])
def test_bad_overrides_name_the_key(override, needle):
    with pytest.raises(GankitError) as exc:
        load_config("dcgan-mnist", override)
    assert needle in str(exc.value)
    assert "\n" not in str(exc.value)


def test_unknown_preset():
    with pytest.raises(GankitError, match="unknown preset 'no-such'"):
        load_config("no-such")


def test_base_inheritance(tmp_path):
    child = tmp_path / "child.yaml"
    child.write_text("base: dcgan-mnist\ntrain: {steps: 7}\n")
    raw = read_preset(str(child))
    assert raw["train"]["steps"] == 7
    assert raw["net"]["name"] == read_preset("dcgan-mnist")["net"]["name"]


def test_round_trip_through_yaml():
    import yaml

    cfg = load_config("dcgan-mnist", ["train.steps=9"])
    again = build_config(yaml.safe_load(cfg.to_yaml()), cfg.preset)
    assert again == cfg


def test_apply_overrides_creates_nested():
    raw = apply_overrides({}, ["a.b.c=3", "x=hello"])
    assert raw == {"a": {"b": {"c": 3}}, "x": "hello"}


def test_old_preset_name_is_an_alias_with_a_note(caplog):
    with caplog.at_level("WARNING", logger="gankit"):
        cfg = load_config("dcgan-mnist-fast")
    assert cfg.preset == "cdcgan-mnist-demo" and cfg.net.conditional
    assert "now called 'cdcgan-mnist-demo'" in caplog.text
    assert cfg.to_dict() == load_config("cdcgan-mnist-demo").to_dict()
