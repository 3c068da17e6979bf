"""``gankit reproduce guide``: practical-gan-guide.txt sections 3.3 and 4 (the conditional DCGAN
and its tricks) on the embedded MNIST digits, every comparison at equal generator updates.

Units: the guide trains CIFAR-10 (50,000 images) at batch 128, so one of its epochs is
:data:`GUIDE_EPOCH` = 390 generator updates; every run here evaluates once per guide epoch
(1,000 samples), and a comparison reads both sides' evaluation at the same step (the largest one
they share). The paper budget trains each recipe to the guide's (or its notebooks') schedule;
the short budget gives every recipe the same 780 updates (two guide epochs) on 3 seeds.

Claims are judged from the runs' ``metrics.jsonl`` and ``losses.csv`` alone, so the report
rebuilds from the committed records. The rules are plain functions of metric rows
(tests/test_guide_rules.py reaches each of their verdicts).
"""
from __future__ import annotations

import math
import statistics

from gankit.reproduce.core import Claim, Context, Paper, RunResult, RunSpec, Verdict
from gankit.reproduce.timing import TIMING, Pair, ratio_rule, read_pace, same_time_rule, timing_hook

GUIDE_EPOCH = 390  # 50,000 CIFAR-10 images // batch 128 (the guide's notebooks)
BASELINE = "cdcgan-mnist"  # label channels at D's input (the guide's 5.5 method)
DENSE = "cdcgan-mnist-dense"  # the guide's 3.3.1 D: the label joins at a small dense layer
UNCOND = "dcgan-mnist-k5"  # the same nets without the label
# preset -> the guide's (or its notebook's) generator updates: 200 epochs for the conditional DCGAN,
# smoothing and VBN, 100 for MBD and noisy labels, 300 for experience replay
PAPER_UPDATES = {BASELINE: 200 * GUIDE_EPOCH, DENSE: 200 * GUIDE_EPOCH, UNCOND: 200 * GUIDE_EPOCH,
                 "cdcgan-mnist-smooth1": 200 * GUIDE_EPOCH, "cdcgan-mnist-smooth2": 200 * GUIDE_EPOCH,
                 "cdcgan-mnist-replay": 300 * GUIDE_EPOCH, "cdcgan-mnist-mbd": 100 * GUIDE_EPOCH,
                 "cdcgan-mnist-vbn": 200 * GUIDE_EPOCH, "cdcgan-mnist-noisy": 100 * GUIDE_EPOCH}
TRICKS = ("cdcgan-mnist-smooth1", "cdcgan-mnist-smooth2", "cdcgan-mnist-replay", "cdcgan-mnist-mbd",
          "cdcgan-mnist-vbn", "cdcgan-mnist-noisy")
NOISY10 = ("cdcgan-mnist-noisy10", "cdcgan-mnist-noisy", ["objective.flip=0.1"])  # 4.5, Fig. 19
SHORT_UPDATES = 2 * GUIDE_EPOCH  # every recipe, 3 seeds: about 30 CPU-minutes at one thread each
# runs the short budget leaves out: they decide nothing short of the guide's updates
PAPER_ONLY = (DENSE, NOISY10[0])

M = "MNIST (5,000 embedded digits) for the guide's CIFAR-10"
W = "width 16 (the tables' 64)"
O = "batch 64, Adam beta2 0.999 (the guide's 128, 0.9)"
L = "label as one-hot channels at D's input (the guide's 5.5 method), not 3.3.1's dense-layer D"
L_DENSE = "3.3.1's D: conv features squeezed to a dense 32, the label concatenated there"
G = "gankit's digit-classifier metrics (the guide shows pictures)"
MBD_HEAD = "the MBD preset's D has two Dense-256 layers the baseline's lacks"
VBN_WAY = "gankit's VBN (G only) uses the statistics of reference and current batch together"
# the timing claims (3.2, 3.3.2, 4.4, 5.6): CPU time per generator update of A over B, measured by
# the baseline's seed-0 run's after hook (gankit.reproduce.timing), so the report rebuilds from records
PACES = {
    "k5_k3": Pair("pace_k5_vs_k3.json", UNCOND, "dcgan-mnist-k3"),
    "k4_k3": Pair("pace_k4_vs_k3.json", "dcgan-mnist-k4", "dcgan-mnist-k3"),
    "cond": Pair("pace_conditional_vs_not.json", BASELINE, UNCOND),
    "vbn": Pair("pace_vbn_vs_bn.json", "cdcgan-mnist-vbn", BASELINE),
    # 5.6: the WGAN (5 critic steps a generator step) against the DCGAN with minibatch discrimination;
    # the adaptive boost (100 critic steps at the first 100 and every 500th step) is off while timing
    "wgan": Pair("pace_wgan_vs_dcgan.json", "cwgangp-mnist", "cdcgan-mnist-mbd", a_over=("model.critic_boost=0",)),
}
WGAN_CRITIC = 5  # cwgangp-mnist's critic steps a generator step (the boost off)
WGAN_TIMED = ("WGAN-GP: cwgangp-mnist, 5 critic steps a generator step, its adaptive boost off while timed (over "
              "39,000 updates the boost adds about 9% more critic steps); DCGAN: cdcgan-mnist-mbd (minibatch "
              "discrimination; the guide's one-sided smoothing costs no time)")
# result sentences this module does not train (section, the guide's words, what they need)
NOT_TRAINED = [
    ("3.2, Fig. 8", "\"a clear improvement already from a kernel size of 3 to a kernel size of 4 ... A kernel size of "
     "5 yielded even better results\"", "dcgan-mnist-k3, -k4 and -k5 to the guide's 100 epochs (39,000 updates) on "
     "3 seeds: `gankit compare dcgan-mnist-k3 dcgan-mnist-k4 dcgan-mnist-k5 --budget 39000steps "
     "--seeds 3 --jobs 2 --set train.threads=1`, about 8 CPU-hours (0.07 CPU-s an update)"),
    ("5.3.3, Fig. 20", "the Wasserstein distance \"converge[s] towards zero as training progresses and gives us an "
     "insight to our image quality\"", "cwgangp-mnist to the guide's 500 epochs from the critic's side (39,000 "
     "generator updates) on 3 seeds: about 12 CPU-hours at its measured 0.37 CPU-s an update"),
    ("5.3.3, Fig. 21", "\"from epoch 90 to 300 ... image quality increased drastically, however afterwards, from 300 "
     "to 450 it didn't really increase\"", "the same cwgangp-mnist runs (about 12 CPU-hours)"),
    ("5.4", "\"mode collapse is absent in theory ... by increasing k it should disappear\"", "cwgangp-mnist with "
     "k = 5 and larger to 39,000 updates on 3 seeds: about 12 CPU-hours for each k"),
    ("5.5", "concatenating labels at a dense layer \"was ineffective in our experiments with WGANs, the class ended up "
     "being ignored. This problem was present even on the MNIST dataset\"", "a WGAN-GP critic with 3.3.1's "
     "dense-layer label (gankit's guide-wgan takes label channels only: needs a net option), then 15,600 updates "
     "on 3 seeds"),
    ("5.6, Fig. 22", "\"we got images of lower quality for the WGAN ... The images generated by the WGAN also look "
     "blurrier\" (200 discriminator epochs each)", "cwgangp-mnist to 15,600 generator updates and cdcgan-mnist-mbd "
     "(with one-sided smoothing) to 78,000, 3 seeds: about 15 CPU-hours"),
    ("5.6, Fig. 23", "at 500 epochs \"our results did not improve much ... The quality did not really catch up with "
     "our DCGAN\"", "cwgangp-mnist to 39,000 generator updates on 3 seeds beside the DCGAN above: about 12 more "
     "CPU-hours"),
]


def budget_overrides(budget: str, preset: str) -> list[str]:
    """Step budgets only (equal updates, never equal seconds), one evaluation per guide epoch."""
    if budget == "smoke":
        return []  # core's SMOKE overrides
    steps = PAPER_UPDATES[preset] if budget == "paper" else SHORT_UPDATES
    every = 10 * GUIDE_EPOCH if budget == "paper" else SHORT_UPDATES
    return [f"train.steps={steps}", "train.seconds=null", "train.epochs=null", f"train.eval_every={GUIDE_EPOCH}",
            "train.eval_every_epochs=0", "train.eval_samples=1000", f"train.sample_every={every}",
            f"train.ckpt_every={every}", "train.tensorboard=false"]


# ------------------------------------------------------------------ reading the records
def evals(r: RunResult) -> list[dict]:
    """The evaluation rows (those with an IS), one per step (the last row of a step wins)."""
    rows = {int(row["step"]): row for row in r.rows if "is" in row and "step" in row}
    return [rows[s] for s in sorted(rows)]


def common_step(*groups: list[RunResult], upto: int | None = None) -> int | None:
    """The largest step (at most ``upto``) at which every run of every group has an evaluation:
    the point where a comparison has equal updates."""
    sets = [{int(row["step"]) for row in evals(r)} for g in groups for r in g]
    shared = {s for s in set.intersection(*sets) if upto is None or s <= upto} if sets else set()
    return max(shared) if shared else None


def at(r: RunResult, step: int) -> dict:
    return next(row for row in evals(r) if int(row["step"]) == step)


def values(runs: list[RunResult], key: str, step: int) -> list[float]:
    out = []
    for r in runs:
        row = at(r, step)
        out.append(min(row["class_hist"]) if key == "min_class_share" else float(row[key]))
    return out


def mean_sd(xs: list[float]) -> tuple[float, float]:
    return statistics.fmean(xs), (statistics.stdev(xs) if len(xs) > 1 else 0.0)


def collapse_step(r: RunResult, upto: int | None = None) -> int | None:
    """The collapse detector, over every evaluation (not the last one only): the first evaluation
    whose IS is under half the best IS of the evaluations before it (the guide's "the images
    suddenly turned into noise"); None if there is none up to ``upto``."""
    best = -math.inf
    for row in evals(r):
        s, v = int(row["step"]), float(row["is"])
        if upto is not None and s > upto:
            break
        if v < 0.5 * best:
            return s
        best = max(best, v)
    return None


def _fmt(xs: list[float], digits: int = 1) -> str:
    m, s = mean_sd(xs)
    return f"{m:.{digits}f} ± {s:.{digits}f}"


# ------------------------------------------------------------------ rules (tests/test_guide_rules.py)
def condition_rule(la: list[float]) -> Verdict:
    """"The condition is taken into consideration": label agreement (chance 0.1) of every seed
    at least 0.9: reproduced; mean at least 0.5: partly; below: not reproduced."""
    text = f"label agreement {_fmt(la, 3)} ({len(la)} seed{'s' if len(la) != 1 else ''}; chance 0.1)"
    if min(la) >= 0.9:
        return Verdict("reproduced", f"{text}: every seed at 0.9 or above")
    if statistics.fmean(la) >= 0.5:
        return Verdict("partly", f"{text}: the label is followed, not on 0.9 of the samples")
    return Verdict("not reproduced", f"{text}: the label is mostly ignored")


def better_rule(a: list[float], b: list[float], *, what: str = "FID", names=("trick", "baseline"),
                higher: bool = False, much: float | None = None) -> Verdict:
    """"A is better than B": the means differ in the claimed direction by more than the spread (the
    larger of the two standard deviations over seeds): reproduced (with ``much``, only if A is also
    better by that fraction of B, else partly); otherwise not reproduced (which ``settle`` turns
    into inconclusive short of the paper's updates). Fewer than two seeds a side: inconclusive."""
    if min(len(a), len(b)) < 2:
        return Verdict("inconclusive", f"seeds: {len(a)} and {len(b)}; a comparison needs a spread")
    (ma, sa), (mb, sb) = mean_sd(a), mean_sd(b)
    sd = max(sa, sb)
    d = (ma - mb) if higher else (mb - ma)
    text = f"{what} {names[0]} {ma:.3g} ± {sa:.2g} vs {names[1]} {mb:.3g} ± {sb:.2g}"
    if d <= sd:
        return Verdict("not reproduced", f"{text}: not better by more than the spread {sd:.2g}")
    if much is not None and d < much * abs(mb):
        return Verdict("partly", f"{text}: better beyond the spread, by less than {100 * much:.0f}%")
    return Verdict("reproduced", f"{text}: better by more than the spread {sd:.2g}")


def similar_rule(a: list[float], b: list[float], *, what: str = "FID", names=("A", "B")) -> Verdict:
    """"A and B are similar": the means within the spread and the spread at most 0.2 of the mean:
    reproduced; apart by more than twice the spread: not reproduced; else (or a spread too wide
    to show anything) inconclusive."""
    if min(len(a), len(b)) < 2:
        return Verdict("inconclusive", f"seeds: {len(a)} and {len(b)}; a comparison needs a spread")
    (ma, sa), (mb, sb) = mean_sd(a), mean_sd(b)
    sd, gap = max(sa, sb), abs(ma - mb)
    text = f"{what} {names[0]} {ma:.3g} ± {sa:.2g} vs {names[1]} {mb:.3g} ± {sb:.2g}"
    if gap > 2 * sd:
        return Verdict("not reproduced", f"{text}: apart by more than twice the spread {sd:.2g}")
    if gap <= sd and sd <= 0.2 * (ma + mb) / 2:
        return Verdict("reproduced", f"{text}: within the spread {sd:.2g}")
    return Verdict("inconclusive", f"spread: {text}: the spread {sd:.2g} is too wide to call them similar")


def collapse_rule(runs: list[RunResult], base: list[RunResult], window: tuple[int, int], upto: int) -> Verdict:
    """A trick "turns the images into noise" at some guide epoch: every seed collapses (the
    detector, over every evaluation to ``upto``) inside ``window`` (updates) and no baseline seed
    does: reproduced; some seeds, or outside the window, or the baseline too: partly; no seed:
    not reproduced (``settle`` makes it inconclusive short of the paper's updates)."""
    steps = [collapse_step(r, upto) for r in runs]
    hit = [s for s in steps if s is not None]
    nb = sum(collapse_step(r, upto) is not None for r in base)
    text = (f"{len(hit)}/{len(runs)} seeds collapse by update {upto:,}"
            + (f" (at {', '.join(f'{s:,}' for s in hit)})" if hit else "") + f"; baseline {nb}/{len(base)}")
    if not hit:
        return Verdict("not reproduced", f"{text}: no collapse")
    inside = [s for s in hit if window[0] <= s <= window[1]]
    if len(inside) == len(runs) and nb == 0:
        return Verdict("reproduced", f"{text}: every seed, within updates {window[0]:,}-{window[1]:,}")
    why = ("the baseline collapses too" if nb else "not every seed" if len(hit) < len(runs)
           else f"outside updates {window[0]:,}-{window[1]:,}")
    return Verdict("partly", f"{text}: {why}")


def no_recovery_rule(runs: list[RunResult], upto: int) -> Verdict:
    """4.1: after the collapse "we never got images that looked like they did before": every
    collapsed seed's best IS after it under 0.9 of its best before: reproduced; a seed back at
    its best or above: not reproduced; between: partly. No collapse (or no evaluation after it):
    inconclusive, nothing to judge."""
    ratios = []
    for r in runs:
        c = collapse_step(r, upto)
        if c is None:
            continue
        before = [float(x["is"]) for x in evals(r) if int(x["step"]) < c]
        after = [float(x["is"]) for x in evals(r) if c <= int(x["step"]) <= upto]
        if len(after) > 1:  # the collapse evaluation and at least one after it
            ratios.append(max(after[1:]) / max(before))
    if not ratios:
        return Verdict("inconclusive", "data: no seed collapses with an evaluation after it")
    text = "best IS after the collapse / before: " + ", ".join(f"{x:.2f}" for x in ratios)
    if max(ratios) >= 1.0:
        return Verdict("not reproduced", f"{text}: a seed recovers its best images")
    if max(ratios) < 0.9:
        return Verdict("reproduced", f"{text}: no seed comes back")
    return Verdict("partly", f"{text}: a seed comes close to its best again")


def d_loss_series(r: RunResult) -> tuple[list[int], list[float]]:
    """(step, d_loss) from the run's ``losses.csv``."""
    path = r.dir / "losses.csv"
    if not path.is_file():
        return [], []
    lines = path.read_text().splitlines()
    if not lines:
        return [], []
    cols = lines[0].split(",")
    if "d_loss" not in cols:
        return [], []
    i = cols.index("d_loss")
    steps, vals = [], []
    for line in lines[1:]:
        parts = line.split(",")
        if len(parts) > i and parts[i]:
            steps.append(int(float(parts[0])))
            vals.append(float(parts[i]))
    return steps, vals


def oscillation_rule(runs: list[RunResult], upto: int) -> Verdict:
    """4.1, Fig. 12: the losses "start oscillating way more than usual" when the images turn to
    noise: in every collapsed seed, the standard deviation of ``d_loss`` over the guide epoch
    each side of the collapse is at least twice the median of that of the ten guide epochs
    before: reproduced; under 1.2x in some seed: not reproduced; between: partly. No collapse:
    inconclusive."""
    ratios = []
    for r in runs:
        c = collapse_step(r, upto)
        steps, vals = d_loss_series(r)
        if c is None or not steps:
            continue
        def sd_in(lo, hi):
            xs = [v for s, v in zip(steps, vals) if lo < s <= hi]
            return statistics.stdev(xs) if len(xs) > 1 else None
        before = [sd_in(c - (k + 2) * GUIDE_EPOCH, c - (k + 1) * GUIDE_EPOCH) for k in range(10)]
        before = [x for x in before if x is not None]
        now = sd_in(c - GUIDE_EPOCH, c + GUIDE_EPOCH)
        if before and now is not None and statistics.median(before) > 0:
            ratios.append(now / statistics.median(before))
    if not ratios:
        return Verdict("inconclusive", "data: no seed collapses with losses logged around it")
    text = "d_loss spread at the collapse / before: " + ", ".join(f"{x:.2f}" for x in ratios)
    if min(ratios) >= 2.0:
        return Verdict("reproduced", f"{text}: the losses oscillate more in every collapsed seed")
    if min(ratios) < 1.2:
        return Verdict("not reproduced", f"{text}: a collapse without more oscillation")
    return Verdict("partly", f"{text}: more oscillation, not twice")


def diversity_rule(mbd: list[RunResult], base: list[RunResult], step: int) -> Verdict:
    """4.3: minibatch discrimination "reduce[s] mode collapse, and ... create[s] more diversity".
    Collapse half: fewer seeds collapsing (the detector, or a class under 5% of the samples at
    some evaluation) than the baseline; only judged when the baseline collapses at all (else
    there is nothing to reduce: that half is inconclusive). Diversity half: FID (which counts
    diversity as well as quality) lower beyond the spread. Both: reproduced; one: partly; the
    diversity half contradicted: not reproduced; else inconclusive."""
    def collapses(r):
        rows = [x for x in evals(r) if int(x["step"]) <= step]
        return collapse_step(r, step) is not None or any(min(x.get("class_hist") or [1.0]) < 0.05 for x in rows)
    nm, nb = sum(map(collapses, mbd)), sum(map(collapses, base))
    fid = better_rule(values(mbd, "fid", step), values(base, "fid", step), names=("MBD", "baseline"))
    text = f"collapsing seeds MBD {nm}/{len(mbd)}, baseline {nb}/{len(base)}; {fid.why}"
    if fid.verdict == "inconclusive":
        return Verdict("inconclusive", text)
    div = fid.verdict == "reproduced"
    if nb == 0:
        if div:
            return Verdict("partly", f"{text}: more diverse; the baseline never collapses, so the collapse half "
                                     "cannot be judged")
        return Verdict("not reproduced", f"{text}: no diversity gain (and no baseline collapse to reduce)")
    fewer = nm < nb
    if fewer and div:
        return Verdict("reproduced", f"{text}: fewer collapses and more diverse")
    if fewer or div:
        return Verdict("partly", f"{text}: {'fewer collapses only' if fewer else 'more diverse only'}")
    return Verdict("not reproduced", f"{text}: neither")


def replay_rule(replay: list[float], base: list[float]) -> Verdict:
    """4.2's recommended buffer (sized from the dataset and the batch) is "useful": only its half
    "no worse than no replay" can be measured at batch 64, where the dataset-sized (78) and the
    batch-sized (64) buffers are the same thing. FID within the spread or better, with a spread
    under 0.2 of the mean: partly (the other half is not measured); worse beyond the spread: not
    reproduced; a wider spread: inconclusive."""
    if min(len(replay), len(base)) < 2:
        return Verdict("inconclusive", f"seeds: {len(replay)} and {len(base)}; a comparison needs a spread")
    (mr, sr), (mb, sb) = mean_sd(replay), mean_sd(base)
    sd = max(sr, sb)
    text = f"FID replay {mr:.3g} ± {sr:.2g} vs no replay {mb:.3g} ± {sb:.2g}"
    if mr > mb + sd:
        return Verdict("not reproduced", f"{text}: worse by more than the spread {sd:.2g}")
    if sd > 0.2 * (mr + mb) / 2:
        return Verdict("inconclusive", f"spread: {text}: the spread {sd:.2g} is too wide to show anything")
    return Verdict("partly", f"{text}: no worse; the batch-sized buffer it is said to beat is not measured at batch 64")


def kernel_time_rule(k4_k3: list[float], k5_k3: list[float]) -> Verdict:
    """3.2: "using a small kernel size ... the training time will be reduced" (the guide's T4:
    3x3 30, 4x4 37, 5x5 50 minutes). CPU time per update over 3x3's, per timing block: 4x4 and
    5x5/4x4 each at least 1.05x in every block: reproduced; 5x5 at least 1.05x in every block but
    not 4x4 between: partly; 5x5 under 1.05x in every block: not reproduced; else inconclusive."""
    if not k4_k3 or not k5_k3:
        return Verdict("inconclusive", "data: no timing record")
    text = ("time per update over 3x3's: 4x4 " + ", ".join(f"{r:.2f}x" for r in k4_k3) + "; 5x5 "
            + ", ".join(f"{r:.2f}x" for r in k5_k3) + " (the guide's T4: 1.23x, 1.67x)")
    if all(a >= 1.05 and b / a >= 1.05 for a, b in zip(k4_k3, k5_k3)):
        return Verdict("reproduced", f"{text}: 3x3 < 4x4 < 5x5 by 5% or more in every block")
    if all(b >= 1.05 for b in k5_k3):
        return Verdict("partly", f"{text}: 3x3 is faster than 5x5, 4x4 not between them in every block")
    if all(b < 1.05 for b in k5_k3):
        return Verdict("not reproduced", f"{text}: 5x5 costs under 5% more than 3x3 in every block")
    return Verdict("inconclusive", f"resolution: {text}: the blocks fall on both sides of 1.05x")


def quadratic_rule(k5_k3: list[float]) -> Verdict:
    """3.2: "The time increase is quadratic as the kernel is 2 dimensional": 5x5 over 3x3 would
    cost (5/3)^2 = 2.78x; every block in 2.2-3.4x: reproduced; above: partly; under 2.2x in every
    block: not reproduced (the guide's own T4 times give 1.67x); else inconclusive."""
    return ratio_rule(k5_k3, 2.2, 3.4, "5x5/3x3 time per update (quadratic: 2.78x; the guide's T4: 1.67x)")


# ------------------------------------------------------------------ the runs
def _specs(ctx: Context, name: str, preset: str, extra: list[str] | tuple = ()) -> list[RunSpec]:
    over = [*budget_overrides(ctx.budget, preset), *extra]
    blocks, steps = (1, 1) if ctx.smoke else (4, 6)
    hook = timing_hook(list(PACES.values()), blocks, steps) if name == BASELINE else None
    return [RunSpec(name, preset, over, seed, after=hook if seed == 0 else None) for seed in range(ctx.seeds or 3)]


def _summary(runs: list[RunResult], step: int) -> str:
    return (f"at update {step:,}, {len(runs)} seed{'s' if len(runs) != 1 else ''}: FID {_fmt(values(runs, 'fid', step))}, "
            f"IS {_fmt(values(runs, 'is', step), 2)}, label agreement {_fmt(values(runs, 'label_agreement', step), 3)}, "
            f"smallest class {100 * mean_sd(values(runs, 'min_class_share', step))[0]:.1f}%")


def _not_run(section: str, said: str, why: str, paper_updates: int | None, departures: list[str]) -> Claim:
    return Claim(section, said, "not trained in this report", "not run", why, paper_updates=paper_updates,
                 departures=departures)


def timing_claims(r: RunResult) -> list[Claim]:
    """The timing rows, from the baseline's seed-0 timing records (``PACES``)."""
    pace = {k: read_pace(r, p.name) for k, p in PACES.items()}
    on = "MNIST 28x28 at batch 64 and width 16 (the guide: CIFAR-10 32x32, batch 128, width 64)"
    rows = [("3.2", "\"using a small kernel size ... the training time will be reduced\"; \"Using a Tesla T4 we got "
             "the following training time: 3x3 took 30 minutes for 100 epochs, 4x4 ... 37 minutes, 5x5 ... 50 "
             "minutes\" [unconditional DCGAN]", ("k4_k3", "k5_k3"),
             lambda: kernel_time_rule(pace["k4_k3"], pace["k5_k3"]), [TIMING, on]),
            ("3.2", "\"The time increase is quadratic as the kernel is 2 dimensional.\"", ("k5_k3",),
             lambda: quadratic_rule(pace["k5_k3"]), [TIMING, on]),
            ("3.3.2", "\"Training time is roughly the same\" (conditional vs non-conditional DCGAN)", ("cond",),
             lambda: same_time_rule(pace["cond"], "conditional/unconditional time per update"), [TIMING, on, L]),
            ("4.4", "virtual batch normalization \"is computationally expensive since two batches instead of one have "
             "to go through the network\"", ("vbn",),
             lambda: ratio_rule(pace["vbn"], 1.2, math.inf, "VBN/batch-norm time per update"), [TIMING, on, VBN_WAY]),
            ("5.6", "\"the fact that we train our critic to optimality on every step makes WGANs more computationally "
             "expensive\"", ("wgan",),
             lambda: ratio_rule(pace["wgan"], 1.5, math.inf, "WGAN-GP/DCGAN time per generator update"),
             [TIMING, on, WGAN_TIMED]),
            ("5.6", "\"The WGAN was also longer to train, due to the different training loops and the calculation of "
             "the gradient penalty\" (both trained 200 epochs from the discriminator's point of view)", ("wgan",),
             lambda: ratio_rule([r / WGAN_CRITIC for r in pace["wgan"]], 1.05, math.inf,
                                "WGAN-GP/DCGAN time per discriminator batch (a generator update's time over its "
                                f"{WGAN_CRITIC} critic batches)"),
             [TIMING, on, WGAN_TIMED])]
    out = []
    for section, said, keys, rule, dep in rows:
        if any(pace[k] is None for k in keys):
            out.append(_not_run(section, said, "no timing record in the baseline's seed-0 run (`gankit reproduce guide` "
                                "without --report-only writes it, a few CPU-minutes)", None, dep))
            continue
        v = rule()
        out.append(Claim(section, said, v.why.removeprefix("resolution: "), *v, updates=None, paper_updates=None,
                         departures=dep))
    return out


def run(ctx: Context) -> tuple[list[Claim], list[str]]:
    groups = {BASELINE: BASELINE, **{p: p for p in (UNCOND, *TRICKS, DENSE)}}
    wanted = [n for n in groups if n == BASELINE or ctx.wants(n)]  # the baseline is every row's control
    if ctx.budget == "short":
        wanted = [n for n in wanted if n not in PAPER_ONLY]
    names = list(wanted)
    specs = [s for n in wanted for s in _specs(ctx, n, groups[n])]
    if ctx.budget != "short" and ctx.wants(NOISY10[1]):
        specs += _specs(ctx, NOISY10[0], NOISY10[1], NOISY10[2])
        names.append(NOISY10[0])
    got = ctx.runs(specs)
    k = ctx.seeds or 3
    R = {n: got[i * k:(i + 1) * k] for i, n in enumerate(names)}
    base = R[BASELINE]
    claims: list[Claim] = []
    seeds = len(base)
    cmd = "gankit reproduce guide --budget paper --jobs 2 --only {}"
    cpu_h = lambda preset, n=1: n * 3 * PAPER_UPDATES[preset] * (PACE_SLOW if preset in SLOW else PACE) / 3600  # noqa: E731

    # 3.3.2, Fig. 9: the condition is followed, for both conditioning designs
    s = common_step(base)
    claims.append(Claim("3.3.2, Fig. 9", "\"the condition is taken into consideration by our GAN\" [label channels at "
                        "D's input, the guide's 5.5 method: gankit's baseline]", _summary(base, s),
                        *condition_rule(values(base, "label_agreement", s)), [p for p in [base[0].grid(s)] if p],
                        updates=s, paper_updates=PAPER_UPDATES[BASELINE], departures=[M, W, O, L, G], seeds=seeds))
    if DENSE in R:
        d = R[DENSE]
        s = common_step(d)
        claims.append(Claim("3.3.2, Fig. 9", "\"the condition is taken into consideration by our GAN\" [3.3.1's design: "
                            "the label concatenated at a small dense layer of D]", _summary(d, s),
                            *condition_rule(values(d, "label_agreement", s)), [p for p in [d[0].grid(s)] if p],
                            updates=s, paper_updates=PAPER_UPDATES[DENSE], departures=[M, W, O, L_DENSE, G], seeds=seeds))
    else:
        claims.append(_not_run("3.3.2, Fig. 9", "\"the condition is taken into consideration by our GAN\" [3.3.1's design: "
                               "the label concatenated at a small dense layer of D]",
                               "left out with --only" if not ctx.wants(DENSE) else
                               f"only a negative can come before {PAPER_UPDATES[DENSE]:,} updates (gankit's notes: label "
                               f"agreement 0.11 at 2,400); `{cmd.format(DENSE)}`, {cpu_h(DENSE):.1f} CPU-hours",
                               PAPER_UPDATES[DENSE], [M, W, O, L_DENSE, G]))

    # 3.3.2: conditional vs unconditional images
    if UNCOND in R:
        s = common_step(base, R[UNCOND])
        claims.append(Claim("3.3.2", "\"The images also look better when we specify a condition.\" [label channels]",
                            f"conditional {_summary(base, s)}; unconditional FID {_fmt(values(R[UNCOND], 'fid', s))}",
                            *better_rule(values(base, "fid", s), values(R[UNCOND], "fid", s),
                                         names=("conditional", "unconditional")),
                            updates=s, paper_updates=PAPER_UPDATES[BASELINE],
                            departures=[M, W, O, L, G, "conditional FID on balanced labels, unconditional on free samples"], seeds=seeds))
    else:
        claims.append(_not_run("3.3.2", "\"The images also look better when we specify a condition.\"",
                               "left out with --only", PAPER_UPDATES[BASELINE], [M, W, O, L, G]))

    trick_dep = [M, W, O, L, G]
    t = "cdcgan-mnist-smooth1"
    if t in R:
        s = common_step(base, R[t])
        claims.append(Claim("4.1, Fig. 10", "one-sided label smoothing (0.9): \"the images already look better than "
                            "previously\" [label channels]", f"{_summary(R[t], s)}; baseline FID {_fmt(values(base, 'fid', s))}",
                            *better_rule(values(R[t], "fid", s), values(base, "fid", s), names=("smoothing", "baseline")),
                            [p for p in [R[t][0].grid(s)] if p], updates=s, paper_updates=PAPER_UPDATES[t],
                            departures=trick_dep, seeds=seeds))
    t2 = "cdcgan-mnist-smooth2"
    if t in R and t2 in R and common_step(R[t], R[t2], upto=10 * GUIDE_EPOCH) is not None:
        s = common_step(R[t], R[t2], upto=10 * GUIDE_EPOCH)
        claims.append(Claim("4.1", "two-sided smoothing: \"the results were similar to one-sided label smoothings "
                            "during the first epochs\" [label channels]",
                            f"FID at update {s:,} (the first 10 guide epochs at most): two-sided "
                            f"{_fmt(values(R[t2], 'fid', s))}, one-sided {_fmt(values(R[t], 'fid', s))}",
                            *similar_rule(values(R[t2], "fid", s), values(R[t], "fid", s), names=("two-sided", "one-sided")),
                            updates=s, paper_updates=None, departures=trick_dep, seeds=seeds))
    if t2 in R:
        up = PAPER_UPDATES[t2]
        s = common_step(R[t2])
        claims.append(Claim("4.1, Fig. 11", "two-sided smoothing: \"the results became suddenly awful after a certain "
                            "epoch (roughly 60 epochs in our case)\", \"present in all of our tests, happening around "
                            "epoch 70\" [label channels]", f"IS at every guide epoch to update {s:,}",
                            *collapse_rule(R[t2], base, (30 * GUIDE_EPOCH, 140 * GUIDE_EPOCH), s),
                            [p for p in [R[t2][0].grid(s)] if p], updates=s, paper_updates=up,
                            departures=[*trick_dep, f"guide epochs 60-70 = updates {60 * GUIDE_EPOCH:,}-"
                                        f"{70 * GUIDE_EPOCH:,}; a collapse counts within half to twice that"], seeds=seeds))
        claims.append(Claim("4.1, Fig. 12", "\"our losses start oscillating way more than usual at the same time that our "
                            "images started to look like noise\" [two-sided smoothing]", "d_loss around each collapse",
                            *oscillation_rule(R[t2], s), updates=s, paper_updates=up, departures=trick_dep, seeds=seeds))
        claims.append(Claim("4.1", "\"we never got images that looked like they did before this phenomenon "
                            "appeared\" [two-sided smoothing]", "IS after each collapse", *no_recovery_rule(R[t2], s),
                            updates=s, paper_updates=up, departures=trick_dep, seeds=seeds))
    t = "cdcgan-mnist-replay"
    if t in R:
        s = common_step(base, R[t])
        claims.append(Claim("4.2", "\"the best way to do this is to calculate *exp_replay* by using both our batch size "
                            "and the size of our dataset\" [label channels]",
                            f"buffer 5,000 // 64 = 78; {_summary(R[t], s)}; baseline FID {_fmt(values(base, 'fid', s))}",
                            *replay_rule(values(R[t], "fid", s), values(base, "fid", s)),
                            [p for p in [R[t][0].grid(s)] if p], updates=s, paper_updates=PAPER_UPDATES[t],
                            departures=[*trick_dep, "one replay step per epoch (the notebook's: two)"], seeds=seeds))
    t = "cdcgan-mnist-mbd"
    if t in R:
        s = common_step(base, R[t])
        claims.append(Claim("4.3", "\"Minibatch discrimination is a way to reduce mode collapse, and to create more "
                            "diversity in the images created by the generator.\" [label channels]",
                            f"{_summary(R[t], s)}; baseline FID {_fmt(values(base, 'fid', s))}",
                            *diversity_rule(R[t], base, s), [p for p in [R[t][0].grid(s)] if p], updates=s,
                            paper_updates=PAPER_UPDATES[t],
                            departures=[*trick_dep, MBD_HEAD, "diversity through FID and class shares only"], seeds=seeds))
    t = "cdcgan-mnist-vbn"
    if t in R:
        s = common_step(base, R[t])
        claims.append(Claim("4.4, Fig. 17", "\"we got much better results using virtual batch normalization than by "
                            "using batch normalization\" [label channels]",
                            f"{_summary(R[t], s)}; baseline FID {_fmt(values(base, 'fid', s))}",
                            *better_rule(values(R[t], "fid", s), values(base, "fid", s), names=("VBN", "batch norm"),
                                         much=0.2), [p for p in [R[t][0].grid(s)] if p], updates=s,
                            paper_updates=PAPER_UPDATES[t], departures=[*trick_dep, VBN_WAY], seeds=seeds))
    for name, said, section in (("cdcgan-mnist-noisy", "5% noisy labels: \"results were pretty bad ... at a certain "
                                 "epoch, the generated images turned into noise\"", "4.5, Fig. 18"),
                                (NOISY10[0], "\"We then tested with a rate of 10% and got the same results\"",
                                 "4.5, Fig. 19")):
        up = PAPER_UPDATES["cdcgan-mnist-noisy"]
        if name in R:
            s = common_step(R[name])
            claims.append(Claim(section, f"{said} [label channels]", f"IS at every guide epoch to update {s:,}",
                                *collapse_rule(R[name], base, (39 * GUIDE_EPOCH, up), s),
                                [p for p in [R[name][0].grid(s)] if p], updates=s, paper_updates=up,
                                departures=[*trick_dep, f"the guide's collapse: epochs 78-79 = updates "
                                            f"{78 * GUIDE_EPOCH:,}-{80 * GUIDE_EPOCH:,}"], seeds=seeds))
        elif name == NOISY10[0] and ctx.wants(NOISY10[1]):
            claims.append(_not_run(section, said, f"a collapse claim needs {up:,} updates: `{cmd.format(NOISY10[1])}` "
                                   f"(also retrains 5%), {cpu_h('cdcgan-mnist-noisy', 2):.1f} CPU-hours", up, trick_dep))
    claims += timing_claims(base[0])
    claims += [_not_run(sec, said, f"not trained by this module: {why}", None, [M]) for sec, said, why in NOT_TRAINED]
    for preset in TRICKS:
        if preset not in R:
            claims.append(_not_run(TRICK_SECTIONS[preset], f"{preset}: {TRICK_SECTIONS[preset]}'s claims",
                                   "left out with --only", PAPER_UPDATES[preset], trick_dep))
    return claims, _notes(ctx, cmd)


TRICK_SECTIONS = {"cdcgan-mnist-smooth1": "4.1", "cdcgan-mnist-smooth2": "4.1", "cdcgan-mnist-replay": "4.2",
                  "cdcgan-mnist-mbd": "4.3", "cdcgan-mnist-vbn": "4.4", "cdcgan-mnist-noisy": "4.5"}
# CPU-seconds per update at one thread, evaluations included (the 100-epoch baseline: 7,800 updates
# in 10.5 minutes, 2026-12-04); minibatch discrimination and VBN about 1.8x (docs/notes/guide.md)
PACE, PACE_SLOW = 0.081, 0.146
SLOW = ("cdcgan-mnist-mbd", "cdcgan-mnist-vbn")


def _paper_cpu_minutes() -> int:
    runs = [*PAPER_UPDATES.items(), ("cdcgan-mnist-noisy", PAPER_UPDATES["cdcgan-mnist-noisy"])]  # + noisy 10%
    return round(sum(3 * u * (PACE_SLOW if p in SLOW else PACE) for p, u in runs) / 60)


def _short_cpu_minutes() -> int:
    presets = [p for p in PAPER_UPDATES if p not in PAPER_ONLY]
    return round(sum(3 * SHORT_UPDATES * (PACE_SLOW if p in SLOW else PACE) for p in presets) / 60)


def _notes(ctx: Context, cmd: str) -> list[str]:
    return [
        f"Units: one guide epoch = {GUIDE_EPOCH} generator updates (CIFAR-10's 50,000 images at the notebooks' "
        f"batch 128); one epoch of the 5,000 embedded digits at batch 64 = 78. Every run evaluates once per guide "
        "epoch (1,000 samples, balanced labels); each comparison reads both sides at the same update (the largest "
        "both evaluated): equal generator updates, never equal seconds. Values: mean ± standard deviation over seeds; "
        "the spread of a comparison is the larger of its two standard deviations.",
        "Conditioning: every row marked [label channels] is about gankit's baseline `cdcgan-mnist`, whose D gets the "
        "label as one-hot input channels (the guide's own 5.5 method for its WGAN critic); the guide's section-4 "
        "runs used 3.3.1's D, the label concatenated at a small dense layer (`cdcgan-mnist-dense`), whose label "
        "agreement stayed at chance (0.10-0.13 up to 2,400 updates, docs/notes/guide.md). The row marked [3.3.1's "
        "design] is about that one.",
        "Collapse: a run collapses at the first evaluation whose IS is under half the best IS of the evaluations "
        "before it; every evaluation is checked, so a collapse the run later recovers from still counts. The guide "
        "saw two-sided smoothing collapse at its epochs 60-70 (updates 23,400-27,300) and 5% noisy labels at 78-79 "
        "(30,420-31,200): no shorter run can refute either, and such rows say inconclusive.",
        "Earlier reports of this paper compared the tricks at equal wall-clock time (75 s a run: minibatch "
        "discrimination and VBN got 449 and 429 updates against the baseline's 759) and judged the collapses at "
        "gankit epochs of 78 updates on the last evaluation only; their verdicts are withdrawn "
        "(docs/notes/guide.md keeps them as history).",
        "Not measured here (each needs code or CPU-hours; paces: 0.081 CPU-s per update at one thread, 0.146 "
        "with MBD or VBN, 3 seeds each): 4.2 replay at a small batch collapsing earlier and at a large batch being "
        "too weak (`cdcgan-mnist-replay data.batch_size=16` / `=256` against the same batch without replay: "
        "about 2 and 29 CPU-hours); 4.3 MBD with one dense layer only (needs a placement option) and the best B of "
        "128 (`net.mbd_b` 32..512 to 39,000 updates: about 24 CPU-hours); 4.4 random labels in VBN's reference batch "
        "ignoring the classes (needs an option) and VBN's saturated batches (needs a metric).",
        "Timing rows (3.2, 3.3.2, 4.4, 5.6): CPU seconds per generator update of two presets at one thread, "
        "measured in alternating blocks of 6 steps (4 blocks, after a warm-up step each) inside one process by the "
        "baseline's seed-0 run once it has trained (its record/pace_*.json); a ratio is called only when every "
        "block agrees. The guide timed a GPU; the ratios on a CPU need not match a GPU's.",
        "Not rows: sections 2 and 3.1 (the losses, the strong generator or discriminator, k, the activations) "
        "state advice without a measured result (their 'did not give us good results' for k > 1 has no figure "
        "or number to compare with), and the strong-G/strong-D cases need code first; the kernel-size, WGAN and "
        "timing sentences of 3.2 and 5 are rows above. The guide's own data (CIFAR-10 at width "
        "64, `cdcgan-cifar10`) is not on this machine.",
        f"The paper budget trains every recipe to the guide's schedule on 3 seeds (about {_paper_cpu_minutes() / 60:.0f} "
        f"CPU-hours at one thread; `{cmd.format('<preset>')}` runs one recipe with the baseline).",
    ]


PAPER = Paper(
    name="guide",
    title="A practical guide to GANs (conditional DCGAN, section 4's tricks)",
    reproduces="3.3 conditioning (both designs) and section 4's tricks vs the conditional DCGAN at equal updates, "
               "3 seeds, collapse at every evaluation",
    # measured paces (the module's PACE, PACE_SLOW) times the updates of each recipe, 3 seeds
    cpu_minutes={"paper": _paper_cpu_minutes(), "short": _short_cpu_minutes(), "smoke": 2},
    run=run,
    runs=(BASELINE, UNCOND, DENSE, *TRICKS),
)
