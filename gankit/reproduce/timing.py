"""Timing claims ("takes more time", "roughly the same time"): CPU time per generator update of
two configurations, measured in alternating blocks inside one process at one thread (load from
other processes hits both alike), written by a run's ``after`` hook into its ``record/`` so a
report rebuilt from committed records (``--report-only --from``) judges the same numbers.

The papers timed GPUs; these are CPU times, which every row using them names as a departure.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass

from gankit.io import atomic_write
from gankit.reproduce.core import RunResult, Verdict

TIMING = "CPU time at one thread, blocks alternated in one process (the paper: a GPU)"


@dataclass(frozen=True)
class Pair:
    """A over B: two presets (with overrides) whose time per training step is compared; the
    record file ``name`` holds the CPU seconds per step of each block as ``[[a, b], ...]``."""
    name: str
    a: str
    b: str
    a_over: tuple[str, ...] = ()
    b_over: tuple[str, ...] = ()
    strip_sn_b: bool = False  # B's discriminator loses its spectral norm (the same nets without it)


def paired_pace(cfg_a, cfg_b, *, blocks: int = 3, steps: int = 5, strip_sn_b: bool = False) -> list[list[float]]:
    """CPU seconds per training step of A and of B, ``blocks`` times ``steps`` steps each,
    alternated in this process at one thread after one warm-up step each (optimizer state,
    allocator). ``strip_sn_b``: B's discriminator loses its spectral norm."""
    import time

    import torch
    from torch.nn.utils import parametrize

    from gankit.bench import GankitArm
    from gankit.data import load_dataset
    from gankit.models.base import make_optimizer

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        arms = [GankitArm(cfg, load_dataset(cfg.data)) for cfg in (cfg_a, cfg_b)]
        if strip_sn_b:
            model = arms[1].model
            for m in model.D.modules():
                if parametrize.is_parametrized(m, "weight"):
                    parametrize.remove_parametrizations(m, "weight")
            model.opt_d = make_optimizer(model.D.parameters(), cfg_b.optim.d)  # the plain weights
        for arm in arms:
            arm.step()
        out = []
        for _ in range(blocks):
            pair = []
            for arm in arms:
                c = time.process_time()
                for _ in range(steps):
                    arm.step()
                arm.flush()
                pair.append((time.process_time() - c) / steps)
            out.append(pair)
        return out
    finally:
        torch.set_num_threads(threads)


def timing_hook(pairs: list[Pair], blocks: int, steps: int):
    """An ``after`` hook that times every pair and writes its record file (one JSON per pair)."""
    def after(r: RunResult) -> None:
        from gankit.catalogue import load_config

        for p in pairs:
            cfg_a = load_config(p.a, [*p.a_over, "train.threads=1"])
            cfg_b = load_config(p.b, [*p.b_over, "train.threads=1"])
            pace = paired_pace(cfg_a, cfg_b, blocks=blocks, steps=steps, strip_sn_b=p.strip_sn_b)
            b = " ".join([p.b, *p.b_over]) + (" without spectral norm" if p.strip_sn_b else "")
            atomic_write(r.record / p.name, json.dumps({"a": " ".join([p.a, *p.a_over]), "b": b,
                                                        "steps_per_block": steps, "cpu_s_per_step": pace},
                                                       indent=1), what="timing record")
    return after


def read_pace(r: RunResult | None, name: str) -> list[float] | None:
    """A/B time ratios per block from a run's timing record (None when the record is missing)."""
    path = None if r is None else r.record / name
    if path is None or not path.is_file():
        return None
    return [a / b for a, b in json.loads(path.read_text())["cpu_s_per_step"]]


def ratio_rule(ratios: list[float], lo: float, hi: float, what: str) -> Verdict:
    """A "takes more time" claim on paired timing blocks (A's time / B's): every block in
    [``lo``, ``hi``]: reproduced; every block above ``hi``: partly (more than the paper says);
    every block under ``lo``: not reproduced; blocks on both sides of a bound: inconclusive."""
    if not ratios:
        return Verdict("inconclusive", "data: no timing record")
    text = f"{what} " + ", ".join(f"{r:.2f}x" for r in ratios)
    bounds = f"at least {lo:g}x" if math.isinf(hi) else f"in {lo:g}-{hi:g}x"
    if all(lo <= r <= hi for r in ratios):
        return Verdict("reproduced", f"{text}: each {bounds}")
    if all(r > hi for r in ratios):
        return Verdict("partly", f"{text}: each above {hi:g}x, more than the paper says")
    if all(r < lo for r in ratios):
        return Verdict("not reproduced", f"{text}: each under {lo:g}x")
    return Verdict("inconclusive", f"resolution: {text}: the blocks fall on both sides of a bound ({bounds})")


def same_time_rule(ratios: list[float], what: str, tol: float = 1.25) -> Verdict:
    """A "roughly the same time" claim (A's time / B's per block): every block within
    [1/``tol``, ``tol``]: reproduced; every block outside: not reproduced; blocks on both sides
    of a bound: inconclusive."""
    if not ratios:
        return Verdict("inconclusive", "data: no timing record")
    text = f"{what} " + ", ".join(f"{r:.2f}x" for r in ratios)
    inside = [1 / tol <= r <= tol for r in ratios]
    if all(inside):
        return Verdict("reproduced", f"{text}: each within {1 / tol:.2f}-{tol:g}x")
    if not any(inside):
        return Verdict("not reproduced", f"{text}: each outside {1 / tol:.2f}-{tol:g}x")
    return Verdict("inconclusive", f"resolution: {text}: the blocks fall on both sides of {1 / tol:.2f}-{tol:g}x")
