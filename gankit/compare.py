"""``gankit compare``: train several presets for the same budget and seeds through the one
training loop, then write one side-by-side report (practical-gan-guide.txt section 4 is a
comparison of tricks against the conditional DCGAN baseline; this makes it one command).

An entry is a preset name (or YAML file) optionally followed by its own overrides,
``"gan-mnist-fast model.ema=0"``. With ``seeds=K`` every entry trains on K seeds and the report
gives mean and spread per metric, saying where two entries differ by less than their spread.
``jobs=N`` trains N runs at a time (:func:`run_jobs`, shared with ``gankit reproduce``).

``report.html`` (self-contained: images embedded) and ``report.md`` hold the final sample
grids side by side, the loss curves of every run on shared axes (``losses.png``) and one
metric table: IS, FID, KID, precision, recall, density, coverage, classes covered,
label agreement, images/s.
"""
from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from gankit.errors import GankitError
from gankit.io import atomic_write
from gankit.report.html import data_uri, document, esc, img, table

COLUMNS = [  # (metric key, table header, format)
    ("step", "steps", "{:d}"),
    ("is", "IS", "{:.2f}"),
    ("fid", "FID", "{:.1f}"),
    ("kid", "KID", "{:.3g}"),
    ("precision", "precision", "{:.3f}"),
    ("recall", "recall", "{:.3f}"),
    ("density", "density", "{:.3f}"),
    ("coverage", "coverage", "{:.3f}"),
    ("classes_covered", "classes covered", "{:d}"),
    ("label_agreement", "label agreement", "{:.3f}"),
    ("images_per_s", "images/s", "{:.0f}"),
    ("cpu_s", "CPU s", "{:.0f}"),
]
# metrics whose seed spread decides whether two entries differ (lower is better for fid, kid)
SPREAD_KEYS = ("is", "fid", "kid", "precision", "recall", "density", "coverage", "label_agreement")
# what a metrics row holds about the machine, not the result: left out when runs are compared
TIMING_KEYS = ("images_per_s", "cpu_s", "elapsed", "seconds", "wall_s", "s_per_step")


# ------------------------------------------------------------------ N runs at a time
@dataclass
class Job:
    """One training run: ``preset`` with ``overrides`` into ``run_dir``."""
    preset: str
    overrides: list[str]
    run_dir: Path
    resume: bool = False
    cache_dir: Path | None = None


def cpu_count() -> int:
    """The cores this process may use (its affinity mask, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def thread_share(jobs: int, overrides: list[str]) -> list[str]:
    """``train.threads`` for one of ``jobs`` runs at a time: its share of the cores, unless
    the user's overrides set it (they win). One job at a time keeps the config's own."""
    if jobs <= 1 or any(o.split("=", 1)[0].strip() == "train.threads" for o in overrides):
        return []
    return [f"train.threads={max(1, cpu_count() // jobs)}"]


def run_jobs(jobs: list[Job], n: int = 1, on_start: Callable[[Job], None] | None = None) -> list[tuple[str | None, float]]:
    """Train every job, ``n`` at a time; returns ``(error or None, CPU seconds)`` per job, in order.

    ``n`` = 1 trains in this process, one after the other. Otherwise each job is a
    subprocess (``python -c`` of :func:`_job_main`: the same ``load_config`` and ``train``),
    started as a slot frees; a run's result depends on its config only (its seed, and its
    ``train.threads``: pass the same threads to compare runs bit for bit), not on ``n``.
    """
    if n < 1:
        raise GankitError(f"--jobs must be >= 1, got {n}")
    if n == 1 or len(jobs) <= 1:
        out = []
        for job in jobs:
            if on_start is not None:
                on_start(job)
            out.append(_train_here(job))
        return out

    def one(job: Job) -> tuple[str | None, float]:
        if on_start is not None:
            on_start(job)
        return _train_subprocess(job)

    with ThreadPoolExecutor(max_workers=n) as pool:  # each thread waits on one subprocess
        return list(pool.map(one, jobs))


def _train_here(job: Job) -> tuple[str | None, float]:
    from gankit.catalogue import load_config
    from gankit.training.loop import train

    cpu0 = time.process_time()
    try:
        train(load_config(job.preset, job.overrides), job.run_dir, overwrite=not job.resume, resume=job.resume,
              cache_dir=job.cache_dir)
    except GankitError as exc:
        return str(exc), time.process_time() - cpu0
    return None, time.process_time() - cpu0


def _train_subprocess(job: Job) -> tuple[str | None, float]:
    with tempfile.TemporaryDirectory(prefix="gankit-job-") as tmp:
        result = Path(tmp) / "result.json"
        spec = json.dumps({"preset": job.preset, "overrides": list(job.overrides), "run_dir": str(job.run_dir),
                           "resume": job.resume, "cache_dir": str(job.cache_dir) if job.cache_dir else None,
                           "result": str(result)})
        threads = next((o.split("=", 1)[1] for o in job.overrides if o.startswith("train.threads=")), None)
        env = {**os.environ, **({"OMP_NUM_THREADS": threads} if threads and threads != "null" else {})}
        proc = subprocess.run([sys.executable, "-c", "import sys; from gankit.compare import _job_main; "
                               "sys.exit(_job_main(sys.argv[1]))", spec],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if result.is_file():
            got = json.loads(result.read_text())
            return got["error"], got["cpu_s"]
        lines = [l for l in proc.stderr.strip().splitlines() if l.strip()]
        return f"the run's process ended with code {proc.returncode}: {lines[-1] if lines else 'no message'}", 0.0


def _job_main(spec: str) -> int:
    """The body of one subprocess of :func:`run_jobs`: train, then write the error and CPU time."""
    job = json.loads(spec)
    err, cpu = _train_here(Job(job["preset"], job["overrides"], Path(job["run_dir"]), job["resume"],
                               Path(job["cache_dir"]) if job["cache_dir"] else None))
    atomic_write(Path(job["result"]), json.dumps({"error": err, "cpu_s": cpu}), what="job result")
    return 0


# ------------------------------------------------------------------ budget
@dataclass
class Budget:
    seconds: float | None = None
    steps: int | None = None

    def overrides(self) -> list[str]:
        if self.seconds is not None:  # the clock decides: steps only as a very high ceiling
            return [f"train.seconds={self.seconds}", "train.steps=100000000"]
        return [f"train.steps={self.steps}", "train.seconds=null"]

    def __str__(self) -> str:
        return f"{self.seconds:g} s" if self.seconds is not None else f"{self.steps} generator steps"


def parse_budget(text: str) -> Budget:
    """``300s``, ``5m``, ``1.5h``, ``300`` (seconds) or ``2000steps`` (generator steps)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|steps?)?\s*", str(text))
    if not m:
        raise GankitError(f"--budget must look like 300s, 5m, 1h or 2000steps, got '{text}'")
    value, unit = float(m.group(1)), (m.group(2) or "s")
    if value <= 0:
        raise GankitError(f"--budget must be > 0, got '{text}'")
    if unit.startswith("step"):
        if not value.is_integer():
            raise GankitError(f"--budget in steps must be a whole number, got '{text}'")
        return Budget(steps=int(value))
    scale = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}[unit]
    return Budget(seconds=value * scale)


# ------------------------------------------------------------------ compare
@dataclass
class Entry:
    preset: str  # the entry as given: a preset, optionally followed by its own overrides
    run_dir: Path
    metrics: dict = field(default_factory=dict)
    error: str | None = None
    grid: Path | None = None
    diff: list[str] = field(default_factory=list)  # config settings that differ from the first run
    seed: int = 0


def split_entry(entry: str) -> tuple[str, list[str]]:
    """``"PRESET k=v k=v"`` -> (``PRESET``, ``[k=v, k=v]``)."""
    parts = str(entry).split()
    if not parts:
        raise GankitError("compare: an entry is empty")
    bad = [p for p in parts[1:] if "=" not in p]
    if bad:
        raise GankitError(f"compare: '{bad[0]}' in entry '{entry}' is not a key=value override")
    return parts[0], parts[1:]


def compare(presets: list[str], budget: Budget, out: Path, *, seed: int = 0, seeds: int = 1, jobs: int = 1,
            overrides: list[str] | None = None, overwrite: bool = False,
            on_start: Callable[[str, int, int], None] | None = None, cache_dir: Path | None = None) -> list[Entry]:
    """Train every entry into ``out/<entry>`` (``out/<entry>-s<seed>`` with several seeds) with the
    same budget and seeds ``seed .. seed+seeds-1``, ``jobs`` runs at a time, then write the report.

    A run that fails (e.g. diverges) is reported with its error; the others still run.
    """
    from gankit.catalogue import load_config

    if not presets:
        raise GankitError("compare needs at least one preset")
    if len(set(presets)) != len(presets):
        raise GankitError("compare: a preset is named twice")
    if seeds < 1:
        raise GankitError(f"--seeds must be >= 1, got {seeds}")
    if jobs < 1:
        raise GankitError(f"--jobs must be >= 1, got {jobs}")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise GankitError(f"report directory {out} exists and is a file")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise GankitError(f"report directory {out} already exists; pass --overwrite to replace it")
    common = [*budget.overrides(), *(overrides or [])]
    plan = []  # (entry, preset, its overrides, seed)
    for text in presets:
        preset, own = split_entry(text)
        for s in range(seed, seed + seeds):
            plan.append((text, preset, [*common, *own, f"train.seed={s}"], s))
    cfgs = [load_config(p, over) for _, p, over, _ in plan]  # every config checked before any training
    out.mkdir(parents=True, exist_ok=True)
    warm_classifiers(cfgs, cache_dir)
    entries = [Entry(text, out / (_slug(text) if seeds == 1 else f"{_slug(text)}-s{s}"), seed=s)
               for text, _, _, s in plan]
    job_list = [Job(p, [*over, *thread_share(jobs, over)], e.run_dir, cache_dir=cache_dir)
                for (_, p, over, _), e in zip(plan, entries)]
    index = {id(j): i for i, j in enumerate(job_list)}

    def started(job: Job) -> None:
        if on_start is not None:
            i = index[id(job)]
            on_start(entries[i].preset + (f" (seed {entries[i].seed})" if seeds > 1 else ""), i, len(job_list))

    for entry, (error, cpu_s) in zip(entries, run_jobs(job_list, jobs, started)):
        entry.metrics = {k: v for k, v in final_row(entry.run_dir).items() if k not in ("class_hist", "run_dir")}
        entry.error = error
        entry.metrics["cpu_s"] = cpu_s
        grids = sorted((entry.run_dir / "samples").glob("step_*.png"))
        entry.grid = grids[-1] if grids else None
    for entry, diff in zip(entries, config_diffs([c.to_dict() for c in cfgs])):
        entry.diff = [d for d in diff if not d.startswith("train.seed:")]
    write_report(entries, out, budget, seed, common, seeds=seeds)
    return entries


def final_row(run_dir: Path) -> dict:
    """The last metrics row of a finished run (``{}`` when it has none)."""
    from gankit.training.logs import read_metrics

    try:
        rows = read_metrics(Path(run_dir) / "metrics.jsonl")
    except (ValueError, OSError):
        return {}
    return rows[-1] if rows else {}


def seed_stats(entries: list[Entry]) -> dict[str, dict[str, tuple[float, float, int]]]:
    """entry -> metric -> (mean, sample standard deviation, seeds) over its runs that did not fail."""
    by: dict[str, list[Entry]] = {}
    for e in entries:
        by.setdefault(e.preset, []).append(e)
    out = {}
    for name, es in by.items():
        stats = {}
        for key, _, _ in COLUMNS:
            vals = [float(e.metrics[key]) for e in es if not e.error and isinstance(e.metrics.get(key), (int, float))
                    and not isinstance(e.metrics.get(key), bool) and math.isfinite(float(e.metrics[key]))]
            if vals:
                sd = float(np.std(vals, ddof=1)) if len(vals) > 1 else 0.0
                stats[key] = (float(np.mean(vals)), sd, len(vals))
        out[name] = stats
    return out


def within_spread(a: tuple[float, float, int], b: tuple[float, float, int]) -> bool | None:
    """Whether two (mean, sd, n) differ by no more than the sum of their spreads (None: one seed,
    no spread to judge by)."""
    if a[2] < 2 or b[2] < 2:
        return None
    return abs(a[0] - b[0]) <= a[1] + b[1]


def spread_lines(entries: list[Entry]) -> list[str]:
    """For every pair of entries, the metrics whose means differ by less than the seeds' spread."""
    stats = seed_stats(entries)
    names = list(stats)
    lines = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            close = [key for key in SPREAD_KEYS if key in stats[a] and key in stats[b]
                     and within_spread(stats[a][key], stats[b][key])]
            if close:
                lines.append(f"{a} vs {b}: the difference in {', '.join(dict(((k, h) for k, h, _ in COLUMNS))[k] for k in close)}"
                             " is within the seeds' spread (|mean difference| <= sd + sd): not a difference these seeds can show")
    return lines


def _flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def config_diffs(dicts: list[dict]) -> list[list[str]]:
    """For every config (as ``Config.to_dict()``) the settings that differ from the first one,
    as ``key: first -> this`` strings (``preset`` ignored); the first gets an empty list."""
    if not dicts:
        return []
    base = _flatten(dicts[0])
    out = []
    for d in dicts:
        flat = _flatten(d)
        out.append([f"{k}: {base.get(k, '–')} -> {flat.get(k, '–')}" for k in sorted(set(base) | set(flat))
                    if k != "preset" and base.get(k) != flat.get(k)])
    return out


def warm_classifiers(cfgs, cache_dir: Path | None) -> float:
    """Load or train the metric classifier of every image dataset before the first run, so its
    training time is in no row's CPU s or images/s (and runs started side by side do not each
    train it). Returns the CPU seconds it took."""
    from gankit.data import load_dataset
    from gankit.metrics.classifier import default_cache_dir, get_classifier

    cpu0 = time.process_time()
    seen = set()
    for cfg in cfgs:
        key = repr(cfg.data)
        if key in seen:
            continue
        seen.add(key)
        data = load_dataset(cfg.data)
        if getattr(data, "digits", None) is not None:  # mnist-stacked: its channels' digit classifier
            data = data.digits
        if data.kind == "image" and data.y is not None:
            try:
                get_classifier(data, default_cache_dir() if cache_dir is None else cache_dir)
            except GankitError:
                pass  # the runs report it
    return time.process_time() - cpu0


def _slug(preset: str) -> str:
    if " " not in preset.strip() and preset.endswith((".yaml", ".yml")):
        preset = Path(preset).stem
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", preset.strip()).replace("=", "-")


def _cell(entry: Entry, key: str, fmt: str) -> str:
    v = entry.metrics.get(key)
    if v is None or isinstance(v, bool):
        return "–"
    try:
        return fmt.format(int(round(v)) if fmt == "{:d}" else float(v))
    except (TypeError, ValueError):
        return str(v)


def metric_table(entries: list[Entry]) -> tuple[list[str], list[list[str]]]:
    """One row per run (preset, with its seed when the entries have several)."""
    several = len({e.seed for e in entries}) > 1
    header = ["preset", *(["seed"] if several else []), *(h for _, h, _ in COLUMNS)]
    rows = []
    for e in entries:
        row = [e.preset, *([str(e.seed)] if several else []), *(_cell(e, k, f) for k, _, f in COLUMNS)]
        if e.error:
            row[2 if several else 1] = f"failed: {e.error}"
        rows.append(row)
    return header, rows


def mean_table(entries: list[Entry]) -> tuple[list[str], list[list[str]]]:
    """One row per entry: mean ± standard deviation over its seeds."""
    header = ["preset", "seeds", *(h for k, h, _ in COLUMNS if k != "step")]
    rows = []
    for name, stats in seed_stats(entries).items():
        n = max((s[2] for s in stats.values()), default=0)
        cells = []
        for key, _, fmt in COLUMNS:
            if key == "step":
                continue
            if key not in stats:
                cells.append("–")
                continue
            m, sd, _ = stats[key]
            f = "{:.2f}" if fmt == "{:d}" else fmt
            cells.append(f"{f.format(m)} ± {f.format(sd)}")
        rows.append([name, str(n), *cells])
    return header, rows


def plot_shared_losses(entries: list[Entry], png: Path) -> Path | None:
    """One panel per loss name, every run's (smoothed) curve in it; shared step and loss axes."""
    from gankit.report.curves import OUTPUT_AXIS, OUTPUT_LABELS, plt, read_losses, save_figure, smooth

    curves = {}
    several = len({e.seed for e in entries}) > 1
    for e in entries:
        path = e.run_dir / "losses.csv"
        if path.is_file():
            try:
                curves[e.preset + (f" s{e.seed}" if several else "")] = read_losses(path)
            except GankitError:
                continue
    names = sorted({n for _, cols in curves.values() for n in cols})
    names = [n for n in ("d_loss", "g_loss") if n in names] + [n for n in names if n not in ("d_loss", "g_loss")]
    if not names:
        return None
    fig, axes = plt.subplots(len(names), 1, figsize=(9, 2.8 * len(names)), sharex=True, squeeze=False)
    for ax, name in zip(axes[:, 0], names):
        for i, (preset, (steps, cols)) in enumerate(curves.items()):
            if name in cols and np.isfinite(cols[name]).any():
                ax.plot(steps, smooth(cols[name]), color=f"C{i % 10}", linewidth=1.5, label=preset)
        ax.set_ylabel(f"{name}\n{OUTPUT_AXIS}" if name in OUTPUT_LABELS else name)
        ax.grid(alpha=0.3)
    axes[0, 0].legend(loc="best", fontsize=8)
    axes[-1, 0].set_xlabel("generator step")
    fig.tight_layout()
    return save_figure(fig, png)


def write_report(entries: list[Entry], out: Path, budget: Budget, seed: int, overrides: list[str],
                 seeds: int = 1) -> tuple[Path, Path]:
    out = Path(out)
    curves = plot_shared_losses(entries, out / "losses.png")
    header, rows = metric_table(entries)
    atomic_write(out / "metrics.json", json.dumps(
        [{"preset": e.preset, "seed": e.seed, "run_dir": str(e.run_dir), "error": e.error, **e.metrics}
         for e in entries], indent=1), what="report")
    names = list(dict.fromkeys(e.preset for e in entries))
    seed_text = f"seed {seed}" if seeds == 1 else f"seeds {seed}-{seed + seeds - 1}"
    title = f"gankit compare: {len(names)} presets, budget {budget}, {seed_text}"
    firsts = [next(e for e in entries if e.preset == n) for n in names]
    spread = spread_lines(entries) if seeds > 1 else []
    mheader, mrows = mean_table(entries) if seeds > 1 else ([], [])

    md = [f"# {title}", "", f"Overrides for every run: `{' '.join(overrides)}`", ""]
    if seeds > 1:
        md += ["## Mean ± standard deviation over seeds", "", "| " + " | ".join(mheader) + " |",
               "|" + "---|" * len(mheader), *("| " + " | ".join(r) + " |" for r in mrows), ""]
        md += ["Differences within the seeds' spread:", ""] + ([f"- {l}" for l in spread] or ["- none"]) + [""]
    md += ["## Metrics" + (" of every run" if seeds > 1 else ""), "",
           "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    md += ["| " + " | ".join(r) + " |" for r in rows]
    md += ["", f"## Config differences from {names[0] if names else '-'}", ""]
    md += [f"- **{e.preset}**: " + ("; ".join(f"`{d}`" for d in e.diff) if e.diff else "(none)") for e in firsts[1:]]
    md += ["", "## Samples (last grid of each run" + (", first seed" if seeds > 1 else "") + ")", ""]
    md += ["| " + " | ".join(e.preset for e in firsts) + " |", "|" + "---|" * len(firsts),
           "| " + " | ".join(f"![{e.preset}]({e.grid.relative_to(out).as_posix()})" if e.grid else "–"
                             for e in firsts) + " |"]
    if curves is not None:
        md += ["", "## Losses (shared axes)", "", "![losses](losses.png)"]
    md_path = out / "report.md"
    atomic_write(md_path, "\n".join(md) + "\n", what="report")

    figs = "".join(f"<figure>{img(e.grid, e.preset)}<figcaption>{esc(e.preset)}"
                   f"{'' if e.grid else ': no samples'}</figcaption></figure>" for e in firsts)
    diff_html = "".join(f"<li><b>{esc(e.preset)}</b>: " + ("; ".join(f"<code>{esc(d)}</code>" for d in e.diff)
                        if e.diff else "(none)") + "</li>" for e in firsts[1:])
    body = f"<p>Overrides for every run: <code>{esc(' '.join(overrides))}</code></p>"
    if seeds > 1:
        body += ("<h2>Mean ± standard deviation over seeds</h2>" + table(mheader, mrows)
                 + "<p>Differences within the seeds' spread:</p><ul>"
                 + ("".join(f"<li>{esc(l)}</li>" for l in spread) or "<li>none</li>") + "</ul>")
    body += (f"<h2>Metrics{' of every run' if seeds > 1 else ''}</h2>" + table(header, rows)
             + f"<h2>Config differences from {esc(names[0] if names else '-')}</h2><ul>{diff_html}</ul>"
             + f'<h2>Samples (last grid of each run)</h2><div class="grids">{figs}</div>'
             + (f'<h2>Losses (shared axes)</h2><img class="wide" src="{data_uri(curves)}" alt="losses">' if curves else ""))
    style = ("td{text-align:right} td:first-child{text-align:left} .grids{display:flex;flex-wrap:wrap;gap:1em}"
             " figure{margin:0;text-align:center} figure img{width:280px;max-width:none} img.wide{max-width:900px}")
    html_path = out / "report.html"
    atomic_write(html_path, document(title, body, style), what="report")
    return html_path, md_path


__all__ = ["Budget", "Entry", "Job", "compare", "config_diffs", "mean_table", "metric_table", "parse_budget",
           "run_jobs", "seed_stats", "spread_lines", "thread_share", "warm_classifiers", "within_spread"]
