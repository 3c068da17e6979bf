"""Write a small folder of your-own-images for trying ``dcgan-folder``: two classes of shapes.

    python tools/shapes_folder.py DIR [--n 200] [--size 64] [--seed 0]

DIR/circle/*.png and DIR/square/*.png (half each): one filled shape per image, random centre,
size and colour on a dark random background, RGB. The README's measured ``dcgan-folder-64``
example trains on ``python tools/shapes_folder.py shapes``.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw


def write_shapes(root: Path, n: int = 200, size: int = 64, seed: int = 0) -> list[Path]:
    rng = np.random.default_rng(seed)
    written = []
    for i in range(n):
        kind = ("circle", "square")[i % 2]
        back = tuple(int(v) for v in rng.integers(0, 60, 3))
        colour = tuple(int(v) for v in rng.integers(120, 256, 3))
        img = Image.new("RGB", (size, size), back)
        r = rng.uniform(0.15, 0.3) * size
        cx, cy = rng.uniform(r, size - r, 2)
        box = (cx - r, cy - r, cx + r, cy + r)
        draw = ImageDraw.Draw(img)
        (draw.ellipse if kind == "circle" else draw.rectangle)(box, fill=colour)
        path = root / kind / f"{i:04d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        img.save(path)
        written.append(path)
    return written


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dir")
    p.add_argument("--n", type=int, default=200)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    print(f"wrote {len(write_shapes(Path(a.dir), a.n, a.size, a.seed))} images under {a.dir}")
