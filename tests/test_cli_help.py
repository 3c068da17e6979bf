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


def test_the_symbolic_autoencoder_commands_are_one_group(capsys):
    from gankit import cli

    top = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert not {"encode", "probe", "reconstruct", "sphere"} & set(top.choices)
    assert set(top.choices["sae"]._actions[-1].choices) == {"encode", "probe", "reconstruct", "sphere"}
    args = build_parser().parse_args(["sae", "encode", "RUN", "--out", "f.npz"])
    assert args.func is cli.cmd_sae_encode and args.run == "RUN" and args.out == "f.npz" and args.unit == 1
    assert build_parser().parse_args(["sae", "sphere", "RUN", "--png", "s.png"]).func is cli.cmd_sae_sphere
    for argv in (["sae"], ["encode", "RUN", "--out", "f.npz"], ["sae", "decode", "RUN"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("gankit: error: "), err


COUNT_CASES = [  # every count option of COUNTS, out of range: the one line, before the run is even opened
    (["sample", "RUN", "--n", "-3"], "the number of samples (--n) must lie in 1..1,000,000,000,000, got -3"),
    (["sample", "RUN", "--n", "0"], "the number of samples (--n) must lie in 1..1,000,000,000,000, got 0"),
    (["sample", "RUN", "--show", "-1"], "--show must lie in 0..1,000,000, got -1"),
    (["eval", "RUN", "--n", "-3"], "the number of samples (--n) must lie in 1..1,000,000, got -3"),
    (["eval", "RUN", "--n", "0"], "the number of samples (--n) must lie in 1..1,000,000, got 0"),
    (["sae", "probe", "RUN", "--labels-per-class", "0"], "--labels-per-class must be >= 1, got 0"),
    (["sae", "reconstruct", "RUN", "--cols", "0"], "--cols must lie in 1..1,000, got 0"),
    (["sae", "reconstruct", "RUN", "--blocks", "1001"], "--blocks must lie in 1..1,000, got 1001"),
    (["sae", "sphere", "RUN", "--png", "s.png", "--n", "-1"], "--n must lie in 1..1,000,000, got -1"),
    (["bench", "--seconds", "0"], "--seconds must lie in 0.1..86,400.0, got 0.0"),
    (["bench", "--seconds", "nan"], "--seconds must lie in 0.1..86,400.0, got nan"),
    (["bench", "--seconds", "inf"], "--seconds must lie in 0.1..86,400.0, got inf"),
    (["bench", "--threads", "0"], "--threads must lie in 1..4,096, got 0"),
    (["reproduce", "guide", "--seeds", "-2"], "--seeds must be >= 1, got -2"),
]


@pytest.mark.parametrize("argv, message", COUNT_CASES, ids=[" ".join(c[0]) for c in COUNT_CASES])
def test_a_count_out_of_range_is_one_line_and_exit_2(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert capsys.readouterr().err == f"gankit: error: {message}\n"
    assert list(tmp_path.iterdir()) == []


def test_every_count_option_has_a_range():
    """A new int or float option of a command is a count (ranged in COUNTS) or named here."""
    from gankit import cli

    not_counts = {"seed", "label", "unit"}  # seeds: config.check_seed; a class; choices
    for path, parser in _parsers(build_parser()):
        func = parser.get_default("func")
        for a in parser._actions:
            if a.type in (int, float) and a.dest not in not_counts:
                assert a.dest in cli.COUNTS.get(func, {}), f"{path} --{a.dest} has no range in cli.COUNTS"


def test_printed_metrics_keep_four_significant_digits():
    from gankit.cli import _shown

    assert _shown({"fid": 123.456789, "is": 1.0000049, "n": 2000, "hist": [0.0123456, 7], "name": "x"}) == \
        {"fid": 123.5, "is": 1.0, "n": 2000, "hist": [0.01235, 7], "name": "x"}
    assert _shown(1234567.0) == 1235000.0 and _shown(True) is True


def test_a_reader_that_leaves_early_gets_no_traceback():
    """`gankit list | head -1`: the pipe closes under the printing; exit 0, nothing on stderr."""
    import subprocess
    import sys

    p = subprocess.Popen([sys.executable, "-m", "gankit", "list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.readline()
    p.stdout.close()  # what `head -1` does after its line
    err = p.stderr.read().decode()
    assert p.wait(timeout=120) == 0 and "Traceback" not in err and "BrokenPipe" not in err, err
