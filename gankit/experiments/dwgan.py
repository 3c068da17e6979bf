"""DWGAN vs the section-2 WGAN on generalized tic-tac-toe (dwgan.txt 5.1, Figures 4 and 5).

Trains the ``dwgan-ttt-*`` and ``wgan-ttt-*`` presets of one board through the one
training loop (or reuses finished runs), then plots the four board metrics of every
run against iterations on shared axes and reports, per run, the final metrics and the
first iteration at which % valid passes a threshold (90% by default).

Curves use the paper's protocol (100 samples of one fixed noise batch, the
``fixed100_*`` metrics) unless ``protocol='fresh'`` (``train.eval_samples`` fresh samples).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from gankit.errors import GankitError
from gankit.report.curves import save_figure

BOARDS = {
    "3x3-2p": ("dwgan-ttt-3x3-2p", "wgan-ttt-3x3-2p"),
    "5x5-8p": ("dwgan-ttt-5x5-8p", "wgan-ttt-5x5-8p"),
}
METRICS = (("valid", "% valid"), ("mean_max_gain", "mean max player's gain"),
           ("unique", "% unique"), ("new", "% new"))


def _key(metric: str, protocol: str) -> str:
    if protocol not in ("fixed", "fresh"):
        raise GankitError(f"protocol must be fixed or fresh, got '{protocol}'")
    return f"fixed100_{metric}" if protocol == "fixed" else metric


def curves(run_dir: Path, protocol: str = "fixed") -> dict[str, tuple[list[int], list[float]]]:
    """metric -> (steps, values) from a run's ``metrics.jsonl``."""
    from gankit.train.logs import read_metrics

    path = Path(run_dir) / "metrics.jsonl"
    if not path.is_file():
        raise GankitError(f"{run_dir} has no metrics.jsonl (train it with train.eval_every > 0)")
    records = read_metrics(path)
    out = {}
    for metric, _ in METRICS:
        key = _key(metric, protocol)
        pts = sorted({int(r["step"]): float(r[key]) for r in records if key in r}.items())
        out[metric] = ([s for s, _ in pts], [v for _, v in pts])
    if not out["valid"][0]:
        raise GankitError(f"{run_dir}/metrics.jsonl holds no board metrics ('{_key('valid', protocol)}')")
    return out


def first_step(steps: list[int], values: list[float], threshold: float) -> int | None:
    """The first logged step whose value reaches ``threshold`` (None if never)."""
    return next((s for s, v in zip(steps, values) if v >= threshold), None)


def plot_curves(runs: dict[str, Path], png: Path, protocol: str = "fixed") -> Path:
    """Four panels (Figures 4-5): each metric of every run against iterations, shared axes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = {label: curves(d, protocol) for label, d in runs.items()}
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), sharex=True)
    for ax, (metric, title) in zip(axes.flat, METRICS):
        for i, (label, c) in enumerate(data.items()):
            ax.plot(*c[metric], color=f"C{i}", linewidth=1.4, label=label)
        ax.set_title(title)
        ax.grid(alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel("iteration (generator steps)")
    axes[0, 0].legend(loc="lower right")
    which = "100 samples of a fixed noise batch" if protocol == "fixed" else "fresh samples"
    fig.suptitle(f"board metrics vs iterations ({which})")
    fig.tight_layout()
    return save_figure(fig, png)


def summarize(run_dir: Path, threshold: float = 90.0, protocol: str = "fixed") -> dict:
    """Final four metrics (both protocols when logged) and the first step past ``threshold`` % valid."""
    from gankit.train.logs import read_metrics

    c = curves(run_dir, protocol)
    last = read_metrics(Path(run_dir) / "metrics.jsonl")[-1]
    final = {k: last[k] for k in last if k in {m for m, _ in METRICS} or k.startswith("fixed100_")}
    return {"run": str(run_dir), "step": int(last["step"]), **final,
            f"first_step_valid_{threshold:g}": first_step(*c["valid"], threshold),
            "best_valid": max(c["valid"][1])}


def run_experiment(board: str, out_dir: Path, overrides: list[str] | None = None, *, retrain: bool = False,
                   threshold: float = 90.0, protocol: str = "fixed",
                   progress: Callable[[str], None] | None = None) -> dict:
    """Train (or reuse) the DWGAN and WGAN runs of ``board`` under ``out_dir``; plot and summarize."""
    from gankit.config import load_config
    from gankit.train.loop import train

    if board not in BOARDS:
        raise GankitError(f"unknown board '{board}' (choose from: {', '.join(BOARDS)})")
    out_dir = Path(out_dir)
    runs = {}
    for preset in BOARDS[board]:
        run_dir = out_dir / preset
        done = (run_dir / "metrics.jsonl").is_file() and (run_dir / "checkpoints").is_dir()
        if retrain or not done:
            if progress is not None:
                progress(f"training {preset} -> {run_dir}")
            train(load_config(preset, overrides or []), run_dir, overwrite=True)
        runs[preset.split("-")[0]] = run_dir
    png = plot_curves(runs, out_dir / f"compare-{board}.png", protocol)
    summary = {label: summarize(d, threshold, protocol) for label, d in runs.items()}
    dw, wg = summary["dwgan"], summary["wgan"]
    # iterations each needs to reach the WGAN baseline's best % valid (section 5.1's claim)
    target = wg["best_valid"]
    summary["reach_wgan_best_valid"] = {
        "target": target,
        "dwgan": first_step(*curves(runs["dwgan"], protocol)["valid"], target),
        "wgan": first_step(*curves(runs["wgan"], protocol)["valid"], target),
    }
    summary["plot"] = str(png)
    for label, d in runs.items():
        plot_curves({label: d}, d / "board_metrics.png", protocol)
    return summary
