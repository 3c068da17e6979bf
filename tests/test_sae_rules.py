"""sae's verdict rules on constructed numbers (every verdict each rule can give), the measurements
they read from records (by hand), the after hook on a tiny m = 3 run, and a smoke reproduction
that decides nothing and rebuilds the same verdicts from its exported records."""
import json
import math

import numpy as np
import pytest

from gankit.reproduce import reproduce
from gankit.reproduce.core import Claim, RunResult, export_report, settle
from gankit.reproduce.sae import (balance_rule, balance_shares, batchnorm_rule, beyond_spread, blur_rule,
                                  blur_stability_rule, catchup_rule, coverage_rule, deepening_rule, fixed_batch_change,
                                  fixed_batch_rule, invariance_rule, language_rule, legible_rule, loss_spread,
                                  outdoes_rule, probe_rule, read_losses, rings_rule, shell_cosine, sphere_rule,
                                  value_at)


# ------------------------------------------------------------------ measurements, by hand
def test_fixed_batch_change_counts_label_flips_and_pixel_change_after_a_step():
    series = [{"step": 0, "labels": [1, 2, 3, 4]},
              {"step": 250, "labels": [1, 2, 3, 5], "l1": 0.4},  # pair (0, 250): left out (from 250)
              {"step": 500, "labels": [1, 2, 0, 5], "l1": 0.2},  # 1 of 4 changed
              {"step": 750, "labels": [7, 8, 0, 5], "l1": 0.1}]  # 2 of 4 changed
    rate, l1 = fixed_batch_change(series, 250)
    assert rate == pytest.approx((0.25 + 0.5) / 2) and l1 == pytest.approx(0.15)
    assert fixed_batch_change(series, 800) is None  # no pair starts that late
    assert fixed_batch_change(series[:1], 0) is None  # one checkpoint: nothing to compare


def test_losses_csv_measurements(tmp_path):
    rows = [(25, 1.0, 0.4, 0.2), (50, 2.0, 0.1, 0.1), (75, 3.0, 0.3, 0.1), (100, 5.0, 0.05, 0.5)]
    (tmp_path / "losses.csv").write_text("step,l_G,l_shell_fake0,l_shell_fake1\n"
                                         + "".join(",".join(map(str, r)) + "\n" for r in rows))
    ls = read_losses(tmp_path)
    assert ls["step"] == [25, 50, 75, 100]
    # the last 10% of 4 rows is the last row: cos = 2 exp(-l) - 1
    assert shell_cosine(ls, 0) == pytest.approx(2 * math.exp(-0.05) - 1)
    assert shell_cosine(ls, 1, last=0.5) == pytest.approx(2 * math.exp(-0.3) - 1)
    # after step 25, ratios 1, 3, 0.1: one in [0.5, 2], one outside [0.25, 4]
    assert balance_shares(ls, 25) == pytest.approx((1 / 3, 1 / 3))
    assert balance_shares(ls, 100) is None
    assert loss_spread(ls) == pytest.approx(np.std([3.0, 5.0]))  # the second half of l_G
    assert read_losses(tmp_path / "none") == {} and shell_cosine({}, 0) is None


def test_value_at_takes_the_last_row_at_or_before_a_step(tmp_path):
    r = RunResult(tmp_path, [{"step": 250, "p": 0.5}, {"step": 500, "p": 0.7}, {"step": 600}, {"step": 750, "p": 0.9}], True)
    assert value_at(r, "p", 500) == 0.7 and value_at(r, "p", 749) == 0.7 and value_at(r, "p", 100) is None


# ------------------------------------------------------------------ rules: every verdict each can give
@pytest.mark.parametrize("a, b, expect", [
    ([0.9, 0.91, 0.92], [0.8, 0.81, 0.82], "reproduced"),
    ([0.8, 0.81, 0.82], [0.9, 0.91, 0.92], "not reproduced"),
    ([0.85, 0.80, 0.90], [0.84, 0.86, 0.82], "inconclusive"),  # within the spread
    ([0.9], [0.8], "partly"),  # one seed: no spread
    ([0.7], [0.8], "inconclusive"),
])
def test_beyond_spread(a, b, expect):
    assert beyond_spread(a, b).verdict == expect
    if len(a) > 1 and expect != "inconclusive":  # lower-is-better flips the call
        assert beyond_spread(a, b, higher=False).verdict == ({"reproduced": "not reproduced"}.get(expect, "reproduced"))


@pytest.mark.parametrize("sae, dcgan, pixels, expect", [
    ([0.86, 0.87, 0.85], [0.80, 0.81, 0.79], [0.74, 0.75, 0.73], "reproduced"),
    ([0.86, 0.87, 0.85], [0.80, 0.81, 0.79], [0.86, 0.87, 0.85], "partly"),  # not above the pixels
    ([0.80, 0.81, 0.79], [0.86, 0.87, 0.85], [0.74, 0.75, 0.73], "not reproduced"),
    # the notes' probe seeds of one training run: SAE above on each, but within the spread
    ([0.837, 0.874, 0.828], [0.831, 0.843, 0.808], [0.764, 0.727, 0.746], "inconclusive"),
])
def test_probe_rule(sae, dcgan, pixels, expect):
    assert probe_rule(sae, dcgan, pixels).verdict == expect


@pytest.mark.parametrize("seeds, expect", [
    ([(0.95, 0.93, 0.9, 0.85)] * 3, "reproduced"),
    ([(0.95, 0.93, 0.9, 0.85)] * 2 + [(0.95, 0.85, 0.9, 0.85)], "partly"),  # one seed's cosine under 0.9
    ([(0.3, 0.4, 0.9, 0.85)] * 3, "not reproduced"),
    ([(0.95, 0.93, 0.11, 0.1)] * 3, "not reproduced"),  # reconstructions at chance
])
def test_language_rule(seeds, expect):
    assert language_rule(seeds).verdict == expect


@pytest.mark.parametrize("seeds, expect", [
    ([(0.95, 0.0), (0.92, 0.01), (0.9, 0.0)], "reproduced"),
    ([(0.95, 0.0), (0.7, 0.1), (0.9, 0.0)], "partly"),
    ([(0.1, 0.8), (0.2, 0.6), (0.1, 0.7)], "not reproduced"),
])
def test_balance_rule(seeds, expect):
    assert balance_rule(seeds).verdict == expect


@pytest.mark.parametrize("u1, u0, expect", [
    ([0.2, 0.21, 0.22], [0.5, 0.52, 0.51], "reproduced"),
    ([0.5, 0.52, 0.51], [0.2, 0.21, 0.22], "not reproduced"),
    ([0.3, 0.5, 0.4], [0.42, 0.38, 0.45], "inconclusive"),
])
def test_invariance_rule(u1, u0, expect):
    assert invariance_rule(u1, u0).verdict == expect


@pytest.mark.parametrize("sae, dcgan, expect", [
    ([0.08, 0.07, 0.09], [0.0, 0.06, 0.07], "reproduced"),
    ([0.08, 0.01, 0.09], [0.08, 0.06, 0.07], "not reproduced"),
    ([0.08, 0.07, 0.09], [0.08, 0.06, 0.07], "inconclusive"),  # neither collapses on ten classes
])
def test_coverage_rule(sae, dcgan, expect):
    assert coverage_rule(sae, dcgan).verdict == expect


@pytest.mark.parametrize("blur, noblur, expect", [
    ([(0.95, 0.6), (0.96, 0.62), (0.94, 0.61)], [(0.7, 0.6), (0.72, 0.6), (0.71, 0.6)], "reproduced"),
    ([(0.95, 0.6), (0.96, 0.62), (0.94, 0.61)], [(0.95, 0.6), (0.94, 0.6), (0.96, 0.6)], "partly"),
    ([(0.4, 0.6), (0.45, 0.62), (0.42, 0.61)], [(0.4, 0.6), (0.45, 0.6), (0.42, 0.6)], "not reproduced"),
    ([(0.7, 0.6), (0.72, 0.62), (0.71, 0.61)], [(0.95, 0.6), (0.96, 0.6), (0.94, 0.6)], "not reproduced"),
    ([(0.85, 0.6), (0.8, 0.62), (0.95, 0.61)], [(0.8, 0.6), (0.85, 0.6), (0.9, 0.6)], "inconclusive"),
    ([(1.0, 0.99), (1.0, 0.98), (1.0, 0.99)], [(0.5, 0.6)] * 3, "inconclusive"),  # the images hardly change
])
def test_blur_rule(blur, noblur, expect):
    assert blur_rule(blur, noblur).verdict == expect


LOW, HIGH, MID = [0.1, 0.11, 0.12], [0.3, 0.31, 0.32], [0.1, 0.3, 0.2]


@pytest.mark.parametrize("spread, change, expect", [
    ((LOW, HIGH), (LOW, HIGH), "reproduced"),  # blur 0.1 lower on both
    ((LOW, HIGH), (MID, MID), "partly"),
    ((HIGH, LOW), (HIGH, LOW), "not reproduced"),
    ((LOW, HIGH), (HIGH, LOW), "inconclusive"),  # one each way
])
def test_blur_stability_rule(spread, change, expect):
    assert blur_stability_rule(spread, change).verdict == expect


@pytest.mark.parametrize("first, end, expect", [
    ([0.3, 0.35, 0.3], [0.7, 0.65, 0.8], "reproduced"),
    ([0.6, 0.65, 0.6], [0.7, 0.65, 0.8], "partly"),  # separated already at the first evaluation
    ([0.1, 0.12, 0.1], [0.15, 0.2, 0.18], "not reproduced"),
])
def test_sphere_rule(first, end, expect):
    assert sphere_rule(first, end).verdict == expect


@pytest.mark.parametrize("seeds, expect", [
    ([(0.97, 0.5, 1.8)] * 3, "reproduced"),
    ([(0.97, 0.5, 1.3)] * 3, "partly"),  # rings, weak clustering
    ([(0.97, 0.5, 1.02)] * 3, "not reproduced"),
])
def test_rings_rule(seeds, expect):
    assert rings_rule(seeds).verdict == expect


@pytest.mark.parametrize("third, end, expect", [
    ([0.7, 0.71, 0.72], [0.85, 0.86, 0.84], "reproduced"),
    ([0.85, 0.86, 0.84], [0.84, 0.85, 0.83], "not reproduced"),
    ([0.7, 0.8, 0.75], [0.78, 0.8, 0.76], "inconclusive"),
])
def test_deepening_rule(third, end, expect):
    assert deepening_rule(third, end).verdict == expect


@pytest.mark.parametrize("nobn, expect", [
    ([(0.85, 30.0)] * 3, "partly"),  # the best it can give: the DCGAN half is not measured
    ([(0.3, 30.0)] * 3, "not reproduced"),
    ([(0.85, 100.0)] * 3, "not reproduced"),
    ([(0.7, 30.0)] * 3, "inconclusive"),
])
def test_batchnorm_rule(nobn, expect):
    assert batchnorm_rule(nobn, [(0.9, 25.0)] * 3).verdict == expect


SAE = [(8.0, 20.0), (8.1, 21.0), (7.9, 19.0)]
GOOD, BAD = [(8.8, 10.0), (8.9, 11.0), (8.7, 9.0)], [(6.0, 40.0), (6.1, 41.0), (5.9, 39.0)]
MIXED = [(8.8, 40.0), (8.9, 41.0), (8.7, 39.0)]


@pytest.mark.parametrize("dcgan, expect", [
    ({3000: BAD, 107500: BAD}, "reproduced"),
    ({3000: BAD, 107500: MIXED}, "partly"),
    ({3000: GOOD}, "not reproduced"),  # the DCGAN already better at the SAE's steps
    ({3000: BAD, 20000: GOOD, 107500: GOOD}, "not reproduced"),
    ({3000: BAD, 20000: BAD}, "inconclusive"),  # never trained to 107,500
])
def test_outdoes_rule(dcgan, expect):
    assert outdoes_rule(SAE, dcgan).verdict == expect


@pytest.mark.parametrize("curve, expect", [
    ([(3000, 6.0, 40.0), (30000, 7.0, 25.0), (107500, 7.5, 22.0)], "reproduced"),
    ([(3000, 6.0, 40.0), (30000, 7.0, 25.0), (60000, 8.1, 19.0)], "partly"),  # caught up at 20x
    ([(3000, 6.0, 40.0), (20000, 8.1, 19.0)], "not reproduced"),  # within 10x
    ([(3000, 6.0, 40.0), (107500, 8.5, 22.0)], "inconclusive"),  # mixed at 107,500
    ([(3000, 6.0, 40.0)], "inconclusive"),  # stopped short
])
def test_catchup_rule(curve, expect):
    assert catchup_rule((8.0, 20.0), curve, 3000).verdict == expect


@pytest.mark.parametrize("sae, dcgan, expect", [
    ([(0.01, 0.01)] * 3, [(0.2, 0.05)] * 3, "reproduced"),
    ([(0.1, 0.04)] * 3, [(0.15, 0.05)] * 3, "partly"),
    ([(0.2, 0.05)] * 3, [(0.2, 0.05)] * 3, "not reproduced"),
    ([(0.1, 0.06)] * 3, [(0.15, 0.05)] * 3, "inconclusive"),
])
def test_fixed_batch_rule(sae, dcgan, expect):
    assert fixed_batch_rule(sae, dcgan).verdict == expect


@pytest.mark.parametrize("a500, a1000, expect", [
    ([0.85, 0.9, 0.82], [0.9] * 3, "reproduced"),
    ([0.85, 0.6, 0.82], [0.9] * 3, "partly"),
    ([0.2, 0.3, 0.1], [0.3, 0.4, 0.2], "not reproduced"),
])
def test_legible_rule(a500, a1000, expect):
    assert legible_rule(a500, a1000).verdict == expect


def test_rows_obey_settle():
    """A negative verdict short of the paper's 3,000 SAE iterations is inconclusive; one seed
    gives at most partly; smoke decides nothing."""
    neg = Claim("3", "c", "r", *language_rule([(0.3, 0.4, 0.9, 0.85)] * 3), updates=1000, paper_updates=3000, seeds=3)
    assert settle(neg, "short").verdict == "inconclusive" and "1,000 of the paper's 3,000" in settle(neg, "short").why
    pos = Claim("6.2", "c", "r", *legible_rule([0.9] * 3, [0.9] * 3), updates=1000, paper_updates=1000, seeds=3)
    assert settle(pos, "short").verdict == "reproduced"
    assert settle(Claim("6.2", "c", "r", "reproduced", "w", updates=1000, paper_updates=1000, seeds=1),
                  "short").verdict == "partly"
    assert settle(pos, "smoke").verdict == "inconclusive"


# ------------------------------------------------------------------ the after hook and a smoke reproduction
@pytest.mark.slow
def test_after_hook_on_a_tiny_sphere_run(tmp_path, cache_dir):
    from gankit.catalogue import load_config
    from gankit.reproduce.sae import sae_record
    from gankit.training.loop import train

    run = tmp_path / "run"
    train(load_config("sae-mnist-sphere", ["net.width=8", "train.steps=4", "train.ckpt_every=2",
                                           "train.keep_checkpoints=5", "train.sample_every=4", "train.eval_samples=200",
                                           "train.tensorboard=false", "train.threads=null"]), run, cache_dir=cache_dir)
    r = RunResult(run, [], False)
    (run / "record").mkdir()
    sae_record(cache_dir)(r)
    rec = json.loads((run / "record" / "sae.json").read_text())
    assert [f["step"] for f in rec["fixed_batch"]] == [2, 4]  # every kept checkpoint
    assert len(rec["fixed_batch"][0]["labels"]) == 64 and 0 <= rec["fixed_batch"][1]["l1"] <= 1
    assert [p["seed"] for p in rec["probe"]] == [0, 1, 2] and 0 <= rec["probe"][0]["pixels"] <= 1
    blur = {b["sigma"]: b for b in rec["blur"]}
    assert blur[0.0]["pixel_corr"] == pytest.approx(1.0) and sum(blur[0.4]["class_hist"]) == pytest.approx(1.0)
    assert set(rec["invariance"]) == {"unit0", "unit1"}
    assert -1 <= rec["sphere"]["mean_cos_to_center_unit1"] <= 1 and rec["sphere"]["angle_ratio_unit0"] > 0
    for png in ("reconstructions.png", "blur.png", "sphere.png"):
        assert (run / "record" / png).is_file()


@pytest.mark.slow
def test_smoke_decides_nothing_and_rebuilds_from_exported_records(tmp_path, cache_dir):
    only = ["sae-mnist", "sae-baseline-dcgan"]
    out = tmp_path / "out"
    rep = reproduce("sae", "smoke", out, only=only, overrides=["train.threads=1"], cache_dir=cache_dir)
    verdicts = {c.verdict for c in rep.claims}
    assert "reproduced" not in verdicts and "not reproduced" not in verdicts
    assert "partly" not in verdicts
    judged = [c for c in rep.claims if c.verdict == "inconclusive"]
    assert len(judged) == 9  # the preset's rows; the rest were left out or cannot run here
    assert any("left out with --only (sae-mnist-paper)" in c.why for c in rep.claims)
    for run in ("sae-mnist-s0", "dcgan-b64-s0"):
        assert (out / run / "record").is_dir()
    assert json.loads((out / "dcgan-b64-s0" / "record" / "dcgan.json").read_text())["probe"]

    export_report(out, tmp_path / "docs", "sae")
    exported = tmp_path / "docs" / "sae" / "runs"
    assert (exported / "sae-mnist-s0" / "record" / "sae.json").is_file()
    assert not list(exported.glob("*/checkpoints"))
    again = reproduce("sae", "smoke", tmp_path / "rebuilt", only=only, overrides=["train.threads=1"],
                      report_only=True, from_dir=tmp_path / "docs", cache_dir=cache_dir)
    assert [(c.section, c.verdict, c.why, c.result) for c in again.claims] == \
           [(c.section, c.verdict, c.why, c.result) for c in rep.claims]
