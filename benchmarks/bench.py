"""``python benchmarks/bench.py [--models ...] [--seconds S] [--json]``: the same as ``gankit bench``."""
import sys

from gankit.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
