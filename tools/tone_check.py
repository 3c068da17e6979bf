"""How much of a run's FID is the distribution of its pixel values (its "tone": how much ink,
how bright a stroke's edge) rather than the shapes it draws? For 2,000 samples of each of the
seeds given (default 0 and 1; ``iter_seeded``'s sampling, as ``gankit eval``'s): the pixel-value
quantiles of samples and training images side by side, then IS / FID of the samples as they are
and after a histogram match, a monotone remap of every pixel value to the training images'
value at the same quantile (per channel, pooled over the samples). The remap moves no stroke:
what it removes from FID is the tone (docs/notes/stabilisers.md, 2026-12-08). A diagnostic, not
a sampler: gankit's samples are never remapped.

    python tools/tone_check.py RUN [RUN ...] [--seeds 0 1]
"""
import argparse

import torch

import gankit
from gankit.api import label_cycle
from gankit.metrics.images import image_metrics
from gankit.models.tricks import rank_partners, sorted_pixel_values
from gankit.training.sampling import iter_seeded

N = 2000
LEVELS = torch.tensor([0.80, 0.84, 0.86, 0.88, 0.90, 0.94])  # where MNIST's strokes are (80% is background)


def histogram_match(x: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """``x`` [N, C, H, W] with each channel's values replaced, rank for rank, by the training
    images' value at the same quantile (``ref``: their ``sorted_pixel_values``; the pairing
    ``model.pixel_marginal`` trains toward)."""
    matched = rank_partners(x.transpose(0, 1).flatten(1), ref.to(x.dtype))  # [C, N*H*W]
    return matched.view(x.shape[1], x.shape[0], *x.shape[2:]).transpose(0, 1)


def quantiles(x: torch.Tensor, data) -> str:
    u = data.to_unit(x).flatten().float()
    u = u[torch.randperm(len(u), generator=torch.Generator().manual_seed(0))[:1_000_000]]  # quantile's size limit
    return " ".join(f"{v:.3f}" for v in torch.quantile(u, LEVELS))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    args = parser.parse_args()
    for run_dir in args.runs:
        run = gankit.load(run_dir)
        model, data = run.model, run._restored.data
        ref = sorted_pixel_values(data.x)  # once a run, not once a seed
        print(f"{run_dir}: pixel quantiles at {' '.join(f'{v:.2f}' for v in LEVELS)} (values in [0, 1])")
        print(f"  training images  {quantiles(data.x, data)}")
        for seed in args.seeds:
            x = torch.cat(list(iter_seeded(model, N, seed, label_cycle(model))))
            m, matched = image_metrics(data, x), image_metrics(data, histogram_match(x, ref))
            print(f"  samples, seed {seed}  {quantiles(x, data)}  | IS {m['is']:.2f} FID {m['fid']:.2f} as drawn; "
                  f"IS {matched['is']:.2f} FID {matched['fid']:.2f} histogram-matched", flush=True)


if __name__ == "__main__":
    main()
