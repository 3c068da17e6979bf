"""``gankit reproduce``: the paper list, a smoke run of digit-gans, run reuse, verdict rules, export."""
import json
import re

import pytest

from gankit.cli import main
from gankit.reproduce import MODULES, papers
from gankit.reproduce.core import Claim, Context, RunResult, export_report
from gankit.reproduce.digit_gans import MNIST, PAPER, plan


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


@pytest.mark.slow
def test_digit_gans_smoke_writes_reports_and_reuses_finished_runs(tmp_path, cache_dir, capsys):
    out = tmp_path / "dg"
    argv = ["reproduce", "digit-gans", "--budget", "smoke", "--out", str(out), "train.threads=1"]
    n = sum(len(specs) for specs in plan(Context(out, "smoke", 0)).values())  # models, WGAN-CLIP, variants
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert err.count("training ") == n and "reusing" not in err
    md = (out / "report.md").read_text()
    for m in MNIST:  # one row per model, each with its sample grid
        assert f"| {m.section} |" in md
        assert (out / f"{m.preset}-s0" / "samples").is_dir()
    assert "| 3.3, Fig. 3.11 |" in md and "no SVHN files" in md
    assert f"The paper's own budget (`--budget paper`) is estimated at {PAPER.cpu_minutes['paper']} CPU-minutes" in md
    page = (out / "report.html").read_text()
    assert "<img" in page and not re.search(r'src="(?!data:)', page)  # self-contained
    before = {p: p.stat().st_mtime_ns for p in out.glob("*-s0/checkpoints/*.pt")}

    assert main(argv) == 0  # the same config: every run is reused, nothing retrained
    err = capsys.readouterr().err
    assert err.count("reusing") == n and "training " not in err
    assert before == {p: p.stat().st_mtime_ns for p in out.glob("*-s0/checkpoints/*.pt")}

    # --report-only trains nothing and reports what is there
    assert main([*argv, "--report-only"]) == 0
    err = capsys.readouterr().err
    assert "training " not in err and err.count("reporting") == n

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


# ------------------------------------------------------------------ issue 30: verdict rules, records, jobs
from gankit.reproduce.core import (VERDICTS, RunSpec, Verdict, compare_metrics, compare_seeds,  # noqa: E402
                                   extend_grid, read_updates, settle)


@pytest.mark.parametrize("verdict", ["reproduced", "partly", "not reproduced"])
def test_a_smoke_run_decides_nothing(verdict):
    c = settle(Claim("1", "c", "r", verdict, "w", updates=3, paper_updates=3), "smoke")
    assert c.verdict == "inconclusive" and c.why.startswith("budget: a smoke run")
    assert settle(Claim("1", "c", "r", "not run", "w"), "smoke").verdict == "not run"


def test_settle_caps_unfalsifiable_claims_single_seeds_and_short_budgets():
    assert settle(Claim("1", "c", "r", "reproduced", "w", falsifiable=False), "paper").verdict == "partly"
    assert settle(Claim("1", "c", "r", "reproduced", "w", seeds=1), "paper").verdict == "partly"
    assert settle(Claim("1", "c", "r", "not reproduced", "w", seeds=2), "paper").verdict == "inconclusive"
    assert settle(Claim("1", "c", "r", "reproduced", "w", seeds=3), "paper").verdict == "reproduced"
    short = settle(Claim("1", "c", "r", "not reproduced", "w", updates=1560, paper_updates=18740), "paper")
    assert short.verdict == "inconclusive" and short.why.startswith("budget: 1,560 of the paper's 18,740")
    full = Claim("1", "c", "r", "not reproduced", "w", updates=18740, paper_updates=18740)
    assert settle(full, "paper").verdict == "not reproduced"
    # a positive verdict needs no more updates than it had
    assert settle(Claim("1", "c", "r", "reproduced", "w", updates=10, paper_updates=100), "paper").verdict == "reproduced"


def test_verdict_vocabulary():
    assert VERDICTS == ("reproduced", "partly", "not reproduced", "inconclusive", "not run")
    with pytest.raises(ValueError):
        Verdict("differs", "x")
    assert list(Verdict("partly", "why")) == ["partly", "why"]


def test_compare_metrics_reaches_each_verdict():
    assert compare_metrics(8.0, 7.0, 0.5).verdict == "reproduced"
    assert compare_metrics(7.2, 7.0, 0.5).verdict == "partly"
    assert compare_metrics(6.0, 7.0, 0.5).verdict == "not reproduced"
    assert compare_metrics(20.0, 30.0, 5.0, higher=False).verdict == "reproduced"  # FID: lower is better
    with pytest.raises(ValueError):
        compare_metrics(1.0, 0.0, 0.0)


def test_compare_seeds_reaches_each_verdict():
    # means 10 vs 7, sample sds 1 and 1: the difference 3 exceeds the spread 2
    assert compare_seeds([9, 10, 11], [6, 7, 8]).verdict == "reproduced"
    assert compare_seeds([9, 10, 11], [8, 9, 10]).verdict == "partly"  # 1 < spread 2
    assert compare_seeds([6, 7, 8], [9, 10, 11]).verdict == "not reproduced"
    assert compare_seeds([10], [7]).verdict == "partly"  # one seed: no spread
    assert compare_seeds([7], [10]).verdict == "inconclusive"
    assert compare_seeds([20, 21, 22], [30, 31, 32], higher=False).verdict == "reproduced"


def test_extend_grid_grows_past_the_edge_until_the_best_is_inside():
    calls = []

    def run_at(values):
        calls.append(list(values))
        return [{"x": v} for v in values]

    # the score falls to its minimum at 8: grid 1, 2, 4 grows to 8 (still at the edge), then 16
    g = extend_grid([1, 2, 4], run_at, lambda r: abs(r["x"] - 8), limit=9)
    assert calls == [[1, 2, 4], [8], [16]] and g.best == 8 and g.interior
    assert g.text() == "best lr x8, interior of x1..x16"
    g = extend_grid([1, 2, 4], run_at, lambda r: -r["x"], limit=4)  # always better higher: stops at the limit
    assert not g.interior and g.best == 8 and "upper edge of x1..x8" in g.text() and "limit 4" in g.text()
    calls.clear()  # the best at 0.5 (higher is better): grows downward to 0.5, then 0.25
    g = extend_grid([1, 2, 4], run_at, lambda r: -abs(r["x"] - 0.5), limit=9, lower=False)
    assert calls == [[1, 2, 4], [0.5], [0.25]] and g.best == 0.5 and g.interior
    # a missing record (report-only) ends the grid where it stands
    g = extend_grid([1, 2], lambda vs: [None if v > 2 else {"x": v} for v in vs], lambda r: -r["x"])
    assert g.best == 2 and not g.interior


def test_read_updates_from_metrics_or_losses(tmp_path):
    (tmp_path / "metrics.jsonl").write_text('{"step": 10}\n{"step": 40, "is": 2.0}\n')
    assert read_updates(tmp_path) == 40
    (tmp_path / "metrics.jsonl").unlink()
    (tmp_path / "losses.csv").write_text("step,d_loss\n5,1.0\n25,0.5\n")
    assert read_updates(tmp_path) == 25


def _tiny_paper(budget_steps=20):
    """A paper with one DWGAN 3x3 run of ``budget_steps`` steps: an ``after`` hook writes a number
    into the record, and the claim reads it and the metrics back (judged from records only)."""
    from gankit.reproduce.core import Paper

    def after(r):
        (r.record / "extra.json").write_text(json.dumps({"last_valid": r.final["fixed100_valid"]}))

    def run(ctx):
        r = ctx.run("board", "dwgan-ttt-3x3-2p", [f"train.steps={budget_steps}", "train.eval_every=10",
                                                   "train.eval_samples=100"], after=after)
        extra = json.loads((r.record / "extra.json").read_text())
        v = compare_metrics(extra["last_valid"], 50.0, 1.0, what="% valid", names=("DWGAN", "random"))
        return [Claim("5.1", "valid boards", f"valid {extra['last_valid']:.0f}", *v, [r.grid()],
                      updates=r.updates, paper_updates=budget_steps, departures=["a tiny test run"])], []
    return Paper("tiny", "A tiny paper", "one run", {"paper": 1, "short": 1, "smoke": 1}, run, runs=("dwgan-ttt-3x3-2p",))


def test_export_then_rebuild_from_records_gives_the_same_report(tmp_path, monkeypatch):
    """The records (config, metrics, losses, record/, the pictures shown; no checkpoints) exported
    under docs/PAPER/runs/ rebuild the same verdicts with --report-only --from, nothing trained."""
    import gankit.reproduce as reproduce_mod

    fake = _tiny_paper()
    monkeypatch.setattr(reproduce_mod, "paper", lambda name: fake)
    first = reproduce_mod.reproduce("tiny", "paper", tmp_path / "out", overrides=["train.threads=1"])
    assert first.claims[0].verdict in ("reproduced", "partly", "not reproduced")
    assert first.claims[0].updates == 20
    export_report(tmp_path / "out", tmp_path / "docs", "tiny")
    rec = tmp_path / "docs" / "tiny" / "runs" / "board-s0"
    assert {p.name for p in rec.iterdir()} == {"config.yaml", "metrics.jsonl", "losses.csv", "record", "samples"}
    assert (rec / "record" / "extra.json").is_file() and not list(rec.rglob("*.pt"))
    md = (tmp_path / "docs" / "tiny.md").read_text()
    assert "![](tiny/runs/board-s0/samples/step_000020.png)" in md
    import shutil

    shutil.rmtree(tmp_path / "out")  # the runs are gone: only the records remain
    again = reproduce_mod.reproduce("tiny", "paper", tmp_path / "rebuilt", report_only=True, from_dir=tmp_path / "docs")
    assert [(c.verdict, c.why, c.result, c.updates) for c in again.claims] == \
        [(c.verdict, c.why, c.result, c.updates) for c in first.claims]
    assert "| 20 / 20 | a tiny test run |" in (tmp_path / "rebuilt" / "report.md").read_text()
    with pytest.raises(Exception, match="needs --report-only"):
        reproduce_mod.reproduce("tiny", "paper", tmp_path / "x", from_dir=tmp_path / "docs")


def test_jobs_two_trains_the_same_runs_as_jobs_one(tmp_path):
    """Two runs at a time (subprocesses) give the same metrics rows as one after the other."""
    from gankit.compare import TIMING_KEYS

    specs = [RunSpec("a", "dwgan-ttt-3x3-2p", ["train.steps=6", "train.eval_every=3", "train.eval_samples=50"], s)
             for s in (0, 1)]
    rows = {}
    for jobs in (1, 2):
        ctx = Context(tmp_path / f"j{jobs}", "paper", 1, extra=["train.threads=1"], jobs=jobs)
        got = ctx.runs(specs)
        assert all(not r.reused for r in got)
        rows[jobs] = [[{k: v for k, v in row.items() if k not in TIMING_KEYS} for row in r.rows] for r in got]
    assert rows[1] == rows[2] and len(rows[1][0]) >= 2 and rows[1][0] != rows[1][1]
