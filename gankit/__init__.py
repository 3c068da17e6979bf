"""gankit: train, sample, evaluate and compare the GANs of five papers.

``gankit.train`` and ``gankit.load`` (each returning a :class:`gankit.api.Run`, whose
``sample``, ``write_samples`` and ``evaluate`` draw, stream to disk and score samples) and ``gankit.GankitError`` are the Python
API (``gankit.api``); importing gankit stays light: torch loads on first use.
"""
from gankit.errors import GankitError

__version__ = "0.1.0"
__all__ = ["GankitError", "Run", "train", "load", "__version__"]


def __getattr__(name: str):
    if name in ("train", "load", "Run"):
        from gankit import api

        return getattr(api, name)
    raise AttributeError(f"module 'gankit' has no attribute {name!r}")
