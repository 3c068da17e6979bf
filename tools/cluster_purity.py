"""How well ``mnist-stacked``'s per-channel k-means clusters (``model.clusters_by=channel``) separate
the digits: a diagnostic that reads the digit labels, which training never does
(docs/notes/stabilisers.md, "Cluster purity").

    python tools/cluster_purity.py K [K ...] --seeds 0 1

For each k and seed (the clusters' seed is ``train.seed``): the purity (the share of channel
images whose digit is their cluster's most common one) and the KL, in nats, from the real digit
shares to the shares a G would draw if it honoured the clusters' shares but drew only each
cluster's majority digit, times the channels (three): roughly what ``eval --modes`` would add to the
sampling floor of such a G.
"""
import argparse

import torch

from gankit.data.stacked import StackedMNISTConfig
from gankit.models.labels import ChannelClusterLabels
from gankit.registry import DATASETS

parser = argparse.ArgumentParser()
parser.add_argument("k", type=int, nargs="+")
parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
parser.add_argument("--threads", type=int, default=1)
args = parser.parse_args()
if min(args.k) < 2:
    parser.error(f"k must be >= 2 (model.clusters), got {min(args.k)}")
torch.set_num_threads(args.threads)

data = DATASETS.get("mnist-stacked")(StackedMNISTConfig())
digits = data.digits.y[data.picks].reshape(-1)  # the digit of every channel image
for k in args.k:
    for seed in args.seeds:
        source = ChannelClusterLabels(data.x, k, seed)
        ids = (source.assign(data.x) - source.offsets).reshape(-1)
        table = torch.zeros(k, 10).index_put_((ids, digits), torch.ones(len(digits)), accumulate=True)
        purity = (table.max(1).values.sum() / table.sum()).item()
        majority = torch.zeros(10).index_add_(0, table.argmax(1), table.sum(1))
        majority, real = majority / majority.sum(), table.sum(0) / table.sum()
        kl = (majority * (majority.clamp_min(1e-12) / real).log()).sum().item()
        print(f"k {k} seed {seed}: purity {purity:.3f}, majority-digit shares {majority.min():.3f}-"
              f"{majority.max():.3f}, KL to the real shares {kl:.4f} a channel, "
              f"{source.channels * kl:.4f} for {source.channels}",
              flush=True)
