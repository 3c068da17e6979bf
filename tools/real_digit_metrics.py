"""Metrics of 2,000 real embedded digits that are not in the KID/PR/DC reference set (docs/metrics.md).

    OMP_NUM_THREADS=1 python tools/real_digit_metrics.py
"""
import json

import torch

from gankit.data import load_dataset
from gankit.data.mnist import MNISTConfig
from gankit.metrics.images import image_metrics, reference_indices

torch.set_num_threads(1)
ds = load_dataset(MNISTConfig())
ref = set(reference_indices(ds, 2000).tolist())
rest = torch.tensor([i for i in range(len(ds)) if i not in ref])
held = rest[torch.randperm(len(rest), generator=torch.Generator().manual_seed(1))[:2000]]
m = image_metrics(ds, ds.x[held], labels=ds.y[held])
print(json.dumps({k: v for k, v in m.items() if k != "class_hist"}))
