"""``gankit bench``: gankit's trainer step against the textbook PyTorch loop.

For each preset, both loops train the same networks (``gankit.nets.build_nets``), at the
same batch size, objective, optimizer settings and thread count, *interleaved in one
process* (a slice of gankit steps, then a slice of reference steps, and so on), so that
load from other processes hits both alike. The reference is ``benchmarks/reference.py``
in the source checkout.

What is measured (one ``BenchRow`` per preset):

* images/s: real training images consumed per second of step time (``n_critic`` batches
  per generator step), after two warm-up steps of each loop; also the process CPU time
  per step (all threads), which other processes' load disturbs less than wall time;
* seconds to the first 1,000 steps: *extrapolated* as the measured setup time (building
  nets, optimizers, batch source, first step) plus 1,000 x the mean measured step time;
* FLOPs of one training step: ``torch.utils.flop_counter.FlopCounterMode`` over one step
  of each loop (matmuls and convolutions, forward and backward; elementwise ops are not
  counted); achieved GFLOP/s = FLOPs per step x steps/s; peak fraction = that divided by a
  float32 matmul peak measured here (best of several 1024x1024 matmuls, same threads);
* peak memory: each loop runs a few steps in a fresh Python process (nothing else
  allocated there), and the figure is that process's peak resident set (``VmHWM``) minus
  its resident set after loading torch and the data: networks, optimizer state,
  activations and allocator slack, in MiB.

The gankit arm does the loop's per-step work (``gankit.training.loop.advance``): ``train_step``,
the schedule hooks, loss sums kept on the device and read once every ``train.log_every`` steps.

``gankit bench --curve`` (:func:`curve`) reuses the two arms for quality against time: FID and
IS of several arms (gankit presets with their full recipe, the textbook loop on a preset's
nets) at checkpoints of each arm's own training seconds, the arms trained interleaved in one
process; ``curve.json`` and its figure (``gankit.report.fid_curve``). docs/notes/fid-curve.md.
"""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from gankit.errors import GankitError

DEFAULT_MODELS = ("dcgan-mnist", "wgangp-mnist", "cdcgan-mnist-demo")
REFERENCE_PATH = Path(__file__).resolve().parent.parent / "benchmarks" / "reference.py"


@dataclass
class BenchRow:
    model: str
    batch_size: int
    threads: int
    gankit_images_per_s: float
    reference_images_per_s: float
    ratio: float  # gankit / reference images/s
    gankit_steps: int  # timed steps of each loop
    reference_steps: int
    gankit_ms_per_step: float
    reference_ms_per_step: float
    gankit_cpu_ms_per_step: float  # process CPU time (all threads) per step: steadier under load
    reference_cpu_ms_per_step: float
    gankit_seconds_to_1000_steps: float  # extrapolated: setup + 1000 x mean step time
    reference_seconds_to_1000_steps: float
    gankit_gflop_per_step: float
    reference_gflop_per_step: float
    gankit_gflop_per_s: float
    reference_gflop_per_s: float
    matmul_peak_gflop_per_s: float
    gankit_peak_fraction: float
    reference_peak_fraction: float
    gankit_peak_mem_mib: float | None = None
    reference_peak_mem_mib: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def load_reference():
    """``benchmarks/reference.py`` of the source checkout, as a module."""
    if not REFERENCE_PATH.is_file():
        raise GankitError(f"gankit bench needs the source checkout: {REFERENCE_PATH} not found")
    spec = importlib.util.spec_from_file_location("gankit_bench_reference", REFERENCE_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_models(text: str | None) -> list[str]:
    from gankit.config import preset_names

    names = [m.strip() for m in (text or ",".join(DEFAULT_MODELS)).split(",") if m.strip()]
    if not names:
        raise GankitError("--models is empty")
    known = set(preset_names())
    for name in names:
        if name not in known:
            raise GankitError(f"unknown bench model '{name}': bench models are preset names (see `gankit list --presets`)")
    return names


def bench_config(name: str, overrides: list[str] | None = None):
    """The preset's config, checked to be one the reference loop can run."""
    from gankit.catalogue import load_config

    cfg = load_config(name, list(overrides or []))
    if cfg.model.family != "gan":
        raise GankitError(f"bench model '{name}' is a '{cfg.model.family}' model; the reference loop is the gan family's")
    if cfg.objective.name not in ("ns", "wgan-gp"):
        raise GankitError(f"bench model '{name}' uses objective '{cfg.objective.name}'; the reference loop has ns and wgan-gp")
    if cfg.optim.g.name != "adam" or cfg.optim.d.name != "adam":
        raise GankitError(f"bench model '{name}' does not use Adam; the reference loop does")
    extra = [key for key, on in (("model.ema", cfg.model.ema), ("model.diffaug", cfg.model.diffaug),
                                 ("objective.r1", getattr(cfg.objective, "r1", 0)),
                                 ("objective.r2", getattr(cfg.objective, "r2", 0)),
                                 ("net.d_spectral_norm", cfg.net.d_spectral_norm),
                                 ("model.replay", cfg.model.replay), ("model.critic_boost", cfg.model.critic_boost),
                                 ("model.info_codes", cfg.model.info_codes), ("model.clusters", cfg.model.clusters),
                                 ("optim.g.warmup", cfg.optim.g.warmup), ("optim.d.warmup", cfg.optim.d.warmup),
                                 ("optim.g.schedule", cfg.optim.g.schedule != "constant"),
                                 ("optim.d.schedule", cfg.optim.d.schedule != "constant"))
             if on]
    if extra:
        raise GankitError(f"bench model '{name}' uses {', '.join(extra)}, which the reference loop does not have: "
                          f"bench it with them off (--set {extra[0]}=...)")
    # the same algorithm in both arms: the reference reuses the D step's fakes for ns (the
    # PyTorch DCGAN tutorial) and draws a fresh G batch for wgan-gp (WGAN-GP's Algorithm 1)
    reuse = cfg.objective.name == "ns"
    if cfg.model.reuse_fake != reuse:
        cfg = load_config(name, [*(overrides or []), f"model.reuse_fake={str(reuse).lower()}"])
    return cfg


# ------------------------------------------------------------------ the two arms
class GankitArm:
    """gankit's trainer: the family's ``train_step`` plus the loop's per-step bookkeeping, seeded
    and built as ``gankit train`` builds a run (so step k has the weights of that run's step k)."""

    def __init__(self, cfg, data, seed: int = 0):
        from gankit.data.base import Batches
        from gankit.models import build_model
        from gankit.training.checkpoint import seed_everything
        from gankit.training.loop import advance

        self.advance = advance
        seed_everything(seed)
        self.model = build_model(cfg, data)
        self.model.train()
        self.batches = Batches(data, cfg.data.batch_size, seed)
        self.log_every = cfg.train.log_every
        self.step_no = 0
        self.sums: dict[str, torch.Tensor] = {}
        self.count = 0

    def step(self) -> int:
        drawn = self.batches.drawn
        self.step_no = self.advance(self.model, self.batches, self.step_no, self.sums)
        self.count += 1
        if self.step_no % self.log_every == 0:
            self.flush()
        return self.batches.drawn - drawn

    def flush(self) -> dict[str, float]:
        values = {k: float(v) / self.count for k, v in self.sums.items()}  # the one host sync
        self.sums, self.count = {}, 0
        return values

    def score(self, n: int, cache_dir: Path | None = None) -> dict:
        """The metrics ``gankit train`` reports for this model: ``evaluate_model``'s seeded samples
        of the sampler (the EMA copy when there is one, eval mode), scored on its dataset."""
        from gankit.training.sampling import evaluate_model

        return evaluate_model(self.model, n, cache_dir)


class ReferenceArm:
    """The textbook loop of ``benchmarks/reference.py`` on the same preset."""

    def __init__(self, cfg, data, seed: int = 0):
        torch.manual_seed(seed)
        self.cfg, self.data = cfg, data
        self.G, self.D, self.loop = load_reference().build(cfg, data)

    def step(self) -> int:
        images, _, _ = next(self.loop)
        return images

    @torch.no_grad()
    def samples(self, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``n`` samples (and their labels, balanced, for conditional nets) drawn as the PyTorch
        DCGAN tutorial draws its progress images: G as it trains (train mode: batch norm on each
        call's own statistics), under ``torch.no_grad()``, in calls of a training batch (so the
        batch statistics are of a training batch's size). The noise comes from ``seed`` in a
        forked RNG, so training draws the same numbers as without sampling; batch norm's running
        statistics do move, but train mode never reads them."""
        bs, k = self.cfg.data.batch_size, self.data.num_classes
        conditional = bool(getattr(self.cfg.net, "conditional", False))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            z = torch.randn(n, self.cfg.net.z_dim)
        labels = torch.arange(n) % k if conditional else None
        parts = -(-n // bs)  # near-equal calls of at most a batch: no call of a single sample
        ys = torch.tensor_split(labels, parts) if conditional else [None] * parts
        return torch.cat([self.G(zi, yi) for zi, yi in zip(torch.tensor_split(z, parts), ys)]), labels

    def score(self, n: int, cache_dir: Path | None = None) -> dict:
        """The metrics of :meth:`samples` (gankit's evaluation seed), scored on the dataset."""
        from gankit.metrics import evaluate
        from gankit.training.sampling import EVAL_SEED

        samples, labels = self.samples(n, EVAL_SEED)
        return evaluate(self.data, samples, labels, cache_dir)


ARMS = {"gankit": GankitArm, "reference": ReferenceArm}


# ------------------------------------------------------------------ measurements
def matmul_peak(seconds: float = 1.0, n: int = 1024) -> float:
    """Best float32 GFLOP/s of an n x n matmul at the current thread count."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    out = torch.empty(n, n)
    torch.mm(a, b, out=out)
    best, end = float("inf"), time.perf_counter() + seconds
    while True:
        t0 = time.perf_counter()
        torch.mm(a, b, out=out)
        best = min(best, time.perf_counter() - t0)
        if time.perf_counter() > end:
            break
    return 2 * n**3 / best / 1e9


class _GlobalOnly:
    """Stands in for FlopCounterMode's module tracker: only the total is needed, and the
    tracker's backward hooks break ``torch.autograd.grad`` (the WGAN-GP penalty)."""

    parents = {"Global"}

    def __enter__(self):
        return self

    def __exit__(self, *args):
        return False


def step_flops(arm, batch_size: int, tries: int = 3) -> int:
    """FLOPs of one step of ``arm`` on a full batch of ``batch_size`` images. The reference's
    DataLoader ends each epoch on a short batch (5,000 % 64 = 8 images); a step counted there
    would read an eighth of the cost, so such a step is skipped and the next one counted."""
    from torch.utils.flop_counter import FlopCounterMode

    for _ in range(tries):
        counter = FlopCounterMode(display=False)
        counter.mod_tracker = _GlobalOnly()
        with counter:
            images = arm.step()
        if images >= batch_size:
            break
    return int(counter.get_total_flops())


def _vm_kib(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise OSError(f"{key} not in /proc/self/status")


def memory_probe(arm: str, name: str, overrides: list[str], threads: int, steps: int, out: str) -> None:
    """Child-process side of ``peak_memory``: writes ``{"peak_mib": ...}`` to ``out``."""
    from gankit.data import load_dataset

    torch.set_num_threads(threads)
    cfg = bench_config(name, overrides)
    data = load_dataset(cfg.data)
    base = _vm_kib("VmRSS")
    runner = ARMS[arm](cfg, data)
    for _ in range(steps):
        runner.step()
    Path(out).write_text(json.dumps({"peak_mib": (_vm_kib("VmHWM") - base) / 1024}))


def peak_memory(arm: str, name: str, overrides: list[str], threads: int, steps: int = 2) -> float | None:
    """Peak resident memory (MiB) that ``steps`` steps of ``arm`` add to a fresh process; None
    where /proc is unavailable or the probe fails."""
    if not Path("/proc/self/status").is_file():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "mem.json")
        code = ("import sys, json; from gankit.bench import memory_probe; "
                "memory_probe(*json.loads(sys.argv[1]))")
        args = json.dumps([arm, name, overrides, threads, steps, out])
        proc = subprocess.run([sys.executable, "-c", code, args], capture_output=True, text=True)
        if proc.returncode != 0 or not os.path.isfile(out):
            return None
        return float(json.loads(Path(out).read_text())["peak_mib"])


def bench_model(name: str, seconds: float = 20.0, threads: int | None = None, overrides: list[str] | None = None,
                memory: bool = True, slice_s: float = 1.0, peak: float | None = None) -> BenchRow:
    """Time gankit and the reference on preset ``name``, interleaved, for about ``seconds``
    of timed steps in all (half each)."""
    from gankit.data import load_dataset

    overrides = list(overrides or [])
    threads = threads or torch.get_num_threads()
    torch.set_num_threads(threads)
    cfg = bench_config(name, overrides)
    data = load_dataset(cfg.data)
    arms, setup = {}, {}
    for key, cls in ARMS.items():
        t0 = time.perf_counter()
        arms[key] = cls(cfg, data)
        arms[key].step()  # the first step (optimizer state, allocator warm-up) counts as setup
        setup[key] = time.perf_counter() - t0
    for arm in arms.values():
        arm.step()  # one more untimed warm-up step each
    steps = {k: 0 for k in arms}
    images = {k: 0 for k in arms}
    spent = {k: 0.0 for k in arms}
    cpu = {k: 0.0 for k in arms}
    per_step = {k: None for k in arms}
    while min(spent.values()) < seconds / 2 or min(steps.values()) < 1:
        for key, arm in arms.items():
            # a slice of about slice_s seconds (at least one step), from the last estimate
            n = 1 if per_step[key] is None else max(1, int(slice_s / per_step[key]))
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(n):
                images[key] += arm.step()
            if key == "gankit":
                arm.flush()  # the slice's pending loss sums: its host sync is timed too
            spent[key] += time.perf_counter() - t0
            cpu[key] += time.process_time() - c0
            steps[key] += n
            per_step[key] = spent[key] / steps[key]
    flops = {k: step_flops(arm, cfg.data.batch_size) for k, arm in arms.items()}
    if peak is None:
        peak = matmul_peak()
    mem = {k: peak_memory(k, name, overrides, threads) if memory else None for k in arms}
    ips = {k: images[k] / spent[k] for k in arms}
    gflops = {k: flops[k] / per_step[k] / 1e9 for k in arms}
    return BenchRow(
        model=name, batch_size=cfg.data.batch_size, threads=threads,
        gankit_images_per_s=ips["gankit"], reference_images_per_s=ips["reference"],
        ratio=ips["gankit"] / ips["reference"],
        gankit_steps=steps["gankit"], reference_steps=steps["reference"],
        gankit_ms_per_step=1000 * per_step["gankit"], reference_ms_per_step=1000 * per_step["reference"],
        gankit_cpu_ms_per_step=1000 * cpu["gankit"] / steps["gankit"],
        reference_cpu_ms_per_step=1000 * cpu["reference"] / steps["reference"],
        gankit_seconds_to_1000_steps=setup["gankit"] + 1000 * per_step["gankit"],
        reference_seconds_to_1000_steps=setup["reference"] + 1000 * per_step["reference"],
        gankit_gflop_per_step=flops["gankit"] / 1e9, reference_gflop_per_step=flops["reference"] / 1e9,
        gankit_gflop_per_s=gflops["gankit"], reference_gflop_per_s=gflops["reference"],
        matmul_peak_gflop_per_s=peak,
        gankit_peak_fraction=gflops["gankit"] / peak, reference_peak_fraction=gflops["reference"] / peak,
        gankit_peak_mem_mib=mem["gankit"], reference_peak_mem_mib=mem["reference"],
    )


def bench(models: list[str], seconds: float = 20.0, threads: int | None = None, overrides: list[str] | None = None,
          memory: bool = True, on_row=None) -> list[BenchRow]:
    """``bench_model`` for each preset (the matmul peak measured once, first)."""
    if seconds <= 0:
        raise GankitError(f"--seconds must be > 0, got {seconds}")
    if threads is not None and threads < 1:
        raise GankitError(f"--threads must be >= 1, got {threads}")
    if threads:
        torch.set_num_threads(threads)
    peak = matmul_peak()
    rows = []
    for name in models:
        row = bench_model(name, seconds, threads, overrides, memory, peak=peak)
        rows.append(row)
        if on_row is not None:
            on_row(row)
    return rows


TABLE_COLUMNS = (
    ("model", "model", "{}"),
    ("gankit img/s", "gankit_images_per_s", "{:.0f}"),
    ("reference img/s", "reference_images_per_s", "{:.0f}"),
    ("ratio", "ratio", "{:.2f}x"),
    ("CPU ms/step (g/ref)", ("gankit_cpu_ms_per_step", "reference_cpu_ms_per_step"), "{:.0f} / {:.0f}"),
    ("s to 1k steps (g/ref, extrap.)", ("gankit_seconds_to_1000_steps", "reference_seconds_to_1000_steps"), "{:.0f} / {:.0f}"),
    ("GFLOP/step (g/ref)", ("gankit_gflop_per_step", "reference_gflop_per_step"), "{:.2f} / {:.2f}"),
    ("GFLOP/s (g/ref)", ("gankit_gflop_per_s", "reference_gflop_per_s"), "{:.1f} / {:.1f}"),
    ("% of peak (g/ref)", ("gankit_peak_fraction", "reference_peak_fraction"), "{:.0%} / {:.0%}"),
    ("peak MiB (g/ref)", ("gankit_peak_mem_mib", "reference_peak_mem_mib"), "{} / {}"),
)


def format_table(rows: list[BenchRow]) -> str:
    """A Markdown table of ``rows`` (what ``gankit bench`` prints and the README carries)."""
    def cell(row, key, fmt):
        d = row.to_dict()
        if isinstance(key, tuple):
            vals = [d[k] for k in key]
            if "MiB" in fmt or fmt == "{} / {}":
                vals = ["-" if v is None else f"{v:.0f}" for v in vals]
            return fmt.format(*vals)
        return fmt.format(d[key])

    lines = ["| " + " | ".join(c[0] for c in TABLE_COLUMNS) + " |",
             "|" + "|".join("---" for _ in TABLE_COLUMNS) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(cell(row, key, fmt) for _, key, fmt in TABLE_COLUMNS) + " |")
    if rows:
        r = rows[0]
        lines.append(f"\n{r.threads} thread(s); float32 matmul peak measured: {r.matmul_peak_gflop_per_s:.0f} GFLOP/s. "
                     "Both loops run one algorithm: the G step reuses the D step's fakes for ns (the PyTorch "
                     "DCGAN tutorial) and draws a fresh batch for wgan-gp (gankit's arm runs with "
                     "model.reuse_fake set to match)")
    return "\n".join(lines)


# ------------------------------------------------------------------ FID against training seconds
DEFAULT_AT = (30.0, 60.0, 120.0, 300.0, 600.0)
REFERENCE_PREFIX = "reference:"
# the textbook DCGAN on gan-mnist-fast's nets (the guide's DCGAN, width 16, unconditional):
# every stabiliser off, the non-saturating loss, Adam at DCGAN's 2e-4 and beta1 0.5 for both nets
TEXTBOOK = ("model.ema=0 model.clusters=0 net.d_spectral_norm=false objective.name=ns "
            "optim.g.lr=2e-4 optim.d.lr=2e-4 optim.g.beta1=0.5 optim.d.beta1=0.5")
DEFAULT_CURVE_ARMS = ("gan-mnist-fast", "binarygan-mnist-fast", f"{REFERENCE_PREFIX}gan-mnist-fast {TEXTBOOK}")
CURVE_JSON, CURVE_PNG = "curve.json", "fid-curve.png"
CURVE_N = 2000


@dataclass
class CurveArm:
    """One arm of a curve: ``spec`` as given, e.g. 'gan-mnist-fast model.ema=0' (gankit's trainer
    with the preset's full recipe) or 'reference:gan-mnist-fast ...' (the textbook loop)."""

    spec: str
    kind: str  # "gankit" or "reference"
    preset: str
    overrides: list[str]

    @property
    def label(self) -> str:
        """The figure's legend entry (the textbook overrides in words)."""
        if self.kind == "gankit":
            return " ".join(["gankit", self.preset, *self.overrides])
        words, rest = TEXTBOOK.split(), list(self.overrides)
        what = []
        if rest[:len(words)] == words:
            what, rest = ["no stabilisers, ns loss, Adam 2e-4"], rest[len(words):]
        return f"textbook loop (benchmarks/reference.py) on {self.preset}'s nets: " + ", ".join(
            what + ([" ".join(rest)] if rest else []) or ["the preset's settings"])


def parse_arm(text: str) -> CurveArm:
    """'PRESET key=value ...' or 'reference:PRESET key=value ...' (shell quoting inside is kept)."""
    import shlex

    from gankit.config import preset_names

    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise GankitError(f"curve arm '{text}' cannot be split into words: {exc}") from None
    if not words:
        raise GankitError("a curve arm is empty: give 'PRESET key=value ...' or 'reference:PRESET key=value ...'")
    if "=" in words[0]:  # `--curve gan-mnist-fast model.ema=0` unquoted: two arms, the second an override
        raise GankitError(f"curve arm '{text}' starts with an override: quote each arm whole, "
                          f"e.g. --curve 'gan-mnist-fast {words[0]}'")
    kind, preset = "gankit", words[0]
    if preset.startswith(REFERENCE_PREFIX):
        kind, preset = "reference", preset[len(REFERENCE_PREFIX):]
    if preset not in set(preset_names()):
        raise GankitError(f"unknown preset '{preset}' in curve arm '{text}' (see `gankit list --presets`)")
    for word in words[1:]:
        if "=" not in word or word.startswith("="):
            raise GankitError(f"curve arm '{text}': '{word}' is not a key=value override")
    return CurveArm(" ".join(words), kind, preset, words[1:])


def parse_at(text: str | None) -> list[float]:
    """``--at``: comma-separated checkpoint seconds (default ``DEFAULT_AT``), checked by :func:`check_at`."""
    if text is None:
        return list(DEFAULT_AT)
    values = []
    for part in text.split(","):
        try:
            values.append(float(part))
        except ValueError:
            raise GankitError(f"--at must be comma-separated seconds, e.g. 30,60,120; got '{part.strip()}'") from None
    return check_at(values)


def check_at(values) -> list[float]:
    """Checkpoint seconds: at least one, each in (0, 86400], strictly increasing."""
    at = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 86400:  # NaN fails too
            raise GankitError(f"--at seconds must lie in (0, 86400], got {value}")
        if at and value <= at[-1]:
            raise GankitError(f"--at must be strictly increasing, got {value:g} after {at[-1]:g}")
        at.append(float(value))
    if not at:
        raise GankitError("--at needs at least one checkpoint")
    return at


def curve_config(arm: CurveArm, seed: int):
    """The arm's config at ``train.seed=seed`` (the arm's own train.seed override wins). A gankit
    arm keeps its full recipe; a reference arm is checked by :func:`bench_config`."""
    from gankit.catalogue import load_config

    overrides = [f"train.seed={seed}", *arm.overrides]
    try:
        if arm.kind == "reference":
            return bench_config(arm.preset, overrides)
        return load_config(arm.preset, overrides)
    except GankitError as exc:  # which of the arms
        raise GankitError(f"curve arm '{arm.spec}': {exc}") from None


class _Running:
    """An arm during the curve: its runner, the RNG state it left, and its own clocks."""

    def __init__(self, arm: CurveArm, runner, rng: torch.Tensor):
        self.arm, self.runner, self.rng = arm, runner, rng
        self.seconds = self.cpu = 0.0
        self.steps = self.images = self.next = 0


def _now() -> str:
    import datetime

    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _loadavg() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def measure_curve(arms: list[str], at=DEFAULT_AT, threads: int | None = None, n: int = CURVE_N, seed: int = 0,
                  slice_s: float = 1.0, cache_dir: Path | None = None, on_start=None, on_point=None) -> dict:
    """FID and IS of each arm at each of ``at`` seconds of its own training time.

    The arms train *interleaved in one process* (a slice of about ``slice_s`` seconds of steps of
    each in turn, shorter where a checkpoint is nearer), so load from other processes hits all
    alike. An arm's seconds are the wall time of its own steps (``time.perf_counter`` around each
    slice, the gankit arm's host sync included): building it (``setup_seconds``: nets, k-means
    clusters) and evaluating it are not counted; its process CPU seconds (all threads,
    ``time.process_time``) are recorded too. Each arm keeps its own torch RNG stream (swapped in
    around its slices), so its steps do not depend on the other arms. Once an arm's seconds
    reach a checkpoint it is scored on ``n`` samples (``score``) against its own dataset, and
    ``on_point(runner, point, record)`` is called (``on_start(record)`` once every arm is built,
    before the first step). Returns the record that ``curve.json`` holds."""
    from gankit.config import MAX_SAMPLES, check_seed
    from gankit.data import load_dataset

    specs = [parse_arm(a) for a in arms]
    if not specs:
        raise GankitError("the curve needs at least one arm")
    if len({a.spec for a in specs}) < len(specs):
        raise GankitError("the curve's arms must differ: an arm is given twice")
    at = check_at(list(at))
    if isinstance(n, bool) or not isinstance(n, int) or not 2 <= n <= MAX_SAMPLES:
        raise GankitError(f"--n must lie in 2..{MAX_SAMPLES:,} (FID needs two samples), got {n}")
    check_seed(seed)
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise GankitError(f"--threads must be >= 1, got {threads}")
    threads = threads or torch.get_num_threads()
    torch.set_num_threads(threads)
    record = {"what": "gankit bench --curve", "date": _now(), "threads": threads, "loadavg": _loadavg(),
              "cpu_count": os.cpu_count(), "torch": torch.__version__, "n": n, "seed": seed, "at": at,
              "arms": [], "points": []}
    configs = [curve_config(a, seed) for a in specs]  # every arm's config checked before any training
    datasets: dict[str, object] = {}
    running = []
    for arm, cfg in zip(specs, configs):
        key = repr(cfg.data)
        if key not in datasets:
            datasets[key] = load_dataset(cfg.data)
        if datasets[key].kind != "image":
            raise GankitError(f"curve arm '{arm.spec}' trains on {datasets[key].kind}s ('{cfg.data.name}'), "
                              "which have no FID")
        t0 = time.perf_counter()
        runner = ARMS[arm.kind](cfg, datasets[key], cfg.train.seed)
        setup = time.perf_counter() - t0
        running.append(_Running(arm, runner, torch.get_rng_state()))
        record["arms"].append({"arm": arm.spec, "label": arm.label, "kind": arm.kind, "preset": arm.preset,
                               "overrides": arm.overrides, "dataset": cfg.data.name,
                               "batch_size": cfg.data.batch_size, "train_seed": cfg.train.seed,
                               "setup_seconds": round(setup, 3)})
    if on_start is not None:
        on_start(record)
    while any(r.next < len(at) for r in running):
        for r in running:
            if r.next >= len(at):
                continue
            per_step = r.seconds / r.steps if r.steps else None
            k = 1 if per_step is None else max(1, int(min(slice_s, at[r.next] - r.seconds) / per_step))
            torch.set_rng_state(r.rng)
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(k):
                r.images += r.runner.step()
            if r.arm.kind == "gankit":
                r.runner.flush()  # the slice's pending loss sums: its host sync is timed too
            r.seconds += time.perf_counter() - t0
            r.cpu += time.process_time() - c0
            r.steps += k
            r.rng = torch.get_rng_state()
            metrics, eval_s = None, 0.0
            while r.next < len(at) and r.seconds >= at[r.next]:
                if metrics is None:  # checkpoints passed in one step share its evaluation
                    t0 = time.perf_counter()
                    metrics = r.runner.score(n, cache_dir)
                    eval_s = time.perf_counter() - t0
                point = {"arm": r.arm.spec, "at": at[r.next], "seconds": round(r.seconds, 3),
                         "cpu_seconds": round(r.cpu, 3), "steps": r.steps, "images": r.images,
                         "fid": metrics.get("fid"), "is": metrics.get("is"), "eval_seconds": round(eval_s, 3),
                         "date": _now(), "loadavg": _loadavg(), "metrics": metrics}
                record["points"].append(point)
                r.next += 1
                if on_point is not None:
                    on_point(r.runner, point, record)
    return record


def write_curve(record: dict, out: Path) -> Path:
    """``out/curve.json`` (atomically)."""
    from gankit.io import atomic_write

    return atomic_write(Path(out) / CURVE_JSON, json.dumps(record, indent=1) + "\n", what="curve file")


def draw_curve(record: dict, out: Path) -> Path:
    """``out/fid-curve.png`` from a curve record."""
    from gankit.report.fid_curve import plot_fid_curve

    return plot_fid_curve(record, Path(out) / CURVE_PNG)


def curve(arms: list[str], out: str | Path, at=DEFAULT_AT, threads: int | None = None, n: int = CURVE_N,
          seed: int = 0, overwrite: bool = False, cache_dir: Path | None = None, on_start=None,
          on_point=None) -> dict:
    """:func:`measure_curve`, with ``out/curve.json`` rewritten after every point (an interrupted
    measurement keeps its points) and ``out/fid-curve.png`` drawn at the end."""
    out = Path(out)
    if (out / CURVE_JSON).exists() and not overwrite:
        raise GankitError(f"{out / CURVE_JSON} exists; pass --overwrite to measure again, or --from it to redraw")
    if out.exists() and not out.is_dir():
        raise GankitError(f"--out {out} is a file, not a folder")

    def point(runner, p, record):
        write_curve(record, out)
        if on_point is not None:
            on_point(runner, p, record)

    record = measure_curve(arms, at, threads, n, seed, cache_dir=cache_dir, on_start=on_start, on_point=point)
    write_curve(record, out)
    draw_curve(record, out)
    return record


def format_curve_table(record: dict) -> str:
    """A Markdown table of a curve record: one row per arm, one column per checkpoint, each
    cell 'FID / IS (generator steps)'."""
    at = sorted({p["at"] for p in record["points"]})
    lines = ["| arm | " + " | ".join(f"{a:g} s" for a in at) + " |", "|---" * (len(at) + 1) + "|"]
    for arm in record["arms"]:
        cells = []
        for a in at:
            p = next((p for p in record["points"] if p["arm"] == arm["arm"] and p["at"] == a), None)
            is_ = p.get("is") if p else None
            cells.append("-" if p is None else f"{p['fid']:.1f} / "
                         + ("-" if not isinstance(is_, (int, float)) else f"{is_:.2f}") + f" ({p['steps']:,})")
        lines.append(f"| {arm['label']} | " + " | ".join(cells) + " |")
    lines.append(f"\nFID / IS (generator steps) of {record.get('n', '?')} samples at each arm's own training "
                 f"seconds; {record.get('threads', '?')} thread(s), {record.get('date', '?')}")
    return "\n".join(lines)
