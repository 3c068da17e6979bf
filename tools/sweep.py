"""Run several `gankit train` configurations side by side and print one table (issue 17's
on/off measurements). Each entry: NAME PRESET [key=value ...]; runs go to OUT/NAME.

    python tools/sweep.py --out runs/sweep17 --parallel 2 --threads 1 \\
        "base gan-mnist-fast model.ema=0" "full gan-mnist-fast"

Prints (and writes OUT/results.jsonl) the final metrics row of each run, with the machine load
at start and the steps reached. A finished run directory is reported, not retrained.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

KEYS = ("step", "is", "fid", "classes_covered", "min_class_share", "label_agreement", "binary_fraction")


def final_row(run: Path) -> dict | None:
    try:
        rows = [json.loads(l) for l in (run / "metrics.jsonl").read_text().splitlines() if l.strip()]
    except OSError:
        return None
    return rows[-1] if rows and "images_per_s" in rows[-1] else None


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("entries", nargs="+")
    p.add_argument("--out", required=True)
    p.add_argument("--parallel", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    todo = [e.split() for e in args.entries]
    running: list[tuple[str, subprocess.Popen, float]] = []
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
    while todo or running:
        while todo and len(running) < args.parallel:
            name, preset, *over = todo.pop(0)
            if final_row(out / name) is not None:
                continue
            cmd = [sys.executable, "-m", "gankit", "train", preset, *over, f"train.threads={args.threads}",
                   "--out", str(out / name), "--overwrite", "--quiet"]
            load = os.getloadavg()[0]
            (out / f"{name}.cmd").write_text(" ".join(cmd[2:]) + f"\n# load at start {load:.2f} {time.strftime('%F %T')}\n")
            running.append((name, subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                                                   stderr=open(out / f"{name}.err", "w")), load))
        time.sleep(2)
        for item in list(running):
            if item[1].poll() is not None:
                running.remove(item)
    with open(out / "results.jsonl", "a") as fh:
        for e in args.entries:
            name = e.split()[0]
            row = final_row(out / name) or {}
            rec = {"name": name, "args": e, **{k: row.get(k) for k in KEYS}}
            fh.write(json.dumps(rec) + "\n")
            print(" | ".join(str(rec[k] if not isinstance(rec[k], float) else round(rec[k], 3)) for k in ("name", *KEYS)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
