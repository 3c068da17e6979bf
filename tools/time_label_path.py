"""Milliseconds per training step of ``gan-mnist-fast`` with K clusters, G's first layer computed
through the one-hot concatenation (``concat``, before 2026-12-07) and through
``nets/guide.py linear_with_label`` (``gather``), interleaved in one process, 2 threads, steps
20-119 of a fresh model (docs/notes/stabilisers.md).

    python tools/time_label_path.py 500 2000
"""
import sys
import time

import torch

from gankit.catalogue import load_config
from gankit.data import load_dataset
from gankit.data.base import Batches
from gankit.models import build_model
from gankit.nets import guide

gather = guide.linear_with_label


def concat(fc, z, y):
    return fc(torch.cat([z, guide.one_hot(y, fc.in_features - z.shape[1], z.dtype)], dim=1))


torch.set_num_threads(2)
for k in [int(a) for a in sys.argv[1:]] or [500]:
    for name, fn in (("concat", concat), ("gather", gather)) * 2:
        guide.linear_with_label = fn  # GuideGenerator._net looks it up in the module at each call
        cfg = load_config("gan-mnist-fast", [f"model.clusters={k}"])
        torch.manual_seed(0)
        data = load_dataset(cfg.data)
        model = build_model(cfg, data)
        batches = Batches(data, cfg.data.batch_size, seed=0)
        for s in range(120):
            if s == 20:
                start = time.perf_counter()
            model.train_step(batches, s)
            model.on_step_end(s + 1)
        print(f"K={k} {name}: {(time.perf_counter() - start) / 100 * 1000:.1f} ms/step", flush=True)
guide.linear_with_label = gather
