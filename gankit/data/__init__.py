"""Datasets: each registered in ``gankit.registry.DATASETS`` with its options dataclass.

``load_dataset(cfg.data)`` returns a :class:`gankit.data.base.Dataset`. Every module of this
package is imported here (a dataset registers itself when its module loads), so a new dataset
is one new file and nothing else.
"""
import importlib
import pkgutil

from gankit.data.base import Batches, Dataset
from gankit.registry import DATASETS

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    importlib.import_module(f"{__name__}.{_module}")


def load_dataset(cfg) -> Dataset:
    """Build the dataset named by ``cfg.name`` (a DataConfig subclass instance)."""
    return DATASETS.get(cfg.name)(cfg)


__all__ = ["Batches", "Dataset", "load_dataset"]
