"""IS / FID of a run's EMA generator (what its samples and metrics use) against its raw G, on the
same 2,000 samples' noise (seed 0), for runs trained with ``model.ema`` (docs/notes/stabilisers.md).

    python tools/ema_vs_raw.py RUN [RUN ...]
"""
import sys

import torch

import gankit
from gankit.api import label_cycle
from gankit.metrics.images import image_metrics
from gankit.training.sampling import iter_seeded

N, SEED = 2000, 0

for run_dir in sys.argv[1:]:
    run = gankit.load(run_dir)
    model, data = run.model, run._restored.data
    if model.G_ema is None:
        sys.exit(f"{run_dir}: trained without model.ema, nothing to compare")
    cells = []
    for name in ("EMA", "raw G"):
        if name == "raw G":
            model.G_ema = None  # the sampler is G itself from here on (eval mode, its own BN statistics)
        samples = torch.cat(list(iter_seeded(model, N, SEED, label_cycle(model))))
        m = image_metrics(data, samples)
        cells.append(f"{name} IS {m['is']:.2f} FID {m['fid']:.1f} precision {m['precision']:.3f} "
                     f"recall {m['recall']:.3f} confidence {m['mean_confidence']:.3f}")
    print(f"{run_dir}: " + " | ".join(cells), flush=True)
