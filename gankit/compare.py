"""``gankit compare``: train several presets for the same budget and seed through the one
training loop, then write one side-by-side report (practical-gan-guide.txt section 4 is a
comparison of tricks against the conditional DCGAN baseline; this makes it one command).

``report.html`` (self-contained: images embedded) and ``report.md`` hold the final sample
grids side by side, the loss curves of every run on shared axes (``losses.png``) and one
metric table: IS, FID, KID, precision, recall, density, coverage, classes covered,
label agreement, images/s.
"""
from __future__ import annotations

import base64
import html
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from gankit.errors import GankitError
from gankit.io import atomic_write

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


@dataclass
class Entry:
    preset: str
    run_dir: Path
    metrics: dict = field(default_factory=dict)
    error: str | None = None
    grid: Path | None = None
    diff: list[str] = field(default_factory=list)  # config settings that differ from the first run


def compare(presets: list[str], budget: Budget, out: Path, *, seed: int = 0, overrides: list[str] | None = None,
            overwrite: bool = False, on_start: Callable[[str, int, int], None] | None = None,
            cache_dir: Path | None = None) -> list[Entry]:
    """Train every preset into ``out/<preset>`` with the same budget and seed, then write the report.

    A run that fails (e.g. diverges) is reported with its error; the others still run.
    """
    from gankit.catalogue import load_config
    from gankit.training.loop import train

    if not presets:
        raise GankitError("compare needs at least one preset")
    if len(set(presets)) != len(presets):
        raise GankitError("compare: a preset is named twice")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise GankitError(f"report directory {out} exists and is a file")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise GankitError(f"report directory {out} already exists; pass --overwrite to replace it")
    common = [*budget.overrides(), f"train.seed={seed}", *(overrides or [])]
    cfgs = [load_config(p, common) for p in presets]  # every config checked before any training
    out.mkdir(parents=True, exist_ok=True)
    warm_classifiers(cfgs, cache_dir)
    diffs = config_diffs([c.to_dict() for c in cfgs])
    entries = []
    for i, (preset, cfg) in enumerate(zip(presets, cfgs)):
        if on_start is not None:
            on_start(preset, i, len(presets))
        entry = Entry(preset, out / _slug(preset))
        cpu0 = time.process_time()
        try:
            result = train(cfg, entry.run_dir, overwrite=True, cache_dir=cache_dir)
            entry.metrics = {k: v for k, v in result.items() if k not in ("class_hist", "run_dir")}
        except GankitError as exc:
            entry.error = str(exc)
        entry.metrics["cpu_s"] = time.process_time() - cpu0
        grids = sorted((entry.run_dir / "samples").glob("step_*.png"))
        entry.grid = grids[-1] if grids else None
        entries.append(entry)
    for entry, diff in zip(entries, diffs):
        entry.diff = diff
    write_report(entries, out, budget, seed, common)
    return entries


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
    training time is in no row's CPU s or images/s. Returns the CPU seconds it took."""
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
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(preset).stem if preset.endswith((".yaml", ".yml")) else preset)


def _cell(entry: Entry, key: str, fmt: str) -> str:
    v = entry.metrics.get(key)
    if v is None or isinstance(v, bool):
        return "–"
    try:
        return fmt.format(int(round(v)) if fmt == "{:d}" else float(v))
    except (TypeError, ValueError):
        return str(v)


def metric_table(entries: list[Entry]) -> tuple[list[str], list[list[str]]]:
    header = ["preset", *(h for _, h, _ in COLUMNS)]
    rows = []
    for e in entries:
        row = [e.preset, *(_cell(e, k, f) for k, _, f in COLUMNS)]
        if e.error:
            row[1] = f"failed: {e.error}"
        rows.append(row)
    return header, rows


def plot_shared_losses(entries: list[Entry], png: Path) -> Path | None:
    """One panel per loss name, every run's (smoothed) curve in it; shared step and loss axes."""
    from gankit.report.curves import OUTPUT_AXIS, OUTPUT_LABELS, plt, read_losses, save_figure, smooth

    curves = {}
    for e in entries:
        path = e.run_dir / "losses.csv"
        if path.is_file():
            try:
                curves[e.preset] = read_losses(path)
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


def write_report(entries: list[Entry], out: Path, budget: Budget, seed: int, overrides: list[str]) -> tuple[Path, Path]:
    out = Path(out)
    curves = plot_shared_losses(entries, out / "losses.png")
    header, rows = metric_table(entries)
    atomic_write(out / "metrics.json", json.dumps(
        [{"preset": e.preset, "run_dir": str(e.run_dir), "error": e.error, **e.metrics} for e in entries], indent=1),
        what="report")
    title = f"gankit compare: {len(entries)} presets, budget {budget}, seed {seed}"

    md = [f"# {title}", "", f"Overrides for every run: `{' '.join(overrides)}`", "", "## Metrics", "",
          "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    md += ["| " + " | ".join(r) + " |" for r in rows]
    md += ["", f"## Config differences from {entries[0].preset if entries else '-'}", ""]
    md += [f"- **{e.preset}**: " + ("; ".join(f"`{d}`" for d in e.diff) if e.diff else "(none)") for e in entries[1:]]
    md += ["", "## Samples (last grid of each run)", ""]
    md += ["| " + " | ".join(e.preset for e in entries) + " |", "|" + "---|" * len(entries),
           "| " + " | ".join(f"![{e.preset}]({e.grid.relative_to(out).as_posix()})" if e.grid else "–"
                             for e in entries) + " |"]
    if curves is not None:
        md += ["", "## Losses (shared axes)", "", "![losses](losses.png)"]
    md_path = out / "report.md"
    atomic_write(md_path, "\n".join(md) + "\n", what="report")

    esc = html.escape
    cells = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in rows)
    figs = "".join(
        f'<figure><img src="{_data_uri(e.grid)}" alt="{esc(e.preset)}"><figcaption>{esc(e.preset)}</figcaption></figure>'
        if e.grid else f"<figure><figcaption>{esc(e.preset)}: no samples</figcaption></figure>"
        for e in entries)
    diff_html = "".join(f"<li><b>{esc(e.preset)}</b>: " + ("; ".join(f"<code>{esc(d)}</code>" for d in e.diff)
                        if e.diff else "(none)") + "</li>" for e in entries[1:])
    curve_html = f'<h2>Losses (shared axes)</h2><img src="{_data_uri(curves)}" alt="losses">' if curves else ""
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>{esc(title)}</title><style>
body{{font-family:sans-serif;margin:1.5em}} table{{border-collapse:collapse}}
td,th{{border:1px solid #bbb;padding:.3em .6em;text-align:right}} td:first-child{{text-align:left}}
.grids{{display:flex;flex-wrap:wrap;gap:1em}} figure{{margin:0;text-align:center}}
figure img{{width:280px;image-rendering:pixelated}}</style></head><body>
<h1>{esc(title)}</h1><p>Overrides for every run: <code>{esc(' '.join(overrides))}</code></p>
<h2>Metrics</h2><table><tr>{cells}</tr>{body}</table>
<h2>Config differences from {esc(entries[0].preset if entries else '-')}</h2><ul>{diff_html}</ul>
<h2>Samples (last grid of each run)</h2><div class="grids">{figs}</div>
{curve_html}</body></html>
"""
    html_path = out / "report.html"
    atomic_write(html_path, page, what="report")
    return html_path, md_path


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")
