"""What a run writes as it trains: ``losses.csv``, ``metrics.jsonl`` and TensorBoard events
(scalars of both, and the fixed-noise sample grids as images); on a resume, the rows logged
after the checkpoint's step are dropped (:func:`planned_logs`)."""
from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

from gankit.errors import GankitError
from gankit.io import append_line, atomic_write


class RunLog:
    def __init__(self, run_dir: Path, tensorboard: bool = True):
        self.dir = Path(run_dir)
        self.losses_path = self.dir / "losses.csv"
        self.metrics_path = self.dir / "metrics.jsonl"
        self.columns: list[str] | None = None
        if self.losses_path.is_file():  # resuming: keep the existing header
            with open(self.losses_path, newline="") as fh:
                header = next(csv.reader(fh), None)
            self.columns = header[1:] if header else None
        self.tb = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self.tb = SummaryWriter(log_dir=str(self.dir / "tb"))
            except Exception:  # tensorboard missing or broken: CSV/JSONL still hold everything
                self.tb = None

    def losses(self, step: int, values: dict[str, float]) -> None:
        new = self.columns is None
        if new:
            self.columns = sorted(values)
        if new:
            append_line(self.losses_path, _csv_line(["step", *self.columns]), what="loss log")
        append_line(self.losses_path, _csv_line([step, *(_fmt(values.get(c)) for c in self.columns)]),
                    what="loss log")
        if self.tb is not None:
            for key, value in values.items():
                self.tb.add_scalar(f"loss/{key}", value, step)

    def metrics(self, step: int, values: dict) -> None:
        append_line(self.metrics_path, json.dumps({"step": step, **values}), what="metrics log")
        if self.tb is not None:
            for key, value in values.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                    self.tb.add_scalar(f"metrics/{key}", value, step)

    def image(self, tag: str, arr, step: int) -> None:
        """A uint8 picture [H, W] or [H, W, 3] (the fixed-noise sample grid) as a TensorBoard image."""
        if self.tb is not None:
            self.tb.add_image(tag, arr, step, dataformats="HW" if arr.ndim == 2 else "HWC")

    def close(self) -> None:
        if self.tb is not None:
            self.tb.close()


def _fmt(value) -> str:
    return "" if value is None else f"{value:.6g}"


FINAL_KEY = "images_per_s"  # the loop writes it into its final evaluation row only


def is_final_row(row: dict, step: int | None = None) -> bool:
    """Whether a ``metrics.jsonl`` row is the loop's final one (at ``step``, when given): what
    marks a run finished for ``--resume``, ``gankit runs`` and ``reproduce``."""
    return FINAL_KEY in row and (step is None or row.get("step") == step)


def read_metrics(path: Path) -> list[dict]:
    path = Path(path)
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _csv_line(row: list) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(row)
    return buf.getvalue()


def _lines(path: Path) -> list[str]:
    """The complete lines of a log, without their endings (CRLF of older gankit too); a last
    line without an ending is the half-written row of a killed process and is dropped."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise GankitError(f"log {path} is not UTF-8 text; it is not a gankit log") from None
    except OSError as exc:
        raise GankitError(f"cannot read log {path}: {exc.strerror or exc}") from None
    lines = text.split("\n")
    lines.pop()  # "" after the last newline, or the unterminated partial row
    return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]


def _step_of_row(line: str, path: Path, number: int) -> int:
    head = line.split(",", 1)[0].strip()
    if not head.isdigit():
        raise GankitError(f"log {path} line {number} is not a loss row (step '{head[:20]}')")
    return int(head)


def _step_of_record(line: str, path: Path, number: int) -> int:
    try:
        record = json.loads(line)
    except ValueError:
        raise GankitError(f"log {path} line {number} is not JSON") from None
    step = record.get("step") if isinstance(record, dict) else None
    if not isinstance(step, int) or isinstance(step, bool) or step < 0:
        raise GankitError(f"log {path} line {number} has no step")
    return step


def planned_logs(run_dir: Path, step: int) -> dict[Path, str]:
    """What ``losses.csv`` and ``metrics.jsonl`` must hold to resume from ``step`` (rows logged
    after it are replayed from the checkpoint). Every line is checked first; nothing is written:
    a bad log refuses the resume with one line and leaves the run as it was."""
    run_dir = Path(run_dir)
    plan = {}
    losses = run_dir / "losses.csv"
    if losses.is_file():
        lines = _lines(losses)
        rows = [ln for i, ln in enumerate(lines[1:], 2) if ln.strip() and _step_of_row(ln, losses, i) <= step]
        plan[losses] = "".join(ln + "\n" for ln in lines[:1] + rows)
    metrics = run_dir / "metrics.jsonl"
    if metrics.is_file():
        lines = _lines(metrics)
        plan[metrics] = "".join(ln + "\n" for i, ln in enumerate(lines, 1)
                                if ln.strip() and _step_of_record(ln, metrics, i) <= step)
    return plan


def write_planned(plan: dict[Path, str]) -> None:
    """Write the files of a plan that differ from what is on disk (each atomically)."""
    for path, text in plan.items():
        if not path.is_file() or path.read_bytes() != text.encode("utf-8"):
            atomic_write(path, text, what="log")


class NoLog:
    """What ranks other than 0 log: nothing."""

    def losses(self, step, values) -> None:
        pass

    def metrics(self, step, values) -> None:
        pass

    def image(self, tag, arr, step) -> None:
        pass

    def close(self) -> None:
        pass


def plot_curves(run_dir: Path) -> None:
    """``loss.png`` from the run's ``losses.csv``."""
    from gankit.report.curves import plot_losses

    if (run_dir / "losses.csv").is_file():
        plot_losses(run_dir / "losses.csv", run_dir / "loss.png")
