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
    """gankit's trainer: the family's ``train_step`` plus the loop's per-step bookkeeping."""

    def __init__(self, cfg, data, seed: int = 0):
        from gankit.data.base import Batches
        from gankit.models import build_model
        from gankit.training.loop import advance

        self.advance = advance
        torch.manual_seed(seed)
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


class ReferenceArm:
    """The textbook loop of ``benchmarks/reference.py`` on the same preset."""

    def __init__(self, cfg, data, seed: int = 0):
        torch.manual_seed(seed)
        self.loop = load_reference().from_config(cfg, data)

    def step(self) -> int:
        images, _, _ = next(self.loop)
        return images


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


def step_flops(arm) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    counter.mod_tracker = _GlobalOnly()
    with counter:
        arm.step()
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
    flops = {k: step_flops(arm) for k, arm in arms.items()}
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
