"""Typed configuration: dataclasses filled from a YAML preset plus ``a.b=c`` overrides.

A preset (``gankit/presets/NAME.yaml``) has the sections ``model``, ``net``,
``data``, ``optim`` and ``train``. ``model.family``, ``net.name`` and
``data.name`` pick registry entries whose options dataclass types the rest of
that section. A preset may start with ``base: OTHER`` to inherit another
preset and change a few keys.
"""
from __future__ import annotations

import copy
import re
import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gankit.errors import GankitError

PRESET_DIR = Path(__file__).parent / "presets"


# ---------------------------------------------------------------- sections
@dataclass
class DataConfig:
    """Base of every dataset's options (``data.*``)."""

    name: str = "mnist"
    root: str | None = None  # directory with the dataset's standard files; None = embedded data
    batch_size: int = 64


@dataclass
class SplitDataConfig(DataConfig):
    """Options of a dataset with a train and a test split (``data.split``)."""

    split: str = "train"  # train | test

    def validate(self) -> None:
        if self.split not in ("train", "test"):
            raise GankitError(f"config key 'data.split' must be train or test, got '{self.split}'")


@dataclass
class NetConfig:
    """Base of every network pair's options (``net.*``)."""

    name: str = "dcgan-mnist"
    z_dim: int = 100


@dataclass
class ModelConfig:
    """Base of every model family's options (``model.*``)."""

    family: str = "gan"


@dataclass
class OptimConfig:
    """One optimizer (``optim.g`` / ``optim.d``)."""

    name: str = "adam"  # adam | rmsprop | sgd
    lr: float = 1e-4
    beta1: float = 0.5
    beta2: float = 0.999
    alpha: float = 0.99  # RMSprop decay
    eps: float = 1e-8
    weight_decay: float = 0.0
    lr_decay: float = 1.0  # multiplicative decay of lr per generator step (1 = none)
    fused: bool = True  # Adam: one fused kernel per update where torch has one (same maths, faster)


@dataclass
class OptimPair:
    g: OptimConfig = field(default_factory=OptimConfig)
    d: OptimConfig = field(default_factory=OptimConfig)


@dataclass
class TrainConfig:
    steps: int = 1000  # generator steps
    seconds: float | None = None  # wall-clock budget; whichever of steps/seconds/epochs ends first
    epochs: int | None = None  # passes over the training set (batches drawn, n_critic included)
    seed: int = 0
    threads: int | None = None  # torch intra-op threads; None = all cores
    device: str = "auto"  # auto | cpu | cuda
    log_every: int = 25
    sample_every: int = 500
    eval_every: int = 0  # 0 = only at the end
    eval_every_epochs: int = 0  # also evaluate after every this many epochs (0 = never)
    eval_samples: int = 2000
    ckpt_every: int = 1000
    keep_checkpoints: int = 3
    grid_size: int = 64  # sample grid: the largest square <= this (conditional: classes x classes)
    tensorboard: bool = True


@dataclass
class Config:
    preset: str
    model: ModelConfig
    net: NetConfig
    data: DataConfig
    optim: OptimPair = field(default_factory=OptimPair)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)


# ---------------------------------------------------------------- parsing
def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp).replace("typing.", ""))


def _coerce(value: Any, tp: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, key)
            except GankitError:
                pass
        raise GankitError(f"config key '{key}' expects {_type_name(tp)}, got {value!r}")
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise GankitError(f"config key '{key}' expects a list, got {value!r}")
        (arg,) = typing.get_args(tp)[:1] or (Any,)
        return [_coerce(v, arg, key) for v in value]
    if tp is Any:
        return value
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise GankitError(f"config key '{key}' expects true/false, got {value!r}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise GankitError(f"config key '{key}' expects an integer, got {value!r}")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)  # YAML reads "1e-4" as a string
            except ValueError:
                pass
        raise GankitError(f"config key '{key}' expects a number, got {value!r}")
    if tp is str:
        if isinstance(value, str):
            return value
        raise GankitError(f"config key '{key}' expects a string, got {value!r}")
    if dataclasses.is_dataclass(tp):
        return build_dataclass(tp, value, key)
    return value


def build_dataclass(cls: type, raw: Any, prefix: str = "") -> Any:
    """Fill ``cls`` from a dict, checking every key and type; errors name the dotted key."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise GankitError(f"config section '{prefix}' must be a mapping, got {raw!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    kwargs = {}
    for key, value in raw.items():
        dotted = f"{prefix}.{key}" if prefix else str(key)
        if key not in fields:
            raise GankitError(
                f"unknown config key '{dotted}' (valid: {', '.join(sorted(fields))})"
            )
        kwargs[key] = _coerce(value, hints[key], dotted)
    try:
        return cls(**kwargs)
    except TypeError as exc:  # a required field without default
        raise GankitError(f"config section '{prefix}': {exc}") from None


def _deep_merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


#: old preset names that still work, with a note: old name -> the name of what it is
ALIASES = {"dcgan-mnist-fast": "cdcgan-mnist-demo"}


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def resolve_alias(name: str) -> str:
    """The current name of a preset given by an old name (logs a one-line note)."""
    if name in ALIASES:
        import logging

        logging.getLogger("gankit").warning(
            f"note: preset '{name}' is now called '{ALIASES[name]}' (a conditional DCGAN); the old name still works")
        return ALIASES[name]
    return name


def preset_description(name: str, width: int = 100) -> str:
    """A preset's one-line description: the first sentence of the comment block that opens its
    YAML file (cut to ``width`` characters), or "" when it has none."""
    path = Path(name) if name.endswith((".yaml", ".yml")) else PRESET_DIR / f"{name}.yaml"
    if not path.is_file():
        raise GankitError(f"unknown preset '{name}' (see `gankit list`)")
    lines = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("#").strip())
    text = " ".join(x for x in lines if x)
    # the first sentence ends at a full stop and a space (not at 3.3.1 or e.g.)
    end = re.search(r"(?<!e\.g)(?<!i\.e)\.(\s|$)", text)
    text = text[:end.start() + 1] if end else text
    return text if len(text) <= width else text[:width - 1].rstrip() + "…"


def read_preset(name: str, _seen: tuple[str, ...] = ()) -> dict:
    """The raw dict of a preset (by name, or a path to a YAML file), with ``base`` resolved."""
    path = Path(name) if name.endswith((".yaml", ".yml")) else PRESET_DIR / f"{name}.yaml"
    if not path.is_file():
        raise GankitError(f"unknown preset '{name}' (see `gankit list`)")
    if name in _seen:
        raise GankitError(f"preset '{name}' inherits from itself")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise GankitError(f"preset file {path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    base = raw.pop("base", None)
    if base:
        raw = _deep_merge(read_preset(base, _seen + (name,)), raw)
    return raw


def apply_overrides(raw: dict, overrides: list[str]) -> dict:
    """Apply ``a.b=value`` strings (value parsed as YAML) to a raw config dict."""
    raw = copy.deepcopy(raw)
    for item in overrides:
        if "=" not in item:
            raise GankitError(f"override '{item}' is not of the form key=value")
        key, text = item.split("=", 1)
        parts = key.strip().split(".")
        if not all(parts):
            raise GankitError(f"override '{item}' has an empty key part")
        try:
            value = yaml.safe_load(text) if text != "" else None
        except yaml.YAMLError:
            value = text
        node = raw
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise GankitError(f"unknown config key '{key}' ('{part}' is not a section)")
            node = child
        node[parts[-1]] = value
    return raw


def _section_class(registry, section: dict, key: str, default: str, base: type) -> type:
    name = section.get(key, default)
    if not isinstance(name, str):
        raise GankitError(f"config key '{key}' must be a string")
    entry = registry.entry(name)
    return entry.options or base


def build_config(raw: dict, preset: str) -> Config:
    """Typed ``Config`` from a raw dict; each registry-selected section uses its entry's options.

    The registries must be loaded: call it through :mod:`gankit.catalogue`."""
    from gankit.registry import DATASETS, MODELS, NETS
    raw = dict(raw)
    raw.pop("preset", None)
    known = {"model", "net", "data", "optim", "train"}
    for key in raw:
        if key not in known:
            raise GankitError(f"unknown config key '{key}' (valid: {', '.join(sorted(known))})")
    sections = {k: raw.get(k) or {} for k in known}
    for k, v in sections.items():
        if not isinstance(v, dict):
            raise GankitError(f"config section '{k}' must be a mapping, got {v!r}")
    model_cls = _section_class(MODELS, sections["model"], "family", "gan", ModelConfig)
    net_cls = _section_class(NETS, sections["net"], "name", "dcgan-mnist", NetConfig)
    data_cls = _section_class(DATASETS, sections["data"], "name", "mnist", DataConfig)
    cfg = Config(
        preset=preset,
        model=build_dataclass(model_cls, sections["model"], "model"),
        net=build_dataclass(net_cls, sections["net"], "net"),
        data=build_dataclass(data_cls, sections["data"], "data"),
        optim=build_dataclass(OptimPair, sections["optim"], "optim"),
        train=build_dataclass(TrainConfig, sections["train"], "train"),
    )
    validate(cfg)
    return cfg


def load_config(preset: str, overrides: list[str] | None = None) -> Config:
    preset = resolve_alias(preset)
    return build_config(apply_overrides(read_preset(preset), overrides or []), preset)


def validate(cfg: Config) -> None:
    """Range checks that types alone cannot express; each error names its key."""

    def need(ok: bool, key: str, what: str) -> None:
        if not ok:
            raise GankitError(f"config key '{key}' {what}")

    for name in ("g", "d"):
        o: OptimConfig = getattr(cfg.optim, name)
        need(o.lr > 0, f"optim.{name}.lr", f"must be > 0, got {o.lr}")
        need(o.name in ("adam", "rmsprop", "sgd"), f"optim.{name}.name", f"must be adam, rmsprop or sgd, got '{o.name}'")
        need(0 <= o.beta1 < 1 and 0 <= o.beta2 < 1, f"optim.{name}.beta1/beta2", "must lie in [0, 1)")
        need(0 < o.lr_decay <= 1, f"optim.{name}.lr_decay", "must lie in (0, 1]")
    t = cfg.train
    need(t.steps > 0, "train.steps", f"must be > 0, got {t.steps}")
    need(t.seconds is None or t.seconds > 0, "train.seconds", f"must be > 0, got {t.seconds}")
    need(t.epochs is None or t.epochs > 0, "train.epochs", f"must be > 0, got {t.epochs}")
    need(t.eval_every_epochs >= 0, "train.eval_every_epochs", "must be >= 0")
    need(t.device in ("auto", "cpu", "cuda"), "train.device", f"must be auto, cpu or cuda, got '{t.device}'")
    need(t.threads is None or t.threads > 0, "train.threads", "must be > 0")
    for key in ("log_every", "sample_every", "ckpt_every", "keep_checkpoints", "grid_size"):
        need(getattr(t, key) > 0, f"train.{key}", "must be > 0")
    need(t.eval_every >= 0, "train.eval_every", "must be >= 0")
    need(t.eval_samples > 0, "train.eval_samples", "must be > 0")
    need(cfg.data.batch_size > 0, "data.batch_size", f"must be > 0, got {cfg.data.batch_size}")
    need(cfg.net.z_dim > 0, "net.z_dim", f"must be > 0, got {cfg.net.z_dim}")
    for section in (cfg.model, cfg.net, cfg.data):
        check = getattr(section, "validate", None)
        if check is not None:
            check()
