"""Model families, registered by name in ``gankit.registry.MODELS``.

``build_model(cfg, data)`` instantiates ``cfg.model.family``. Every module of this package is
imported below (a family registers itself when its module loads), so a new family is one new
file here and nothing else.
"""
import importlib
import pkgutil

from gankit.registry import MODELS

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    importlib.import_module(f"{__name__}.{_module}")


def build_model(cfg, data):
    return MODELS.get(cfg.model.family)(cfg, data)
