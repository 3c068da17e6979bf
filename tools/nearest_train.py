"""Does a run's generator copy its training images? Pixel distance from each of 2,000 samples
(seed 0, as ``gankit eval``) to its nearest training image, against the same distance from
2,000 training images to their nearest *other* training image (docs/notes/stabilisers.md: a G
conditioned on many clusters sees about two images a cluster).

    python tools/nearest_train.py RUN [RUN ...]
"""
import sys

import torch

import gankit
from gankit.api import label_cycle
from gankit.training.sampling import iter_seeded

N = 2000


def nearest(a: torch.Tensor, b: torch.Tensor, skip_self: bool = False) -> torch.Tensor:
    """RMS pixel distance (images in [0, 1]) from each row of ``a`` to its nearest row of ``b``."""
    d = torch.cdist(a, b)
    if skip_self:  # a is b's first rows: an image is not its own neighbour
        d[torch.arange(len(a)), torch.arange(len(a))] = float("inf")
    return d.min(1).values / a.shape[1] ** 0.5


def row(name: str, d: torch.Tensor, floor: float) -> str:
    q = torch.quantile(d, torch.tensor([0.01, 0.05, 0.5]))
    return (f"{name}: nearest-training-image RMS distance 1% {q[0]:.3f}  5% {q[1]:.3f}  median {q[2]:.3f}; "
            f"closer than the real 1%: {(d < floor).float().mean():.1%}")


for i, run_dir in enumerate(sys.argv[1:]):
    run = gankit.load(run_dir)
    model, data = run.model, run._restored.data
    lo, hi = data.value_range
    train = ((data.x.reshape(len(data.x), -1).float() - lo) / (hi - lo))
    if i == 0:
        real = nearest(train[:N], train, skip_self=True)
        floor = float(torch.quantile(real, 0.01))
        print(row(f"training images ({data.name}, leave-one-out)", real, floor), flush=True)
    fake = torch.cat(list(iter_seeded(model, N, 0, label_cycle(model))))
    fake = ((fake.reshape(N, -1).float() - lo) / (hi - lo))
    print(row(run_dir, nearest(fake, train), floor), flush=True)
