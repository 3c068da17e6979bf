"""Walks through a generator's latent space: rows of images between two random latents.

Each row follows the great circle between two latents (spherical interpolation, Shoemake 1985;
White 2016, "Sampling Generative Networks", recommends it for Gaussian latents, whose mass lies
near a sphere, where a straight line passes through improbable short vectors). A conditional run
keeps one class per row (row i: class i mod K), so a row shows the latent changing within a class.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import torch

from gankit.errors import GankitError
from gankit.io import atomic_write

MAX_ROWS = 64
MAX_STEPS = 64


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation between rows ``a`` and ``b`` [R, D] at fractions ``t`` [T]:
    [R, T, D] with ``sin((1-t)w)/sin(w) a + sin(t w)/sin(w) b``, w the angle between a and b
    (Shoemake 1985); nearly parallel rows fall back to the straight line (sin w ~ 0)."""
    a, b, t = a.double(), b.double(), t.double().reshape(1, -1, 1)
    cos = torch.nn.functional.cosine_similarity(a, b, dim=1).clamp(-1, 1)
    w = torch.arccos(cos).reshape(-1, 1, 1)
    s = torch.sin(w)
    near = s.abs() < 1e-6
    safe = torch.where(near, torch.ones_like(s), s)
    ka = torch.where(near, 1 - t, torch.sin((1 - t) * w) / safe)
    kb = torch.where(near, t, torch.sin(t * w) / safe)
    return (ka * a[:, None] + kb * b[:, None]).float()


def _check_count(value, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise GankitError(f"{name} must be an integer in {low}..{high}, got {str(value)[:30]}")
    return value


@torch.no_grad()
def interpolation_images(model, rows: int, steps: int, seed: int) -> np.ndarray:
    """uint8 images [rows, steps, H, W(, 3)] of slerp walks from ``seed`` (the training RNG untouched)."""
    from gankit.config import check_seed
    from gankit.models.labels import clusters_of

    check_seed(seed, "--seed")
    if model.data.kind != "image" or not hasattr(model, "noise"):
        raise GankitError(f"interpolate takes image generators fed with noise z; this run's family "
                          f"'{model.cfg.model.family}' on '{model.data.name}' has none")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        ends = model.noise(2 * rows).cpu().view(rows, 2, -1)
        labels = None
        clusters = clusters_of(model)
        if clusters is not None:  # each row one draw of clusters, as generate draws them
            labels = clusters.sample(rows).cpu()
        elif model.conditional:
            labels = torch.arange(rows) % model.data.num_classes
    z = slerp(ends[:, 0], ends[:, 1], torch.linspace(0, 1, steps)).reshape(rows * steps, -1)
    y = labels.repeat_interleave(steps, dim=0) if labels is not None else None
    was = model.training
    model.eval()
    try:
        conditional = labels is not None
        x = model.sampler(z.to(model.device), y.to(model.device) if conditional else None).cpu()
    finally:
        model.train(was)
    images = model.data.to_uint8(x).numpy()
    return images.reshape(rows, steps, *images.shape[1:])


def write_gif(frames: list[np.ndarray], path: Path, ms: int = 120) -> Path:
    """Frames (uint8 [H, W] or [H, W, 3]) as a looping GIF, forth and back, written atomically."""
    from PIL import Image

    seq = frames + frames[-2:0:-1]  # back again, without repeating the two ends
    pics = [Image.fromarray(f) for f in seq]

    def write(fh) -> None:
        buf = io.BytesIO()
        pics[0].save(buf, format="GIF", save_all=True, append_images=pics[1:], duration=ms, loop=0)
        fh.write(buf.getvalue())

    return atomic_write(path, write, what="GIF")


def interpolate(run: str | Path, png: str | Path, gif: str | Path | None = None, rows: int = 8, steps: int = 10,
                seed: int = 0) -> dict:
    """Write ``rows`` slerp walks of ``steps`` images each of the run's generator as a PNG grid
    (a row per walk) and, with ``gif``, an animation of the walks (one frame per step, the rows
    side by side). Returns the paths written and the run's step."""
    from gankit.report.grid import grid_array, upscale, write_png
    from gankit.training.run import open_run

    _check_count(rows, "--rows", 1, MAX_ROWS)
    _check_count(steps, "--steps", 2, MAX_STEPS)
    opened = open_run(Path(run))
    images = interpolation_images(opened.model, rows, steps, seed)
    flat = images.reshape(rows * steps, *images.shape[2:])
    write_png(upscale(grid_array(flat, nrow=steps)), Path(png))
    out = {"run": str(opened.dir), "step": opened.step, "png": str(png), "rows": rows, "steps": steps, "seed": seed,
           "conditional": bool(opened.model.conditional)}
    if gif is not None:
        side = int(np.ceil(np.sqrt(rows)))
        frames = [upscale(grid_array(images[:, s], nrow=side), 256) for s in range(steps)]
        write_gif(frames, Path(gif))
        out["gif"] = str(gif)
    return out
