"""Presets, overrides and typed validation of the configuration."""
import pytest

from gankit.config import apply_overrides, preset_description, preset_names, read_config_file, read_preset
from gankit.catalogue import build_config, load_config
from gankit.errors import GankitError


def test_every_preset_loads():
    names = preset_names()
    assert "cdcgan-mnist-demo" in names and "dcgan-mnist" in names and len(names) == len(set(names))
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


# ---------------------------------------------------------------- typos get "did you mean"
@pytest.mark.parametrize("preset,override,message", [
    ("dcgan-mnsit", [], "unknown preset 'dcgan-mnsit' (did you mean 'dcgan-mnist'"),
    ("dcgan-mnist", ["train.stepz=5"], "unknown config key 'train.stepz' (did you mean 'train.steps'? valid: "),
    ("dcgan-mnist", ["optim.g.lrr=1e-4"], "unknown config key 'optim.g.lrr' (did you mean 'optim.g.lr'? valid: "),
    ("dcgan-mnist", ["optm.g.lr=1e-4"], "unknown config key 'optm' (did you mean 'optim'? valid: "),
    ("dcgan-mnist", ["net.name=dcgan-mnsit"], "unknown net 'dcgan-mnsit' (did you mean 'dcgan-mnist'"),
    ("dcgan-mnist", ["data.name=mnist-binry"], "unknown dataset 'mnist-binry' (did you mean 'mnist-binary'"),
    ("dcgan-mnist", ["objective.name=wgan-pg"], "unknown objective 'wgan-pg' (did you mean 'wgan-gp'"),
    ("dcgan-mnist", ["model.family=gann"], "unknown model family 'gann' (did you mean 'gan'? choose from: "),
])
def test_typos_get_did_you_mean(preset, override, message):
    with pytest.raises(GankitError) as exc:
        load_config(preset, override)
    assert str(exc.value).startswith(message), exc.value
    assert "\n" not in str(exc.value)


def test_no_close_name_no_suggestion():
    with pytest.raises(GankitError) as exc:
        load_config("dcgan-mnist", ["train.zzzzzzzz=1"])
    assert str(exc.value).startswith("unknown config key 'train.zzzzzzzz' (valid: ckpt_every, ")
    with pytest.raises(GankitError) as exc:
        load_config("qqqqqqqqqqqq")
    assert str(exc.value) == "unknown preset 'qqqqqqqqqqqq' (see `gankit list`)"


def test_did_you_mean_names_up_to_three():
    from gankit.registry import did_you_mean

    assert did_you_mean("stepz", ["steps", "seed"], prefix="train.") == "did you mean 'train.steps'? "
    # difflib's ratio 2M/T: abcde 8/9, abcdef 8/10, abcdefg 8/11, abcdefgh 8/12; the best three, best first
    assert did_you_mean("abcd", ["abcdefgh", "abcdefg", "abcdef", "abcde"]) == "did you mean 'abcde', 'abcdef' or 'abcdefg'? "
    assert did_you_mean("abcd", ["abcdefgh", "abcde"]) == "did you mean 'abcde' or 'abcdefgh'? "
    assert did_you_mean("abcd", ["wxyz"]) == ""


# ---------------------------------------------------------------- a path is a file, never a preset name
@pytest.mark.parametrize("name", ["configs/mine.yaml", "mine.yml", "sub/dir/mine", "missing.yaml"])
def test_missing_yaml_path_is_a_missing_file(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(GankitError) as exc:
        load_config(name)
    assert str(exc.value) == f"preset file {name} does not exist"


def test_names_no_file_system_takes_are_missing_not_oserrors():
    with pytest.raises(GankitError, match=r"^preset file a{100} does not exist$"):
        load_config("a" * 5000 + ".yaml")  # longer than any file name: ENAMETOOLONG
    with pytest.raises(GankitError, match=r"^unknown preset 'b{100}' \(see `gankit list`\)$"):
        load_config("b" * 5000)
    with pytest.raises(GankitError, match="does not exist"):
        load_config("bad\0name.yaml")


def test_existing_path_that_is_not_yaml_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("train: {steps: 3}\n")
    (tmp_path / "dir.yaml").mkdir()
    with pytest.raises(GankitError, match=r"notes\.txt is not a \.yaml or \.yml file$"):
        load_config(str(tmp_path / "notes.txt"))
    with pytest.raises(GankitError, match=r"dir\.yaml is not a file$"):
        load_config(str(tmp_path / "dir.yaml"))
    (tmp_path / "mine.yml").write_text("base: dcgan-mnist\ntrain: {steps: 3}\n")
    assert load_config(str(tmp_path / "mine.yml")).train.steps == 3


# ---------------------------------------------------------------- keys nest inside a file
@pytest.mark.parametrize("text,key,nested", [
    ("base: dcgan-mnist\noptim.g.lr: 0.001\n", "optim.g.lr", "optim: {g: {lr: ...}}"),
    ("base: dcgan-mnist\noptim:\n  g.lr: 0.001\n", "g.lr", "optim: {g: {lr: ...}}"),
    ("base: dcgan-mnist\ntrain: {steps: 3}\nnet: {name: dcgan-mnist, d.x: 1}\n", "d.x", "net: {d: {x: ...}}"),
])
def test_dotted_key_in_a_file_says_keys_nest(tmp_path, text, key, nested):
    path = tmp_path / "dotted.yaml"
    path.write_text(text)
    with pytest.raises(GankitError) as exc:
        load_config(str(path))
    assert str(exc.value) == (f"preset file {path}: key '{key}' has a dot, but in a YAML file keys nest: "
                              f"write {nested} (dotted keys are for key=value overrides)")
    nested_text = text.replace("optim.g.lr: 0.001", "optim: {g: {lr: 0.001}}").replace("g.lr: 0.001", "g: {lr: 0.001}")
    if "d.x" not in text:  # written as the error says, the same file loads
        path.write_text(nested_text)
        assert load_config(str(path)).optim.g.lr == 0.001


def test_dotted_key_in_a_runs_config_is_refused(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(load_config("dcgan-mnist").to_yaml() + "train.steps: 5\n")
    with pytest.raises(GankitError, match=r"key 'train\.steps' has a dot.*write train: \{steps: \.\.\.\}"):
        read_config_file(path)
    path.write_text(load_config("dcgan-mnist").to_yaml())
    assert read_config_file(path) == load_config("dcgan-mnist")


# ---------------------------------------------------------------- what `gankit list` shows
def test_preset_descriptions_are_whole_sentences_citing_papers():
    """Each preset's first comment sentence fits `gankit list`'s 90 columns whole (never cut), cites
    papers by their authors rather than by file name, and has no issue numbers or markup."""
    for name in preset_names():
        text = preset_description(name, width=10_000)
        assert 20 <= len(text) <= 90 and text.endswith(".") and preset_description(name, width=90) == text, name
        for bad in (".txt", "issue", "`", "README", "…"):
            assert bad not in text, (name, bad, text)


def test_first_sentence_does_not_end_at_et_al(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("# Stacked MNIST (Metz et al. 2017), cf. eq. 3 and i.e. more.\n# Second.\ntrain: {}\n")
    assert preset_description(str(path)) == "Stacked MNIST (Metz et al. 2017), cf. eq. 3 and i.e. more."
