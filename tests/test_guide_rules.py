"""The guide's verdict rules on constructed metric rows (every verdict each rule can give is
reached), the rows they build under settle, and a smoke reproduction that decides nothing and
rebuilds the same verdicts from its exported records."""
import json
import shutil

import pytest

from gankit.reproduce.core import Claim, RunResult, settle
from gankit.reproduce.guide import (GUIDE_EPOCH, PACES, better_rule, collapse_rule, collapse_step, common_step,
                                    condition_rule, diversity_rule, kernel_time_rule, no_recovery_rule,
                                    oscillation_rule, quadratic_rule, replay_rule, similar_rule, timing_claims)
from gankit.reproduce.timing import TIMING, same_time_rule

E = GUIDE_EPOCH


def run_of(tmp_path, name, is_curve, fid=30.0, la=0.95, hist=None, every=E, d_loss=None):
    """A run evaluated every ``every`` updates with IS ``is_curve[i]`` (FID, label agreement and
    class shares the same at each); ``d_loss``: a losses.csv row every 10 updates."""
    rows = [{"step": every * (i + 1), "is": float(v), "fid": float(fid), "label_agreement": la,
             "class_hist": hist or [0.1] * 10} for i, v in enumerate(is_curve)]
    d = tmp_path / name
    d.mkdir()
    (d / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    if d_loss is not None:
        (d / "losses.csv").write_text("step,d_loss,g_loss\n" + "".join(f"{s},{v},1.0\n" for s, v in d_loss))
    return RunResult(d, rows, reused=True)


def test_collapse_step_looks_at_every_evaluation_not_the_last(tmp_path):
    # IS falls under half its best at the 4th evaluation and recovers: a last-evaluation check misses it
    r = run_of(tmp_path, "a", [5.0, 8.0, 8.5, 3.0, 8.4])
    assert collapse_step(r) == 4 * E
    assert collapse_step(r, upto=3 * E) is None
    assert collapse_step(run_of(tmp_path, "b", [5.0, 8.0, 4.5, 8.0])) is None  # 4.5 is not under half of 8


def test_common_step_is_the_last_evaluation_both_sides_share(tmp_path):
    long, short = run_of(tmp_path, "l", [1] * 10), run_of(tmp_path, "s", [1] * 4)
    assert common_step([long], [short]) == 4 * E
    assert common_step([long], upto=int(2.5 * E)) == 2 * E


@pytest.mark.parametrize("la, expect", [
    ([0.97, 0.95, 0.92], "reproduced"), ([0.95, 0.85, 0.80], "partly"), ([0.11, 0.10, 0.12], "not reproduced"),
])
def test_condition_rule(la, expect):
    assert condition_rule(la).verdict == expect


@pytest.mark.parametrize("a, b, much, expect", [
    ([5.0, 6.0, 7.0], [12.0, 13.0, 14.0], None, "reproduced"),  # 7 apart, spread 1
    ([12.5, 13.5, 13.0], [12.0, 13.0, 14.0], None, "not reproduced"),  # within the spread
    ([20.0, 21.0, 22.0], [12.0, 13.0, 14.0], None, "not reproduced"),  # worse
    ([11.0, 11.1, 11.2], [12.0, 12.1, 12.2], 0.2, "partly"),  # beyond the spread 0.1, only 8% lower
    ([5.0, 5.1, 5.2], [12.0, 12.1, 12.2], 0.2, "reproduced"),
    ([4.0], [13.0], None, "inconclusive"),  # one seed: no spread
])
def test_better_rule(a, b, much, expect):
    assert better_rule(a, b, much=much).verdict == expect


def test_better_rule_higher_is_better():
    assert better_rule([9.0, 9.1, 9.2], [8.0, 8.1, 8.2], higher=True, what="IS").verdict == "reproduced"
    assert better_rule([9.0, 9.1, 9.2], [8.0, 8.1, 8.2], what="FID").verdict == "not reproduced"


@pytest.mark.parametrize("a, b, expect", [
    ([30.0, 31.0, 32.0], [30.5, 31.5, 31.0], "reproduced"),
    ([30.0, 31.0, 32.0], [40.0, 41.0, 42.0], "not reproduced"),
    ([30.0, 45.0, 60.0], [35.0, 50.0, 65.0], "inconclusive"),  # spread 15 > 0.2 x the mean
    ([30.0, 31.0, 32.0], [31.5, 32.5, 33.5], "inconclusive"),  # 1.5 apart: beyond the spread, within twice it
    ([30.0], [30.0], "inconclusive"),
])
def test_similar_rule(a, b, expect):
    assert similar_rule(a, b).verdict == expect


FLAT = [5.0, 8.0, 8.5, 8.6, 8.7, 8.7]
COLLAPSE_AT_4 = [5.0, 8.0, 8.5, 3.0, 3.5, 4.0]


@pytest.mark.parametrize("tricks, bases, window, expect", [
    ([COLLAPSE_AT_4] * 3, [FLAT] * 3, (3 * E, 5 * E), "reproduced"),
    ([COLLAPSE_AT_4] * 3, [FLAT] * 3, (5 * E, 6 * E), "partly"),  # every seed, outside the window
    ([COLLAPSE_AT_4, FLAT, FLAT], [FLAT] * 3, (3 * E, 5 * E), "partly"),  # one seed of three
    ([COLLAPSE_AT_4] * 3, [COLLAPSE_AT_4, FLAT, FLAT], (3 * E, 5 * E), "partly"),  # the baseline too
    ([FLAT] * 3, [FLAT] * 3, (3 * E, 5 * E), "not reproduced"),
])
def test_collapse_rule(tmp_path, tricks, bases, window, expect):
    t = [run_of(tmp_path, f"t{i}", c) for i, c in enumerate(tricks)]
    b = [run_of(tmp_path, f"b{i}", c) for i, c in enumerate(bases)]
    assert collapse_rule(t, b, window, 6 * E).verdict == expect


def test_a_clean_run_short_of_the_papers_updates_is_inconclusive(tmp_path):
    """No collapse in 780 updates says nothing about guide epoch 60 (23,400 updates)."""
    t = [run_of(tmp_path, f"t{i}", FLAT[:2]) for i in range(3)]
    v = collapse_rule(t, t, (30 * E, 140 * E), 2 * E)
    row = settle(Claim("4.1", "c", "r", *v, updates=2 * E, paper_updates=200 * E, seeds=3), "short")
    assert v.verdict == "not reproduced" and row.verdict == "inconclusive" and "780 of the paper's 78,000" in row.why


@pytest.mark.parametrize("curves, expect", [
    ([COLLAPSE_AT_4] * 3, "reproduced"),  # best after 4.0 / 8.5
    ([[5.0, 8.0, 8.5, 3.0, 8.6, 8.0]] * 3, "not reproduced"),  # back above its best
    ([[5.0, 8.0, 8.5, 3.0, 7.9, 8.0]] * 3, "partly"),  # 8.0 / 8.5 = 0.94
    ([FLAT] * 3, "inconclusive"),  # nothing collapsed: nothing to judge
    ([[5.0, 8.0, 8.5, 8.6, 8.7, 3.0]] * 3, "inconclusive"),  # the collapse is the last evaluation
])
def test_no_recovery_rule(tmp_path, curves, expect):
    assert no_recovery_rule([run_of(tmp_path, f"r{i}", c) for i, c in enumerate(curves)], 6 * E).verdict == expect


def _d_loss(quiet_sd, loud_sd, collapse_at):
    """d_loss every 10 updates: alternating +-quiet_sd, +-loud_sd within a guide epoch of the collapse."""
    out = []
    for s in range(10, 14 * E + 1, 10):
        amp = loud_sd if abs(s - collapse_at) <= E else quiet_sd
        out.append((s, 1.0 + (amp if (s // 10) % 2 else -amp)))
    return out


@pytest.mark.parametrize("loud, expect", [(0.5, "reproduced"), (0.15, "partly"), (0.1, "not reproduced")])
def test_oscillation_rule(tmp_path, loud, expect):
    curve = [5.0] + [8.0] * 11 + [3.0, 3.0]  # collapses at update 13 E, after 12 calm guide epochs
    runs = [run_of(tmp_path, f"o{i}", curve, d_loss=_d_loss(0.1, loud, 13 * E)) for i in range(3)]
    assert collapse_step(runs[0]) == 13 * E
    assert oscillation_rule(runs, 14 * E).verdict == expect


def test_oscillation_rule_without_collapse_or_losses_is_inconclusive(tmp_path):
    calm = [run_of(tmp_path, "c", FLAT, d_loss=_d_loss(0.1, 0.1, 0))]
    assert oscillation_rule(calm, 6 * E).verdict == "inconclusive"
    assert oscillation_rule([run_of(tmp_path, "n", COLLAPSE_AT_4)], 6 * E).verdict == "inconclusive"  # no losses.csv


def _runs(tmp_path, tag, fids, curve=FLAT, hist=None):
    return [run_of(tmp_path, f"{tag}{i}", curve, fid=f, hist=hist) for i, f in enumerate(fids)]


def test_diversity_rule_reaches_every_verdict(tmp_path):
    step = 6 * E
    thin = [0.02] + [0.98 / 9] * 9  # a class under 5% of the samples: a collapse of the class mix
    good, same = [5.0, 6.0, 7.0], [12.0, 13.0, 14.0]
    base_collapsing = _runs(tmp_path, "bc", same, hist=thin)
    assert diversity_rule(_runs(tmp_path, "m1", good), base_collapsing, step).verdict == "reproduced"
    assert diversity_rule(_runs(tmp_path, "m2", same), base_collapsing, step).verdict == "partly"  # fewer collapses
    assert diversity_rule(_runs(tmp_path, "m3", same, hist=thin), base_collapsing, step).verdict == "not reproduced"
    base_clean = _runs(tmp_path, "bn", same)
    v = diversity_rule(_runs(tmp_path, "m4", good), base_clean, step)  # the collapse half cannot be judged
    assert v.verdict == "partly" and "never collapses" in v.why
    assert diversity_rule(_runs(tmp_path, "m5", [20.0, 21.0, 22.0]), base_clean, step).verdict == "not reproduced"
    assert diversity_rule(_runs(tmp_path, "m6", [5.0]), base_clean, step).verdict == "inconclusive"


@pytest.mark.parametrize("replay, base, expect", [
    ([30.0, 31.0, 32.0], [30.5, 31.5, 31.0], "partly"),  # no worse: only the measurable half
    ([40.0, 41.0, 42.0], [30.0, 31.0, 32.0], "not reproduced"),
    ([30.0, 45.0, 60.0], [35.0, 50.0, 65.0], "inconclusive"),
    ([30.0], [31.0], "inconclusive"),
])
def test_replay_rule(replay, base, expect):
    assert replay_rule(replay, base).verdict == expect


def test_trick_rows_obey_settle():
    """MBD better on 3 seeds at equal updates: reproduced at any update; worse at 780 of 39,000:
    inconclusive; a level claim on one seed: partly."""
    good = Claim("4.3", "c", "r", *better_rule([5.0, 6.0, 7.0], [12.0, 13.0, 14.0]), updates=780,
                 paper_updates=39000, seeds=3)
    assert settle(good, "short").verdict == "reproduced"
    bad = Claim("4.3", "c", "r", *better_rule([20.0, 21.0, 22.0], [12.0, 13.0, 14.0]), updates=780,
                paper_updates=39000, seeds=3)
    assert settle(bad, "short").verdict == "inconclusive"
    assert settle(Claim("4.3", "c", "r", *better_rule([20.0, 21.0, 22.0], [12.0, 13.0, 14.0]), updates=39000,
                        paper_updates=39000, seeds=3), "paper").verdict == "not reproduced"
    assert settle(Claim("3.3", "c", "r", *condition_rule([0.97]), updates=7800, paper_updates=78000, seeds=1),
                  "paper").verdict == "partly"


@pytest.mark.parametrize("k4, k5, expect", [
    ([1.2, 1.3], [1.6, 1.7], "reproduced"),  # 3x3 < 4x4 < 5x5 in both blocks
    ([1.2, 1.0], [1.25, 1.6], "partly"),  # 5x5 dearer than 3x3, 4x4 not between in every block
    ([1.0, 1.01], [1.02, 0.99], "not reproduced"),  # 5x5 no dearer than 3x3
    ([1.0, 1.2], [1.01, 1.4], "inconclusive"),  # one block each side of 1.05
    ([], [], "inconclusive"),  # no record
])
def test_kernel_time_rule(k4, k5, expect):
    assert kernel_time_rule(k4, k5).verdict == expect


@pytest.mark.parametrize("k5, expect", [
    ([2.6, 2.9], "reproduced"), ([3.6, 4.0], "partly"), ([1.6, 1.7], "not reproduced"), ([2.0, 2.5], "inconclusive")])
def test_quadratic_rule(k5, expect):
    assert quadratic_rule(k5).verdict == expect


@pytest.mark.parametrize("r, expect", [
    ([1.05, 0.9], "reproduced"), ([1.4, 1.5], "not reproduced"), ([0.7, 0.75], "not reproduced"),
    ([1.1, 1.3], "inconclusive"), ([], "inconclusive")])
def test_same_time_rule(r, expect):
    assert same_time_rule(r, "A/B").verdict == expect


def test_timing_rows_read_the_baselines_records_and_obey_settle(tmp_path):
    """Each timing row is judged from its pace record alone (A/B per block); a missing record is
    'not run'; a smoke budget decides nothing."""
    d = tmp_path / "cdcgan-mnist-s0"
    (d / "record").mkdir(parents=True)
    blocks = {"k5_k3": [[1.7, 1.0], [1.8, 1.0]], "k4_k3": [[1.3, 1.0], [1.25, 1.0]],
              "cond": [[1.0, 1.0], [1.1, 1.0]], "vbn": [[1.1, 1.0], [1.05, 1.0]], "wgan": [[5.5, 1.0], [6.0, 1.0]]}
    for k, b in blocks.items():
        (d / "record" / PACES[k].name).write_text(json.dumps({"cpu_s_per_step": b}))
    rows = timing_claims(RunResult(d, [], reused=True))
    got = [(c.section, c.verdict) for c in rows]
    assert got == [("3.2", "reproduced"), ("3.2", "not reproduced"), ("3.3.2", "reproduced"),
                   ("4.4", "not reproduced"), ("5.6", "reproduced"), ("5.6", "reproduced")]
    assert all(c.updates is None and c.seeds is None and any("CPU time" in x for x in c.departures) for c in rows)
    assert [settle(c, "short").verdict for c in rows] == [v for _, v in got]  # no updates or seeds to fall short of
    assert all(settle(c, "smoke").verdict == "inconclusive" for c in rows)
    (d / "record" / PACES["wgan"].name).write_text(json.dumps({"cpu_s_per_step": [[3.0, 1.0], [2.8, 1.0]]}))
    wgan = timing_claims(RunResult(d, [], reused=True))[4:]  # per generator update dearer, per D batch cheaper
    assert [c.verdict for c in wgan] == ["reproduced", "not reproduced"]
    (d / "record" / PACES["vbn"].name).unlink()
    assert [c.verdict for c in timing_claims(RunResult(d, [], reused=True))][3] == "not run"


def test_short_budget_gives_every_recipe_the_same_updates():
    from gankit.catalogue import load_config
    from gankit.reproduce.guide import PAPER, PAPER_ONLY, SHORT_UPDATES, budget_overrides

    for preset in PAPER.runs:
        cfg = load_config(preset, budget_overrides("short", preset))
        assert cfg.train.steps == SHORT_UPDATES and cfg.train.seconds is None and cfg.train.eval_every == E
    paper = {p: load_config(p, budget_overrides("paper", p)).train.steps for p in PAPER.runs}
    assert paper["cdcgan-mnist-mbd"] == 100 * E and paper["cdcgan-mnist"] == 200 * E
    assert "cdcgan-mnist-dense" in PAPER_ONLY
    assert 25 <= PAPER.cpu_minutes["short"] <= 35  # 8 recipes x 3 seeds x 780 updates at the measured paces


def test_smoke_reproduction_decides_nothing_and_rebuilds_from_its_records(tmp_path, cache_dir):
    from gankit.reproduce import export_report, reproduce

    only = ["cdcgan-mnist", "cdcgan-mnist-smooth2", "cdcgan-mnist-mbd"]
    first = reproduce("guide", "smoke", tmp_path / "out", seeds=1, only=only, overrides=["train.threads=1"],
                      cache_dir=cache_dir)
    run_rows = [c for c in first.claims if c.verdict != "not run" and c.updates is not None]
    assert len(run_rows) >= 5  # the baseline, two-sided smoothing's four rows, MBD
    assert all(c.verdict not in ("reproduced", "not reproduced") for c in first.claims)
    assert all(c.updates == 3 and c.seeds == 1 for c in run_rows)
    timed = [c for c in first.claims if TIMING in c.departures]
    assert len(timed) == 6 and all(c.verdict == "inconclusive" for c in timed)  # measured, but a smoke run
    export_report(tmp_path / "out", tmp_path / "docs", "guide")
    rec = tmp_path / "docs" / "guide" / "runs" / "cdcgan-mnist-smooth2-s0"
    assert (rec / "metrics.jsonl").is_file() and (rec / "losses.csv").is_file() and not list(rec.rglob("*.pt"))
    assert len(list((tmp_path / "docs" / "guide" / "runs" / "cdcgan-mnist-s0" / "record").glob("pace_*.json"))) == 5
    shutil.rmtree(tmp_path / "out")  # only the records remain
    again = reproduce("guide", "smoke", tmp_path / "rebuilt", seeds=1, only=only, report_only=True,
                      from_dir=tmp_path / "docs")
    assert [(c.section, c.verdict, c.why, c.result) for c in again.claims] == \
        [(c.section, c.verdict, c.why, c.result) for c in first.claims]
