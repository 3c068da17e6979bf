"""digit-gans' verdict rules on constructed metric rows and loss curves: every verdict each rule
can give is reached; a smoke run decides nothing, writes its records, and the report rebuilt from
the exported records has the same verdicts."""
import json

import numpy as np
import pytest

from gankit.reproduce import export_report, reproduce
from gankit.reproduce.core import Claim, RunResult, settle
from gankit.reproduce.digit_gans import (LOSS_RUN, P50, P100, all_models_rule, clip_rule, epoch_time_rule, explodes,
                                         fcc_helps_rule, fccg_rule, fig38_rule, fig39_rule, flat_rule,
                                         loss_sides_rule, not_improve_rule, one_change_rule, per_epoch, sat_rule,
                                         settings_rule, side, tricks_rule, wdist_rule)
from gankit.reproduce.timing import ratio_rule, read_pace

GOOD = {"is": 7.5, "fid": 20.0, "classes_covered": 10, "class_hist": [0.1] * 10}
MEH = {"is": 6.0, "fid": 40.0, "classes_covered": 10, "class_hist": [0.1] * 10}
BAD = {"is": 3.0, "fid": 300.0, "classes_covered": 6, "class_hist": [0.0] * 4 + [1 / 6] * 6}


def test_side_uses_the_sum_of_the_seed_sds():
    # means 2 and 6, SDs 1 and 1: spread 2, difference 4 -> beyond it
    assert side([1, 2, 3], [5, 6, 7], higher=False)[0] == 1
    assert side([1, 2, 3], [5, 6, 7], higher=True)[0] == -1
    assert side([1, 2, 3], [2.5, 3.5, 4.5])[0] == 0  # difference 1.5 < 2
    assert side([1, 2, 3], [5, 6, 7], k=2.5)[0] == 0  # 4 < 2.5 * 2
    assert side([1.0], [1.1], higher=False)[0] == 1  # one seed: no spread, the sign counts


@pytest.mark.parametrize("finals, updates, expect", [
    ([GOOD, GOOD, GOOD], 780, "reproduced"),  # SAT counts at any budget
    ([GOOD, MEH, MEH], P50, "partly"),  # SAT on some seeds
    ([MEH, MEH, MEH], 780, "inconclusive"),  # not SAT, short of the paper's updates
    ([MEH, MEH, MEH], P50, "partly"),  # neither SAT nor FAIL at the paper's updates
    ([BAD, BAD, BAD], P50, "not reproduced"),
    ([BAD, BAD, BAD], 3900, "inconclusive"),
])
def test_sat_rule(finals, updates, expect):
    assert sat_rule(finals, updates, P50).verdict == expect


@pytest.mark.parametrize("finals, updates, expect", [
    ([MEH], P100, "reproduced"), ([GOOD], P100, "not reproduced"), ([MEH], 1638, "inconclusive"),
])
def test_clip_rule(finals, updates, expect):
    assert clip_rule(finals, updates).verdict == expect
    # a SAT WGAN-CLIP short of 100 epochs is not yet a contradiction: settle makes it inconclusive
    c = Claim("3.2", "c", "r", *clip_rule([GOOD], 1638), updates=1638, paper_updates=P100)
    assert settle(c, "short").verdict == "inconclusive"


@pytest.mark.parametrize("ratios, expect", [
    ([4.7, 5.1, 4.9], "reproduced"), ([1.5, 2.5, 1.8], "partly"), ([1.0, 1.1, 0.9], "not reproduced"),
    ([1.1, 1.5, 2.2], "inconclusive"), ([], "inconclusive"),
])
def test_epoch_time_rule(ratios, expect):
    assert epoch_time_rule(ratios).verdict == expect


@pytest.mark.parametrize("ratios, expect", [
    ([1.06, 1.08, 1.05], "reproduced"), ([1.7, 1.9, 1.6], "partly"), ([1.0, 0.99, 1.02], "not reproduced"),
    ([1.01, 1.06, 1.04], "inconclusive"),
])
def test_sn_cost_rule(ratios, expect):
    assert ratio_rule(ratios, 1.03, 1.5, "SN").verdict == expect


def curve(f, updates=P50, every=25):
    steps = np.arange(every, updates + 1, every, dtype=float)
    return steps, np.array([f(s) for s in steps])


def test_per_epoch_means_the_rows_inside_each_paper_epoch():
    ep = per_epoch([25, 900, 950, 1875], [1.0, 3.0, 10.0, 20.0])  # epoch 1 ends at 937.5
    assert ep == {1: 2.0, 2: 15.0}


def test_explodes():
    rise = curve(lambda s: 1.0 if s <= 9375 else 1.0 + 4.0 * (s - 9375) / 37500)  # 1 at epoch 10, 5 at the end
    yes, text = explodes(*rise, P50)
    assert yes is True and "1 at epoch 10" in text
    assert explodes(*curve(lambda s: 1.0), P50)[0] is False  # flat
    assert explodes(*curve(lambda s: 1.0 + 1.5 * s / P50), P50)[0] is False  # rises by less than 2 * max(|1|, 1)
    jitter = curve(lambda s: 1.0 + 4.0 * ((s // 937.5) % 2))  # up by 4 every other epoch: no monotone trend
    assert explodes(*jitter, P50)[0] is False
    assert explodes(*curve(lambda s: s, updates=3900), 3900)[0] is None  # ends before epoch 20
    assert explodes(*rise, LOSS_RUN - 1)[0] is None


@pytest.mark.parametrize("blows, is9, expect", [
    (True, [6.8], "reproduced"), (True, [5.0], "partly"), (False, [6.8], "partly"), (False, [5.0], "not reproduced"),
    (None, [6.8], "inconclusive"),
])
def test_fig38_rule(blows, is9, expect):
    assert fig38_rule(blows, is9, [6.3], "w").verdict == expect


@pytest.mark.parametrize("r9, ra, expect", [
    (True, False, "reproduced"), (True, True, "partly"), (False, False, "not reproduced"), (None, False, "inconclusive"),
])
def test_wdist_rule(r9, ra, expect):
    assert wdist_rule(r9, ra, "w").verdict == expect


@pytest.mark.parametrize("adj, b09, sat_, expect", [
    (False, True, True, "reproduced"), (False, False, True, "partly"), (False, True, False, "partly"),
    (True, True, True, "not reproduced"), (None, True, True, "inconclusive"), (False, None, True, "inconclusive"),
])
def test_fig39_rule(adj, b09, sat_, expect):
    assert fig39_rule(adj, b09, sat_, "w").verdict == expect


@pytest.mark.parametrize("d, g, updates, expect", [
    (lambda s: 1.2, lambda s: 2.0, P50, "reproduced"),
    (lambda s: 1.2, lambda s: 2.0 + 2.0 * s / P50, P50, "partly"),  # G's loss doubles
    (lambda s: 1.2 - 0.8 * s / P50, lambda s: 2.0 + 2.0 * s / P50, P50, "not reproduced"),
    (lambda s: 1.2, lambda s: 2.0, 3900, "inconclusive"),
])
def test_flat_rule(d, g, updates, expect):
    assert flat_rule(curve(d, updates), curve(g, updates), updates).verdict == expect


@pytest.mark.parametrize("fid_fcc, speed, updates, expect", [
    ([20, 21, 22], [5.0, 5.2, 4.9], 780, "reproduced"),
    ([60, 61, 62], [5.0, 5.2, 4.9], P50, "not reproduced"),
    ([60, 61, 62], [5.0, 5.2, 4.9], 780, "partly"),  # faster; the worse FID is no call before P50
    ([40, 30, 50], [5.0, 5.2, 4.9], P50, "partly"),
    ([40, 30, 50], [1.0, 1.1, 1.0], P50, "inconclusive"),
])
def test_fcc_helps_rule(fid_fcc, speed, updates, expect):
    assert fcc_helps_rule(fid_fcc, [40, 41, 42], speed, updates).verdict == expect


@pytest.mark.parametrize("fid_fcc, updates, expect", [
    ([40, 45, 50], P50, "reproduced"), ([20, 21, 22], P50, "not reproduced"), ([40, 45, 50], 3900, "inconclusive"),
])
def test_not_improve_rule(fid_fcc, updates, expect):
    assert not_improve_rule(fid_fcc, [40, 41, 42], updates).verdict == expect


@pytest.mark.parametrize("g, d, expect", [
    ([1.0, 1.1, 1.0], [1.5, 1.6, 1.5], "reproduced"), ([1.0, 1.1, 1.0], [1.2, 1.3, 1.2], "partly"),
    ([2.0, 2.1, 2.0], [1.5, 1.6, 1.5], "not reproduced"), ([1.4, 1.5, 1.6], [1.1, 1.3, 1.2], "inconclusive"),
])
def test_loss_sides_rule(g, d, expect):
    assert loss_sides_rule(g, [1.5, 1.5, 1.5], d, [1.2, 1.2, 1.2]).verdict == expect


@pytest.mark.parametrize("is_g, fid_g, expect", [
    ([6.6, 6.7, 6.8], [30, 31, 32], "reproduced"), ([6.6, 6.7, 6.8], [38, 40, 42], "partly"),
    ([5.6, 5.7, 5.8], [30, 31, 32], "not reproduced"), ([6.2, 6.3, 6.1], [38, 40, 42], "inconclusive"),
])
def test_fccg_rule(is_g, fid_g, expect):
    assert fccg_rule(is_g, [6.1, 6.2, 6.3], fid_g, [39, 40, 41]).verdict == expect


def rows(fids, base=MEH):
    return [{**base, "fid": f} for f in fids]


@pytest.mark.parametrize("preset, without, expect", [
    (rows([30, 31, 32]), rows([50, 52, 54]), "reproduced"),
    (rows([300, 310, 320]), rows([290, 300, 310]), "inconclusive"),  # within the spread, no FAIL contrast
    (rows([300, 700, 500]), rows([290, 800, 400], BAD), "reproduced"),  # every run without FAILs, none with
    (rows([50, 52, 54]), rows([30, 31, 32]), "not reproduced"),
])
def test_tricks_rule(preset, without, expect):
    assert tricks_rule(preset, without).verdict == expect


@pytest.mark.parametrize("b1, lr, expect", [
    (rows([60, 61, 62]), rows([400, 410, 420], BAD), "reproduced"),
    (rows([60, 61, 62]), rows([70, 71, 72]), "partly"),  # worse beyond 2 spreads, no FAIL
    (rows([60, 61, 62]), rows([40, 41, 42]), "partly"),  # worse than one variant only
    (rows([39, 40, 41]), rows([38, 40, 42]), "not reproduced"),
    (rows([42, 43, 44]), rows([42, 43, 44]), "inconclusive"),  # 3 worse: beyond one spread, not two
])
def test_settings_rule(b1, lr, expect):
    assert settings_rule(rows([39, 40, 41]), {"beta1": b1, "lr": lr}).verdict == expect


def test_one_change_rule():
    assert one_change_rule({"lr": ([400, 410, 420], [39, 40, 41])}).verdict == "reproduced"
    assert one_change_rule({"lr": ([400, 100, 700], [39, 40, 41])}).verdict == "inconclusive"  # 10x, within 3 SDs
    assert one_change_rule({"a": ([45, 46, 47], [40, 41, 42]), "b": ([60, 61, 62], [40, 41, 42])}).verdict == "inconclusive"
    assert one_change_rule({"a": ([45, 46, 47], [40, 41, 42])}).verdict == "not reproduced"
    assert one_change_rule({}).verdict == "inconclusive"


@pytest.mark.parametrize("n_sat, clip, updates, expect", [
    (5, "reproduced", P50, "reproduced"), (4, "inconclusive", 780, "partly"), (5, "not reproduced", P50, "not reproduced"),
    (2, "reproduced", P50, "not reproduced"), (3, "reproduced", P50, "partly"), (2, "not run", 780, "inconclusive"),
])
def test_all_models_rule(n_sat, clip, updates, expect):
    assert all_models_rule(n_sat, 5, clip, updates).verdict == expect


def test_one_seed_comparisons_are_capped_and_short_negatives_are_inconclusive():
    c = Claim("3.1", "c", "r", *fccg_rule([6.7], [6.2], [30], [40]), updates=780, paper_updates=P50, seeds=1)
    assert settle(c, "short").verdict == "partly"
    c = Claim("3.1", "c", "r", *tricks_rule(rows([50, 52, 54]), rows([30, 31, 32])), updates=780,
              paper_updates=P50, seeds=3)
    v = settle(c, "short")
    assert v.verdict == "inconclusive" and "780 of the paper's 46,875" in v.why


def test_read_pace_gives_the_ratio_of_each_block(tmp_path):
    (tmp_path / "record").mkdir()
    (tmp_path / "record" / "p.json").write_text(json.dumps({"cpu_s_per_step": [[0.6, 0.1], [0.5, 0.25]]}))
    r = RunResult(tmp_path, [], reused=True)
    assert read_pace(r, "p.json") == pytest.approx([6.0, 2.0])
    assert read_pace(r, "missing.json") is None and read_pace(None, "p.json") is None


@pytest.mark.slow
def test_smoke_decides_nothing_writes_records_and_rebuilds_from_them(tmp_path, cache_dir):
    out = tmp_path / "out"
    report = reproduce("digit-gans", "smoke", out, overrides=["train.threads=1"], cache_dir=cache_dir)
    verdicts = [c.verdict for c in report.claims]
    assert "reproduced" not in verdicts and "not reproduced" not in verdicts and "partly" not in verdicts
    assert verdicts.count("inconclusive") >= 15
    assert (out / "fccgan-mnist-s0" / "record" / "pace_dcgan_vs_fccgan.json").is_file()
    assert (out / "sngan-mnist-s0" / "record" / "pace_sn_vs_plain.json").is_file()
    sn = next(c for c in report.claims if c.section == "3.4" and "time cost" in c.claim)
    assert "the rule said" in sn.why  # the timing rule gave a verdict that the smoke budget withheld
    docs = tmp_path / "docs"
    export_report(out, docs, "digit-gans")
    assert (docs / "digit-gans" / "runs" / "sngan-mnist-s0" / "record" / "pace_sn_vs_plain.json").is_file()
    again = reproduce("digit-gans", "smoke", tmp_path / "again", report_only=True, from_dir=docs, cache_dir=cache_dir)
    assert [(c.section, c.claim, c.verdict, c.why) for c in again.claims] == \
           [(c.section, c.claim, c.verdict, c.why) for c in report.claims]
