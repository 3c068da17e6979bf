"""A preset before training it: its resolved config, its nets' sizes, its data, its pace here.

``show`` builds what ``gankit train`` would build (config, dataset, model) without writing
anything, and times a few real training steps (``training.loop.advance``, the loop's own step)
on this machine. Without the dataset's files the nets are built on a stand-in of the shape the
dataset would have (random values), so the counts and the pace are still given.
"""
from __future__ import annotations

import time

import torch

from gankit.errors import GankitError, first_line

# the example shape of each dataset that reads files, for a stand-in when they are missing
FILE_SHAPES = {"mnist": (1, 28, 28), "mnist-binary": (1, 28, 28), "svhn": (3, 32, 32), "cifar10": (3, 32, 32)}
STANDIN_CLASSES = 10


def _standin(cfg):
    """A dataset of the shape ``cfg.data`` would have (values random, 10 classes), or None."""
    from gankit.data.base import Dataset

    d = cfg.data
    if d.name == "folder":
        shape = (d.channels, d.size, d.size)
    elif d.name in FILE_SHAPES:
        shape = FILE_SHAPES[d.name]
    else:
        return None
    n = max(2 * d.batch_size, 2)
    g = torch.Generator().manual_seed(0)
    lo, hi = (0.0, 1.0) if d.name == "mnist-binary" else (-1.0, 1.0)
    x = torch.rand(n, *shape, generator=g) * (hi - lo) + lo
    y = torch.randint(0, STANDIN_CLASSES, (n,), generator=g)
    return Dataset(d.name, x, y, num_classes=STANDIN_CLASSES, value_range=(lo, hi))


def time_steps(cfg, data, steps: int = 3, warmup: int = 1, limit: float = 30.0) -> float:
    """Seconds per generator step of ``cfg`` on ``data`` here: the mean of ``steps`` real steps
    after ``warmup`` (first calls allocate), fewer once ``limit`` seconds are spent. The caller's
    RNG streams are untouched."""
    from gankit.data.base import Batches
    from gankit.models import build_model
    from gankit.training.distributed import select_device
    from gankit.training.loop import advance

    threads = torch.get_num_threads()
    try:
        if cfg.train.threads:
            torch.set_num_threads(cfg.train.threads)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.train.seed)
            device = select_device(cfg.train.device)
            model = build_model(cfg, data).to(device)
            batches = Batches(data, min(cfg.data.batch_size, len(data)), cfg.train.seed, device)
            model.train()
            sums: dict = {}
            step = 0
            for _ in range(warmup):
                step = advance(model, batches, step, sums)
            t0, done = time.perf_counter(), 0
            while done < steps and (done == 0 or time.perf_counter() - t0 < limit):
                step = advance(model, batches, step, sums)
                done += 1
            if device.type == "cuda":
                torch.cuda.synchronize()
            return (time.perf_counter() - t0) / done
    finally:
        torch.set_num_threads(threads)


def show(preset: str, overrides: list[str] | None = None, steps: int = 3) -> dict:
    """What ``gankit show PRESET k=v`` prints: ``config`` (the YAML text ``config.yaml`` would
    hold), ``params`` per network, ``dataset`` (name, what it reads, whether its files are
    there, examples/classes/shape), ``seconds_per_step`` (timed here; None for 0 ``steps``),
    ``threads`` and ``estimate_seconds`` for the budget of ``train.steps``/``train.seconds``."""
    from gankit.catalogue import load_config
    from gankit.data import load_dataset
    from gankit.models import build_model
    from gankit.registry import DATASETS

    if isinstance(steps, bool) or not isinstance(steps, int) or not 0 <= steps <= 100:
        raise GankitError(f"steps must be an integer in 0..100, got {str(steps)[:30]}")
    cfg = load_config(preset, list(overrides or []))
    d = cfg.data
    dataset = {"name": d.name, "reads": DATASETS.entry(d.name).doc, "root": d.root}
    try:
        data = load_dataset(d)
        dataset.update(present=True, examples=len(data), classes=data.num_classes, shape=list(data.shape))
    except GankitError as exc:
        dataset.update(present=False, problem=first_line(exc))
        data = _standin(cfg)
        if data is None:
            raise
        dataset["shape"] = list(data.shape)
        dataset["standin"] = f"nets built on random {'x'.join(map(str, data.shape))} examples, {STANDIN_CLASSES} classes"
    with torch.random.fork_rng(devices=[]):
        model = build_model(cfg, data)
    params = {name: sum(p.numel() for p in net.parameters()) for name, net in model.networks().items()}
    out = {"preset": cfg.preset, "config": cfg.to_yaml(), "params": params, "dataset": dataset,
           "seconds_per_step": None, "threads": cfg.train.threads or torch.get_num_threads(), "estimate_seconds": None}
    if steps:
        sec = time_steps(cfg, data, steps)
        out["seconds_per_step"] = sec
        total = sec * cfg.train.steps
        out["estimate_seconds"] = min(total, cfg.train.seconds) if cfg.train.seconds else total
    return out


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def format_show(info: dict) -> str:
    """``show``'s result as the text ``gankit show`` prints."""
    ds = info["dataset"]
    lines = [f"# preset {info['preset']}: the config a run records (config.yaml)", info["config"].rstrip(), ""]
    lines.append("nets: " + ", ".join(f"{k} {v:,d} parameters" for k, v in info["params"].items()))
    where = f" under {ds['root']}" if ds.get("root") else ""
    if ds["present"]:
        what = f"{ds['examples']:,d} examples of {'x'.join(map(str, ds['shape']))}"
        what += f", {ds['classes']} classes" if ds["classes"] else ", no labels"
        lines.append(f"data: {ds['name']}{where}: {what} (found)")
    else:
        lines.append(f"data: {ds['name']}{where}: NOT FOUND: {ds['problem']}")
        if ds.get("standin"):
            lines.append(f"      ({ds['standin']}, for the counts and the pace)")
    lines.append(f"      {ds['reads']}")
    if info["seconds_per_step"] is not None:
        est = info["estimate_seconds"]
        n = info["threads"]
        lines.append(f"pace: {info['seconds_per_step']:.3f} s per step here ({n} thread{'s' if n != 1 else ''}); "
                     f"the budget takes about {_duration(est)} plus evaluation")
    return "\n".join(lines)
