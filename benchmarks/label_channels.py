"""D's first conv with one-hot label channels (practical-gan-guide 5.5; ``model.clusters`` at D's
input): the definition, a conv of ``cat[x, label_channels(y)]``, against gankit's
``conv_with_label_channels``, forward and backward, for a batch of 64 28x28 digits.

    python benchmarks/label_channels.py [--threads 1] [--classes 10,200,500,1000] [--width 16]

Prints one row per class count: milliseconds per forward+backward of each, their ratio, and the
largest difference of the outputs (float rounding only). A benchmark, not a test: timings
depend on the machine and its load; say both beside any number quoted from it.
"""
from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from gankit.nets.guide import conv_with_label_channels, label_channels


def per_call(fn, repeats: int) -> float:
    fn()  # warm-up: oneDNN picks its kernels on the first call
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--classes", default="10,200,500,1000")
    parser.add_argument("--width", type=int, default=16, help="output channels of the conv (D's net.width)")
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"threads {args.threads}, batch 64x1x28x28, conv 5x5 stride 2 to {args.width} channels")
    print("classes | concatenated ms | gankit ms | ratio | max |diff|")
    for k in (int(c) for c in args.classes.split(",")):
        torch.manual_seed(0)
        conv = nn.Conv2d(1 + k, args.width, 5, stride=2, padding=2)
        x = torch.randn(64, 1, 28, 28, requires_grad=True)
        y = torch.randint(0, k, (64,))

        def concatenated():
            conv(torch.cat([x, label_channels(y, k, 28, 28)], dim=1)).square().sum().backward()

        def gankit():
            conv_with_label_channels(conv, x, y).square().sum().backward()

        with torch.no_grad():
            diff = (conv(torch.cat([x, label_channels(y, k, 28, 28)], 1)) - conv_with_label_channels(conv, x, y))
        a, b = per_call(concatenated, args.repeats), per_call(gankit, args.repeats)
        print(f"{k} | {a:.1f} | {b:.1f} | {a / b:.1f}x | {diff.abs().max().item():.1e}")


if __name__ == "__main__":
    main()
