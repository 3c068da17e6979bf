"""Does D at the end of training know which of G's samples are good? For each sample seed and
pool factor f: draw f x 2,000 samples of the run's sampler (its labels or clusters drawn as
``generate`` draws them), score them with the run's D (eval mode, each with its own label), and
compare IS / FID of the 2,000 D scores highest against 2,000 of the same pool picked at random.
A diagnostic of selection by D (a deterministic relative of discriminator rejection sampling,
Azadi et al. 2019); gankit's samplers never select (docs/notes/stabilisers.md, 2026-12-08).

    python tools/d_select_check.py RUN [RUN ...] [--seeds 0 1] [--factors 1.25 1.5 2]
"""
import argparse

import torch

import gankit
from gankit.eval_mode import eval_mode
from gankit.metrics.images import image_metrics

N = 2000
CHUNK = 500


@torch.no_grad()
def pool(model, m: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``m`` samples of the sampler and D's score of each."""
    with eval_mode(model):
        torch.manual_seed(seed)
        y = model.labels.generate(m, None, model.device)
        z = model.noise(m)
        xs, scores = [], []
        for i in range(0, m, CHUNK):
            yi = None if y is None else y[i:i + CHUNK]
            x = model.sampler(z[i:i + CHUNK], yi)
            xs.append(x.cpu())
            scores.append(model.D(x, yi).flatten().cpu())
    return torch.cat(xs), torch.cat(scores)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--factors", type=float, nargs="+", default=[1.25, 1.5, 2.0])
    args = parser.parse_args()
    for run_dir in args.runs:
        run = gankit.load(run_dir)
        model, data = run.model, run._restored.data
        for seed in args.seeds:
            for factor in args.factors:
                m = int(N * factor)
                x, s = pool(model, m, seed)
                rnd = torch.randperm(m, generator=torch.Generator().manual_seed(seed))[:N]
                a, b = image_metrics(data, x[rnd]), image_metrics(data, x[s.topk(N).indices])
                print(f"{run_dir} seed {seed} pool x{factor}: random IS {a['is']:.2f} FID {a['fid']:.2f} | "
                      f"D's best IS {b['is']:.2f} FID {b['fid']:.2f}", flush=True)


if __name__ == "__main__":
    main()
