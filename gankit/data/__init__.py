"""Datasets: each registered in ``gankit.registry.DATASETS`` with its options dataclass.

``load_dataset(cfg.data)`` returns a :class:`gankit.data.base.Dataset`.
"""
from gankit.data.base import Batches, Dataset
from gankit.registry import DATASETS

from gankit.data import mnist  # noqa: F401,E402  (registers mnist, mnist-binary)
from gankit.data import stacked  # noqa: F401,E402  (mnist-stacked: 1,000 modes)
from gankit.data import svhn  # noqa: F401,E402
from gankit.data import cifar10  # noqa: F401,E402
from gankit.data import tictactoe  # noqa: F401,E402  (dwgan.txt 5.1)
from gankit.data import folder  # noqa: F401,E402  (your own PNG/JPEG images)


def load_dataset(cfg) -> Dataset:
    """Build the dataset named by ``cfg.name`` (a DataConfig subclass instance)."""
    return DATASETS.get(cfg.name)(cfg)


__all__ = ["Batches", "Dataset", "load_dataset"]
