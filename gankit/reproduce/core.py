"""What every paper reproduction shares: verdicts and their rules, budgets in generator updates,
runs that are reused (N at a time), their records, and the report.

A paper module (``digit_gans.py``, ``dwgan.py``, ...) declares a :class:`Paper` whose
``run(ctx)`` trains what it needs through :meth:`Context.run` / :meth:`Context.runs` (the one
training loop) and returns one :class:`Claim` per statement of the paper. A claim is judged from
its runs' *records* only (``config.yaml``, ``metrics.jsonl``, ``losses.csv``, ``record/*`` that an
``after`` hook writes right after training, and the pictures the report shows), so that
``--report-only --from docs/reproductions`` rebuilds the same verdicts in a fresh clone.
:func:`settle` applies the rules every verdict obeys (smoke budget, updates, seeds, a rule that
cannot fail); :func:`write_report` turns the claims into ``report.md`` and ``report.html``.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from gankit.errors import GankitError
from gankit.io import atomic_write

BUDGETS = ("paper", "short", "smoke")
# reproduced: the measurement supports the claim and could have contradicted it; partly: a part
# holds, or only one seed supports it; not reproduced: the measurement contradicts it at the
# paper's updates; inconclusive: the budget, the seeds or the data do not allow a call (the why
# says which); not run: nothing was measured
VERDICTS = ("reproduced", "partly", "not reproduced", "inconclusive", "not run")
MIN_SEEDS = 3  # a comparison judged on fewer seeds gives at most "partly" (issue 30, item 4)
# keys that change where and how often a run is saved, not what it trains: a finished run that
# differs only in them is reused
PLACEMENT_KEYS = (("train", "threads"), ("train", "device"), ("train", "ckpt_every"), ("train", "keep_checkpoints"))
SMOKE = ("train.steps=3", "train.seconds=null", "train.epochs=null", "train.eval_samples=200",
         "train.eval_every=0", "train.eval_every_epochs=0", "train.sample_every=3", "train.ckpt_every=3",
         "train.tensorboard=false")
RECORD_FILES = ("config.yaml", "metrics.jsonl", "losses.csv")  # plus record/ and the report's pictures
RECORD_DIR = "record"  # what a run's ``after`` hook writes: evaluations that need the model


# ------------------------------------------------------------------ verdicts
@dataclass(frozen=True)
class Verdict:
    """A rule's answer: one of :data:`VERDICTS` and one line saying why. Unpacks as
    ``verdict, why`` (``Claim(section, said, result, *v)``)."""
    verdict: str
    why: str

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")

    def __iter__(self):
        return iter((self.verdict, self.why))


@dataclass
class Claim:
    """One row of a report: a paper statement, gankit's measurement, the budget it had, the
    ways gankit's runs depart from the paper, and a verdict (see :func:`settle`)."""
    section: str  # "3.1, Fig. 3.1"
    claim: str  # the paper's statement, in a few words (quoted where it can be)
    result: str  # what gankit measured (numbers)
    verdict: str  # one of VERDICTS
    why: str  # one line
    images: list[Path] = field(default_factory=list)
    updates: int | None = None  # generator updates of the runs the verdict rests on (the fewest)
    paper_updates: int | None = None  # the paper's (or its released code's) generator updates
    departures: list[str] = field(default_factory=list)  # dataset substitution, conditioning, augmentation, ...
    seeds: int | None = None  # seeds per compared configuration (None: not a comparison across seeds)
    falsifiable: bool = True  # False: no measurement could contradict the claim (e.g. true by construction)

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")


def settle(claim: Claim, budget: str) -> Claim:
    """The rules every verdict obeys, applied once for all papers (``reproduce`` calls it on every
    row): a claim no measurement can contradict is at most "partly"; a comparison on fewer than
    :data:`MIN_SEEDS` seeds is at most "partly" and never "not reproduced"; a negative verdict
    needs the paper's generator updates; a smoke run decides nothing."""
    v, why = claim.verdict, claim.why
    if v == "not run":
        return claim
    if v == "reproduced" and not claim.falsifiable:
        v, why = "partly", f"{why}; the measurement cannot contradict this claim"
    if claim.seeds is not None and claim.seeds < MIN_SEEDS and v in ("reproduced", "not reproduced"):
        v, why = ("partly" if v == "reproduced" else "inconclusive",
                  f"seeds: {claim.seeds} seed{'s' if claim.seeds > 1 else ''}, a call needs {MIN_SEEDS} "
                  f"(the rule said {v}: {why})")
    short = budget_check(claim.updates, claim.paper_updates)
    if v == "not reproduced" and short is not None:
        v, why = short.verdict, f"{short.why} (the rule said not reproduced: {why})"
    if budget == "smoke" and v in ("reproduced", "partly", "not reproduced"):
        v, why = "inconclusive", f"budget: a smoke run checks the pipeline only (the rule said {v}: {why})"
    return replace(claim, verdict=v, why=why)


def budget_check(updates: int | None, paper_updates: int | None) -> Verdict | None:
    """``inconclusive`` when the runs had fewer generator updates than the paper's (a negative
    verdict needs at least those); None when the budget allows a call or the paper gives none."""
    if paper_updates is None:
        return None
    if updates is None or updates < paper_updates:
        return Verdict("inconclusive", f"budget: {_n(updates)} of the paper's {_n(paper_updates)} generator updates")
    return None


def compare_metrics(a: float, b: float, margin: float, *, higher: bool = True, what: str = "",
                    names: tuple[str, str] = ("A", "B")) -> Verdict:
    """The claim "A is better than B" on one measurement each: better by at least ``margin``
    (the smallest difference that counts) is reproduced, better by less is partly, equal or
    worse is not reproduced. ``higher``: whether a larger value is better."""
    if margin <= 0:
        raise ValueError("margin must be > 0 (a rule with no margin cannot tell noise from a result)")
    d = (a - b) if higher else (b - a)
    text = f"{what + ' ' if what else ''}{names[0]} {a:.3g} vs {names[1]} {b:.3g}"
    if d >= margin:
        return Verdict("reproduced", f"{text}: better by {abs(a - b):.3g} (margin {margin:g})")
    if d > 0:
        return Verdict("partly", f"{text}: better by {abs(a - b):.3g}, less than the margin {margin:g}")
    return Verdict("not reproduced", f"{text}: {names[0]} is not better")


def compare_seeds(a: list[float], b: list[float], *, higher: bool = True, what: str = "",
                  names: tuple[str, str] = ("A", "B")) -> Verdict:
    """The claim "A is better than B" over seeds: the means differ by more than the spread
    (the sum of the two sample standard deviations) in the claimed direction: reproduced; in
    the claimed direction but within the spread: partly; against it: not reproduced (by more
    than the spread or within it: the claim is not supported). One seed on either side has no
    spread: partly if A is better, else inconclusive. :func:`settle` also caps a claim with
    ``seeds`` < :data:`MIN_SEEDS`."""
    import numpy as np

    if not a or not b:
        raise ValueError("compare_seeds needs at least one value per side")
    ma, mb = float(np.mean(a)), float(np.mean(b))
    sa = float(np.std(a, ddof=1)) if len(a) > 1 else 0.0
    sb = float(np.std(b, ddof=1)) if len(b) > 1 else 0.0
    d = (ma - mb) if higher else (mb - ma)
    text = (f"{what + ' ' if what else ''}{names[0]} {ma:.3g} ± {sa:.2g} ({len(a)} seeds) vs "
            f"{names[1]} {mb:.3g} ± {sb:.2g} ({len(b)} seeds)")
    if min(len(a), len(b)) < 2:
        return (Verdict("partly", f"{text}: better, but one seed has no spread to judge by") if d > 0 else
                Verdict("inconclusive", f"seeds: {text}: one seed has no spread to judge by"))
    spread = sa + sb
    if d > spread:
        return Verdict("reproduced", f"{text}: better by more than the spread {spread:.2g}")
    if d > 0:
        return Verdict("partly", f"{text}: better, but within the spread {spread:.2g}")
    return Verdict("not reproduced", f"{text}: {names[0]} is not better")


def verdict(reproduced: bool, partly: bool = False) -> str:
    return "reproduced" if reproduced else "partly" if partly else "not reproduced"


def _n(x) -> str:
    return "?" if x is None else f"{int(x):,}"


# ------------------------------------------------------------------ grids that end inside
@dataclass
class Grid:
    """A one-dimensional search (a learning-rate scale, say): every value tried, its result and
    score, the best value, and whether the best lies inside the grid."""
    what: str
    points: list[tuple[float, object, float]]  # (value, result, score), by value
    best: float | None
    interior: bool
    limit: int

    def results(self) -> list[tuple[float, object]]:
        return [(v, r) for v, r, _ in self.points]

    def best_result(self):
        return next((r for v, r, _ in self.points if v == self.best), None)

    def text(self) -> str:
        """E.g. "best lr x2, interior of x0.25..x8" or "best lr x4 at the upper edge of x0.25..x4
        (the grid stopped at its limit of 5 points)"."""
        if self.best is None:
            return f"no {self.what} of the grid has a result"
        vals = [v for v, _, _ in self.points]
        if len(vals) == 1:
            return f"{self.what} x{vals[0]:g} only (a grid of one point has no inside)"
        span = f"x{vals[0]:g}..x{vals[-1]:g}"
        if self.interior:
            return f"best {self.what} x{self.best:g}, interior of {span}"
        edge = "upper" if self.best == vals[-1] else "lower"
        return (f"best {self.what} x{self.best:g} at the {edge} edge of {span} "
                f"(the grid stopped at {len(vals)} point{'s' if len(vals) > 1 else ''}, its limit {self.limit})")


def extend_grid(values: list[float], run_at: Callable[[list[float]], list], score: Callable[[object], float], *,
                what: str = "lr", factor: float = 2.0, limit: int = 9, lower: bool = True) -> Grid:
    """Run ``values``, then add ``value * factor`` above (or ``/ factor`` below) the grid while its
    best point sits at an edge, until the best is interior or the grid has ``limit`` points.

    ``run_at(values)`` returns one result per value (None where there is none, e.g. a record
    missing under ``--report-only``: the grid ends there); ``score(result)`` is lower-is-better
    unless ``lower`` is False. The best value is interior when some value with the best score
    has grid values on both sides. Deterministic in the scores, so a report rebuilt from the
    records retraces the same grid.
    """
    vals = sorted(set(values))
    res = dict(zip(vals, run_at(vals)))
    sign = 1.0 if lower else -1.0
    while True:
        scored = [(v, sign * score(res[v])) for v in vals if res[v] is not None]
        if not scored:
            return Grid(what, [], None, False, limit)
        top = min(s for _, s in scored)
        best = [v for v, s in scored if s == top]
        inside = [v for v in best if vals[0] < v < vals[-1]]
        if inside or len(vals) >= limit:
            break
        new = vals[-1] * factor if vals[-1] in best else vals[0] / factor
        got = run_at([new])[0]
        if got is None:
            break
        vals = sorted([*vals, new])
        res[new] = got
    pick = inside[0] if inside else best[0]
    return Grid(what, [(v, res[v], score(res[v])) for v in vals if res[v] is not None], pick, bool(inside), limit)


# ------------------------------------------------------------------ runs
@dataclass
class RunResult:
    """A finished run: its directory (a run, or its exported record), every metrics row, and the final row."""
    dir: Path
    rows: list[dict]
    reused: bool

    @property
    def final(self) -> dict:
        return self.rows[-1] if self.rows else {}

    @property
    def updates(self) -> int | None:
        """Generator updates the run had: the last step of its metrics rows (else of ``losses.csv``)."""
        return read_updates(self.dir, self.rows)

    @property
    def record(self) -> Path:
        """``record/``: the files its ``after`` hook wrote (evaluations that needed the model)."""
        return self.dir / RECORD_DIR

    def curve(self, key: str, by: str = "epoch") -> tuple[list[float], list[float]]:
        """(x, value) of ``key`` over the rows that have both (``by`` is 'epoch' or 'step')."""
        pts = {}
        for r in self.rows:
            if key in r and by in r and r[key] is not None and math.isfinite(float(r[key])):
                pts[float(r[by])] = float(r[key])
        xs = sorted(pts)
        return xs, [pts[x] for x in xs]

    def grid(self, step: int | None = None) -> Path | None:
        """The sample grid at ``step`` (the last one when None)."""
        grids = sorted((self.dir / "samples").glob("step_*.png"))
        if step is None:
            return grids[-1] if grids else None
        path = self.dir / "samples" / f"step_{step:06d}.png"
        return path if path.is_file() else None


def read_updates(run_dir: Path, rows: list[dict] | None = None) -> int | None:
    """The generator updates of a run, from its records: the largest ``step`` of ``metrics.jsonl``
    (every row carries the generator step), else the last row of ``losses.csv``."""
    from gankit.training.logs import read_metrics

    rows = read_metrics(Path(run_dir) / "metrics.jsonl") if rows is None else rows
    steps = [int(r["step"]) for r in rows if isinstance(r.get("step"), (int, float))]
    if steps:
        return max(steps)
    path = Path(run_dir) / "losses.csv"
    if path.is_file():
        lines = [l for l in path.read_text().splitlines()[1:] if l.strip()]
        if lines:
            return int(float(lines[-1].split(",")[0]))
    return None


def fewest_updates(*runs: RunResult | None) -> int | None:
    """The fewest generator updates among ``runs`` (what a verdict resting on all of them had)."""
    ups = [r.updates for r in runs if r is not None]
    return None if not ups or any(u is None for u in ups) else min(ups)


@dataclass
class RunSpec:
    """What :meth:`Context.runs` trains: ``preset`` with ``overrides`` into ``<name>-s<seed>``.
    ``after(result)``, called right after training (and for a reused run without a record),
    writes what needs the model into ``result.record`` (``record/*.json``, ``*.png``)."""
    name: str
    preset: str
    overrides: tuple[str, ...] | list[str] = ()
    seed: int = 0
    optional: bool = False
    after: Callable[[RunResult], None] | None = None


@dataclass(frozen=True)
class Paper:
    """One paper's reproduction: ``run(ctx)`` returns its claims and the report's notes."""
    name: str
    title: str
    reproduces: str  # one line for ``gankit reproduce --list``
    cpu_minutes: dict  # budget -> estimated CPU-minutes on the 2-core reference machine
    run: Callable[["Context"], tuple[list[Claim], list[str]]]
    runs: tuple[str, ...] = ()  # the presets it may train (what --only chooses from)


@dataclass
class Context:
    """Where a reproduction writes, at which budget, how many runs at a time, and where its
    records come from under ``--report-only --from``."""
    out: Path
    budget: str
    seeds: int
    retrain: bool = False
    progress: Callable[[str], None] = lambda msg: None
    cache_dir: Path | None = None
    extra: list[str] = field(default_factory=list)  # user overrides for every run (e.g. train.threads=1)
    data_root: Path | None = None  # where optional datasets (SVHN) live
    only: frozenset[str] | None = None  # train only these presets (None: all)
    report_only: bool = False  # never train: report the runs that are there, finished or not
    trained_s: float = 0.0  # CPU seconds of training this invocation did itself
    unfinished: list[str] = field(default_factory=list)  # --report-only runs short of their budget, with what is left
    jobs: int = 1  # runs trained at a time
    records: Path | None = None  # --from: read the runs from RECORDS/<paper>/runs/ (report-only)
    paper: str = ""
    used: dict[str, RunResult] = field(default_factory=dict)  # every run a claim may rest on, by directory name

    def wants(self, preset: str) -> bool:
        return self.only is None or preset in self.only

    @property
    def smoke(self) -> bool:
        return self.budget == "smoke"

    def figure(self, name: str) -> Path:
        path = self.out / "figures" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def run(self, name: str, preset: str, overrides: list[str] | tuple[str, ...] = (), seed: int = 0,
            optional: bool = False, after: Callable[[RunResult], None] | None = None) -> RunResult | None:
        """One run (see :meth:`runs`)."""
        return self.runs([RunSpec(name, preset, overrides, seed, optional, after)])[0]

    def runs(self, specs: list[RunSpec]) -> list[RunResult | None]:
        """Train every spec into ``out/<name>-s<seed>`` unless a finished run of the same config is
        there, ``jobs`` at a time; one result per spec, in order.

        A run is reused when its ``config.yaml`` equals the config asked for (ignoring
        :data:`PLACEMENT_KEYS`) and its last metrics row is the final one. An interrupted run of
        the same config is resumed from its last checkpoint. Under ``report_only`` nothing
        trains: the run (from ``records`` when set) is reported as it stands; a missing one is
        None if ``optional``, else an error.
        """
        from gankit.catalogue import load_config
        from gankit.compare import Job, run_jobs, thread_share, warm_classifiers
        from gankit.training.logs import read_metrics

        results: list[RunResult | None] = [None] * len(specs)
        todo = []  # (index, spec, cfg, job)
        for i, s in enumerate(specs):
            over = [*s.overrides, *(SMOKE if self.smoke else ()), *self.extra, f"train.seed={s.seed}"]
            cfg = load_config(s.preset, over)
            run_dir = self.run_dir(s.name, s.seed)
            same = run_dir.is_dir() and _same_config(run_dir, cfg)
            if self.report_only:
                rows = read_metrics(run_dir / "metrics.jsonl") if same else []
                if rows:
                    self.progress(f"reporting {run_dir} as it stands (step {rows[-1].get('step')})")
                    if not is_finished(run_dir):
                        self.unfinished.append(what_is_left(run_dir, cfg, rows))
                    results[i] = self.used[run_dir.name] = RunResult(run_dir, rows, reused=True)
                elif not s.optional:
                    raise GankitError(f"--report-only: no run of this config with metrics at {run_dir}")
                continue
            if same and not self.retrain and is_finished(run_dir):
                self.progress(f"reusing {run_dir}")
                r = RunResult(run_dir, read_metrics(run_dir / "metrics.jsonl"), reused=True)
                if s.after is not None and not r.record.is_dir():
                    write_record(s.after, r)  # a run trained before its paper had the hook
                results[i] = self.used[run_dir.name] = r
                continue
            resume = same and not self.retrain and _has_checkpoint(run_dir)
            todo.append((i, s, cfg, Job(s.preset, [*over, *thread_share(self.jobs, over)], run_dir, resume,
                                        self.cache_dir)))
        if not todo:
            return results
        if self.jobs > 1 and len(todo) > 1:
            warm_classifiers([cfg for _, _, cfg, _ in todo], self.cache_dir)  # trained once, not by each job

        def started(job: Job) -> None:
            s = next(s for _, s, _, j in todo if j is job)
            self.progress(f"{'resuming' if job.resume else 'training'} {s.preset} (seed {s.seed}) -> {job.run_dir}")

        done = run_jobs([j for _, _, _, j in todo], self.jobs, started)
        errors = []
        for (i, s, _, job), (error, cpu_s) in zip(todo, done):
            self.trained_s += cpu_s
            if error is not None:
                errors.append(f"{job.run_dir.name}: {error}")
                continue
            r = RunResult(job.run_dir, read_metrics(job.run_dir / "metrics.jsonl"), reused=False)
            if s.after is not None:
                write_record(s.after, r)
            results[i] = self.used[job.run_dir.name] = r
        if errors:
            raise GankitError(errors[0] if len(errors) == 1 else f"{len(errors)} runs failed; first {errors[0]}")
        return results

    def run_dir(self, name: str, seed: int) -> Path:
        """``out/<name>-s<seed>``, or the exported record of that run under ``--from``."""
        base = self.records / self.paper / "runs" if self.records is not None else self.out
        return base / f"{name}-s{seed}"


def write_record(after: Callable[[RunResult], None], r: RunResult) -> None:
    """Run an ``after`` hook into ``record.tmp/`` and rename it to ``record/``: a record is whole or absent."""
    tmp = r.dir / (RECORD_DIR + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    after(_Staging(r, tmp))
    shutil.rmtree(r.record, ignore_errors=True)
    os.replace(tmp, r.record)


class _Staging(RunResult):
    """The run as its ``after`` hook sees it: ``record`` is the staging directory."""

    def __init__(self, r: RunResult, tmp: Path):
        super().__init__(r.dir, r.rows, r.reused)
        self._tmp = tmp

    @property
    def record(self) -> Path:
        return self._tmp


def is_finished(run_dir: Path) -> bool:
    """The loop's last act is the final metrics row (``training.logs.is_final_row``)."""
    from gankit.training.logs import is_final_row, read_metrics

    try:
        rows = read_metrics(Path(run_dir) / "metrics.jsonl")
    except (ValueError, OSError):
        return False
    return bool(rows) and is_final_row(rows[-1])


def what_is_left(run_dir: Path, cfg, rows: list[dict]) -> str:
    """One phrase for a run stopped short of its budget: its step, the budget's last step, and
    the time the rest needs at the pace its latest checkpoint measured (seconds per step)."""
    from gankit.training.checkpoint import Checkpoints

    t = cfg.train
    step = int(rows[-1].get("step", 0))
    target = t.steps
    per_epoch = [r["step"] / r["epoch"] for r in rows if r.get("epoch") and "is" in r]
    # evaluation rows carry the epochs completed; step / epochs is exact at an epoch's end and
    # larger anywhere else, so the smallest is the best estimate of the steps per epoch
    if t.epochs is not None and per_epoch:
        target = min(target, round(t.epochs * min(per_epoch)))
    text = f"{Path(run_dir).name} stopped at step {step} of {target}"
    state = Checkpoints(Path(run_dir) / "checkpoints").load_latest()
    if not (state and state.get("elapsed") and state["step"] > 0 and target > step):
        return text
    if t.seconds is not None:  # a time budget: what is left is time, whatever the steps
        return text + f"; {max(t.seconds - state['elapsed'], 0) / 60:.0f} of its {t.seconds / 60:.0f} minutes left"
    from gankit.training.run import read_run_config

    try:  # the pace is the run's own, at the threads it ran with
        n = read_run_config(run_dir).train.threads
    except GankitError:
        n = t.threads
    pace = state["elapsed"] / state["step"]
    threads = "all threads" if not n else f"{n} thread{'s' if n > 1 else ''}"
    return text + (f"; the remaining {target - step} steps need about {(target - step) * pace / 3600:.1f} hours "
                   f"at its measured {pace:.2f} s per step ({threads})")


def _has_checkpoint(run_dir: Path) -> bool:
    return any((Path(run_dir) / "checkpoints").glob("step_*.pt"))


def _comparable(d: dict) -> dict:
    d = json.loads(json.dumps(d))
    for section, key in PLACEMENT_KEYS:
        d.get(section, {}).pop(key, None)
    return d


def _same_config(run_dir: Path, cfg) -> bool:
    from gankit.training.run import read_run_config

    try:
        have = read_run_config(run_dir)
    except GankitError:
        return False
    return _comparable(have.to_dict()) == _comparable(cfg.to_dict())


# ------------------------------------------------------------------ metric text
def fmt_metrics(row: dict, keys=("is", "fid", "classes_covered")) -> str:
    names = {"is": "IS", "fid": "FID", "classes_covered": "classes", "label_agreement": "label agreement",
             "binary_fraction": "binary fraction", "min_class_share": "smallest class"}
    parts = []
    for k in keys:
        v = row.get(k)
        if v is None:
            continue
        if k == "min_class_share":
            parts.append(f"{names[k]} {100 * v:.1f}%")
        elif isinstance(v, float):
            parts.append(f"{names.get(k, k)} {v:.3g}" if abs(v) < 100 else f"{names.get(k, k)} {v:.0f}")
        else:
            parts.append(f"{names.get(k, k)} {v}")
    return ", ".join(parts)


def min_class_share(row: dict) -> float | None:
    hist = row.get("class_hist")
    return min(hist) if hist else None


# ------------------------------------------------------------------ report
@dataclass
class Report:
    paper: str
    title: str
    budget: str
    claims: list[Claim]
    notes: list[str] = field(default_factory=list)  # paragraphs under the table
    command: str = ""
    trained_cpu_s: float = 0.0
    runs: dict[str, Path] = field(default_factory=dict)  # the runs whose records the report rests on


def budget_cell(c: Claim) -> str:
    """The row's budget: its runs' generator updates against the paper's, and the seeds."""
    if c.updates is None and c.paper_updates is None:
        text = "–"
    else:
        text = f"{_n(c.updates)} / {_n(c.paper_updates)}"
    if c.seeds is not None:
        text += f"; {c.seeds} seed{'s' if c.seeds != 1 else ''}"
    return text


def write_report(report: Report, out: Path) -> tuple[Path, Path]:
    """``report.md`` (images linked), ``report.html`` (images embedded) and ``records.json`` (the
    runs and pictures ``export_report`` copies) under ``out``."""
    from gankit.report.html import Markup, document, esc, img, table

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    lead = (f"Budget **{report.budget}**; written {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
            f" by `{report.command}`." if report.command else f"Budget **{report.budget}**.")
    counts = {v: sum(c.verdict == v for c in report.claims) for v in VERDICTS}
    tally = "Verdicts: " + ", ".join(f"{n} {v}" for v, n in counts.items() if n)
    legend = ("Updates: the generator updates of the runs a verdict rests on (the fewest) / the paper's "
              "(or its released code's); a negative verdict needs the paper's. Departures: where gankit's runs "
              "differ from the paper in a way the verdict depends on.")
    md = [f"# Reproducing {report.title}", "", lead, "", tally, "", legend, "",
          "| section | the paper says | gankit measured | updates / paper's | departures | verdict | why |",
          "|---|---|---|---|---|---|---|"]
    for c in report.claims:
        imgs = " ".join(f"![]({_rel(p, out)})" for p in c.images)
        md.append(f"| {c.section} | {_md(c.claim)} | {_md(c.result)}{'<br>' + imgs if imgs else ''} | "
                  f"{budget_cell(c)} | {_md('; '.join(c.departures)) or '–'} | **{c.verdict}** | {_md(c.why)} |")
    if report.notes:
        md += ["", "## Notes", ""]
        for n in report.notes:
            md += [n, ""]
    atomic_write(out / "report.md", "\n".join(md).rstrip() + "\n", what="report")

    rows = [[c.section, c.claim, Markup(esc(c.result) + "<br>" + "".join(img(p) for p in c.images)),
             budget_cell(c), "; ".join(c.departures) or "–", c.verdict, c.why] for c in report.claims]
    body = (f"<p>{esc(lead.replace('**', '').replace('`', ''))}</p><p>{esc(tally)}</p><p>{esc(legend)}</p>"
            + table(["section", "the paper says", "gankit measured", "updates / paper's", "departures", "verdict", "why"],
                    rows, lambda i, j: "v " + report.claims[i].verdict.replace(" ", "-") if j == 5 else None)
            + ("<h2>Notes</h2>" + "".join(f"<p>{esc(n)}</p>" for n in report.notes) if report.notes else ""))
    style = (".reproduced{background:#d9f2d9} .partly{background:#fff3c4} .not-reproduced{background:#f8d0d0}"
             " .inconclusive{background:#dde6f8} .not-run{background:#eee}")
    atomic_write(out / "report.html", document(f"Reproducing {report.title}", body, style), what="report")

    images = {}
    for c in report.claims:
        for p in c.images:
            run = next((name for name, d in report.runs.items() if _inside(p, d)), None)
            images[_rel(p, out)] = {"src": str(Path(p).resolve()), "run": run,
                                    "path": Path(p).resolve().relative_to(Path(report.runs[run]).resolve()).as_posix()
                                    if run else Path(p).name}
    atomic_write(out / "records.json", json.dumps({"paper": report.paper, "runs": {k: str(Path(v).resolve())
                 for k, v in report.runs.items()}, "images": images}, indent=1), what="report")
    return out / "report.md", out / "report.html"


def export_report(out: Path, docs_dir: Path, paper: str) -> Path:
    """Copy ``out/report.md`` to ``docs_dir/<paper>.md``, each run's record (:data:`RECORD_FILES`,
    ``record/`` and the pictures the report shows; no checkpoints) to
    ``docs_dir/<paper>/runs/<run>/`` and the other figures to ``docs_dir/<paper>/``.
    ``gankit reproduce PAPER --report-only --from docs_dir`` rebuilds the report from these."""
    out, docs_dir = Path(out), Path(docs_dir)
    text = (out / "report.md").read_text()
    target = docs_dir / paper
    target.mkdir(parents=True, exist_ok=True)
    manifest = json.loads((out / "records.json").read_text()) if (out / "records.json").is_file() else {}
    for name, src in manifest.get("runs", {}).items():
        dst = target / "runs" / name
        if Path(src).resolve() == dst.resolve():
            continue  # a report rebuilt from these very records
        dst.mkdir(parents=True, exist_ok=True)
        for f in RECORD_FILES:
            if (Path(src) / f).is_file():
                shutil.copyfile(Path(src) / f, dst / f)
        if (Path(src) / RECORD_DIR).is_dir():
            shutil.rmtree(dst / RECORD_DIR, ignore_errors=True)
            shutil.copytree(Path(src) / RECORD_DIR, dst / RECORD_DIR)
    import re

    images = manifest.get("images", {})

    def move(m: re.Match) -> str:
        link = m.group(1)
        info = images.get(link)
        if info and info["run"]:
            rel = f"runs/{info['run']}/{info['path']}"
            src = Path(info["src"])
        else:
            rel = link.replace("/", "_").replace("..", "").lstrip("_").removeprefix("figures_")
            src = Path(info["src"]) if info else out / link
        dst = target / rel
        if src.is_file() and src.resolve() != dst.resolve():
            dst.parent.mkdir(parents=True, exist_ok=True)
            _small_png(src, dst)
        return f"![]({paper}/{rel})"

    text = re.sub(r"!\[\]\(([^)]+)\)", move, text)
    atomic_write(docs_dir / f"{paper}.md", text, what="report")
    return docs_dir / f"{paper}.md"


def _small_png(src: Path, dst: Path, max_side: int = 800, colours: int = 64) -> None:
    """Copy a PNG for the repository's docs: at most ``max_side`` pixels and ``colours`` colours."""
    from PIL import Image

    try:
        img = Image.open(src)
        img.load()
    except OSError:  # not a picture PIL reads: copy as is
        shutil.copyfile(src, dst)
        return
    if max(img.size) > max_side:
        scale = max_side / max(img.size)
        img = img.resize((round(img.width * scale), round(img.height * scale)), Image.LANCZOS)
    img = img.convert("RGB").quantize(colours)
    atomic_write(dst, lambda fh: img.save(fh, format="PNG", optimize=True), what="image")


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _inside(path: Path, folder: Path) -> bool:
    try:
        Path(path).resolve().relative_to(Path(folder).resolve())
        return True
    except ValueError:
        return False


def _rel(path: Path, out: Path) -> str:
    return Path(os.path.relpath(Path(path).resolve(), Path(out).resolve())).as_posix()
