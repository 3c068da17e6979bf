"""BinaryGAN experiments I-IV (binarygan.txt 4.3-4.6) at one training budget.

Trains (or reuses) the runs the four comparisons need through the one training loop,
each for the same wall-clock share of the budget, then writes

- ``preactivation_hist.png`` / ``.csv`` (Figure 4): histograms of the preactivated outputs
  of the MLP DBN and SBN models and of the real-valued model's probabilities;
- one figure per comparison: ``fig_4.3_dbn_vs_sbn.png`` (Figure 3: samples beside their
  preactivated outputs), ``fig_4.4_realvalued.png`` (Figure 5: raw probabilities,
  threshold, Bernoulli), ``fig_4.5_objectives.png`` (Figures 6/8), ``fig_4.6_mlp_vs_cnn.png``
  (Figure 7);
- ``metrics.csv`` and ``metrics.md``: IS, FID, classes covered and binary fraction (share of
  raw generator outputs that are exactly 0 or 1) for every model and post-processing.
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from gankit.errors import GankitError
from gankit.io import atomic_write
from gankit.report.curves import save_figure

RUNS = {  # run name -> preset
    "mlp-dbn": "binarygan-mlp-dbn",
    "mlp-sbn": "binarygan-mlp-sbn",
    "mlp-real": "realvalued-mlp",
    "mlp-dbn-wgan": "binarygan-mlp-dbn-wgan",
    "mlp-dbn-gan": "binarygan-mlp-dbn-gan",
    "cnn-dbn": "binarygan-cnn-dbn",
    "cnn-sbn": "binarygan-cnn-sbn",
    "cnn-real": "realvalued-cnn",
}
COMPARISONS = {  # section -> (figure name, title, runs)
    "4.3": ("fig_4.3_dbn_vs_sbn.png", "Experiment I: DBNs vs SBNs (MLP, WGAN-GP)", ["mlp-dbn", "mlp-sbn"]),
    "4.4": ("fig_4.4_realvalued.png", "Experiment II: binary neurons vs the real-valued model (MLP, WGAN-GP)",
            ["mlp-dbn", "mlp-sbn", "mlp-real"]),
    "4.5": ("fig_4.5_objectives.png", "Experiment III: WGAN-GP vs WGAN vs GAN (MLP, DBNs)",
            ["mlp-dbn", "mlp-dbn-wgan", "mlp-dbn-gan"]),
    "4.6": ("fig_4.6_mlp_vs_cnn.png", "Experiment IV: MLP vs CNN (WGAN-GP)",
            ["mlp-dbn", "mlp-sbn", "mlp-real", "cnn-dbn", "cnn-sbn", "cnn-real"]),
}
POSTS = ("threshold", "bernoulli")
FIG_SEED = 1234
EVAL_SEED = 4321
HIST_BINS = 50


def parse_budget(text: str | float) -> float:
    """'600s', '10m', '1.5h' or a number of seconds -> seconds (``gankit compare``'s parser)."""
    from gankit.report.compare import parse_budget as parse

    budget = parse(str(text))
    if budget.seconds is None:
        raise GankitError(f"budget '{text}' must be a duration like 600s, 10m or 1h, not steps")
    return budget.seconds


def parse_only(text: str | None) -> list[str]:
    if not text:
        return list(COMPARISONS)
    picked = [s.strip() for s in text.split(",") if s.strip()]
    bad = [s for s in picked if s not in COMPARISONS]
    if bad or not picked:
        raise GankitError(f"unknown comparison '{bad[0] if bad else text}' (choose from {', '.join(COMPARISONS)})")
    return picked


# ------------------------------------------------------------------ sampling
@torch.no_grad()
def seeded_outputs(model, n: int, seed: int, post: str | None = None, chunk: int = 500):
    """(binary samples, preactivated outputs) in eval mode from a fixed seed, on the CPU."""
    was = model.training
    model.eval()
    xs, ps = [], []
    try:
        with torch.random.fork_rng(devices=[model.device] if model.device.type == "cuda" else []):
            torch.manual_seed(seed)
            for start in range(0, n, chunk):
                x, p = model.generate_with_preactivations(min(chunk, n - start), post)
                xs.append(x.cpu())
                ps.append(p.cpu())
    finally:
        model.train(was)
    return torch.cat(xs), torch.cat(ps)


def evaluate_rows(name: str, model, n: int, cache_dir: Path | None) -> list[dict]:
    """One metric row per post-processing (one row for binary neurons, two for the real-valued model)."""
    from gankit.metrics import evaluate

    posts = [None] if model.binary else list(POSTS)
    extra = model.extra_metrics()
    rows = []
    for post in posts:
        samples, _ = seeded_outputs(model, n, EVAL_SEED, post)
        m = evaluate(model.data, samples, cache_dir=cache_dir)
        rows.append({
            "run": name, "preset": RUNS.get(name, name),
            "output": model.cfg.net.output, "post": post or "-",
            "objective": model.cfg.model.objective, "net": model.cfg.net.name,
            "is": round(m["is"], 4), "fid": round(m["fid"], 3), "classes_covered": m["classes_covered"],
            "binary_fraction": round(extra["binary_fraction"], 4),
            "preact_extreme": round(extra["preact_extreme"], 4), "slope": round(extra["slope"], 4),
        })
    return rows


# ------------------------------------------------------------------ figures
def _to_uint8(x: torch.Tensor) -> np.ndarray:
    return (x.clamp(0, 1) * 255).round().to(torch.uint8)[:, 0].numpy()


def _grid(x: torch.Tensor, nrow: int = 8) -> np.ndarray:
    from gankit.report.grid import grid_array

    return grid_array(_to_uint8(x), nrow=nrow)


def histogram(values: torch.Tensor, bins: int = HIST_BINS) -> np.ndarray:
    """Density histogram of values in [0, 1]."""
    counts, _ = np.histogram(values.flatten().numpy(), bins=bins, range=(0.0, 1.0), density=True)
    return counts


def write_histogram(preacts: dict[str, torch.Tensor], png: Path, csv_path: Path, title: str = "") -> dict:
    """Figure 4: one density curve per model; the bin densities also go to ``csv_path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    edges = np.linspace(0, 1, HIST_BINS + 1)
    hists = {k: histogram(v) for k, v in preacts.items()}
    fh = io.StringIO()
    w = csv.writer(fh)
    w.writerow(["bin_left", "bin_right", *hists])
    for i in range(HIST_BINS):
        w.writerow([f"{edges[i]:.3f}", f"{edges[i + 1]:.3f}", *(f"{h[i]:.6f}" for h in hists.values())])
    atomic_write(csv_path, fh.getvalue(), what="table")
    fig, ax = plt.subplots(figsize=(6.5, 4))
    centres = (edges[:-1] + edges[1:]) / 2
    for i, (k, h) in enumerate(hists.items()):
        ax.plot(centres, h, color=f"C{i}", linewidth=1.5, label=k)
    ax.set_yscale("log")
    ax.set_xlabel("preactivated output / probability")
    ax.set_ylabel("density (log scale)")
    ax.set_title(title or "Histogram of the preactivated outputs (Figure 4)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    save_figure(fig, png)
    return {k: h.tolist() for k, h in hists.items()}


def write_panels(panels: list[tuple[str, np.ndarray]], png: Path, title: str, cols: int = 4) -> Path:
    """Image grids side by side with captions."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = min(cols, len(panels))
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.4 * rows + 0.4), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, (caption, img) in zip(axes.flat, panels):
        ax.imshow(img, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        ax.set_title(caption, fontsize=9)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return save_figure(fig, png)


def run_panels(name: str, model, n: int = 64) -> list[tuple[str, np.ndarray]]:
    """Figure 3/5 panels of one run: binary samples beside the preactivated outputs they came from."""
    if model.binary:
        x, p = seeded_outputs(model, n, FIG_SEED)
        kind = model.cfg.net.output.upper()
        return [(f"{name}: {kind} samples", _grid(x)), (f"{name}: preactivated", _grid(p))]
    panels = []
    for post in POSTS:
        x, p = seeded_outputs(model, n, FIG_SEED, post)
        panels.append((f"{name}: {post}", _grid(x)))
    return [(f"{name}: raw probabilities", _grid(p))] + panels


def write_run_figures(name: str, model, run_dir: Path, n_hist: int = 500) -> None:
    """Per run: ``preactivations.png`` (Figure 3) and ``preactivation_hist.png``/``.csv`` (Figure 4)."""
    run_dir = Path(run_dir)
    write_panels(run_panels(name, model), run_dir / "preactivations.png", f"{name}: samples and preactivated outputs")
    _, pre = seeded_outputs(model, n_hist, FIG_SEED)
    write_histogram({name: pre}, run_dir / "preactivation_hist.png", run_dir / "preactivation_hist.csv")


# ------------------------------------------------------------------ driver
def _train_or_open(name: str, run_dir: Path, seconds: float, overrides: list[str], retrain: bool,
                   cache_dir: Path | None, data, progress: Callable[[str], None]):
    from gankit.config import load_config
    from gankit.train.loop import train
    from gankit.train.run import open_run

    done = run_dir / "metrics.jsonl"
    if retrain or not done.is_file():
        cfg = load_config(RUNS[name], [f"train.seconds={seconds}", "train.steps=100000000",
                                       "train.ckpt_every=100000000", "train.sample_every=100000000",
                                       "train.tensorboard=false", *overrides])
        progress(f"[binarygan] training {name} ({RUNS[name]}) for {seconds:.0f}s -> {run_dir}")
        train(cfg, run_dir, overwrite=True, cache_dir=cache_dir, data=data)
    else:
        progress(f"[binarygan] reusing {run_dir}")
    return open_run(run_dir)


def run_experiment(out: Path, budget: str | float = "600s", overrides: list[str] | None = None,
                   only: str | None = None, retrain: bool = False, eval_samples: int = 2000,
                   cache_dir: Path | None = None, progress: Callable[[str], None] | None = None) -> dict:
    """Train the runs of the chosen comparisons with ``budget`` split equally among them; write figures and tables."""
    from gankit.config import load_config
    from gankit.data import load_dataset

    progress = progress or (lambda msg: None)
    seconds = parse_budget(budget)
    sections = parse_only(only)
    if eval_samples <= 0:
        raise GankitError(f"eval_samples must be > 0, got {eval_samples}")
    names = [n for n in RUNS if any(n in COMPARISONS[s][2] for s in sections)]
    per_run = seconds / len(names)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    overrides = list(overrides or [])
    data = load_dataset(load_config(RUNS[names[0]], overrides).data)

    models, rows = {}, []
    for name in names:
        run = _train_or_open(name, out / name, per_run, overrides, retrain, cache_dir, data, progress)
        models[name] = run.model
        write_run_figures(name, run.model, run.dir)
        for row in evaluate_rows(name, run.model, eval_samples, cache_dir):
            rows.append({**row, "steps": run.step})
        progress(f"[binarygan] {name}: " + json.dumps({k: rows[-1][k] for k in ("is", "fid", "classes_covered")}))

    figures = {}
    hist_models = [n for n in ("mlp-dbn", "mlp-sbn", "mlp-real") if n in models]
    if hist_models:
        pre = {n: seeded_outputs(models[n], 500, FIG_SEED)[1] for n in hist_models}
        write_histogram(pre, out / "preactivation_hist.png", out / "preactivation_hist.csv")
        figures["hist"] = str(out / "preactivation_hist.png")
    for sec in sections:
        fname, title, runs = COMPARISONS[sec]
        panels = [p for n in runs for p in run_panels(n, models[n])]
        figures[sec] = str(write_panels(panels, out / fname, f"{title}, {per_run:.0f}s each", cols=4))

    fields = ["run", "preset", "output", "post", "objective", "net", "steps", "is", "fid",
              "classes_covered", "binary_fraction", "preact_extreme", "slope"]
    fh = io.StringIO()
    w = csv.DictWriter(fh, fieldnames=fields)
    w.writeheader()
    w.writerows(rows)
    atomic_write(out / "metrics.csv", fh.getvalue(), what="table")
    atomic_write(out / "metrics.md", markdown_table(rows, sections, per_run), what="report")
    best = min(rows, key=lambda r: r["fid"])
    return {"out": str(out), "seconds_per_run": per_run, "rows": rows, "figures": figures,
            "best_fid": f"{best['run']} ({best['post']})"}


def markdown_table(rows: list[dict], sections: list[str], per_run: float) -> str:
    lines = [f"# BinaryGAN experiments ({per_run:.0f} s of training per run)", ""]
    for sec in sections:
        _, title, runs = COMPARISONS[sec]
        lines += [f"## {sec} {title}", "",
                  "| run | post | steps | IS | FID | classes covered | binary fraction |",
                  "|---|---|---|---|---|---|---|"]
        for r in rows:
            if r["run"] in runs:
                lines.append(f"| {r['run']} | {r['post']} | {r['steps']} | {r['is']:.3f} | {r['fid']:.2f} | "
                             f"{r['classes_covered']} | {r['binary_fraction']:.3f} |")
        lines.append("")
    return "\n".join(lines)
