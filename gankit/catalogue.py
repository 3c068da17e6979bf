"""The catalogue: loads every registry (datasets, objectives, nets, model families) and builds configs.

Registration is an import side effect: each registering package (``data``, ``nets``,
``models``) imports every module it holds when it loads, and this is the one place that loads
them all (with ``losses``), so ``config`` stays a leaf (schema and YAML only) and no lower layer
imports an upper one (docs/design.md). Build configs with :func:`load_config` /
:func:`build_config` from here: they need the registries to pick each section's options class.
"""
from __future__ import annotations

from gankit import config
from gankit.config import Config


def load_all() -> None:
    """Import every module that registers something (the packages find their own modules)."""
    import gankit.data  # noqa: F401
    import gankit.losses  # noqa: F401
    import gankit.models  # noqa: F401
    import gankit.nets  # noqa: F401


def build_config(raw: dict, preset: str) -> Config:
    """Typed ``Config`` from a raw dict (see :func:`gankit.config.build_config`)."""
    load_all()
    return config.build_config(raw, preset)


def load_config(preset: str, overrides: list[str] | None = None) -> Config:
    """A preset (name or YAML path) with ``key=value`` overrides, as a typed ``Config``."""
    load_all()
    return config.load_config(preset, overrides)
