"""Presets: a YAML file in ``gankit/presets/`` (or any ``.yaml`` path) with the config's six
sections, which may start with ``base: OTHER`` to inherit another preset and change a few keys;
``a.b=value`` overrides on top; :func:`load_config` types the result."""
from __future__ import annotations

import copy
import dataclasses
import re
from pathlib import Path

import yaml

from gankit.config.schema import Config, _show, build_config
from gankit.config.yamlfile import parse_yaml, read_yaml_mapping
from gankit.errors import GankitError
from gankit.registry import OBJECTIVES, did_you_mean

PRESET_DIR = Path(__file__).parent.parent / "presets"


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def _kind(path: Path) -> str:
    """"file", "dir", "other" or "missing" (a name too long for the file system, or with a NUL
    byte, is missing rather than an OSError)."""
    try:
        return "file" if path.is_file() else "dir" if path.is_dir() else "other" if path.exists() else "missing"
    except (OSError, ValueError):
        return "missing"


def preset_path(name: str) -> Path:
    """The YAML file of a preset given by name or by path. A name ending in ``.yaml``/``.yml``
    or holding a slash is a path (a missing one is reported as a missing file); any other name
    is a preset of ``gankit/presets/`` (an unknown one gets the close names)."""
    if name.endswith((".yaml", ".yml")) or "/" in name or "\\" in name:
        path, kind = Path(name), _kind(Path(name))
        if kind == "missing":
            raise GankitError(f"preset file {name[:100]} does not exist")
        if not name.endswith((".yaml", ".yml")):
            raise GankitError(f"preset file {name[:100]} is not a .yaml or .yml file")
        if kind != "file":
            raise GankitError(f"preset file {name[:100]} is not a file")
        return path
    path = PRESET_DIR / f"{name}.yaml"
    if name.startswith(".") or _kind(path) != "file":
        raise GankitError(f"unknown preset '{name[:100]}' ({did_you_mean(name, preset_names())}see `gankit list`)")
    return path


# the first sentence ends at a full stop and a space (not at 3.3.1, e.g., i.e., et al., eq., cf.)
_SENTENCE_END = re.compile(r"(?<!\be\.g)(?<!\bi\.e)(?<!\bal)(?<!\beq)(?<!\bcf)\.(\s|$)")


def preset_description(name: str, width: int = 100) -> str:
    """A preset's one-line description: the first sentence of the comment block that opens its
    YAML file (cut to ``width`` characters, which no packaged preset needs), or "" when it has
    none."""
    lines = []
    for line in preset_path(name).read_text().splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("#").strip())
    text = " ".join(x for x in lines if x)
    end = _SENTENCE_END.search(text)
    text = text[:end.start() + 1] if end else text
    return text if len(text) <= width else text[:width - 1].rstrip() + "…"


def objective_keys(name) -> set[str] | None:
    """The option keys of objective ``name`` (None when it is not registered)."""
    if not isinstance(name, str) or name not in OBJECTIVES or OBJECTIVES.entry(name).options is None:
        return None
    return {f.name for f in dataclasses.fields(OBJECTIVES.entry(name).options)}


def rebase_objective(section: dict, name: str) -> dict:
    """``section`` switched to objective ``name``: the options that objective also has are kept,
    the others dropped (smoothing means nothing to WGAN-GP). Used when a child preset or an
    override names another objective than the section it changes."""
    keys = objective_keys(name) or set()
    return {"name": name, **{k: v for k, v in section.items() if k != "name" and k in keys}}


def _merge_objective(base: dict, over: dict) -> dict:
    """The objective section of a child preset (or overrides) over its base's: deep-merged, but a
    child that names another objective starts from the base options that objective has."""
    base_obj, over_obj = base.get("objective"), over.get("objective")
    if (isinstance(base_obj, dict) and isinstance(over_obj, dict) and "name" in over_obj
            and over_obj["name"] != base_obj.get("name", over_obj["name"])):
        base = dict(base)
        base["objective"] = rebase_objective(base_obj, over_obj["name"])
    return base


def _deep_merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def read_preset(name: str, _seen: tuple[str, ...] = ()) -> dict:
    """The raw dict of a preset (by name, or a path to a YAML file), with ``base`` resolved."""
    path = preset_path(name)
    if name in _seen:
        raise GankitError(f"preset '{name}' inherits from itself")
    if len(_seen) > 16:
        raise GankitError(f"preset '{name}': more than 16 levels of 'base'")
    raw = read_yaml_mapping(path, "preset file")
    base = raw.pop("base", None)
    if base is not None:
        if not isinstance(base, str) or not base:
            raise GankitError(f"preset file {path}: 'base' must name a preset, got {_show(base)}")
        raw = _deep_merge(_merge_objective(read_preset(base, _seen + (name,)), raw), raw)
    return raw


def apply_overrides(raw: dict, overrides: list[str]) -> dict:
    """Apply ``a.b=value`` strings (value parsed as YAML) to a raw config dict."""
    raw = copy.deepcopy(raw)
    for item in overrides:
        if "=" not in item:
            raise GankitError(f"override '{item[:100]}' is not of the form key=value")
        key, text = item.split("=", 1)
        parts = key.strip().split(".")
        if not all(parts):
            raise GankitError(f"override '{item[:100]}' has an empty key part")
        try:
            value = parse_yaml(text) if text != "" else None
        except (yaml.YAMLError, RecursionError):
            value = text
        node = raw
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise GankitError(f"unknown config key '{key}' ('{part}' is not a section)")
            node = child
        node[parts[-1]] = value
    return raw


def load_config(preset: str, overrides: list[str] | None = None) -> Config:
    """A preset (name or YAML path) with ``key=value`` overrides, as a typed ``Config`` (the
    registries must be loaded: call it through :mod:`gankit.catalogue`)."""
    base = read_preset(preset)
    # overrides that name another objective start from its options, as a child preset does
    base = _merge_objective(base, apply_overrides({}, overrides or []))
    return build_config(apply_overrides(base, overrides or []), preset)
