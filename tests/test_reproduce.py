"""``gankit reproduce``: the paper list, a smoke run of digit-gans, run reuse, verdict rules, export."""
import json
import re

import pytest

from gankit.cli import main
from gankit.reproduce import MODULES, papers
from gankit.reproduce.core import Claim, Context, RunResult, export_report
from gankit.reproduce.digit_gans import MNIST, _model_claim


def test_list_names_the_five_papers_with_cpu_time(capsys):
    assert main(["reproduce", "--list"]) == 0
    out = capsys.readouterr().out
    for name in ("digit-gans", "binarygan", "guide", "dwgan", "sae"):
        assert re.search(rf"^{name}\s+\d+ / \d+ / \d+\s+\S", out, re.M), out
    assert [p.name for p in papers()] == list(MODULES)


@pytest.mark.parametrize("argv, message", [
    (["reproduce", "cifar-gans", "--budget", "smoke"], "unknown paper 'cifar-gans'"),
    (["reproduce", "digit-gans", "--budget", "smoke", "--seeds", "0"], "--seeds must be >= 1"),
    (["reproduce", "digit-gans", "--budget", "smoke", "--only", "dcgan-cifar"], "not a run of digit-gans"),
    (["reproduce"], "name a paper"),
])
def test_bad_arguments_are_one_line(argv, message, capsys, tmp_path):
    assert main([*argv, "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_digit_gans_smoke_writes_reports_and_reuses_finished_runs(tmp_path, cache_dir, capsys):
    out = tmp_path / "dg"
    argv = ["reproduce", "digit-gans", "--budget", "smoke", "--out", str(out), "train.threads=1"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert err.count("training ") == len(MNIST) and "reusing" not in err
    md = (out / "report.md").read_text()
    for m in MNIST:  # one row per model, each with its sample grid
        assert f"| {m.section} |" in md
        assert (out / f"{m.preset}-s0" / "samples").is_dir()
    assert "| 3.1-3.4, Figs. 3.4-3.13 |" in md and "no SVHN files" in md
    assert "The paper's own budget (`--budget paper`) is estimated at 550 CPU-minutes" in md
    page = (out / "report.html").read_text()
    assert "<img" in page and not re.search(r'src="(?!data:)', page)  # self-contained
    before = {p: p.stat().st_mtime_ns for p in out.glob("*-s0/checkpoints/*.pt")}

    assert main(argv) == 0  # the same config: every run is reused, nothing retrained
    err = capsys.readouterr().err
    assert err.count("reusing") == len(MNIST) and "training " not in err
    assert before == {p: p.stat().st_mtime_ns for p in out.glob("*-s0/checkpoints/*.pt")}

    # --report-only trains nothing and reports what is there
    assert main([*argv, "--report-only"]) == 0
    err = capsys.readouterr().err
    assert "training " not in err and err.count("reporting") == len(MNIST)

    # another config (here eval_samples) is not the same run: trained again
    assert main([*argv[:-1], "--only", "dcgan-mnist", "train.eval_samples=100"]) == 0
    err = capsys.readouterr().err
    assert "training dcgan-mnist" in err and err.count("training ") == 1
    assert "left out with --only" in (out / "report.md").read_text()


def _fake_run(tmp_path, name, rows):
    d = tmp_path / name
    d.mkdir()
    (d / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return RunResult(d, rows, reused=True)


@pytest.mark.parametrize("is_, hist, expect", [
    (7.4, [0.1] * 10, "reproduced"),
    (6.3, [0.1] * 10, "partly"),  # all classes, IS below the bar
    (7.4, [0.0] + [1 / 9] * 9, "not reproduced"),  # a class missing
])
def test_model_verdict_rule(tmp_path, is_, hist, expect):
    ctx = Context(tmp_path, "paper", 1)
    final = {"step": 3900, "epoch": 50, "is": is_, "fid": 20.0, "class_hist": hist,
             "classes_covered": sum(h > 0 for h in hist), "images_per_s": 100.0}
    claim = _model_claim(ctx, MNIST[0], _fake_run(tmp_path, "dcgan", [final]))
    assert claim.verdict == expect
    assert "IS 7.4" in claim.result or "IS 6.3" in claim.result


def test_wgan_clip_verdict_and_short_budgets(tmp_path):
    ctx = Context(tmp_path, "paper", 1)
    clip = next(m for m in MNIST if m.preset == "wgan-clip-mnist")
    poor = {"step": 7800, "epoch": 100, "is": 3.0, "fid": 200.0, "class_hist": [0.1] * 10, "classes_covered": 10}
    assert _model_claim(ctx, clip, _fake_run(tmp_path, "a", [poor])).verdict == "reproduced"  # it is unsatisfactory
    cut = {**poor, "epoch": 11}
    c = _model_claim(ctx, clip, _fake_run(tmp_path, "b", [cut]))
    assert c.verdict == "partly" and "only 11 of 100 epochs" in c.why
    assert _model_claim(ctx, clip, None).verdict == "not run"


def test_claim_rejects_unknown_verdicts():
    with pytest.raises(ValueError):
        Claim("1", "x", "y", "sort of", "z")


def test_export_copies_images_and_rewrites_links(tmp_path):
    from gankit.reproduce.core import Report, write_report

    out = tmp_path / "out"
    (out / "run-s0" / "samples").mkdir(parents=True)
    png = out / "run-s0" / "samples" / "step_000003.png"
    png.write_bytes(b"\x89PNG fake")
    write_report(Report("p", "Paper", "smoke", [Claim("1", "c", "r", "partly", "w", [png])]), out)
    md = export_report(out, tmp_path / "docs", "p")
    text = md.read_text()
    assert "![](p/run-s0_samples_step_000003.png)" in text
    assert (tmp_path / "docs" / "p" / "run-s0_samples_step_000003.png").read_bytes() == b"\x89PNG fake"


def test_export_shrinks_large_pictures(tmp_path):
    import numpy as np
    from PIL import Image

    from gankit.reproduce.core import Report, write_report

    out = tmp_path / "out"
    (out / "figures").mkdir(parents=True)
    big = out / "figures" / "fig.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (600, 3000, 3), dtype=np.uint8)).save(big)
    write_report(Report("p", "Paper", "smoke", [Claim("1", "c", "r", "partly", "w", [big])]), out)
    export_report(out, tmp_path / "docs", "p")
    small = Image.open(tmp_path / "docs" / "p" / "fig.png")
    assert small.size == (800, 160) and len(small.getcolors(256)) <= 64


def test_what_is_left_gives_the_last_step_and_the_time_the_rest_needs(tmp_path, cache_dir):
    """A run reported short of its budget says where it stopped and, at the pace its checkpoint
    measured (elapsed seconds / steps), how long the remaining steps take."""
    import torch

    from gankit.catalogue import load_config
    from gankit.reproduce.core import SMOKE, what_is_left
    from gankit.training.logs import read_metrics
    from gankit.training.loop import train

    over = [*SMOKE, "train.steps=4", "train.ckpt_every=2", "train.threads=1"]
    run = tmp_path / "dcgan-mnist-s0"
    train(load_config("dcgan-mnist", over), run, cache_dir=cache_dir)
    rows = read_metrics(run / "metrics.jsonl")
    state = torch.load(sorted((run / "checkpoints").glob("*.pt"))[-1], weights_only=True)
    pace = state["elapsed"] / state["step"]
    text = what_is_left(run, load_config("dcgan-mnist", [*over[:-3], "train.steps=1004"]), rows)
    assert text.startswith("dcgan-mnist-s0 stopped at step 4 of 1004; the remaining 1000 steps need about "
                           f"{1000 * pace / 3600:.1f} hours at its measured {pace:.2f} s per step"), text
    assert text.endswith("(1 thread)"), text  # the run's own threads
    timed = load_config("dcgan-mnist", [*over[:-3], "train.steps=1004", "train.seconds=3600"])
    assert what_is_left(run, timed, rows).endswith(f"; {(3600 - state['elapsed']) / 60:.0f} of its 60 minutes left")
    # an epoch budget: the evaluation at an epoch's end gives the steps per epoch (78 here)
    epochs = load_config("dcgan-mnist", [*over[:-3], "train.steps=100000", "train.epochs=3"])
    evals = [{"step": 78, "epoch": 1, "is": 2.0}, {"step": 100, "epoch": 1, "is": 2.0}]  # at and after an epoch's end
    assert "stopped at step 4 of 234;" in what_is_left(run, epochs, [*evals, *rows])


def test_report_notes_name_unfinished_runs_and_the_paper_budget(tmp_path, monkeypatch):
    """What a paper's run records as unfinished reaches the report's notes, and a report below
    the paper budget states the paper budget's CPU-minutes."""
    import gankit.reproduce as reproduce_mod
    from gankit.reproduce.core import Paper

    def run(ctx):
        ctx.unfinished.append("x-s0 stopped at step 5 of 10")
        return [Claim("1", "a claim", "a result", "partly", "why")], []

    fake = Paper("fake", "A fake paper", "nothing", {"paper": 42, "short": 1, "smoke": 1}, run)
    monkeypatch.setattr(reproduce_mod, "paper", lambda name: fake)
    reproduce_mod.reproduce("fake", "short", tmp_path / "out")
    md = (tmp_path / "out" / "report.md").read_text()
    assert "Runs short of their budget, reported as they stand: x-s0 stopped at step 5 of 10." in md
    assert "estimated at 42 CPU-minutes" in md and "this report is at the short budget" in md
    reproduce_mod.reproduce("fake", "paper", tmp_path / "paper")
    assert "estimated at" not in (tmp_path / "paper" / "report.md").read_text()


def test_guide_verdicts_need_a_seed_spread_to_compare(tmp_path):
    """A trick's FID against the baseline's is judged by the seed spread; one seed has none, so a
    lower FID is only 'partly'. Collapse is judged per run: IS under half its best at the end."""
    from gankit.reproduce.guide import trick_verdict

    def runs(tag, fids, is_curve=(5.0, 8.0, 8.5)):
        return [_fake_run(tmp_path, f"{tag}{i}", [*({"step": s, "epoch": 97 + s, "is": v} for s, v in enumerate(is_curve)),
                                                  {"step": 9, "epoch": 100, "fid": f, "is": is_curve[-1]}])
                for i, f in enumerate(fids)]

    base = runs("b", [12.0, 13.0, 14.0])  # mean 13, spread 1
    assert trick_verdict("better", runs("t", [5.0, 6.0, 7.0]), base)[0] == "reproduced"
    assert trick_verdict("better", runs("u", [12.5, 13.5, 13.0]), base)[0] == "partly"
    assert trick_verdict("better", runs("w", [20.0, 21.0, 22.0]), base)[0] == "not reproduced"
    assert trick_verdict("no-worse", runs("n", [13.0, 13.5, 14.0]), base)[0] == "reproduced"
    v, why = trick_verdict("better", runs("o", [4.0]), runs("ob", [13.0]))
    assert v == "partly" and why.startswith("one seed: FID 4.0 against the baseline's 13.0"), why
    assert trick_verdict("no-worse", runs("p", [4.0]), runs("pb", [13.0]))[0] == "partly"
    # collapse: the last IS 3.0 is under half the best 8.5, at 100 epochs
    assert trick_verdict("collapse", runs("c", [50.0], (5.0, 8.5, 3.0)), base) == ("reproduced", "1/1 seeds collapse (100 epochs)")
    assert trick_verdict("collapse", runs("d", [9.0]), base)[0] == "not reproduced"
