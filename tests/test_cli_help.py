"""Small CLI promises: --version, help text on every flag, preset descriptions in `gankit list`."""
import argparse
import tomllib
from pathlib import Path

import pytest

import gankit
from gankit.cli import build_parser, main
from gankit.config import preset_description, preset_names


def test_version_exits_0_and_matches_pyproject(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"gankit {gankit.__version__}"
    pyproject = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    assert gankit.__version__ == pyproject["project"]["version"]


def _parsers(parser, path="gankit"):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, f"{path} {name}")


def test_every_argument_has_help_text():
    missing = [f"{path} {a.dest}" for path, parser in _parsers(build_parser()) for a in parser._actions
               if not isinstance(a, argparse._SubParsersAction) and not (a.help or "").strip()]
    assert missing == []


def test_list_shows_each_presets_description(capsys):
    assert main(["list", "--presets"]) == 0
    out = capsys.readouterr().out
    assert "WGAN-GP on MNIST, Table A.8 of Zhang et al. 2019 (section 3.3), penalty weight 10." in out
    for name in preset_names():
        assert preset_description(name), f"preset {name} has no leading comment"
        assert preset_description(name, width=90) in out


def test_preset_description_is_the_first_sentence(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("# A GAN (see 3.3.1, e.g. the guide).\n# More text.\nmodel: {family: gan}\n# later\n")
    assert preset_description(str(path)) == "A GAN (see 3.3.1, e.g. the guide)."
    path.write_text("model: {family: gan}\n")
    assert preset_description(str(path)) == ""
    path.write_text("# " + "word " * 40 + "\n")
    assert len(preset_description(str(path), width=30)) == 30
