"""Samples and metrics of a model: the fixed-noise grids, seeded sampling in bounded chunks
(``gankit sample``, ``Run.sample``), and the evaluation of ``gankit eval`` and the loop."""
from __future__ import annotations

import math
from pathlib import Path

import torch

from gankit.config import MAX_SAMPLES, check_seed
from gankit.errors import GankitError, first_line
from gankit.eval_mode import eval_mode
from gankit.models.base import Model

GRID_SEED = 1234  # the fixed noise of the sample grids (same for every run and resume)
EVAL_SEED = 4321
SAMPLE_CHUNK = 500  # samples per generator call: the blocks of the seeded stream (and of the memory used)
SAMPLE_BYTES = 4 * 2**30  # the generated float samples of one call stay below this


def grid_labels(model: Model, n: int) -> torch.Tensor | None:
    """Balanced class labels 0, 1, 2, ... for ``n`` samples of a conditional model; else None."""
    if not model.conditional:
        return None
    return torch.arange(n, device=model.device) % model.data.num_classes


def generate_seeded(model: Model, n: int, seed: int, labels: torch.Tensor | None = None,
                    chunk: int | None = None) -> torch.Tensor:
    """``n`` samples in eval mode from a fixed seed, without touching the training RNG:
    ``iter_seeded``'s chunks in one tensor (so at most ``check_sample_count``'s limit)."""
    check_sample_count(model, n)
    return torch.cat(list(iter_seeded(model, n, seed, labels, chunk)))


@torch.no_grad()
def iter_seeded(model: Model, n: int, seed: int, labels: torch.Tensor | None = None,
                chunk: int | None = None):
    """The samples of ``generate_seeded`` as CPU tensors of ``chunk`` (default ``SAMPLE_CHUNK``)
    samples each, one generator call at a time: memory stays bounded by a chunk whatever ``n``.
    One seeded RNG stream runs through the chunks; it is set aside between them (what the
    caller does meanwhile draws nothing from it), so the samples are those of one
    ``generate_seeded`` call. ``labels``: [n], or one period of them (e.g. the classes
    0..K-1) repeated to ``n``."""
    check_seed(seed)
    chunk = int(chunk or SAMPLE_CHUNK)
    devices = [model.device] if model.device.type == "cuda" else []
    state = None
    for start in range(0, n, chunk):
        count = min(chunk, n - start)
        lab = None
        if labels is not None:
            lab = labels[torch.arange(start, start + count, device=labels.device) % len(labels)].to(model.device)
        with eval_mode(model), torch.random.fork_rng(devices=devices):
            if state is None:
                torch.manual_seed(seed)
            else:
                torch.set_rng_state(state[0])
                for d, s in zip(devices, state[1]):
                    torch.cuda.set_rng_state(s, d)
            out = model.generate(count, lab).cpu()
            state = (torch.get_rng_state(), [torch.cuda.get_rng_state(d) for d in devices])
        yield out


def check_sample_count(model: Model, n: int) -> None:
    """A count of samples in 1..the most that memory holds (stated in the error)."""
    size = 4 * max(1, math.prod(model.data.shape))
    limit = max(1, min(MAX_SAMPLES, SAMPLE_BYTES // size))
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= limit:
        raise GankitError(f"the number of samples (--n) must lie in 1..{limit:,d} for this run "
                          f"({SAMPLE_BYTES // 2**30} GiB of samples at most), got {str(n)[:30]}")


def render(model: Model, samples: torch.Tensor):
    """uint8 images for a grid: the dataset's conversion (boards render as coloured cells)."""
    return model.data.to_uint8(samples.cpu())


def save_sample_grid(model: Model, path: Path, n: int):
    """The fixed-noise grid as a PNG at ``path``: a full square (one column per class for
    conditional models) of at most ``n`` images, enlarged when small. Returns the uint8 array
    written (for TensorBoard)."""
    from gankit.report.grid import grid_array, square_grid, upscale, write_png

    count, columns = square_grid(n, model.data.num_classes if model.conditional else None)
    images = render(model, generate_seeded(model, count, GRID_SEED, grid_labels(model, count)))
    arr = upscale(grid_array(images, nrow=columns))
    write_png(arr, path)
    return arr


def evaluate_model(model: Model, n: int, cache_dir: Path | None = None, seed: int = EVAL_SEED,
                   modes: bool = False) -> dict:
    """Metrics of ``n`` fresh samples (balanced labels for conditional models); ``modes`` adds
    the mode coverage of the same samples (``mnist-stacked`` runs, :mod:`gankit.metrics.modes`)."""
    from gankit.metrics import evaluate

    if modes:  # refused before any sample is drawn
        from gankit.metrics.modes import check_stacked

        check_stacked(model.data)
    check_sample_count(model, n)  # before the labels: a negative count is this one line
    labels = grid_labels(model, n)
    samples = generate_seeded(model, n, seed, labels)
    metrics = evaluate(model.data, samples, labels.cpu() if labels is not None else None, cache_dir)
    metrics.update(model.extra_metrics())
    if modes:
        from gankit.metrics.modes import mode_metrics

        metrics.update(mode_metrics(model.data, samples, cache_dir))
    return metrics


def check_model_fits_data(model: Model) -> None:
    """Two samples must come out in the data's shape: a net built for other images
    (e.g. 28x28 MNIST nets on 32x32 SVHN) fails here, before anything is written."""
    try:
        out = generate_seeded(model, 2, 0, grid_labels(model, 2))
    except (RuntimeError, ValueError, IndexError) as exc:
        first = first_line(exc)
        raise GankitError(f"net '{model.cfg.net.name}' cannot generate data '{model.data.name}' "
                          f"of shape {list(model.data.shape)}: {first[:200]}") from None
    if tuple(out.shape[1:]) != model.data.shape:
        raise GankitError(f"net '{model.cfg.net.name}' generates examples of shape {list(out.shape[1:])} but data "
                          f"'{model.data.name}' has shape {list(model.data.shape)}")
