"""dwgan's verdict rules on constructed metric rows: every verdict each rule can give is reached,
and the rows they build obey settle (smoke, seeds, updates)."""
import json
import math

import pytest

from gankit.reproduce.core import Claim, Grid, RunResult, Verdict, settle
from gankit.reproduce.dwgan import (MNIST_CODE_UPDATES, collapse_rule, crossing, fair_grids, no_penalty_collapse_rule,
                                    penalty_rule, quality_rule, speed_rule)


def run_of(tmp_path, name, series, every=10):
    """A run whose metrics rows hold ``fixed100_<key>`` = series[key][i] at step every*(i+1)."""
    n = len(next(iter(series.values())))
    rows = [{"step": every * (i + 1), **{f"fixed100_{k}": float(v[i]) for k, v in series.items()}} for i in range(n)]
    d = tmp_path / name
    d.mkdir()
    (d / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return RunResult(d, rows, reused=True)


def test_crossing_is_the_interval_between_two_evaluations(tmp_path):
    r = run_of(tmp_path, "a", {"valid": [0.5, 0.8, 0.95, 0.99]})  # shares are fractions in the records
    assert crossing(r, "valid", 0.9) == (20, 30)  # between the evaluation at 20 (80%) and at 30 (95%)
    assert crossing(r, "valid", 0.5) == (0, 10)
    assert crossing(r, "valid", 1.0) == (40, math.inf)  # never: at least its 40 updates


@pytest.mark.parametrize("dw, wg, expect", [
    ([(0, 10)] * 3, [(50, 60)] * 3, "reproduced"),  # ratio at most 10/50 = 0.2
    ([(20, 30)] * 3, [(50, 60)] * 3, "partly"),  # 20/60 = 0.33 .. 30/50 = 0.6: faster, not 3x
    ([(50, 60)] * 3, [(40, 50)] * 3, "not reproduced"),  # DWGAN slower
    ([(2000, math.inf)] * 3, [(2000, math.inf)] * 3, "not reproduced"),  # DWGAN never reaches the level
    ([(0, 10)] * 3, [(20, 30)] * 3, "inconclusive"),  # 0 .. 0.5 straddles 1/3
    ([(0, 10)] * 3, [(2000, math.inf)] * 3, "reproduced"),  # the WGAN never: at most 10/2000
])
def test_speed_rule_reaches_every_verdict(dw, wg, expect):
    assert speed_rule(dw, wg).verdict == expect


def test_fair_grids_need_the_baselines_grid_inside_for_a_positive_verdict():
    inside = Grid("lr", [(1, None, 3), (2, None, 1), (4, None, 2)], 2, True, 9)
    edge = Grid("lr", [(1, None, 3), (2, None, 2), (4, None, 1)], 4, False, 3)
    yes, no = Verdict("reproduced", "r"), Verdict("not reproduced", "n")
    assert fair_grids(yes, inside, inside) == yes
    v = fair_grids(yes, inside, edge)
    assert v.verdict == "inconclusive" and "upper edge of x1..x4" in v.why and "limit 3" in v.why
    assert fair_grids(no, edge, inside).verdict == "inconclusive"  # DWGAN's own grid may hold a better rate
    assert fair_grids(no, inside, edge) == no


@pytest.mark.parametrize("gain, unique, expect", [
    ([3.5, 4.8, 4.9, 4.7], [1, 0.98, 0.6, 0.05], "reproduced"),
    ([3.5, 4.8, 4.9, 4.7], [1, 0.98, 0.9, 0.85], "partly"),  # the peak, no collapse
    ([3.0, 3.1, 3.2, 3.1], [1, 0.98, 0.9, 0.85], "not reproduced"),
])
def test_collapse_rule(tmp_path, gain, unique, expect):
    r = run_of(tmp_path, "c", {"mean_max_gain": gain, "unique": unique}, every=200)  # steps 200..800
    assert collapse_rule(r, "mean_max_gain", 4.5, 500, 550).verdict == expect


@pytest.mark.parametrize("valid, unique, expect", [
    ([0.6, 0.96, 0.95], [0.8, 0.55, 0.5], "reproduced"), ([0.6, 0.96, 0.95], [0.8, 0.2, 0.08], "partly"),
    ([0.6, 0.7, 0.75], [0.8, 0.6, 0.5], "partly"), ([0.6, 0.7, 0.75], [0.8, 0.2, 0.08], "not reproduced"),
])
def test_penalty_rule(tmp_path, valid, unique, expect):
    assert penalty_rule(run_of(tmp_path, "p", {"valid": valid, "unique": unique})).verdict == expect


@pytest.mark.parametrize("valid, unique, expect", [
    ([0.6, 0.99, 0.98], [0.9, 0.4, 0.05], "reproduced"), ([0.6, 0.99, 0.98], [0.9, 0.4, 0.3], "partly"),
    ([0.6, 0.99, 0.98], [0.9, 0.85, 0.86], "not reproduced"),
])
def test_no_penalty_collapse_rule(tmp_path, valid, unique, expect):
    assert no_penalty_collapse_rule(run_of(tmp_path, "n", {"valid": valid, "unique": unique})).verdict == expect


def test_records_in_percent_from_before_the_unit_change_read_as_fractions(tmp_path):
    """Older records hold the shares as percentages (up to 100): the rules read them as the
    same fractions, so a committed report rebuilds to the same verdicts; gain is not a share."""
    from gankit.reproduce.dwgan import curves, level

    old = run_of(tmp_path, "old", {"valid": [50, 80, 95, 99], "unique": [90, 85, 40, 5], "mean_max_gain": [2, 2.5, 3, 3]})
    new = run_of(tmp_path, "new", {"valid": [0.5, 0.8, 0.95, 0.99], "unique": [0.9, 0.85, 0.4, 0.05],
                                   "mean_max_gain": [2, 2.5, 3, 3]})
    assert crossing(old, "valid", 0.9) == crossing(new, "valid", 0.9) == (20, 30)
    assert penalty_rule(old) == penalty_rule(new)
    assert "best valid 99%, last unique 5%" in penalty_rule(new).why
    assert curves(old.dir)["valid"] == curves(new.dir)["valid"] == ([10, 20, 30, 40], [0.5, 0.8, 0.95, 0.99])
    assert curves(old.dir)["mean_max_gain"][1] == [2, 2.5, 3, 3]
    assert level("valid", 0.9) == "90% valid" and level("mean_max_gain", 4.5) == "mean_max_gain 4.5"


def test_no_penalty_collapse_rule_without_board_metrics_is_inconclusive(tmp_path):
    assert no_penalty_collapse_rule(run_of(tmp_path, "e", {"other": [1, 2]})).verdict == "inconclusive"


@pytest.mark.parametrize("dw, wg, expect", [
    ([(5.3, 10)] * 3, [(5.2, 10)] * 3, "reproduced"), ([(5.3, 9)] * 3, [(7.0, 10)] * 3, "partly"),
    ([(5.3, 10)] * 3, [(5.2, 7)] * 3, "partly"), ([(1.3, 2)] * 3, [(5.2, 10)] * 3, "not reproduced"),
])
def test_quality_rule(dw, wg, expect):
    rows = lambda xs: [{"is": i, "classes_covered": c} for i, c in xs]  # noqa: E731
    assert quality_rule(rows(dw), rows(wg)).verdict == expect


def test_digit_rows_need_the_codes_updates_for_a_negative():
    """5.2: DWGAN's digits at 500 updates can show "similar quality" but not its absence: the
    appendix's code trains 120,000 generator iterations."""
    rows = lambda xs: [{"is": i, "classes_covered": c} for i, c in xs]  # noqa: E731
    bad = Claim("5.2", "c", "r", *quality_rule(rows([(1.1, 2)] * 3), rows([(5.3, 10)] * 3)), updates=500,
                paper_updates=MNIST_CODE_UPDATES, seeds=3)
    good = Claim("5.2", "c", "r", *quality_rule(rows([(5.1, 10)] * 3), rows([(5.3, 10)] * 3)), updates=500,
                 paper_updates=MNIST_CODE_UPDATES, seeds=3)
    assert MNIST_CODE_UPDATES == 1000 * (60_000 // 100) // 5
    assert settle(bad, "paper").verdict == "inconclusive" and settle(good, "paper").verdict == "reproduced"


def test_board_rows_obey_settle():
    """A DWGAN row: reproduced on three seeds at the paper's updates; one seed: partly; a
    negative verdict short of the paper's 2,000 updates: inconclusive; smoke: inconclusive."""
    row = Claim("5.1", "c", "r", *speed_rule([(0, 10)] * 3, [(50, 60)] * 3), updates=2000, paper_updates=2000, seeds=3)
    assert settle(row, "paper").verdict == "reproduced"
    assert settle(Claim("5.1", "c", "r", "reproduced", "w", updates=2000, paper_updates=2000, seeds=1),
                  "paper").verdict == "partly"
    neg = Claim("5.1", "c", "r", *speed_rule([(50, 60)] * 3, [(40, 50)] * 3), updates=1000, paper_updates=2000, seeds=3)
    assert settle(neg, "short").verdict == "inconclusive" and "1,000 of the paper's 2,000" in settle(neg, "short").why
    assert settle(row, "smoke").verdict == "inconclusive"
