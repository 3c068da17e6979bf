"""Training curves as PNG: losses over steps (digit-gans.txt section 3 loss plots) and metrics over steps."""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display; must precede the pyplot import
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from gankit.errors import GankitError  # noqa: E402
from gankit.io import atomic_write  # noqa: E402


def smooth(values, weight: float | None = None) -> np.ndarray:
    """Debiased exponential moving average that skips NaNs (TensorBoard-style smoothing).

    Default ``weight`` grows with the series length so long runs are readable
    and short ones are not flattened.
    """
    v = np.asarray(values, dtype=np.float64)
    if weight is None:
        weight = float(np.clip(1.0 - 10.0 / max(len(v), 1), 0.0, 0.95))
    out = np.full_like(v, np.nan)
    acc, norm = 0.0, 0.0
    for i, x in enumerate(v):
        if math.isfinite(x):
            acc = weight * acc + (1 - weight) * x
            norm = weight * norm + (1 - weight)
        if norm > 0:
            out[i] = acc / norm
    return out


def _float(cell: str) -> float:
    try:
        return float(cell)
    except (TypeError, ValueError):
        return math.nan


def read_losses(csv_path: str | Path) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """``losses.csv`` (header ``step,<loss>,...``) -> steps and one array per loss (NaN where blank)."""
    path = Path(csv_path)
    try:
        with open(path, newline="") as fh:
            rows = list(csv.reader(fh))
    except OSError as exc:
        raise GankitError(f"cannot read loss log {path}: {exc.strerror or exc}") from None
    if not rows or not rows[0] or rows[0][0] != "step":
        raise GankitError(f"{path} is not a loss log: the header must start with 'step'")
    names = rows[0][1:]
    body = [r for r in rows[1:] if r]
    steps = np.array([_float(r[0]) for r in body])
    cols = {name: np.array([_float(r[j + 1]) if j + 1 < len(r) else math.nan for r in body])
            for j, name in enumerate(names)}
    return steps, cols


def save_figure(fig, png_path: str | Path, dpi: int = 100) -> Path:
    """Write a matplotlib figure as PNG (creating its folder) and close it; errors are one line."""
    path = Path(png_path)
    try:
        atomic_write(path, lambda fh: fig.savefig(fh, format="png", dpi=dpi), what="plot")
    finally:
        plt.close(fig)
    return path


# Logged columns that are D's mean outputs (logits), not losses: their own panel and axis label.
OUTPUT_LABELS = {
    "d_real": "D(x) on real images",
    "d_fake": "D(G(z)) on generated images",
}
OUTPUT_AXIS = "D's mean output (logit)"


def loss_panels(names) -> list[tuple[str, list[str]]]:
    """(y-axis label, columns) of each panel of ``loss.png``: the losses (and other logged
    values), then D's mean outputs when logged, which are not losses."""
    names = list(names)
    panels = [("loss", [n for n in names if n not in OUTPUT_LABELS]),
              (OUTPUT_AXIS, [n for n in names if n in OUTPUT_LABELS])]
    return [(label, cols) for label, cols in panels if cols] or [("loss", [])]


def plot_losses(csv_path: str | Path, png_path: str | Path) -> Path:
    """Plot every column of ``losses.csv`` against step (faint raw, bold smoothed) in the panels
    of :func:`loss_panels`; returns the PNG path."""
    steps, cols = read_losses(csv_path)
    panels = loss_panels(cols)
    fig, axes = plt.subplots(len(panels), 1, figsize=(8, 4.5 if len(panels) == 1 else 6.5), sharex=True,
                             squeeze=False)
    order = list(cols)
    for ax, (ylabel, names) in zip(axes[:, 0], panels):
        for name in names:
            vals = cols[name]
            if not np.isfinite(vals).any():
                continue
            color = f"C{order.index(name) % 10}"
            ax.plot(steps, vals, color=color, alpha=0.25, linewidth=0.8)
            ax.plot(steps, smooth(vals), color=color, linewidth=1.8,
                    label=f"{name}: {OUTPUT_LABELS[name]}" if name in OUTPUT_LABELS else name)
        if ax.lines:
            ax.legend(loc="best")
        else:
            ax.text(0.5, 0.5, "no losses logged yet", ha="center", va="center", transform=ax.transAxes)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel("step")
    fig.tight_layout()
    return save_figure(fig, png_path)


def read_jsonl(jsonl_path: str | Path) -> list[dict]:
    """One JSON object per line (blank lines skipped); a bad line is an error naming it."""
    path = Path(jsonl_path)
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise GankitError(f"cannot read metrics log {path}: {exc.strerror or exc}") from None
    records = []
    for no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            raise GankitError(f"{path}:{no} is not valid JSON") from None
        if not isinstance(rec, dict):
            raise GankitError(f"{path}:{no} must be a JSON object")
        records.append(rec)
    return records


def plot_metric_curves(jsonl_path: str | Path, png_path: str | Path, keys) -> Path:
    """One panel per metric in ``keys`` (e.g. ["is", "fid"]) against ``step`` from ``metrics.jsonl``."""
    keys = list(keys)
    if not keys:
        raise GankitError("plot_metric_curves needs at least one metric key")
    records = read_jsonl(jsonl_path)
    fig, axes = plt.subplots(len(keys), 1, figsize=(7, 2.6 * len(keys)), sharex=True, squeeze=False)
    for ax, key in zip(axes[:, 0], keys):
        pts = [(r["step"], r[key]) for r in records
               if isinstance(r.get("step"), (int, float)) and isinstance(r.get(key), (int, float))
               and not isinstance(r.get(key), bool)]
        if pts:
            xs, ys = zip(*pts)
            ax.plot(xs, ys, marker="o", markersize=3)
        else:
            ax.text(0.5, 0.5, f"no '{key}' values", ha="center", va="center", transform=ax.transAxes)
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel("step")
    fig.tight_layout()
    return save_figure(fig, png_path)
