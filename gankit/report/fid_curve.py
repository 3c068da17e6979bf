"""The figure of ``gankit bench --curve``: FID against training seconds, one line per arm.

It is drawn from the measurement's ``curve.json`` alone (``read_curve``), so the committed
figure is redrawn byte for byte from the committed JSON (``gankit bench --from``).
"""
from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display; must precede the pyplot import
import matplotlib.pyplot as plt  # noqa: E402

from gankit.errors import GankitError  # noqa: E402
from gankit.report.curves import save_figure  # noqa: E402


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def read_curve(path: str | Path) -> dict:
    """``curve.json`` checked for what the figure and the table read; a bad file is one line naming it."""
    path = Path(path)
    try:
        record = json.loads(path.read_text())
    except OSError as exc:
        raise GankitError(f"cannot read curve file {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise GankitError(f"{path} is not a curve file: not valid JSON") from None
    if not isinstance(record, dict) or not isinstance(record.get("arms"), list) \
            or not isinstance(record.get("points"), list):
        raise GankitError(f"{path} is not a curve file: it needs the lists 'arms' and 'points' "
                          "(written by gankit bench --curve)")
    arms = set()
    for no, arm in enumerate(record["arms"]):
        if not isinstance(arm, dict) or not isinstance(arm.get("arm"), str) or not isinstance(arm.get("label"), str):
            raise GankitError(f"{path}: arms[{no}] needs the strings 'arm' and 'label'")
        arms.add(arm["arm"])
    for no, point in enumerate(record["points"]):
        if not isinstance(point, dict) or point.get("arm") not in arms \
                or not all(_number(point.get(k)) for k in ("at", "seconds", "steps", "fid")):
            raise GankitError(f"{path}: points[{no}] needs an 'arm' of 'arms' and the numbers "
                              "'at', 'seconds', 'steps' and 'fid'")
    if not record["points"]:
        raise GankitError(f"{path} has no points yet (the measurement stopped before its first checkpoint)")
    return record


def plot_fid_curve(record: dict, png_path: str | Path) -> Path:
    """FID (log) against each arm's own training seconds (log), one labelled line per arm, the
    checkpoints as x ticks; points whose FID is not a positive number are left out."""
    from matplotlib.ticker import FuncFormatter, NullFormatter, ScalarFormatter

    fig, ax = plt.subplots(figsize=(8, 5))
    fids = []
    # FIDs on different datasets are in different feature spaces (each dataset's own classifier):
    # the legend then names each arm's dataset
    datasets = {arm.get("dataset") for arm in record["arms"]}
    for i, arm in enumerate(record["arms"]):
        label = arm["label"] + (f" [scored on {arm.get('dataset')}]" if len(datasets) > 1 else "")
        pts = sorted((p["seconds"], p["fid"]) for p in record["points"]
                     if p["arm"] == arm["arm"] and math.isfinite(p["fid"]) and p["fid"] > 0)
        fids += [y for _, y in pts]
        if pts:
            xs, ys = zip(*pts)
            ax.plot(xs, ys, marker="o", color=f"C{i % 10}", linewidth=1.8,
                    label="\n".join(textwrap.wrap(label, 60)))
    ax.set_xscale("log")
    ax.set_yscale("log")
    at = sorted({p["at"] for p in record["points"]})
    ax.set_xticks(at)
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
    # FID as plain numbers (20, 50, 100), not powers of ten; over more than a decade only the
    # minor ticks at 2x and 5x are labelled, so the labels do not crowd
    wide = bool(fids) and max(fids) / min(fids) >= 10
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(FuncFormatter(
        lambda v, _: "" if wide and f"{v:.0e}"[0] not in "25" else f"{v:g}"))
    threads, n = record.get("threads"), record.get("n")
    ax.set_xlabel(f"training seconds: each arm's own step time at {threads} thread(s), evaluation excluded")
    ax.set_ylabel(f"FID of {n:,} samples (lower is better)" if _number(n) else "FID (lower is better)")
    load = record.get("loadavg")
    when = f"{record.get('date', '?')}"
    if isinstance(load, list) and load and _number(load[0]):
        when += f", load average {load[0]:.2f} at the start"
    ax.set_title(f"FID against training time\n(gankit bench --curve, {when})", fontsize=10)
    ax.grid(alpha=0.3, which="both")
    if ax.lines:
        ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    return save_figure(fig, png_path)
