"""What a run writes as it trains: ``losses.csv``, ``metrics.jsonl`` and TensorBoard events
(scalars of both, and the fixed-noise sample grids as images)."""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path


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
        with open(self.losses_path, "a", newline="") as fh:
            writer = csv.writer(fh)
            if new:
                writer.writerow(["step", *self.columns])
            writer.writerow([step, *(_fmt(values.get(c)) for c in self.columns)])
        if self.tb is not None:
            for key, value in values.items():
                self.tb.add_scalar(f"loss/{key}", value, step)

    def metrics(self, step: int, values: dict) -> None:
        with open(self.metrics_path, "a") as fh:
            fh.write(json.dumps({"step": step, **values}) + "\n")
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


def read_metrics(path: Path) -> list[dict]:
    path = Path(path)
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def truncate_logs(run_dir: Path, step: int) -> None:
    """Drop rows logged after ``step``: a resumed run replays them from its checkpoint."""
    run_dir = Path(run_dir)
    losses = run_dir / "losses.csv"
    if losses.is_file():
        lines = losses.read_text().splitlines(keepends=True)
        keep = lines[:1] + [ln for ln in lines[1:] if ln.split(",", 1)[0].strip().isdigit()
                            and int(ln.split(",", 1)[0]) <= step]
        losses.write_text("".join(keep))
    metrics = run_dir / "metrics.jsonl"
    if metrics.is_file():
        keep = [ln for ln in metrics.read_text().splitlines(keepends=True)
                if ln.strip() and json.loads(ln).get("step", 0) <= step]
        metrics.write_text("".join(keep))
