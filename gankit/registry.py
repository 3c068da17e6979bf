"""Name -> object registries for datasets, nets, model families and objectives.

Each entry may carry an options dataclass: the config section that selects the
entry (``data``, ``net``, ``model``) is parsed into that class, so every key is
typed and an unknown key is an error naming it.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Callable, Iterable

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
        except (KeyError, TypeError):  # TypeError: an unhashable name (a list from YAML)
            raise GankitError(f"unknown {self.kind} '{str(name)[:60]}' ({did_you_mean(str(name), self._entries)}"
                              f"choose from: {', '.join(sorted(self._entries))})") from None

    def get(self, name: str) -> Any:
        return self.entry(name).obj

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: str) -> bool:
        return isinstance(name, str) and name in self._entries


def did_you_mean(word: str, choices: Iterable[str], prefix: str = "") -> str:
    """``"did you mean 'x'? "`` naming the choices closest to a mistyped ``word`` (``prefix``
    before each, e.g. a section's dotted path), or ``""`` when none is close: the start of the
    parenthesis of an "unknown ..." error."""
    close = difflib.get_close_matches(word[:100], list(choices), n=3)
    if not close:
        return ""
    names = [f"'{prefix}{c}'" for c in close]
    return f"did you mean {' or '.join(names) if len(names) < 3 else ', '.join(names[:-1]) + ' or ' + names[-1]}? "


DATASETS = Registry("dataset")
NETS = Registry("net")
MODELS = Registry("model family")
OBJECTIVES = Registry("objective")
