"""Name -> object registries for datasets, nets, model families and objectives.

Each entry may carry an options dataclass: the config section that selects the
entry (``data``, ``net``, ``model``) is parsed into that class, so every key is
typed and an unknown key is an error naming it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from gankit.errors import GankitError


@dataclass(frozen=True)
class Entry:
    name: str
    obj: Any
    options: type | None
    doc: str


class Registry:
    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Entry] = {}

    def register(self, name: str, options: type | None = None) -> Callable[[Any], Any]:
        def deco(obj: Any) -> Any:
            if name in self._entries:
                raise ValueError(f"{self.kind} '{name}' registered twice")
            doc = (getattr(obj, "__doc__", None) or "").strip().splitlines()
            self._entries[name] = Entry(name, obj, options, doc[0] if doc else "")
            return obj

        return deco

    def entry(self, name: str) -> Entry:
        try:
            return self._entries[name]
        except KeyError:
            raise GankitError(
                f"unknown {self.kind} '{name}' (choose from: {', '.join(sorted(self._entries))})"
            ) from None

    def get(self, name: str) -> Any:
        return self.entry(name).obj

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: str) -> bool:
        return name in self._entries


DATASETS = Registry("dataset")
NETS = Registry("net")
MODELS = Registry("model family")
OBJECTIVES = Registry("objective")
