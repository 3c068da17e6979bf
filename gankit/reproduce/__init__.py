"""``gankit reproduce PAPER``: train what a paper's figures and claims need, then report verdicts.

Each paper is one module (``digit_gans``, ``binarygan``, ``guide``, ``dwgan``, ``sae``) that
declares a :class:`~gankit.reproduce.core.Paper`. Runs go through the one training loop and are
reused when a finished run of the same config is already in the output directory.
"""
from __future__ import annotations

import importlib
import time
from pathlib import Path
from typing import Callable

from gankit.errors import GankitError
from gankit.reproduce.core import BUDGETS, Context, Paper, Report, export_report, write_report

MODULES = {"digit-gans": "digit_gans", "binarygan": "binarygan", "guide": "guide", "dwgan": "dwgan", "sae": "sae"}


def paper(name: str) -> Paper:
    if name not in MODULES:
        raise GankitError(f"unknown paper '{name}' (choose from: {', '.join(MODULES)})")
    return importlib.import_module(f"gankit.reproduce.{MODULES[name]}").PAPER


def papers() -> list[Paper]:
    return [paper(n) for n in MODULES]


def default_out(name: str, budget: str) -> Path:
    return Path("runs") / "reproduce" / name / budget


def reproduce(name: str, budget: str = "paper", out: Path | None = None, *, seeds: int | None = None,
              retrain: bool = False, only: list[str] | None = None, report_only: bool = False, overrides: list[str] | None = None,
              data_root: Path | None = None, progress: Callable[[str], None] | None = None,
              cache_dir: Path | None = None, command: str = "") -> Report:
    """Run (or reuse) one paper's experiments at ``budget``; write ``out/report.md`` and ``report.html``."""
    p = paper(name)
    if budget not in BUDGETS:
        raise GankitError(f"unknown budget '{budget}' (choose from: {', '.join(BUDGETS)})")
    if seeds is not None and seeds < 1:
        raise GankitError(f"--seeds must be >= 1, got {seeds}")
    if only:
        bad = [o for o in only if o not in p.runs]
        if bad:
            raise GankitError(f"--only: '{bad[0]}' is not a run of {name} (choose from: {', '.join(p.runs)})")
    out = Path(out) if out is not None else default_out(name, budget)
    if out.exists() and not out.is_dir():
        raise GankitError(f"output directory {out} exists and is a file")
    out.mkdir(parents=True, exist_ok=True)
    ctx = Context(out, budget, seeds or 0, retrain=retrain, progress=progress or (lambda m: None),
                  cache_dir=cache_dir, extra=list(overrides or []), data_root=data_root,
                  only=frozenset(only) if only else None, report_only=report_only)
    t0 = time.process_time()
    claims, notes = p.run(ctx)
    report = Report(p.name, p.title, budget, claims, notes, command=command, trained_cpu_s=ctx.trained_s)
    report.notes.append(f"This invocation trained for {ctx.trained_s / 60:.1f} CPU-minutes and spent "
                        f"{(time.process_time() - t0) / 60:.1f} CPU-minutes in all (reused runs cost nothing).")
    if ctx.unfinished:
        report.notes.append("Runs short of their budget, reported as they stand: " + "; ".join(ctx.unfinished) + ".")
    if budget != "paper":
        report.notes.append(f"The paper's own budget (`--budget paper`) is estimated at {p.cpu_minutes['paper']} "
                            f"CPU-minutes on the 2-core reference machine (`gankit reproduce --list`); this "
                            f"report is at the {budget} budget.")
    if report_only:
        report.notes.append("Reported with --report-only: the runs were trained earlier by the same command "
                            "without it (same configs; nothing was trained for this report).")
    write_report(report, out)
    return report


__all__ = ["BUDGETS", "MODULES", "paper", "papers", "reproduce", "default_out", "export_report"]
