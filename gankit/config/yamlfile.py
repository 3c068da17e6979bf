"""The YAML boundary: a config file (a preset, a run's ``config.yaml``) or an override value read
through a loader that refuses what a config never is — duplicate keys, deep nesting, alias
bombs, Python tags, dotted keys — each as one line naming the file."""
from __future__ import annotations

from pathlib import Path

import yaml

from gankit.errors import GankitError

MAX_YAML_BYTES = 1_000_000
MAX_YAML_DEPTH = 64
MAX_YAML_NODES = 100_000  # after alias expansion: an "alias bomb" stops here


class YAMLLimit(yaml.YAMLError):
    """A YAML document beyond what a config may be (depth, size, duplicate keys)."""


class StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses duplicate keys, nesting deeper than ``MAX_YAML_DEPTH``
    and documents that expand (through aliases) to more than ``MAX_YAML_NODES`` nodes."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise YAMLLimit(f"nested deeper than {MAX_YAML_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_node(self):
        node = super().get_single_node()
        if node is not None:
            _expanded_size(node, {})
        return node

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    duplicate = key in seen
                    seen.add(key)
                except TypeError:  # an unhashable key: the constructor refuses it
                    continue
                if duplicate:
                    raise YAMLLimit(f"duplicate key '{str(key)[:40]}' (line {key_node.start_mark.line + 1})")
        return super().construct_mapping(node, deep)


def _expanded_size(node, memo: dict) -> int:
    """Nodes of ``node`` with every alias expanded (shared subtrees counted once per use)."""
    key = id(node)
    if key in memo:
        if memo[key] is None:
            raise YAMLLimit("an alias refers to its own node (recursive structure)")
        return memo[key]
    memo[key] = None
    if isinstance(node, yaml.SequenceNode):
        n = 1 + sum(_expanded_size(c, memo) for c in node.value)
    elif isinstance(node, yaml.MappingNode):
        n = 1 + sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
    else:
        n = 1
    if n > MAX_YAML_NODES:
        raise YAMLLimit(f"expands to more than {MAX_YAML_NODES:,d} values (aliases)")
    memo[key] = n
    return n


def parse_yaml(text: str):
    """A YAML document through :class:`StrictLoader` (raises ``yaml.YAMLError``)."""
    return yaml.load(text, Loader=StrictLoader)  # noqa: S506 (StrictLoader is a SafeLoader)


def read_yaml_mapping(path: Path, what: str) -> dict:
    """The mapping of a config's YAML file: UTF-8, at most ``MAX_YAML_BYTES``, not empty, keys
    nested rather than dotted; errors are one line naming the file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise GankitError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_YAML_BYTES:
        raise GankitError(f"{what} {path} is larger than {MAX_YAML_BYTES:,d} bytes; it is not a config")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise GankitError(f"{what} {path} is not UTF-8 text (byte {exc.start})") from None
    try:
        raw = parse_yaml(text)
    except (yaml.YAMLError, RecursionError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise GankitError(f"{what} {path} is not valid YAML: {first[:200]}") from None
    if raw is None:
        raise GankitError(f"{what} {path} is empty")
    if not isinstance(raw, dict):
        raise GankitError(f"{what} {path} must be a mapping of config sections, got a {type(raw).__name__}")
    _refuse_dotted_keys(raw, f"{what} {path}")
    return raw


def _refuse_dotted_keys(node: dict, where: str, above: tuple[str, ...] = ()) -> None:
    """``optim.g.lr: 1e-3`` in a file is a typo of nesting (only a ``key=value`` override is
    dotted): the one-line error shows the nested spelling of that key."""
    for key, value in node.items():
        if isinstance(key, str) and "." in key:
            parts = [*above, *(p for p in key.split(".") if p)]
            nested = "..."
            for part in reversed(parts):
                nested = f"{{{part}: {nested}}}"
            raise GankitError(f"{where}: key '{key[:60]}' has a dot, but in a YAML file keys nest: "
                              f"write {nested[1:-1][:120]} (dotted keys are for key=value overrides)")
        if isinstance(value, dict) and isinstance(key, str):
            _refuse_dotted_keys(value, where, (*above, key))
