"""IS / FID of weight averages of G formed after training from a run's checkpoints (a diagnostic
for issue 32, docs/notes/stabilisers.md): which average of a run's generators leaves the IS-FID
line that the EMA of ``model.ema`` sits on. Train with dense checkpoints first, e.g.

    gankit train gan-mnist-fast train.ckpt_every=100 train.keep_checkpoints=200 --out RUN
    python tools/posthoc_average.py RUN raw ema:0.999 ema:0.995 last:1000 --seeds 0 1 2

Each SPEC is ``raw`` (the newest checkpoint's G), ``ema0`` (the run's own EMA copy; ``ema0+bn``
with its batch-norm statistics computed afresh), ``ema:D``
(each checkpoint's G weighted by D ** (steps before the newest): the EMA of decay D sampled at
the checkpoints, history before the oldest kept checkpoint dropped), or ``last:N`` (a plain mean
of the checkpoints of the last N steps). An average's batch-norm statistics are computed afresh
(50 training-mode batches of seed 0, cumulative mean), as the EMA's own are (models/tricks.py).
Scores: gankit's classifier, 2,000 samples a seed (``iter_seeded``, as ``gankit eval``).
"""
import argparse
import sys
from pathlib import Path

import torch
from torch import nn

import gankit
from gankit.api import label_cycle
from gankit.metrics.images import image_metrics
from gankit.training.checkpoint import Checkpoints, load_checkpoint
from gankit.training.sampling import iter_seeded

N = 2000


def snapshots(run_dir: Path) -> list[tuple[int, dict]]:
    """(step, G's state) of every checkpoint kept, oldest first."""
    out = []
    for path in Checkpoints(run_dir / "checkpoints").paths():
        state = load_checkpoint(path, "cpu")
        out.append((int(state["step"]), {k[2:]: v for k, v in state["model"].items() if k.startswith("G.")}))
    return out


def weights(spec: str, steps: list[int]) -> list[float]:
    last = steps[-1]
    kind, _, arg = spec.partition(":")
    if kind == "raw":  # the newest checkpoint alone
        w = [float(s == last) for s in steps]
    elif kind == "ema":
        w = [float(arg) ** (last - s) for s in steps]
    elif kind == "last":
        w = [1.0 if last - s < int(arg) else 0.0 for s in steps]
    else:
        raise SystemExit(f"unknown average '{spec}': use raw, ema0, ema:DECAY or last:STEPS")
    total = sum(w)
    return [x / total for x in w]


@torch.no_grad()
def fresh_batchnorm(model, batches: int = 50) -> None:
    G = model.G_ema
    torch.manual_seed(0)  # the statistics' batches: the same on every rerun
    for m in G.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.reset_running_stats()
            m.momentum = None  # cumulative mean over the batches below
    G.train()
    for _ in range(batches):
        G(*model.ema_inputs(model.cfg.data.batch_size))
    G.eval()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("specs", nargs="+")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = ap.parse_args()
    run = gankit.load(args.run)
    model, data = run.model, run._restored.data
    if model.G_ema is None:
        sys.exit(f"{args.run}: trained without model.ema (the averages are written into its EMA copy)")
    snaps = snapshots(args.run)
    steps = [s for s, _ in snaps]
    print(f"{args.run}: {len(snaps)} checkpoints, steps {steps[0]}..{steps[-1]}", flush=True)
    own = {k: v.clone() for k, v in model.G_ema.state_dict().items()}
    for spec in args.specs:
        if spec in ("ema0", "ema0+bn"):
            model.G_ema.load_state_dict(own)
            if spec == "ema0+bn":
                fresh_batchnorm(model)
        else:
            w = weights(spec, steps)
            avg = {}
            for key, ref in snaps[-1][1].items():
                if ref.is_floating_point():
                    avg[key] = sum(wi * s[key] for wi, (_, s) in zip(w, snaps) if wi)
                else:
                    avg[key] = ref
            model.G_ema.load_state_dict(avg)
            fresh_batchnorm(model)
        cells = []
        for seed in args.seeds:
            samples = torch.cat(list(iter_seeded(model, N, seed, label_cycle(model))))
            m = image_metrics(data, samples)
            cells.append((m["is"], m["fid"], m["precision"], m["recall"]))
        mean = [sum(c[i] for c in cells) / len(cells) for i in range(4)]
        each = " ".join(f"{c[0]:.2f}/{c[1]:.1f}" for c in cells)
        print(f"  {spec:>10}: IS {mean[0]:.2f} FID {mean[1]:.2f} P {mean[2]:.3f} R {mean[3]:.3f}  (seeds: {each})",
              flush=True)


if __name__ == "__main__":
    main()
