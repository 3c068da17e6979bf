"""Malformed YAML (issue 21): a preset file, a run's config.yaml or a ``key=value`` override
that is not a config ends in ONE line naming the file and the problem (exit code 2), never a
traceback, a hang or a blown-up memory; no run directory is started."""
from __future__ import annotations

import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hostile_kit import finished_tiny_run, refused, tree
from gankit.catalogue import load_config
from gankit.config import read_preset
from gankit.errors import GankitError

BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
    for p, c in zip("abcdefgh", "bcdefghi"))  # 10^9 values once expanded

CASES = [  # (id, file content, what the line must say)
    ("not-utf8", b"model: {family: gan}\nnet: {name: caf\xe9}\n", "is not UTF-8 text (byte 36)"),
    ("utf16", "model: {family: gan}\n".encode("utf-16"), "is not UTF-8 text (byte 0)"),
    ("a-list", b"- model\n- net\n", "must be a mapping of config sections, got a list"),
    ("a-scalar", b"5\n", "must be a mapping of config sections, got a int"),
    ("a-string", b"just some words\n", "must be a mapping of config sections, got a str"),
    ("deep-lists", b"[" * 20000 + b"]" * 20000, "nested deeper than 64 levels"),
    ("deep-mappings", b"{a: " * 20000 + b"1" + b"}" * 20000, "nested deeper than 64 levels"),
    ("deep-blocks", "".join(" " * i + f"k{i}:\n" for i in range(200)).encode(), "nested deeper than 64 levels"),
    ("alias-bomb", BOMB.encode(), "expands to more than 100,000 values (aliases)"),
    ("recursive-alias", b"model: &m {family: gan, x: *m}\n", "not valid YAML"),
    ("base-is-a-number", b"base: 5\nmodel: {family: gan}\n", "'base' must name a preset, got 5"),
    ("base-is-a-list", b"base: [dcgan-mnist]\n", "'base' must name a preset, got ['dcgan-mnist']"),
    ("base-escapes", b"base: ../../etc/passwd\n", "preset file ../../etc/passwd does not exist"),
    ("base-escapes-to-a-device", b"base: /dev/null\n", "preset file /dev/null is not a .yaml or .yml file"),
    ("dotted-key", b"train.steps: 5\n", "key 'train.steps' has a dot, but in a YAML file keys nest: write train: {steps: ...}"),
    ("empty", b"", "is empty"),
    ("only-comments", b"# a preset\n# with no keys\n", "is empty"),
    ("only-null", b"~\n", "is empty"),
    ("python-tag", b"model: !!python/object/apply:os.system [touch pwned]\n", "not valid YAML"),
    ("unhashable-key", b"? [a, b]\n: 1\n", "not valid YAML"),
    ("huge-file", b"# " + b"x" * 1_000_001 + b"\n", "is larger than 1,000,000 bytes"),
]


@pytest.fixture(scope="module")
def world(tmp_path_factory, cache_dir):
    base = finished_tiny_run(tmp_path_factory.mktemp("hostile-yaml"))
    return base


@pytest.mark.parametrize("content,message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_malformed_preset_is_one_line(tmp_path, capsys, monkeypatch, content, message):
    monkeypatch.chdir(tmp_path)  # a default run directory (runs/...) would appear here
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    line = refused(capsys, ["train", path, "train.steps=1"])
    assert message in line, line
    assert message.startswith("preset file ") or str(path) in line, line  # it names the file
    assert len(line) < 300, line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]


@pytest.mark.parametrize("content,key,line", [
    (b"model: {family: gan}\nnet: {name: tiny-bn-test}\nmodel: {family: wgan}\n", "model", 3),
    (b"train: {steps: 4, steps: 400000}\n", "steps", 1),
])
def test_duplicate_key_names_the_key_and_its_line(tmp_path, capsys, content, key, line):
    path = tmp_path / "dup.yaml"
    path.write_bytes(content)
    msg = refused(capsys, ["train", path])
    assert "duplicate key" in msg and f"'{key}'" in msg and f"(line {line})" in msg, msg


def test_duplicate_key_is_quoted_once(tmp_path, capsys):
    path = tmp_path / "dup.yaml"
    path.write_bytes(b"model: {family: gan}\nmodel: {family: wgan}\n")
    assert "duplicate key 'model' (line 2)" in refused(capsys, ["train", path])


def test_alias_bomb_in_a_runs_config_is_refused_by_sample_and_resume(world, tmp_path, capsys):
    run = shutil.copytree(world / "run", tmp_path / "run")
    (run / "config.yaml").write_text(BOMB)
    before = tree(run)
    for argv in (["sample", run, "--out", tmp_path / "s.npz"], ["eval", run], ["train", "--resume", run]):
        line = refused(capsys, argv)
        assert f"run config {run / 'config.yaml'} is not valid YAML: expands to more than" in line, line
        assert len(line) < 300
    assert tree(run) == before and not (tmp_path / "s.npz").exists()


@pytest.mark.parametrize("override,message", [
    ("train.steps=" + "[" * 20000 + "]" * 20000, "config key 'train.steps' expects an integer, got '[[[["),
    ("train.steps={a: 1, a: 2}", "config key 'train.steps' expects an integer"),
    ("net.z_dim=!!python/name:os.system", "config key 'net.z_dim' expects an integer"),
    ("model=[1, 2]", "config section 'model' must be a mapping, got [1, 2]"),
    ("model.family.x=1", "unknown config key 'model.family.x' ('family' is not a section)"),
    ("train..steps=1", "has an empty key part"),
])
def test_malformed_override_is_one_line(world, tmp_path, capsys, monkeypatch, override, message):
    monkeypatch.chdir(tmp_path)
    line = refused(capsys, ["train", world / "tiny.yaml", override])
    assert message in line, line
    assert len(line) < 300, line
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- properties
KEYS = ["train.steps", "train.seed", "train.seconds", "train.threads", "optim.g.lr", "optim.d.eps", "optim.g.name",
        "net.z_dim", "net.name", "data.batch_size", "data.split", "model.family", "model.objective", "model",
        "train", "preset", "base", "optim.g", "bogus.key"]
VALUES = st.one_of(
    st.sampled_from(["", "~", "null", "nan", ".nan", "-.inf", "1e400", "1.0e400", "10" * 30, "-1", "0", "0x1F",
                     "true", "[]", "{}", "[1, {a: 2}]", "2001-12-14", "!!binary aGk=", "*x", "&x 1", "{a: 1, a: 2}",
                     "'", "\"\\x", "\t", "é", "\x00"]),
    st.integers(min_value=-2**70, max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=30),
)


@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.one_of(st.sampled_from(KEYS), st.text(max_size=12)), VALUES), max_size=4))
def test_any_override_is_a_config_or_a_gankit_error(items):
    overrides = [f"{k}={v}" for k, v in items]
    try:
        load_config("dcgan-mnist", overrides)
    except GankitError as exc:
        assert len(str(exc)) < 2000


YAML_TEXT = st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(["model:", "net:", "train:", "base:", " ", "  ", "- ", "{", "}", "[", "]", ",", ":",
                              "&a ", "*a", "!!str ", "!!python/tuple ", "steps: 5", "family: gan", "name: x",
                              "? ", "|", ">", "'", '"', "#", "\n", "\t", "~", "1e5", "dcgan-mnist", "<<: *a"]),
             max_size=40).map("".join),
)


@settings(max_examples=150, deadline=None, database=None)
@given(YAML_TEXT)
def test_any_preset_text_is_a_config_or_a_gankit_error(tmp_path_factory, text):
    path = tmp_path_factory.getbasetemp() / "fuzz.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        load_config(str(path))
    except GankitError:
        pass
    try:
        read_preset(str(path))
    except GankitError:
        pass


@pytest.mark.parametrize("override", ["model.family=[]", "model.family={a: 1}", "objective.name=[]",
                                      "net.name=[1]", "data.name={a: 1}"])
def test_names_of_the_wrong_type_are_one_line_errors(override):
    """A registry name that is a list or mapping is a config error naming the key, never a
    TypeError from a table lookup."""
    section = override.split(".")[0]
    with pytest.raises(GankitError, match=rf"config key '{section}\.(family|name)' must be a string, got [\[{{]"):
        load_config("dcgan-mnist", [override])
