"""Fingerprints of short seeded runs, one preset per family and option path: a refactor that
keeps behaviour gives the same digests before and after.

    python tools/fingerprint.py OUT.json          # train each case in a temporary folder
    python tools/fingerprint.py OUT.json --against BEFORE.json   # exit 1 on any difference

Each case trains a few steps at one thread, then digests the generator's state, 16 seeded
samples, ``losses.csv`` and the final metrics row (its floats rounded to 6 digits).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

CASES = {  # name -> (preset, overrides)
    "gan-clusters-hinge-sn-ema": ("gan-mnist-fast", []),
    "gan-infogan": ("gan-mnist-fast", ["model.clusters=0", "model.info_codes=10"]),
    "gan-conditional-labels": ("cdcgan-mnist", []),
    "gan-replay-mbd": ("cdcgan-mnist-mbd", ["model.replay=true"]),
    "gan-schedule-diffaug": ("dcgan-mnist", ["optim.g.warmup=5", "optim.g.schedule=cosine", "optim.d.schedule=linear",
                                             "optim.d.decay_steps=30", "model.diffaug=translation,cutout"]),
    "wgangp": ("wgangp-mnist", []),
    "binarygan-fast": ("binarygan-mnist-fast", []),
    "binarygan-mlp-sbn": ("binarygan-mlp-sbn", []),
    "discrete-dwgan": ("dwgan-ttt-3x3-2p", []),
    "sae": ("sae-mnist", []),
}
COMMON = ["train.steps=12", "train.seconds=null", "train.epochs=null", "train.threads=1", "train.eval_every=0",
          "train.eval_every_epochs=0", "train.eval_samples=200", "train.sample_every=6", "train.ckpt_every=6",
          "train.log_every=3", "train.tensorboard=false", "train.seed=3"]


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def rounded(v):
    if isinstance(v, float):
        return round(v, 6)
    if isinstance(v, dict):
        return {k: rounded(x) for k, x in v.items()}
    if isinstance(v, list):
        return [rounded(x) for x in v]
    return v


def fingerprint(preset: str, overrides: list[str], out: Path) -> dict:
    import numpy as np
    import torch

    import gankit

    gankit.train(preset, out=out, overrides=[*COMMON, *overrides])
    run = gankit.load(out)
    g = run.model.G if hasattr(run.model, "G") else run.model
    state = b"".join(t.detach().cpu().numpy().tobytes() for t in g.state_dict().values() if torch.is_tensor(t))
    samples = np.asarray(run.sample(16, seed=5))
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines() if line.strip()]
    last = {k: v for k, v in rows[-1].items() if k not in ("images_per_s", "time", "seconds")}
    return {"g_state": digest(state), "samples": digest(samples.tobytes()),
            "losses": digest((out / "losses.csv").read_bytes()), "metrics": rounded(last)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--against")
    ap.add_argument("--only", help="comma-separated case names")
    args = ap.parse_args()
    only = set(args.only.split(",")) if args.only else None
    result = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (preset, over) in CASES.items():
            if only and name not in only:
                continue
            result[name] = fingerprint(preset, over, Path(tmp) / name)
            print(name, json.dumps(result[name]), flush=True)
    Path(args.out).write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    if args.against:
        before = json.loads(Path(args.against).read_text())
        diff = [k for k in result if before.get(k) != result[k]]
        print("identical" if not diff else f"DIFFERENT: {', '.join(diff)}")
        return 1 if diff else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
