"""``gankit reproduce PAPER``: train what a paper's figures and claims need, then report verdicts.

Each paper is one module (``digit_gans``, ``binarygan``, ``guide``, ``dwgan``, ``sae``) that
declares a :class:`~gankit.reproduce.core.Paper`. Runs go through the one training loop and are
reused when a finished run of the same config is already in the output directory; ``jobs``
trains that many at a time. ``report_only`` with ``from_dir`` rebuilds a report from the run
records that ``export_report`` committed (``docs/reproductions/PAPER/runs/``), training nothing.
"""
from __future__ import annotations

import importlib
import time
from pathlib import Path
from typing import Callable

from gankit.errors import GankitError
from gankit.reproduce.core import BUDGETS, Context, Paper, Report, export_report, settle, write_report

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
              cache_dir: Path | None = None, command: str = "", jobs: int = 1,
              from_dir: Path | None = None) -> Report:
    """Run (or reuse) one paper's experiments at ``budget``, ``jobs`` runs at a time; write
    ``out/report.md`` and ``report.html``. ``from_dir`` (with ``report_only``): judge the records
    under ``from_dir/<paper>/runs/`` instead of ``out``'s runs. Every claim goes through
    :func:`~gankit.reproduce.core.settle`."""
    p = paper(name)
    if budget not in BUDGETS:
        raise GankitError(f"unknown budget '{budget}' (choose from: {', '.join(BUDGETS)})")
    if seeds is not None and seeds < 1:
        raise GankitError(f"--seeds must be >= 1, got {seeds}")
    if jobs < 1:
        raise GankitError(f"--jobs must be >= 1, got {jobs}")
    if from_dir is not None:
        if not report_only:
            raise GankitError("--from reads committed records: it needs --report-only")
        if not (Path(from_dir) / p.name / "runs").is_dir():
            raise GankitError(f"--from: no records of {p.name} under {Path(from_dir) / p.name / 'runs'}")
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
                  only=frozenset(only) if only else None, report_only=report_only, jobs=jobs,
                  records=Path(from_dir) if from_dir is not None else None, paper=p.name)
    t0 = time.process_time()
    claims, notes = p.run(ctx)
    claims = [settle(c, budget) for c in claims]
    report = Report(p.name, p.title, budget, claims, notes, command=command, trained_cpu_s=ctx.trained_s,
                    runs={name: r.dir for name, r in ctx.used.items()})
    report.notes.append(f"This invocation trained for {ctx.trained_s / 60:.1f} CPU-minutes and spent "
                        f"{(time.process_time() - t0) / 60:.1f} CPU-minutes in all (reused runs cost nothing).")
    if ctx.unfinished:
        report.notes.append("Runs short of their budget, reported as they stand: " + "; ".join(ctx.unfinished) + ".")
    if budget != "paper":
        report.notes.append(f"The paper's own budget (`--budget paper`) is estimated at {p.cpu_minutes['paper']} "
                            f"CPU-minutes on the 2-core reference machine (`gankit reproduce --list`); this "
                            f"report is at the {budget} budget.")
    if report_only:
        report.notes.append(f"Rebuilt with --report-only from the committed run records under {from_dir} (config, "
                            "metrics, losses, record/ and pictures; nothing was trained for this report)."
                            if from_dir is not None else
                            "Reported with --report-only: the runs were trained earlier by the same command "
                            "without it (same configs; nothing was trained for this report).")
    write_report(report, out)
    return report


__all__ = ["BUDGETS", "MODULES", "paper", "papers", "reproduce", "default_out", "export_report", "settle"]
