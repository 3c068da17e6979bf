"""What every paper reproduction shares: budgets, runs that are reused, claims and their report.

A paper module (``digit_gans.py``, ``binarygan.py``, ...) declares a :class:`Paper` whose
``run(ctx)`` trains what it needs through :meth:`Context.run` (the one training loop) and
returns one :class:`Claim` per figure, table or statement of the paper. :func:`write_report`
turns the claims into ``report.md`` and a self-contained ``report.html``.
"""
from __future__ import annotations

import base64
import html
import json
import math
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from gankit.errors import GankitError
from gankit.io import atomic_write

BUDGETS = ("paper", "short", "smoke")
VERDICTS = ("reproduced", "partly", "not reproduced", "differs", "not run")
# config keys that say where a run executes, not what it computes: a finished run is reused across them
# keys that change where and how often a run is saved, not what it trains: a finished run that
# differs only in them is reused
PLACEMENT_KEYS = (("train", "threads"), ("train", "device"), ("train", "ckpt_every"), ("train", "keep_checkpoints"))
SMOKE = ("train.steps=3", "train.seconds=null", "train.epochs=null", "train.eval_samples=200",
         "train.eval_every=0", "train.eval_every_epochs=0", "train.sample_every=3", "train.ckpt_every=3",
         "train.tensorboard=false")


@dataclass
class Claim:
    """One row of a report: a paper statement, gankit's measurement and a verdict."""
    section: str  # "3.1, Fig. 3.1"
    claim: str  # the paper's statement, in a few words
    result: str  # what gankit measured (numbers)
    verdict: str  # one of VERDICTS
    why: str  # one line
    images: list[Path] = field(default_factory=list)

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")


@dataclass
class RunResult:
    """A finished run: its directory, every metrics row, and the final row."""
    dir: Path
    rows: list[dict]
    reused: bool

    @property
    def final(self) -> dict:
        return self.rows[-1] if self.rows else {}

    def curve(self, key: str, by: str = "epoch") -> tuple[list[float], list[float]]:
        """(x, value) of ``key`` over the rows that have both (``by`` is 'epoch' or 'step')."""
        pts = {}
        for r in self.rows:
            if key in r and by in r and r[key] is not None and math.isfinite(float(r[key])):
                pts[float(r[by])] = float(r[key])
        xs = sorted(pts)
        return xs, [pts[x] for x in xs]

    def grid(self, step: int | None = None) -> Path | None:
        """The sample grid at ``step`` (the last one when None)."""
        grids = sorted((self.dir / "samples").glob("step_*.png"))
        if step is None:
            return grids[-1] if grids else None
        path = self.dir / "samples" / f"step_{step:06d}.png"
        return path if path.is_file() else None


@dataclass(frozen=True)
class Paper:
    """One paper's reproduction: ``run(ctx)`` returns its claims and the report's notes."""
    name: str
    title: str
    reproduces: str  # one line for ``gankit reproduce --list``
    cpu_minutes: dict  # budget -> estimated CPU-minutes on the 2-core reference machine
    run: Callable[["Context"], tuple[list[Claim], list[str]]]
    runs: tuple[str, ...] = ()  # the presets it may train (what --only chooses from)


@dataclass
class Context:
    """Where a reproduction writes, at which budget, and how it reports progress."""
    out: Path
    budget: str
    seeds: int
    retrain: bool = False
    progress: Callable[[str], None] = lambda msg: None
    cache_dir: Path | None = None
    extra: list[str] = field(default_factory=list)  # user overrides for every run (e.g. train.threads=1)
    data_root: Path | None = None  # where optional datasets (SVHN) live
    only: frozenset[str] | None = None  # train only these presets (None: all)
    report_only: bool = False  # never train: report the runs that are there, finished or not
    trained_s: float = 0.0  # CPU seconds of training this invocation did itself
    unfinished: list[str] = field(default_factory=list)  # --report-only runs short of their budget, with what is left

    def wants(self, preset: str) -> bool:
        return self.only is None or preset in self.only

    @property
    def smoke(self) -> bool:
        return self.budget == "smoke"

    def figure(self, name: str) -> Path:
        path = self.out / "figures" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def run(self, name: str, preset: str, overrides: list[str] | tuple[str, ...] = (), seed: int = 0,
            optional: bool = False) -> RunResult | None:
        """Train ``preset`` into ``out/<name>-s<seed>`` unless a finished run of the same config is there.

        A run is reused when its ``config.yaml`` equals the config asked for (ignoring where it
        ran: threads, device) and its last metrics row is the final one. An interrupted run of
        the same config is resumed from its last checkpoint.
        """
        from gankit.catalogue import load_config
        from gankit.training.logs import read_metrics
        from gankit.training.loop import train

        over = [*overrides, *(SMOKE if self.smoke else ()), *self.extra, f"train.seed={seed}"]
        cfg = load_config(preset, over)
        run_dir = self.out / f"{name}-s{seed}"
        same = run_dir.is_dir() and _same_config(run_dir, cfg)
        if self.report_only:
            rows = read_metrics(run_dir / "metrics.jsonl") if same else []
            if rows:
                self.progress(f"reporting {run_dir} as it stands (step {rows[-1].get('step')})")
                if not is_finished(run_dir):
                    self.unfinished.append(what_is_left(run_dir, cfg, rows))
                return RunResult(run_dir, rows, reused=True)
            if optional:
                return None
            raise GankitError(f"--report-only: no run of this config with metrics at {run_dir}")
        if same and not self.retrain and is_finished(run_dir):
            self.progress(f"reusing {run_dir}")
            return RunResult(run_dir, read_metrics(run_dir / "metrics.jsonl"), reused=True)
        resume = same and not self.retrain and _has_checkpoint(run_dir)
        self.progress(f"{'resuming' if resume else 'training'} {preset} (seed {seed}) -> {run_dir}")
        cpu0 = time.process_time()
        train(cfg, run_dir, overwrite=not resume, resume=resume, cache_dir=self.cache_dir)
        self.trained_s += time.process_time() - cpu0
        return RunResult(run_dir, read_metrics(run_dir / "metrics.jsonl"), reused=False)


def is_finished(run_dir: Path) -> bool:
    """The loop's last act is the final metrics row, the only one with ``images_per_s``."""
    from gankit.training.logs import read_metrics

    try:
        rows = read_metrics(Path(run_dir) / "metrics.jsonl")
    except (ValueError, OSError):
        return False
    return bool(rows) and "images_per_s" in rows[-1]


def what_is_left(run_dir: Path, cfg, rows: list[dict]) -> str:
    """One phrase for a run stopped short of its budget: its step, the budget's last step, and
    the time the rest needs at the pace its latest checkpoint measured (seconds per step)."""
    from gankit.training.checkpoint import Checkpoints

    t = cfg.train
    step = int(rows[-1].get("step", 0))
    target = t.steps
    per_epoch = [r["step"] / r["epoch"] for r in rows if r.get("epoch") and "is" in r]
    # evaluation rows carry the epochs completed; step / epochs is exact at an epoch's end and
    # larger anywhere else, so the smallest is the best estimate of the steps per epoch
    if t.epochs is not None and per_epoch:
        target = min(target, round(t.epochs * min(per_epoch)))
    text = f"{Path(run_dir).name} stopped at step {step} of {target}"
    state = Checkpoints(Path(run_dir) / "checkpoints").load_latest()
    if not (state and state.get("elapsed") and state["step"] > 0 and target > step):
        return text
    if t.seconds is not None:  # a time budget: what is left is time, whatever the steps
        return text + f"; {max(t.seconds - state['elapsed'], 0) / 60:.0f} of its {t.seconds / 60:.0f} minutes left"
    from gankit.training.run import read_run_config

    try:  # the pace is the run's own, at the threads it ran with
        n = read_run_config(run_dir).train.threads
    except GankitError:
        n = t.threads
    pace = state["elapsed"] / state["step"]
    threads = "all threads" if not n else f"{n} thread{'s' if n > 1 else ''}"
    return text + (f"; the remaining {target - step} steps need about {(target - step) * pace / 3600:.1f} hours "
                   f"at its measured {pace:.2f} s per step ({threads})")


def _has_checkpoint(run_dir: Path) -> bool:
    return any((Path(run_dir) / "checkpoints").glob("step_*.pt"))


def _comparable(d: dict) -> dict:
    d = json.loads(json.dumps(d))
    for section, key in PLACEMENT_KEYS:
        d.get(section, {}).pop(key, None)
    return d


def _same_config(run_dir: Path, cfg) -> bool:
    from gankit.training.run import read_run_config

    try:
        have = read_run_config(run_dir)
    except GankitError:
        return False
    return _comparable(have.to_dict()) == _comparable(cfg.to_dict())


# ------------------------------------------------------------------ verdict helpers
def verdict(reproduced: bool, partly: bool = False) -> str:
    return "reproduced" if reproduced else "partly" if partly else "not reproduced"


def fmt_metrics(row: dict, keys=("is", "fid", "classes_covered")) -> str:
    names = {"is": "IS", "fid": "FID", "classes_covered": "classes", "label_agreement": "label agreement",
             "binary_fraction": "binary fraction", "min_class_share": "smallest class"}
    parts = []
    for k in keys:
        v = row.get(k)
        if v is None:
            continue
        if k == "min_class_share":
            parts.append(f"{names[k]} {100 * v:.1f}%")
        elif isinstance(v, float):
            parts.append(f"{names.get(k, k)} {v:.3g}" if abs(v) < 100 else f"{names.get(k, k)} {v:.0f}")
        else:
            parts.append(f"{names.get(k, k)} {v}")
    return ", ".join(parts)


def min_class_share(row: dict) -> float | None:
    hist = row.get("class_hist")
    return min(hist) if hist else None


# ------------------------------------------------------------------ report
@dataclass
class Report:
    paper: str
    title: str
    budget: str
    claims: list[Claim]
    notes: list[str] = field(default_factory=list)  # paragraphs under the table
    command: str = ""
    trained_cpu_s: float = 0.0


def write_report(report: Report, out: Path) -> tuple[Path, Path]:
    """``report.md`` (images linked) and ``report.html`` (images embedded) under ``out``."""
    out = Path(out)
    head = [f"# Reproducing {report.title}", "",
            f"Budget **{report.budget}**; written {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
            f" by `{report.command}`." if report.command else f"Budget **{report.budget}**.", ""]
    counts = {v: sum(c.verdict == v for c in report.claims) for v in VERDICTS}
    head += ["Verdicts: " + ", ".join(f"{n} {v}" for v, n in counts.items() if n), ""]
    md = head + ["| section | the paper says | gankit measured | verdict | why |", "|---|---|---|---|---|"]
    for c in report.claims:
        imgs = " ".join(f"![]({_rel(p, out)})" for p in c.images)
        md.append(f"| {c.section} | {_md(c.claim)} | {_md(c.result)}{'<br>' + imgs if imgs else ''} | "
                  f"**{c.verdict}** | {_md(c.why)} |")
    if report.notes:
        md += ["", "## Notes", ""]
        for n in report.notes:
            md += [n, ""]
    md_text = "\n".join(md).rstrip() + "\n"
    atomic_write(out / "report.md", md_text, what="report")

    esc = html.escape
    rows = "".join(
        f"<tr><td>{esc(c.section)}</td><td>{esc(c.claim)}</td><td>{esc(c.result)}<br>"
        + "".join(f'<img src="{_data_uri(p)}" alt="">' for p in c.images if Path(p).is_file())
        + f'</td><td class="v {c.verdict.replace(" ", "-")}">{esc(c.verdict)}</td><td>{esc(c.why)}</td></tr>'
        for c in report.claims)
    notes = "".join(f"<p>{esc(n)}</p>" for n in report.notes)
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>{esc(report.title)}</title><style>
body{{font-family:sans-serif;margin:1.5em;max-width:1400px}} table{{border-collapse:collapse}}
td,th{{border:1px solid #bbb;padding:.3em .6em;vertical-align:top}} img{{max-width:360px;margin:.2em;image-rendering:pixelated}}
.reproduced{{background:#d9f2d9}} .partly{{background:#fff3c4}} .not-reproduced{{background:#f8d0d0}}
.differs{{background:#dde6f8}} .not-run{{background:#eee}}</style></head><body>
<h1>{esc(head[0][2:])}</h1><p>{esc(head[2])}</p><p>{esc(head[4])}</p>
<table><tr><th>section</th><th>the paper says</th><th>gankit measured</th><th>verdict</th><th>why</th></tr>{rows}</table>
{'<h2>Notes</h2>' + notes if notes else ''}</body></html>
"""
    atomic_write(out / "report.html", page, what="report")
    return out / "report.md", out / "report.html"


def export_report(out: Path, docs_dir: Path, paper: str) -> Path:
    """Copy ``out/report.md`` to ``docs_dir/<paper>.md`` and its images to ``docs_dir/<paper>/``."""
    out, docs_dir = Path(out), Path(docs_dir)
    text = (out / "report.md").read_text()
    target = docs_dir / paper
    target.mkdir(parents=True, exist_ok=True)
    import re

    def move(m: re.Match) -> str:
        src = out / m.group(1)
        name = m.group(1).replace("/", "_").removeprefix("figures_")
        if src.is_file():
            _small_png(src, target / name)
        return f"![]({paper}/{name})"

    text = re.sub(r"!\[\]\(([^)]+)\)", move, text)
    atomic_write(docs_dir / f"{paper}.md", text, what="report")
    return docs_dir / f"{paper}.md"


def _small_png(src: Path, dst: Path, max_side: int = 800, colours: int = 64) -> None:
    """Copy a PNG for the repository's docs: at most ``max_side`` pixels and ``colours`` colours."""
    from PIL import Image

    try:
        img = Image.open(src)
        img.load()
    except OSError:  # not a picture PIL reads: copy as is
        shutil.copyfile(src, dst)
        return
    if max(img.size) > max_side:
        scale = max_side / max(img.size)
        img = img.resize((round(img.width * scale), round(img.height * scale)), Image.LANCZOS)
    img = img.convert("RGB").quantize(colours)
    atomic_write(dst, lambda fh: img.save(fh, format="PNG", optimize=True), what="image")


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _rel(path: Path, out: Path) -> str:
    try:
        return Path(path).resolve().relative_to(out.resolve()).as_posix()
    except ValueError:
        return Path(path).as_posix()


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")
