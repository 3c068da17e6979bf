"""digit-gans.txt sections 1.3-4: DCGAN, FCC-GAN, FCC-G, WGAN-CLIP, WGAN-GP and SNGAN on MNIST
(SVHN where its files are given), one row per result-stating sentence.

Budgets are generator updates. The paper trains 50 epochs of the 60,000 MNIST digits at batch 64
(46,875 updates; WGAN-CLIP 100 epochs, 93,750); gankit has the 5,000 embedded digits, so the
``paper`` budget gives every run the paper's *updates* (the set is seen 12x as often), and
``short`` gives every run the same 780 updates (10 passes over the embedded digits). A negative
verdict, and any rule about "after 10 epochs", needs the updates the paper had.

The paper's Inception Score uses ImageNet's Inception v3 (its code gives real MNIST about 2);
gankit's IS and FID use its own digit classifier (real digits about 9.1): only gankit numbers
compare with each other. Every verdict is judged from the runs' records (``metrics.jsonl``,
``losses.csv``, ``record/*.json`` written by the ``after`` hooks), so ``--report-only --from``
rebuilds it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from gankit.report.curves import plt, read_losses, save_figure
from gankit.reproduce.core import (Claim, Context, Paper, RunResult, RunSpec, Verdict, fewest_updates, fmt_metrics,
                                   min_class_share)
from gankit.reproduce.timing import TIMING, Pair, ratio_rule, read_pace, timing_hook

PAPER_EPOCH = 60_000 / 64  # generator updates in one epoch of the paper's MNIST (937.5)
P50, P100 = 46_875, 93_750  # 50 and 100 paper epochs
ONSET = 9_375  # "after 10 epochs" (3.3): 10 paper epochs
LOSS_RUN = 2 * ONSET  # a loss trend after epoch 10 needs at least as many epochs after it
SEVERAL = 5  # "after several epochs" (3.4): 5 paper epochs
SHORT = 780  # the short budget: every run the same updates (10 passes over the 5,000 digits)
IS_SAT, IS_FAIL = 7.0, 5.0  # gankit's bar for "satisfactory" (real digits score about 9.1)
MIN_SHARE = 0.05  # every class at least 5% of the samples (uniform is 10%)
# paces, CPU seconds per update at one thread, measured 2026-12-06 (process time of 8 steps
# after 2 warm-up ones, the machine shared): what cpu_minutes and the rows' costs rest on
PACE = {"dcgan-mnist": 0.56, "fccgan-mnist": 0.089, "fccg-mnist": 0.50, "wgangp-mnist": 0.175,
        "sngan-mnist": 0.34, "wgan-clip-mnist": 3.8}


@dataclass(frozen=True)
class Model:
    preset: str
    section: str
    label: str
    quote: str
    paper_updates: int


MNIST = (
    Model("dcgan-mnist", "3.1, Fig. 3.1", "DCGAN", "\"Figure 3.1: Plain DCGAN on MNIST, 50 epochs\"", P50),
    Model("fccgan-mnist", "3.1, Fig. 3.2", "FCC-GAN", "\"Figure 3.2: FCC-GAN on MNIST, 50 epochs\"", P50),
    Model("fccg-mnist", "3.1, Fig. 3.3", "FCC-G", "\"Figure 3.3: FCC-generator GAN on MNIST, 50 epochs\"", P50),
    Model("wgangp-mnist", "3.3, Fig. 3.9", "WGAN-GP (G beta2 0.99999)",
          "\"the quality of output images and Inception Scores are not bad as well\" (Fig. 3.9)", P50),
    Model("sngan-mnist", "3.4, Fig. 3.12", "SNGAN", "\"Figure 3.12: SNGAN on MNIST, 50 epochs\"", P50),
)
CLIP = Model("wgan-clip-mnist", "3.2, Fig. 3.6; 4", "WGAN-CLIP",
             "\"Figure 3.6: WGAN-CLIP on MNIST, 100 epochs\"; 4: satisfactory \"(except WGAN-CLIP)\"", P100)
# variants of one preset, one setting changed: name -> (preset, overrides, what changed)
VARIANTS = {
    "wgangp-mnist-beta2-0.9": ("wgangp-mnist", ["optim.g.beta2=0.9"], "G's Adam beta2 0.9 (Fig. 3.8)"),
    "fccgan-mnist-no-tricks": ("fccgan-mnist", ["objective.smooth_real=0", "objective.flip=0"],
                               "no label smoothing, no label flips"),
    "fccgan-mnist-beta1-0.9": ("fccgan-mnist", ["optim.g.beta1=0.9", "optim.d.beta1=0.9"], "Adam beta1 0.9"),
    "fccgan-mnist-lr1e-3": ("fccgan-mnist", ["optim.g.lr=1e-3", "optim.d.lr=1e-3"], "learning rate 1e-3"),
}

# the departures a row names (the notes say more)
DATA = "5,000 embedded digits, not 60,000 (12x the passes at equal updates)"
METRIC = "IS/FID from gankit's digit classifier, not Inception v3"
NETS = "Appendix A nets as docs/notes/digit-gans.md reads them"
LOSSES = "training losses, not the paper's validation losses"
SAT_BAR = f"'satisfactory' = IS >= {IS_SAT:g}, 10 classes, each >= {100 * MIN_SHARE:.0f}% (the paper: by eye)"
STAND_IN = "FCC-GAN stands in for the DCGAN (same optimizer and loss tweaks; 6x cheaper)"


GP_PAIR = (f"the beta2 0.9 arm trains at the paper budget only (a trend after update {ONSET:,} needs {LOSS_RUN:,}): "
           "`gankit reproduce digit-gans --budget paper --only wgangp-mnist --jobs 2`, both arms on 3 seeds at "
           f"{P50:,} updates, about {6 * P50 * PACE['wgangp-mnist'] / 3600:.0f} CPU-hours")


# ------------------------------------------------------------------ rules (tested on constructed rows)
def sat(row: dict) -> bool:
    share = row.get("min_class_share", min_class_share(row))
    return row.get("is", 0) >= IS_SAT and row.get("classes_covered") == 10 and (share or 0) >= MIN_SHARE


def fail(row: dict) -> bool:
    return row.get("is", 0) < IS_FAIL or (row.get("classes_covered") or 0) < 9


def sat_rule(finals: list[dict], updates: int | None, paper_updates: int) -> Verdict:
    """"X is satisfactory": every seed SAT, at any budget: reproduced; some seeds: partly; every
    seed FAIL at the paper's updates: not reproduced; neither at the paper's updates: partly;
    below them and not SAT: inconclusive (more updates may reach it)."""
    n_sat, n_fail = sum(map(sat, finals)), sum(map(fail, finals))
    text = "; ".join(fmt_metrics({**r, "min_class_share": min_class_share(r)},
                                 ("is", "fid", "classes_covered", "min_class_share")) for r in finals)
    if n_sat == len(finals):
        return Verdict("reproduced", f"{text}: SAT on every seed")
    if n_sat:
        return Verdict("partly", f"{text}: SAT on {n_sat} of {len(finals)} seeds")
    if (updates or 0) < paper_updates:
        return Verdict("inconclusive", f"budget: {text}: not SAT at {updates or 0:,} of the paper's "
                                       f"{paper_updates:,} updates")
    if n_fail == len(finals):
        return Verdict("not reproduced", f"{text}: FAIL on every seed")
    return Verdict("partly", f"{text}: neither SAT nor FAIL")


def clip_rule(finals: list[dict], updates: int | None, paper_updates: int = P100) -> Verdict:
    """WGAN-CLIP is "not satisfactory" after 100 epochs: not SAT at the paper's updates:
    reproduced (every GAN is unsatisfactory early, so not before); SAT: not reproduced."""
    if any(map(sat, finals)):
        return Verdict("not reproduced", f"SAT on {sum(map(sat, finals))} of {len(finals)} seeds")
    if (updates or 0) < paper_updates:
        return Verdict("inconclusive", f"budget: not SAT at {updates or 0:,} of the paper's {paper_updates:,} updates, "
                                       "as any GAN this early")
    return Verdict("reproduced", f"not SAT at {updates:,} updates")


def _stats(xs: list[float]) -> tuple[float, float]:
    m = sum(xs) / len(xs)
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0.0
    return m, sd


def side(a: list[float], b: list[float], higher: bool = True, k: float = 1.0) -> tuple[int, str]:
    """+1: A better than B by more than ``k`` times the spread (the sum of the two seed SDs), -1:
    B better by more, 0: within. One seed a side has no spread: any difference counts (the row's
    ``seeds`` then caps the verdict)."""
    (ma, sa), (mb, sb) = _stats(a), _stats(b)
    d = (ma - mb) if higher else (mb - ma)
    spread = k * (sa + sb)
    text = f"{ma:.3g} ± {sa:.2g} vs {mb:.3g} ± {sb:.2g}"
    return (1 if d > spread else -1 if -d > spread else 0), text


def epoch_time_rule(ratios: list[float]) -> Verdict:
    """3.1: an FCC-GAN epoch takes 3 s where a DCGAN one takes 10 (3.3x): DCGAN/FCC-GAN time per
    update at least 2x in every block: reproduced; at least 1.2x: partly; under 1.2x in every
    block: not reproduced; blocks on both sides of a bound: inconclusive."""
    v = ratio_rule(ratios, 2.0, math.inf, "DCGAN/FCC-GAN CPU time per update")
    if v.verdict == "reproduced" or not ratios:
        return v
    if min(ratios) >= 1.2:
        return Verdict("partly", f"{measured(v.why)}: faster, but under 2x in some blocks")
    if max(ratios) < 1.2:
        return Verdict("not reproduced", f"{measured(v.why)}: under 1.2x in every block")
    return Verdict("inconclusive", f"resolution: {measured(v.why)}: the blocks fall on both sides of 1.2x")


def per_epoch(steps, values) -> dict[int, float]:
    """Paper epoch (1-based, 937.5 updates each) -> the mean of the loss rows logged inside it."""
    out: dict[int, list[float]] = {}
    for s, v in zip(steps, values):
        if math.isfinite(float(v)):
            out.setdefault(math.ceil(float(s) / PAPER_EPOCH), []).append(float(v))
    return {e: sum(vs) / len(vs) for e, vs in sorted(out.items())}


def _spearman(xs: list[float], ys: list[float]) -> float:
    def ranks(v):
        order = sorted(range(len(v)), key=lambda i: v[i])
        r = [0.0] * len(v)
        for k, i in enumerate(order):
            r[i] = float(k)
        return r

    rx, ry = ranks(xs), ranks(ys)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    den = math.sqrt(sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry))
    return cov / den if den else 0.0


def explodes(steps, values, updates: int | None) -> tuple[bool | None, str]:
    """The paper's "explodes gradually after 10 epochs": the mean of the last 5 paper epochs
    exceeds the epoch-10 mean by at least 2 * max(|epoch 10|, 1), and the per-epoch means from
    epoch 10 on rise (Spearman rho >= 0.8). None: the run is shorter than 2 x 10 paper epochs."""
    if (updates or 0) < LOSS_RUN:
        return None, f"the run has {updates or 0:,} updates; epoch 10 is update {ONSET:,} and a trend after it needs {LOSS_RUN:,}"
    ep = per_epoch(steps, values)
    last = max(ep)
    if 10 not in ep or last < 15:
        return None, "no loss rows at paper epoch 10 or the last five epochs"
    at = ep[10]
    late = sum(ep[e] for e in range(last - 4, last + 1) if e in ep) / sum(e in ep for e in range(last - 4, last + 1))
    after = [e for e in ep if e >= 10]
    rho = _spearman([float(e) for e in after], [ep[e] for e in after])
    yes = late - at >= 2 * max(abs(at), 1.0) and rho >= 0.8
    return yes, f"{at:.3g} at epoch 10, {late:.3g} over epochs {last - 4}-{last} (rho {rho:.2f})"


def flat_rule(d: tuple, g: tuple, updates: int | None) -> Verdict:
    """SNGAN's losses "do not have obvious improvement after several epochs": for D and G, the
    mean of the last 5 paper epochs within 25% of paper epoch 5's mean: both reproduced, one
    partly, neither not reproduced; a run under 2 x 5 paper epochs is inconclusive."""
    need = math.ceil(2 * SEVERAL * PAPER_EPOCH)
    if (updates or 0) < need:
        return Verdict("inconclusive", f"budget: {updates or 0:,} updates; a trend after paper epoch {SEVERAL} "
                                       f"(update {SEVERAL * PAPER_EPOCH:,.0f}) needs {need:,}")
    parts, flat = [], []
    for name, (steps, values) in (("d_loss", d), ("g_loss", g)):
        ep = per_epoch(steps, values)
        last = max(ep)
        at = ep.get(SEVERAL, math.nan)
        late = [ep[e] for e in range(last - 4, last + 1) if e in ep]
        late_m = sum(late) / len(late)
        ok = abs(late_m - at) <= 0.25 * max(abs(at), 0.1)
        flat.append(ok)
        parts.append(f"{name} {at:.3g} at epoch {SEVERAL}, {late_m:.3g} at the end ({'flat' if ok else 'moves'})")
    text = "; ".join(parts)
    if all(flat):
        return Verdict("reproduced", f"{text}: neither improves")
    if any(flat):
        return Verdict("partly", f"{text}: one of the two")
    return Verdict("not reproduced", f"{text}: both move by more than 25%")


def fig38_rule(blows: bool | None, is_09: list[float], is_best: list[float], why: str) -> Verdict:
    """Fig. 3.8: with beta2 0.9 "the output image and Inception Score are both good compared to
    the previous models, [but] the generator loss explodes gradually after 10 epochs": the
    Explodes rule, and the mean IS at least the best earlier model's: both reproduced, one partly,
    neither not reproduced; a run too short for the loss half: inconclusive."""
    if blows is None:
        return Verdict("inconclusive", f"budget: {why}")
    good = sum(is_09) / len(is_09) >= sum(is_best) / len(is_best)
    text = f"g_loss {why}: {'explodes' if blows else 'no explosion'}; IS {'at least' if good else 'below'} the best earlier model's"
    if blows and good:
        return Verdict("reproduced", text)
    if blows or good:
        return Verdict("partly", text)
    return Verdict("not reproduced", text)


def wdist_rule(rise_09: bool | None, rise_adj: bool | None, why: str) -> Verdict:
    """3.3's explanation, by proxy: the critic's gap (wdist) rises (the Explodes form) with beta2
    0.9 and not with 0.99999: reproduced; rises in both: partly; no rise with 0.9: not reproduced."""
    if rise_09 is None or rise_adj is None:
        return Verdict("inconclusive", f"budget: {why}")
    if rise_09 and not rise_adj:
        return Verdict("reproduced", f"{why}: wdist rises with beta2 0.9 only")
    if rise_09:
        return Verdict("partly", f"{why}: wdist rises with both beta2")
    return Verdict("not reproduced", f"{why}: no rise with beta2 0.9")


def fig39_rule(blows_adj: bool | None, blows_09: bool | None, sat_adj: bool, why: str) -> Verdict:
    """Fig. 3.9: with G's beta2 0.99999 "the validation Losses seems to be convergent, and ... not
    bad": no explosion with 0.99999 while 0.9 explodes (the control), and SAT: reproduced; no
    explosion in either arm (nothing to contrast) or no SAT: partly; 0.99999 explodes: not reproduced."""
    if blows_adj is None or blows_09 is None:
        return Verdict("inconclusive", f"budget: {why}")
    if blows_adj:
        return Verdict("not reproduced", f"{why}: G's loss explodes with beta2 0.99999")
    if blows_09 and sat_adj:
        return Verdict("reproduced", f"{why}: converges where beta2 0.9 explodes, and SAT")
    return Verdict("partly", f"{why}: converges, but " + ("not SAT" if blows_09 else "beta2 0.9 does not explode either"))


def fcc_helps_rule(fid_fcc: list[float], fid_dc: list[float], speedups: list[float], updates: int | None,
                   paper_updates: int = P50) -> Verdict:
    """2.1.2: FCC features help DCGAN "learn both faster and ... a higher quality": FCC-GAN's FID
    lower beyond the spread and faster (DCGAN/FCC time per update >= 1.2 in every block):
    reproduced; FID higher beyond the spread at the paper's updates: not reproduced; faster only:
    partly; otherwise inconclusive."""
    s, text = side(fid_fcc, fid_dc, higher=False)
    fast = bool(speedups) and min(speedups) >= 1.2
    text = f"FID FCC-GAN vs DCGAN {text}; DCGAN/FCC-GAN time per update " + (
        ", ".join(f"{r:.1f}x" for r in speedups) if speedups else "not measured")
    if s > 0 and fast:
        return Verdict("reproduced", f"{text}: better and faster")
    if s < 0 and (updates or 0) >= paper_updates:
        return Verdict("not reproduced", f"{text}: FCC-GAN's FID is higher")
    if fast:
        return Verdict("partly", f"{text}: faster, not better beyond the spread")
    return Verdict("inconclusive", f"{text}: neither faster nor better beyond the spread")


def not_improve_rule(fid_fcc: list[float], fid_dc: list[float], updates: int | None,
                     paper_updates: int = P50) -> Verdict:
    """3.1: "The results from FCC-GAN do not improve compared to DCGAN": at the paper's updates,
    FCC-GAN's FID not lower beyond the spread: reproduced; lower: not reproduced. Below them:
    inconclusive either way ("does not improve" early would pass almost anything)."""
    s, text = side(fid_fcc, fid_dc, higher=False)
    text = f"FID FCC-GAN vs DCGAN {text}"
    if (updates or 0) < paper_updates:
        return Verdict("inconclusive", f"budget: {text} at {updates or 0:,} of {paper_updates:,} updates")
    return Verdict("not reproduced", f"{text}: FCC-GAN better") if s > 0 else Verdict("reproduced", f"{text}: no improvement")


def loss_sides_rule(g_fcc: list[float], g_dc: list[float], d_fcc: list[float], d_dc: list[float]) -> Verdict:
    """3.1: "the generator performs better than DCGAN while the discriminator is not": FCC-GAN's
    late g_loss lower and d_loss higher than DCGAN's, both beyond the spread: reproduced; one
    (the other not reversed): partly; either reversed beyond the spread: not reproduced; else
    inconclusive."""
    sg, tg = side(g_fcc, g_dc, higher=False)
    sd, td = side(d_fcc, d_dc, higher=True)
    text = f"late g_loss FCC-GAN vs DCGAN {tg}; late d_loss {td}"
    if sg > 0 and sd > 0:
        return Verdict("reproduced", f"{text}: G lower, D higher")
    if sg < 0 or sd < 0:
        return Verdict("not reproduced", f"{text}: {'G not lower' if sg < 0 else 'D not higher'} beyond the spread")
    if sg > 0 or sd > 0:
        return Verdict("partly", f"{text}: one of the two")
    return Verdict("inconclusive", f"{text}: both within the spread")


def fccg_rule(is_g: list[float], is_f: list[float], fid_g: list[float], fid_f: list[float]) -> Verdict:
    """3.1: FCC-G's "quality of generated images and Inception Score seems slightly improved" over
    FCC-GAN: IS higher and FID lower, both beyond the spread: reproduced; one beyond, the other
    within: partly; lower IS or higher FID beyond it: not reproduced; both within: inconclusive."""
    si, ti = side(is_g, is_f, higher=True)
    sf, tf = side(fid_g, fid_f, higher=False)
    text = f"IS FCC-G vs FCC-GAN {ti}; FID {tf}"
    if si < 0 or sf < 0:
        return Verdict("not reproduced", f"{text}: FCC-G worse beyond the spread")
    if si > 0 and sf > 0:
        return Verdict("reproduced", f"{text}: better on both")
    if si > 0 or sf > 0:
        return Verdict("partly", f"{text}: better on one, the other within the spread")
    return Verdict("inconclusive", f"{text}: both within the spread")


def tricks_rule(preset: list[dict], without: list[dict]) -> Verdict:
    """4: label smoothing and label noise "do help": the preset's FID lower beyond the spread, or
    every run without them FAIL while none with them: reproduced; the runs without them better
    beyond the spread: not reproduced; within the spread: inconclusive."""
    s, text = side([r["fid"] for r in preset], [r["fid"] for r in without], higher=False)
    text = f"FID with vs without {text}"
    if s > 0:
        return Verdict("reproduced", f"{text}: lower with them")
    if all(map(fail, without)) and not any(map(fail, preset)):
        return Verdict("reproduced", f"{text}: every run without them FAILs, none with them")
    if s < 0:
        return Verdict("not reproduced", f"{text}: better without them")
    return Verdict("inconclusive", f"{text}: within the spread")


def settings_rule(preset: list[dict], variants: dict[str, list[dict]]) -> Verdict:
    """1.3: beta1 0.5 and lr 1e-4 are "of great significance": the preset's FID lower than every
    variant's by more than twice the spread and at least one variant FAIL on every seed:
    reproduced; lower than every variant's that far, none FAIL, or lower than some only:
    partly; every variant within the spread or better: not reproduced; else inconclusive."""
    fp = [r["fid"] for r in preset]
    sides = {k: side(fp, [r["fid"] for r in v], higher=False, k=2.0) for k, v in variants.items()}
    failed = [k for k, v in variants.items() if all(map(fail, v))]
    text = "; ".join(f"FID preset vs {k} {t}" for k, (_, t) in sides.items())
    if failed:
        text += f"; {', '.join(failed)} FAIL on every seed"
    if all(s > 0 for s, _ in sides.values()):
        return Verdict("reproduced" if failed else "partly", f"{text}: the preset is better than every variant"
                       + ("" if failed else ", but no variant FAILs"))
    if any(s > 0 for s, _ in sides.values()):
        return Verdict("partly", f"{text}: better than some variants only")
    if all(side(fp, [r["fid"] for r in v], higher=False)[0] <= 0 for v in variants.values()):
        return Verdict("not reproduced", f"{text}: no variant is worse beyond the spread")
    return Verdict("inconclusive", f"{text}: differences between one and two spreads")


def one_change_rule(changes: dict[str, tuple[list[float], list[float]]]) -> Verdict:
    """4: "Slightly different choices in hyperparameters and architecture will cast a huge impact":
    some single change moves the mean FID by 2x or more and by over 3 seed SDs: reproduced; none
    moves it by more than 1.25x: not reproduced; otherwise inconclusive."""
    if not changes:
        return Verdict("inconclusive", "data: no pair of runs differing in one setting")
    parts, big, small = [], False, True
    for name, (a, b) in changes.items():
        (ma, sa), (mb, sb) = _stats(a), _stats(b)
        r = max(ma, mb) / max(min(ma, mb), 1e-9)
        beyond = abs(ma - mb) > 3 * max(sa, sb)
        big |= r >= 2 and beyond
        small &= r <= 1.25
        parts.append(f"{name} {r:.2f}x")
    text = "FID ratio per single change: " + ", ".join(parts)
    if big:
        return Verdict("reproduced", f"{text}: at least one 2x beyond 3 SDs")
    if small:
        return Verdict("not reproduced", f"{text}: none above 1.25x")
    return Verdict("inconclusive", f"{text}: none 2x beyond 3 SDs")


def all_models_rule(n_sat: int, n: int, clip: str, updates: int | None, paper_updates: int = P50) -> Verdict:
    """4: "almost all of the GANs ... are able to produce satisfactory results (except WGAN-CLIP)":
    at least 4 of the 5 SAT and the WGAN-CLIP row reproduced: reproduced; 4 SAT, WGAN-CLIP
    undecided: partly; WGAN-CLIP SAT, or at most 2 SAT at the paper's updates: not reproduced;
    3 SAT at the paper's updates: partly; otherwise inconclusive (below the paper's updates)."""
    text = f"{n_sat} of {n} SAT; WGAN-CLIP row {clip}"
    if clip == "not reproduced":
        return Verdict("not reproduced", f"{text}: WGAN-CLIP is satisfactory")
    if n_sat >= 4:
        return Verdict("reproduced" if clip == "reproduced" else "partly",
                       text + ("" if clip == "reproduced" else ": the WGAN-CLIP half undecided"))
    if (updates or 0) < paper_updates:
        return Verdict("inconclusive", f"budget: {text} at {updates or 0:,} of {paper_updates:,} updates")
    return Verdict("not reproduced" if n_sat <= 2 else "partly", text)


# ------------------------------------------------------------------ the runs
def budget_overrides(budget: str, updates: int) -> list[str]:
    """``paper``: the paper's updates, an evaluation every 2 paper epochs; ``short``: the same
    :data:`SHORT` updates for every run, an evaluation every 2 passes over the digits."""
    if budget == "paper":
        return [f"train.steps={updates}", "train.epochs=null", "train.seconds=null", "train.eval_every=1875",
                "train.sample_every=9375", "train.ckpt_every=1875"]  # hours-long: checkpoints often
    if budget == "short":
        return [f"train.steps={SHORT}", "train.epochs=null", "train.seconds=null", "train.eval_every=156",
                "train.sample_every=390", "train.ckpt_every=390"]
    return []  # smoke: core.SMOKE


def _seeds(ctx: Context, cheap: bool) -> int:
    """Seeds per configuration: 3 at the paper budget; at short 1 for the five models and 3 for
    the cheap FCC-GAN comparisons; 1 in a smoke run; ``--seeds`` overrides."""
    if ctx.seeds:
        return ctx.seeds
    return {"paper": 3, "short": 3 if cheap else 1}.get(ctx.budget, 1)


def plan(ctx: Context) -> dict[str, list[RunSpec]]:
    """Every run this budget trains: name -> one spec per seed."""
    blocks, steps = (1, 1) if ctx.smoke else (3, 5)
    hooks = {("fccgan-mnist", 0): timing_hook([Pair("pace_dcgan_vs_fccgan.json", "dcgan-mnist", "fccgan-mnist")],
                                              blocks, steps),
             ("sngan-mnist", 0): timing_hook([Pair("pace_sn_vs_plain.json", "sngan-mnist", "sngan-mnist",
                                                   strip_sn_b=True)], blocks, steps)}
    runs: dict[str, list[RunSpec]] = {}
    items = [(m.preset, m.preset, [], m.paper_updates) for m in MNIST]
    if ctx.budget != "short":  # WGAN-CLIP: 3.8 s per update; the Fig. 3.8 arm: no trend before 18,750 updates
        items.append((CLIP.preset, CLIP.preset, [], P100))
        items.append(("wgangp-mnist-beta2-0.9", *VARIANTS["wgangp-mnist-beta2-0.9"][:2], P50))
    items += [(k, p, o, P50) for k, (p, o, _) in VARIANTS.items() if p == "fccgan-mnist"]
    for name, preset, over, updates in items:
        if not ctx.wants(preset):
            continue
        cheap = preset == "fccgan-mnist"
        n = 1 if preset == CLIP.preset and not ctx.seeds else _seeds(ctx, cheap)
        over = [*over, *budget_overrides(ctx.budget, updates)]
        runs[name] = [RunSpec(name, preset, over, s, optional=True, after=hooks.get((name, s))) for s in range(n)]
    return runs


def run(ctx: Context) -> tuple[list[Claim], list[str]]:
    specs = plan(ctx)
    flat = [s for ss in specs.values() for s in ss]
    got = iter(ctx.runs(flat))
    res: dict[str, list[RunResult]] = {}
    for name, ss in specs.items():
        rs = [next(got) for _ in ss]
        res[name] = [r for r in rs if r is not None]
    claims = _model_rows(ctx, res) + _comparison_rows(ctx, res) + _not_run_rows(ctx)
    notes = [
        "IS and FID use gankit's own digit classifier (held-out accuracy about 0.98; real digits score IS about 9.1), "
        "not ImageNet's Inception v3 as the paper does (its public code gives real MNIST about 2; see "
        "the reference notes), so gankit's numbers compare only with each other, never with the paper's figures.",
        f"Updates: the paper trains 50 epochs of 60,000 digits at batch 64, {P50:,} generator updates (WGAN-CLIP "
        f"100 epochs, {P100:,}); 'after 10 epochs' is update {ONSET:,}. The `paper` budget gives each run those "
        f"updates on the 5,000 embedded digits; `short` gives every run {SHORT} updates (10 passes over the digits), "
        "so compared models always have equal updates. A negative verdict needs the paper's updates.",
        f"CPU cost at one thread (paces measured 2026-12-06, CPU s per update): "
        + ", ".join(f"{p} {v:g}" for p, v in PACE.items()) + f". Short: about {_cpu_min('short'):.0f} CPU-minutes "
        f"(the five models {sum(PACE[m.preset] for m in MNIST) * SHORT / 60:.0f}, the FCC-GAN comparisons the rest); "
        f"paper: about {_cpu_min('paper') / 60:.0f} CPU-hours "
        "(`gankit reproduce digit-gans --budget paper --jobs N`).",
        "Sentences without a row: 1.2's 'sharply increases the quality' (DCGAN) and WGAN 'improves performance' "
        "restate prior work; 2.1.4's vanishing or exploding gradients with clipping restates Gulrajani et al.; "
        "2.1.5 'Batch normalization should be dropped' and 2.2/3's settings (smoothing 0.1, 5% flips, the "
        "architectures) are design choices, checked in the presets. The abstract's 'can produce satisfactory "
        "results' is judged in row 4 ('almost all of the GANs'), its 'Certain hyperparameters play an important "
        "role' in rows 1.3 and 3.3 (Fig. 3.8); 3.2's 'WGAN-CLIP ... is not a good approach' in row 3.2, Fig. 3.6; "
        "3.3's 'We think that by doing so, the generator's performance could be reinforced' is an expectation, "
        "judged in row 3.3, Fig. 3.9; 4's 'not easy to train or to evaluate objectively' has no measure.",
        "The report of 2026-12-03 had a row 'IS per epoch rises during training' (last fifth vs first fifth of the "
        "curve): no sentence of the paper states it and any GAN that learns passes it, so it is gone; the curves are "
        "the figure of row 4.",
    ]
    return claims, notes


def _cpu_min(budget: str) -> float:
    """CPU-minutes of a budget from :data:`PACE` (evaluations and timing hooks add a few percent)."""
    if budget == "smoke":
        return 2.0
    if budget == "short":
        return 1.08 * SHORT * (sum(PACE[m.preset] for m in MNIST) + 11 * PACE["fccgan-mnist"]) / 60
    main = 3 * P50 * sum(PACE[m.preset] for m in MNIST)
    extra = P100 * PACE[CLIP.preset] + 3 * P50 * PACE["wgangp-mnist"] + 9 * P50 * PACE["fccgan-mnist"]
    return 1.03 * (main + extra) / 60


def measured(why: str) -> str:
    """A rule's why without its verdict: the prefix naming what limits the call and the last clause."""
    for prefix in ("budget: ", "resolution: ", "data: ", "seeds: "):
        why = why.removeprefix(prefix)
    return why.rsplit(": ", 1)[0]


def _finals(rs: list[RunResult]) -> list[dict]:
    return [r.final for r in rs]


def _model_rows(ctx: Context, res: dict[str, list[RunResult]]) -> list[Claim]:
    rows = []
    for m in (*MNIST, CLIP):
        rs = res.get(m.preset, [])
        said = f"{m.quote}: {m.label} " + ("is not satisfactory" if m is CLIP else "gives satisfactory digits")
        deps = [DATA, METRIC, NETS, SAT_BAR]
        if not rs:
            why = (f"left out with --only, absent from the records, or (WGAN-CLIP) not in the short budget: "
                   f"`gankit reproduce digit-gans --budget paper --only {m.preset}` needs about "
                   f"{m.paper_updates * PACE[m.preset] / 3600:.0f} CPU-hours a seed")
            rows.append(Claim(m.section, said, "not trained in this report", "not run", why,
                              paper_updates=m.paper_updates, departures=deps))
            continue
        updates = fewest_updates(*rs)
        v = (clip_rule if m is CLIP else sat_rule)(_finals(rs), updates, m.paper_updates)
        curve = rs[0].curve("is", by="step")
        marks = [(int(x), y) for x, y in zip(*curve)][:: max(1, len(curve[0]) // 4)]
        result = f"{len(rs)} seed{'s' if len(rs) > 1 else ''} at {updates:,} updates: " + "; ".join(
            fmt_metrics({**r, "min_class_share": min_class_share(r)}, ("is", "fid", "classes_covered", "min_class_share"))
            for r in _finals(rs))
        if marks:
            result += "; IS of seed 0 at update " + ", ".join(f"{s:,}: {y:.2f}" for s, y in marks)
        images = [p for p in (rs[0].grid(),) if p is not None]
        rows.append(Claim(m.section, said, result, *v, images, updates=updates, paper_updates=m.paper_updates,
                          departures=deps))
    return rows


def _late(r: RunResult, key: str) -> float:
    """The mean of ``key`` over the last fifth of a run's loss rows."""
    steps, cols = read_losses(r.dir / "losses.csv")
    vals = [float(v) for v in cols.get(key, []) if math.isfinite(float(v))]
    k = max(1, len(vals) // 5)
    return sum(vals[-k:]) / k if vals else math.nan


def _fid(rs: list[RunResult]) -> list[float]:
    return [r.final.get("fid", math.nan) for r in rs]


def _is(rs: list[RunResult]) -> list[float]:
    return [r.final.get("is", 0.0) for r in rs]


def _loss_curve(r: RunResult, key: str):
    steps, cols = read_losses(r.dir / "losses.csv")
    return steps, cols.get(key, [])


def _comparison_rows(ctx: Context, res: dict[str, list[RunResult]]) -> list[Claim]:
    rows = []
    dc, fcc, fccg = res.get("dcgan-mnist", []), res.get("fccgan-mnist", []), res.get("fccg-mnist", [])
    gp, gp9, sn = res.get("wgangp-mnist", []), res.get("wgangp-mnist-beta2-0.9", []), res.get("sngan-mnist", [])
    base = [DATA, METRIC, NETS]

    def claim(section, said, rs_used, v, result="", images=(), paper_updates=P50, departures=(), seeds=True):
        used = [r for rs in rs_used for r in rs]
        n = min(len(rs) for rs in rs_used) if rs_used and seeds else None
        return Claim(section, said, result or measured(v.why), *v, list(images), updates=fewest_updates(*used),
                     paper_updates=paper_updates, departures=list(departures), seeds=n)

    def missing(section, said, need, paper_updates=P50, departures=()):
        return Claim(section, said, "not trained in this report", "not run",
                     f"needs {need}: left out with --only, not in this budget, or absent from the records",
                     paper_updates=paper_updates, departures=list(departures))

    # 1.3: beta1 0.5 and lr 1e-4 (on FCC-GAN)
    said = ("\"setting beta1 = 0.5 and the learning rate to 1e-4 is of great significance for our models to learn "
            "the data effectively\" (vs beta1 0.9 and vs lr 1e-3)")
    var = {k: res.get(k, []) for k in ("fccgan-mnist-beta1-0.9", "fccgan-mnist-lr1e-3")}
    if fcc and all(var.values()):
        rows.append(claim("1.3", said, [fcc, *var.values()],
                          settings_rule(_finals(fcc), {k: _finals(v) for k, v in var.items()}),
                          departures=[*base, STAND_IN]))
    else:
        rows.append(missing("1.3", said, "fccgan-mnist and its beta1-0.9 and lr1e-3 variants", departures=[STAND_IN]))

    # 2.1.2 and 3.1: FCC-GAN vs DCGAN
    speed = read_pace(fcc[0] if fcc else None, "pace_dcgan_vs_fccgan.json")
    said = ("2.1.2: \"adding FCC features helps our DCGAN model learn both faster and also generate a higher quality "
            "of samples\" (faster read as time per update)")
    if dc and fcc:
        rows.append(claim("2.1.2", said, [dc, fcc], fcc_helps_rule(_fid(fcc), _fid(dc), speed or [], fewest_updates(*dc, *fcc)),
                          departures=[*base, TIMING, "contradicts 3.1's 'do not improve' (next row) on MNIST"]))
        rows.append(claim("3.1", "\"The results from FCC-GAN do not improve compared to DCGAN\"", [dc, fcc],
                          not_improve_rule(_fid(fcc), _fid(dc), fewest_updates(*dc, *fcc)),
                          departures=[*base, "contradicts 2.1.2's 'learn ... a higher quality'"]))
        rows.append(claim("3.1, Fig. 3.2", "\"From the loss plot, we see that the generator performs better than DCGAN "
                          "while the discriminator is not\" (late losses, same ns loss and label tweaks)", [dc, fcc],
                          loss_sides_rule([_late(r, "g_loss") for r in fcc], [_late(r, "g_loss") for r in dc],
                                          [_late(r, "d_loss") for r in fcc], [_late(r, "d_loss") for r in dc]),
                          departures=[*base, LOSSES, "late = the last fifth of each run's loss rows"]))
    else:
        for sec, s in (("2.1.2", said), ("3.1", "\"The results from FCC-GAN do not improve compared to DCGAN\""),
                       ("3.1, Fig. 3.2", "\"the generator performs better than DCGAN while the discriminator is not\"")):
            rows.append(missing(sec, s, "dcgan-mnist and fccgan-mnist"))
    said = "\"the training time in each epoch is significantly reduced from 10 seconds to 3 seconds\" (FCC-GAN vs DCGAN)"
    if speed is not None:
        ips = (f"; the runs' own images/s: DCGAN {dc[0].final.get('images_per_s', 0):.0f}, FCC-GAN "
               f"{fcc[0].final.get('images_per_s', 0):.0f}" if dc and fcc else "")
        v = epoch_time_rule(speed)
        rows.append(Claim("3.1", said, measured(v.why) + f" (paper 10 s / 3 s = 3.3x){ips}", *v, updates=None,
                          paper_updates=None, departures=[TIMING, NETS]))
    else:
        rows.append(missing("3.1", said, "fccgan-mnist seed 0's timing record", paper_updates=None))

    # 3.1: FCC-G vs FCC-GAN
    said = "\"This time the quality of generated images and Inception Score seems slightly improved\" (FCC-G vs FCC-GAN)"
    if fcc and fccg:
        rows.append(claim("3.1, Fig. 3.3", said, [fccg, fcc], fccg_rule(_is(fccg), _is(fcc), _fid(fccg), _fid(fcc)),
                          departures=base))
    else:
        rows.append(missing("3.1, Fig. 3.3", said, "fccg-mnist and fccgan-mnist"))

    # 3.3: WGAN-GP, G's beta2 0.9 (Fig. 3.8) vs 0.99999 (Fig. 3.9)
    g_png = _wgangp_figure(ctx, gp, gp9)
    blow9 = [explodes(*_loss_curve(r, "g_loss"), r.updates) for r in gp9]
    blowa = [explodes(*_loss_curve(r, "g_loss"), r.updates) for r in gp]
    said38 = ("\"although the output image and Inception Score are both good compared to the previous models, the "
              "generator loss explodes gradually after 10 epochs\" (G's beta2 0.9)")
    deps38 = [DATA, METRIC, LOSSES, "n_critic 1 and the D step's fakes reused, as the paper's Algorithm 1"]
    earlier = [res.get(p, []) for p in ("dcgan-mnist", "fccgan-mnist", "fccg-mnist")]
    if gp9 and all(earlier):
        best = max(earlier, key=lambda rs: sum(_is(rs)) / len(rs))
        yes = _all_or_none([b for b, _ in blow9])
        result = (f"beta2 0.9, G's loss: {blow9[0][1]}; mean IS {sum(_is(gp9)) / len(gp9):.2f} vs the best earlier "
                  f"model's {sum(_is(best)) / len(best):.2f} ({best[0].dir.name.rsplit('-s', 1)[0]})")
        rows.append(claim("3.3, Fig. 3.8", said38, [gp9, *earlier],
                          fig38_rule(yes, _is(gp9), _is(best), blow9[0][1]), result, g_png, departures=deps38))
    else:
        rows.append(missing("3.3, Fig. 3.8", said38, f"wgangp-mnist-beta2-0.9 and the three earlier models; {GP_PAIR}",
                            departures=deps38))
    said = ("\"WGAN-GP leaves a penalty term in the discriminator loss, leading to discriminator overpowers generator "
            "in the training process\" (proxy: the critic's gap wdist per paper epoch, beta2 0.9 vs 0.99999)")
    if gp and gp9:
        r9 = [explodes(*_loss_curve(r, "wdist"), r.updates) for r in gp9]
        ra = [explodes(*_loss_curve(r, "wdist"), r.updates) for r in gp]
        text = f"wdist with beta2 0.9: {r9[0][1]}; with 0.99999: {ra[0][1]}"
        rows.append(claim("3.3", said, [gp, gp9], wdist_rule(_all_or_none([b for b, _ in r9]),
                                                             _all_or_none([b for b, _ in ra]), text),
                          text, g_png, departures=[DATA, LOSSES, "an explanation, measured by a proxy"]))
    else:
        rows.append(missing("3.3", said, f"both wgangp-mnist arms; {GP_PAIR}", departures=[LOSSES]))
    said39 = ("\"The validation Losses seems to be convergent, and the quality of output images and Inception Scores "
              "are not bad as well\" (G's beta2 0.99999, against the beta2 0.9 control)")
    if gp and gp9:
        sat_adj = all(sat(r.final) for r in gp)
        text = f"G's loss with beta2 0.99999: {blowa[0][1]}; with 0.9: {blow9[0][1]}; SAT {sat_adj}"
        rows.append(claim("3.3, Fig. 3.9", said39, [gp, gp9],
                          fig39_rule(_all_or_none([b for b, _ in blowa]), _all_or_none([b for b, _ in blow9]), sat_adj,
                                     text), text, g_png, departures=[*deps38, SAT_BAR]))
    else:
        rows.append(missing("3.3, Fig. 3.9", said39, f"both wgangp-mnist arms; {GP_PAIR}", departures=deps38))

    # 3.4: SNGAN
    said = ("\"the time cost for SNGAN increased a bit compared with the vanilla GAN\" (the A.10 nets with vs without "
            "spectral norm)")
    sn_pace = read_pace(sn[0] if sn else None, "pace_sn_vs_plain.json")
    sn_dep = [TIMING, "gankit keeps a persistent power-iteration vector (torch parametrization); the paper's code "
              "draws a new one each call and rewrites the weights", "'vanilla GAN' read as the same nets without "
              "spectral norm (the DCGAN is another net: its time per update says nothing of the norm)"]
    if sn_pace is not None:
        v = ratio_rule(sn_pace, 1.03, 1.5, "SNGAN/no-norm CPU time per update")
        ips = (f"; the runs' own images/s: SNGAN {sn[0].final.get('images_per_s', 0):.0f}"
               + (f", DCGAN {dc[0].final.get('images_per_s', 0):.0f}" if dc else ""))
        rows.append(Claim("3.4", said, measured(v.why) + ips, *v, departures=sn_dep))
    else:
        rows.append(missing("3.4", said, "sngan-mnist seed 0's timing record", paper_updates=None, departures=sn_dep))
    said = ("\"both of the generator and discriminator loss do not have obvious improvement after several epochs of "
            "training\" (several = 5 paper epochs)")
    if sn:
        r = sn[0]
        v = flat_rule(_loss_curve(r, "d_loss"), _loss_curve(r, "g_loss"), r.updates)
        png = r.dir / "loss.png"
        rows.append(claim("3.4, Fig. 3.12", said, [sn], v, images=[png] if png.is_file() else [],
                          departures=[DATA, LOSSES, "seed 0's losses"], seeds=False))
    else:
        rows.append(missing("3.4, Fig. 3.12", said, "sngan-mnist"))

    # 4
    figure = _is_figure(ctx, res)
    five = [res.get(m.preset, []) for m in MNIST]
    clip_row = _clip_verdict(ctx, res)
    said = ("\"almost all of the GANs in this project are able to produce satisfactory results (except WGAN-CLIP) "
            "on both datasets with fine-tuned hyperparameters\" (MNIST half)")
    if all(five):
        n_sat = sum(all(sat(r.final) for r in rs) for rs in five)
        rows.append(claim("4", said, five, all_models_rule(n_sat, len(five), clip_row, fewest_updates(
            *[r for rs in five for r in rs])), images=figure, departures=[*base, SAT_BAR, "no SVHN half"], seeds=False))
    else:
        rows.append(missing("4", said, "the five MNIST models", departures=[SAT_BAR]))
    pairs = {}  # single change -> (its runs, the runs without it)
    if gp and gp9:
        pairs["G beta2 0.9 vs 0.99999 (WGAN-GP)"] = (gp9, gp)
    for k, (p, _, what) in VARIANTS.items():
        if p == "fccgan-mnist" and fcc and res.get(k):
            pairs[f"{what} (FCC-GAN)"] = (res[k], fcc)
    if fcc and fccg:
        pairs["FCC-G vs FCC-GAN (D's architecture)"] = (fccg, fcc)
    # where some pairs have the seeds a call needs, the rule rests on those alone
    if any(min(len(a), len(b)) >= 3 for a, b in pairs.values()):
        pairs = {k: (a, b) for k, (a, b) in pairs.items() if min(len(a), len(b)) >= 3}
    changes = {k: (_fid(a), _fid(b)) for k, (a, b) in pairs.items()}
    said = ("\"Slightly different choices in hyperparameters and architecture will cast a huge impact on the "
            "generated images\"")
    if changes:
        used = [rs for pair in pairs.values() for rs in pair]
        rows.append(claim("4", said, used, one_change_rule(changes), departures=[*base, STAND_IN]))
    else:
        rows.append(missing("4", said, "pairs of runs that differ in one setting"))
    said = ("\"Some tricks we find from recent research papers do help to ease the painful training process. They are "
            "label smoothing, adding noise to label\" (both off vs on)")
    nt = res.get("fccgan-mnist-no-tricks", [])
    if fcc and nt:
        rows.append(claim("4", said, [fcc, nt], tricks_rule(_finals(fcc), _finals(nt)), departures=[*base, STAND_IN]))
    else:
        rows.append(missing("4", said, "fccgan-mnist and fccgan-mnist-no-tricks", departures=[STAND_IN]))
    return rows


def _clip_verdict(ctx: Context, res: dict[str, list[RunResult]]) -> str:
    """The WGAN-CLIP row's verdict as settle gives it (row 4 rests on it); 'not run' without its run."""
    from gankit.reproduce.core import settle

    rs = res.get(CLIP.preset, [])
    if not rs:
        return "not run"
    updates = fewest_updates(*rs)
    c = Claim("", "", "", *clip_rule(_finals(rs), updates), updates=updates, paper_updates=P100)
    return settle(c, ctx.budget).verdict


def _all_or_none(flags: list) -> bool | None:
    """Every seed's answer: None if any is None, else whether all say yes (one seed's "no" is a "no")."""
    if not flags or any(f is None for f in flags):
        return None
    return all(flags)


def _not_run_rows(ctx: Context) -> list[Claim]:
    svhn = ("no SVHN files here and gankit cannot download them, so this module has no SVHN rules (none could be "
            f"tested); the presets train with `gankit train dcgan-svhn data.root=DIR train.steps={P50}` "
            "(likewise fccgan-, wgangp-, sngan-svhn; wgan-clip-svhn 100 epochs), several CPU-hours each")
    rows = [
        ("1.3", "\"the same architecture performs well in MNIST may not be suitable for SVHN\""),
        ("3.1 (SVHN)", "\"[beta2 = 0.99999] makes the loss for generator converges instead of continuously moving upward "
                       "after 10 epochs\""),
        ("3.1, Figs. 3.4-3.5", "\"The result improved significantly from plain DCGAN model, both in quality of generated "
                               "images, loss and Inception Scores\" (FCC-GAN on SVHN)"),
        ("3.3, Fig. 3.10", "\"We try different values, and believe this little change can make our results become much "
                           "better\" (G's beta2 0.99 on SVHN)"),
        ("3.3, Fig. 3.11", "\"The results are also convincing\" (adjusted WGAN-GP on SVHN)"),
        ("3.4 (SVHN)", "\"the generator loss does not converge and keeps increasing, which is a potential problem\""),
        ("3.4 (SVHN)", "\"if we check the pictures generated, there is no obvious decay in the picture quality\""),
        ("4", "\"there is no global choice for best models. Optimal results depend on both the nature of data and "
              "model architecture\" (MNIST vs SVHN)"),
    ]
    out = [Claim(s, q, "SVHN not trained", "not run", svhn, departures=["SVHN unavailable"]) for s, q in rows]
    hours = lambda n, p, u: f"{n * u * PACE[p] / 3600:,.0f}"  # noqa: E731
    out += [
        Claim("1.3", "\"Adam ... is not performing well in WGAN-CLIP. In order to achieve acceptable performance, we may "
              "need to turn to Rmsprop\"", "not trained", "not run",
              f"WGAN-CLIP with Adam vs RMSprop, 3 seeds each at {P100:,} updates: about "
              f"{hours(6, CLIP.preset, P100)} CPU-hours (`gankit compare wgan-clip-mnist wgan-clip-mnist "
              "--set optim.g.name=adam ...`); the paper gives no Adam settings", paper_updates=P100),
        Claim("3.2", "\"It is hard for the generator to generate figures if the hyperparameters are not set properly\" "
              "(lr 1e-4/4e-4, Adam, ReLU tried)", "not trained", "not run",
              f"at least 3 WGAN-CLIP settings at {P100:,} updates: over {hours(3, CLIP.preset, P100)} CPU-hours",
              paper_updates=P100),
        Claim("3.3", "\"so it seems to be much easier to take control of the discriminator loss in the training steps. "
              "Actually, it does\" (WGAN-GP vs WGAN-CLIP)", "not trained", "not run",
              f"the spread of the critic's per-epoch wdist, WGAN-GP vs WGAN-CLIP at {P50:,} updates: about "
              f"{hours(1, CLIP.preset, P50)} CPU-hours for the WGAN-CLIP arm alone", paper_updates=P50),
        Claim("2.3; 4", "\"the Inception Score are not always consistent with the subjective evaluation for the quality "
              "of generated images\"", "no raters", "not run",
              "gankit has no human ratings to set the IS against (the IS and FID orderings in row 4's figure are "
              "no substitute)"),
    ]
    return out


# ------------------------------------------------------------------ figures
def _is_figure(ctx: Context, res: dict[str, list[RunResult]]) -> list[Path]:
    """The Inception Score panels of Figs. 3.1-3.12, in gankit's IS and FID: seed 0 of every run against updates."""
    runs = {k: rs[0] for k, rs in res.items() if rs}
    if not runs:
        return []
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for i, (name, r) in enumerate(runs.items()):
        for ax, key in zip(axes, ("is", "fid")):
            ax.plot(*r.curve(key, by="step"), color=f"C{i % 10}", linewidth=1.2, label=name)
    axes[0].set_ylabel("gankit IS")
    axes[1].set_ylabel("gankit FID")
    axes[1].set_yscale("log")
    for ax in axes:
        ax.set_xlabel("generator updates")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=6)
    fig.tight_layout()
    return [save_figure(fig, ctx.figure("is_fid_per_update.png"), dpi=80)]


def _wgangp_figure(ctx: Context, gp: list[RunResult], gp9: list[RunResult]) -> list[Path]:
    """Figs. 3.8-3.9's loss panels: G's loss per paper epoch, beta2 0.9 against 0.99999 (seed 0)."""
    if not gp or not gp9:
        return []
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for r, label in ((gp9[0], "G beta2 0.9 (Fig. 3.8)"), (gp[0], "G beta2 0.99999 (Fig. 3.9)")):
        ep = per_epoch(*_loss_curve(r, "g_loss"))
        ax.plot(list(ep), list(ep.values()), marker=".", label=label)
    ax.axvline(10, color="grey", linewidth=0.8)
    ax.set_xlabel(f"paper epoch ({PAPER_EPOCH:g} updates)")
    ax.set_ylabel("mean g_loss")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return [save_figure(fig, ctx.figure("wgangp_g_loss_beta2.png"), dpi=80)]


PAPER = Paper(
    name="digit-gans",
    title="digit-gans (DCGAN, FCC-GAN, WGAN-CLIP, WGAN-GP, SNGAN on MNIST and SVHN)",
    reproduces=f"sections 1.3-4 on MNIST at equal updates (paper {P50:,}; short {SHORT} each): SAT, FCC vs DCGAN, "
               "FCC-G, WGAN-GP beta2 0.9 vs 0.99999, SN time cost, label tricks",
    cpu_minutes={b: round(_cpu_min(b)) for b in ("paper", "short", "smoke")},
    run=run,
    runs=tuple(m.preset for m in (*MNIST, CLIP)),
)
