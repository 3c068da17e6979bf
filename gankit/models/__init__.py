"""Model families, registered by name in ``gankit.registry.MODELS``.

``build_model(cfg, data)`` instantiates ``cfg.model.family``.
"""
from gankit.registry import MODELS

from gankit.models import gan  # noqa: E402,F401
from gankit.models import discrete  # noqa: E402,F401  (dwgan.txt: DWGAN and its WGAN baseline)
from gankit.models import binarygan  # noqa: E402,F401
from gankit.models import sae  # noqa: E402,F401


def build_model(cfg, data):
    return MODELS.get(cfg.model.family)(cfg, data)
