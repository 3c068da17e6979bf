"""Typed configuration: dataclasses filled from a YAML preset plus ``a.b=c`` overrides.

A preset (``gankit/presets/NAME.yaml``) has the sections ``model``, ``objective``,
``net``, ``data``, ``optim`` and ``train``. ``model.family``, ``objective.name``,
``net.name`` and ``data.name`` pick registry entries whose options dataclass types the
rest of that section. A preset may start with ``base: OTHER`` to inherit another
preset and change a few keys.
"""
from __future__ import annotations

import copy
import re
import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gankit.errors import GankitError

PRESET_DIR = Path(__file__).parent / "presets"

SEED_MAX = 2**63 - 1  # torch.manual_seed takes a 64-bit integer
MAX_INT = 2**63 - 1
MAX_NET_SIZE = 65_536  # any integer option of a net (z_dim, widths, kernel sizes): more cannot be allocated
MAX_BATCH = 65_536
MAX_SAMPLES = 1_000_000  # eval/sample counts (train.eval_samples, eval --n)
MAX_GRID = 1_024
MAX_YAML_BYTES = 1_000_000
SCHEDULES = ("constant", "linear", "cosine")
DIFFAUG_POLICIES = ("translation", "cutout")  # gankit.layers.augment.DiffAugment
MAX_YAML_DEPTH = 64
MAX_YAML_NODES = 100_000  # after alias expansion: an "alias bomb" stops here


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
            raise GankitError(f"config key 'data.split' must be train or test, got '{self.split[:40]}'")


@dataclass
class NetConfig:
    """Base of every network pair's options (``net.*``)."""

    name: str = "dcgan-mnist"
    z_dim: int = 100
    # spectral normalization (Miyato et al. 2018) of every conv/linear weight of D that does not
    # have it yet, for any net (``nets.build_nets``); SNGAN's own tables have it built in
    d_spectral_norm: bool = False


@dataclass
class ModelConfig:
    """Base of every model family's options (``model.*``)."""

    #: the objective a family trains with when ``objective.name`` is not given
    default_objective: typing.ClassVar[str] = "ns"

    family: str = "gan"
    # stabilisers every family takes (models/tricks.py); the defaults leave a paper's model exact
    # exponential moving average of G's weights (Yazici et al. 2019; StudioGAN's "G_ema"):
    # samples, grids and metrics come from the average, training uses G. 0 = off, else the
    # decay per generator step (0.999 averages over the last ~1,000 steps).
    ema: float = 0.0
    # DiffAugment (Zhao et al. 2020) of real and fake images before D, in both steps: a
    # comma-separated policy of translation, cutout ("" = off); the sizes are fractions of the
    # image side (the paper's 1/8 and 1/2); empty or null = off
    diffaug: str | None = None
    diffaug_shift: float = 0.125
    diffaug_cutout: float = 0.5

    def validate(self) -> None:
        if not 0 <= self.ema < 1:
            raise GankitError(f"config key 'model.ema' must lie in [0, 1), got {self.ema}")
        for op in self.diffaug_policy:
            if op not in DIFFAUG_POLICIES:
                raise GankitError(f"config key 'model.diffaug' knows {', '.join(DIFFAUG_POLICIES)}, got '{op[:40]}'")
        for key in ("diffaug_shift", "diffaug_cutout"):
            if not 0 <= getattr(self, key) <= 1:
                raise GankitError(f"config key 'model.{key}' must lie in [0, 1], got {getattr(self, key)}")

    @property
    def diffaug_policy(self) -> tuple[str, ...]:
        return tuple(op.strip() for op in (self.diffaug or "").split(",") if op.strip())


@dataclass
class ObjectiveConfig:
    """Base of every objective's options (``objective.*``; each objective in ``losses.py``
    registers its own subclass)."""

    name: str = "ns"


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
    # learning-rate schedule over generator steps: a linear warm-up from 0 over ``warmup``
    # steps, then constant, linear (to 0) or cosine (to 0) decay ending at step ``decay_steps``
    # (0 = train.steps; set it for a train.seconds budget or a run to be extended later)
    warmup: int = 0
    schedule: str = "constant"  # constant | linear | cosine
    decay_steps: int = 0
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
    objective: ObjectiveConfig
    net: NetConfig
    data: DataConfig
    optim: OptimPair = field(default_factory=OptimPair)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)


# ---------------------------------------------------------------- YAML boundary
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
    """The mapping of a YAML file: UTF-8, at most ``MAX_YAML_BYTES``, not empty; errors are one
    line naming the file."""
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
    return raw


def _show(value: Any, limit: int = 80) -> str:
    """``repr`` for an error message, cut to ``limit`` characters (a value may be huge)."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


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
        raise GankitError(f"config key '{key}' expects {_type_name(tp)}, got {_show(value)}")
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise GankitError(f"config key '{key}' expects a list, got {_show(value)}")
        (arg,) = typing.get_args(tp)[:1] or (Any,)
        return [_coerce(v, arg, key) for v in value]
    if tp is Any:
        return value
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise GankitError(f"config key '{key}' expects true/false, got {_show(value)}")
    if tp is int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            if abs(value) > MAX_INT:
                raise GankitError(f"config key '{key}' is out of range (|value| <= 2^63-1), got {_show(value)}")
            return value
        raise GankitError(f"config key '{key}' expects an integer, got {_show(value)}")
    if tp is float:
        number = None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                number = float(value)
            except OverflowError:  # an integer beyond any float
                number = math.inf
        elif isinstance(value, str):
            try:
                number = float(value)  # YAML reads "1e-4" as a string
            except ValueError:
                pass
        if number is None:
            raise GankitError(f"config key '{key}' expects a number, got {_show(value)}")
        if not math.isfinite(number):
            raise GankitError(f"config key '{key}' must be a finite number, got {_show(value)}")
        return number
    if tp is str:
        if isinstance(value, str):
            return value
        raise GankitError(f"config key '{key}' expects a string, got {_show(value)}")
    if dataclasses.is_dataclass(tp):
        return build_dataclass(tp, value, key)
    return value


def build_dataclass(cls: type, raw: Any, prefix: str = "") -> Any:
    """Fill ``cls`` from a dict, checking every key and type; errors name the dotted key."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise GankitError(f"config section '{prefix}' must be a mapping, got {_show(raw)}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    kwargs = {}
    for key, value in raw.items():
        dotted = f"{prefix}.{key}" if prefix else str(key)
        if key not in fields:
            raise GankitError(
                f"unknown config key '{dotted[:60]}' (valid: {', '.join(sorted(fields))})"
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

#: old model family names that still work: old name -> the family's name
FAMILY_ALIASES = {"dwgan": "discrete"}

#: keys of the ``model`` section that are now ``objective`` keys (before 2026-12-03 the
#: objective and its options were model keys; old presets and run configs still read)
LEGACY_OBJECTIVE_KEYS = ("objective", "smooth_real", "smooth_fake", "flip", "clip", "gp_weight", "penalty")


def canonical_family(name):
    """A model family's current name (an old name maps to it; anything else is returned as is)."""
    return FAMILY_ALIASES.get(name, name) if isinstance(name, str) else name


def objective_keys(name) -> set[str] | None:
    """The option keys of objective ``name`` (None when it is not registered)."""
    from gankit.registry import OBJECTIVES

    if not isinstance(name, str) or name not in OBJECTIVES or OBJECTIVES.entry(name).options is None:
        return None
    return {f.name for f in dataclasses.fields(OBJECTIVES.entry(name).options)}


def rebase_objective(section: dict, name: str) -> dict:
    """``section`` switched to objective ``name``: the options that objective also has are kept,
    the others dropped (smoothing means nothing to WGAN-GP). Used when a child preset, an
    override or an old key names another objective than the section it changes."""
    keys = objective_keys(name) or set()
    return {"name": name, **{k: v for k, v in section.items() if k != "name" and k in keys}}


def migrate_legacy(raw: dict) -> tuple[dict, list[str]]:
    """``raw`` in the current shape: an old family name renamed, the objective and its options
    moved from ``model`` to ``objective`` (``model.objective`` becomes ``objective.name``). An
    old option the chosen objective does not have is dropped: it never had an effect. Returns
    the new dict and the old keys it moved (for a note)."""
    from gankit.registry import MODELS

    model = raw.get("model")
    if not isinstance(model, dict):
        return raw, []
    raw, model, moved = dict(raw), dict(model), []
    if isinstance(model.get("family"), str) and model["family"] in FAMILY_ALIASES:
        moved.append("model.family")
        model["family"] = canonical_family(model["family"])
    legacy = [k for k in LEGACY_OBJECTIVE_KEYS if k in model]
    if legacy:
        objective = raw.get("objective") or {}
        if not isinstance(objective, dict):
            raise GankitError(f"config section 'objective' must be a mapping, got {_show(objective)}")
        family = model.get("family", "gan")
        options = MODELS.entry(family).options if isinstance(family, str) and family in MODELS else None
        name = objective.get("name", (options or ModelConfig).default_objective)
        if not isinstance(name, str):
            raise GankitError(f"config key 'objective.name' expects a string, got {_show(name)}")
        if "objective" in model:
            name = model.pop("objective")
            if not isinstance(name, str):
                raise GankitError(f"config key 'model.objective' expects a string, got {_show(name)}")
            objective = rebase_objective(objective, name) if name != objective.get("name") else dict(objective)
        objective = {"name": name, **objective}
        keys = objective_keys(name) or set()
        for key in legacy:
            if key in model:
                value = model.pop(key)
                if key in keys:
                    objective[key] = value
        raw["objective"] = objective
        moved += [f"model.{k}" for k in legacy]
    raw["model"] = model
    return raw, moved


def _merge_objective(base: dict, over: dict) -> dict:
    """The objective section of a child preset (or overrides) over its base's: deep-merged, but a
    child that names another objective starts from the base options that objective has."""
    base_obj, over_obj = base.get("objective"), over.get("objective")
    if (isinstance(base_obj, dict) and isinstance(over_obj, dict) and "name" in over_obj
            and over_obj["name"] != base_obj.get("name", over_obj["name"])):
        base = dict(base)
        base["objective"] = rebase_objective(base_obj, over_obj["name"])
    return base


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
    is_file = name.endswith((".yaml", ".yml"))
    path = Path(name) if is_file else PRESET_DIR / f"{name}.yaml"
    if (not is_file and ("/" in name or "\\" in name or name.startswith("."))) or not path.is_file():
        raise GankitError(f"unknown preset '{name[:100]}' (see `gankit list`)")
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


def _section_class(registry, section: dict, key: str, default: str, base: type) -> type:
    name = section.get(key, default)
    if not isinstance(name, str):
        raise GankitError(f"config key '{key}' must be a string")
    entry = registry.entry(name)
    return entry.options or base


def build_config(raw: dict, preset: str) -> Config:
    """Typed ``Config`` from a raw dict; each registry-selected section uses its entry's options.

    The registries must be loaded: call it through :mod:`gankit.catalogue`."""
    from gankit.registry import DATASETS, MODELS, NETS, OBJECTIVES
    raw = dict(raw)
    raw.pop("preset", None)
    raw, _ = migrate_legacy(raw)
    known = {"model", "objective", "net", "data", "optim", "train"}
    for key in raw:
        if key not in known:
            raise GankitError(f"unknown config key '{str(key)[:60]}' (valid: {', '.join(sorted(known))})")
    sections = {k: raw.get(k) or {} for k in known}
    for k, v in sections.items():
        if not isinstance(v, dict):
            raise GankitError(f"config section '{k}' must be a mapping, got {_show(v)}")
    model_cls = _section_class(MODELS, sections["model"], "family", "gan", ModelConfig)
    objective_cls = _section_class(OBJECTIVES, sections["objective"], "name", model_cls.default_objective,
                                   ObjectiveConfig)
    sections["objective"] = {"name": model_cls.default_objective, **sections["objective"]}
    net_cls = _section_class(NETS, sections["net"], "name", "dcgan-mnist", NetConfig)
    data_cls = _section_class(DATASETS, sections["data"], "name", "mnist", DataConfig)
    cfg = Config(
        preset=preset,
        model=build_dataclass(model_cls, sections["model"], "model"),
        objective=build_dataclass(objective_cls, sections["objective"], "objective"),
        net=build_dataclass(net_cls, sections["net"], "net"),
        data=build_dataclass(data_cls, sections["data"], "data"),
        optim=build_dataclass(OptimPair, sections["optim"], "optim"),
        train=build_dataclass(TrainConfig, sections["train"], "train"),
    )
    validate(cfg)
    return cfg


def read_config_file(path: Path, preset: str | None = None) -> Config:
    """The ``Config`` recorded in a run's ``config.yaml``."""
    raw = dict(read_yaml_mapping(path, "run config"))
    name = raw.get("preset", preset)
    if not isinstance(name, str):
        raise GankitError(f"run config {path}: 'preset' must be a string, got {_show(name)}")
    return build_config(raw, name)


def check_seed(seed: int, key: str = "--seed") -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= SEED_MAX:
        raise GankitError(f"{key} must lie in 0..2^63-1, got {_show(seed)}")
    return seed


# what a resume may change: how long the run goes on and what it writes on the way; the
# restored state (weights, optimizer, RNG, data order) never depends on them
RESUMABLE = {f"train.{k}" for k in ("steps", "seconds", "epochs", "log_every", "sample_every", "eval_every",
                                     "eval_every_epochs", "eval_samples", "ckpt_every", "keep_checkpoints",
                                     "grid_size", "tensorboard", "threads", "device")}


def _flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flat(v, key + "."))
        else:
            out[key] = v
    return out


def resume_changes(recorded: Config, wanted: Config) -> dict[str, tuple]:
    """Keys ``wanted`` changes from the run's ``recorded`` config: ``{key: (old, new)}``.
    A key outside :data:`RESUMABLE` cannot be applied to a restored state honestly (the
    optimizer's learning rate, the net, the data, ...) and is refused, naming the key."""
    old, new = _flat(recorded.to_dict()), _flat(wanted.to_dict())
    changed = {k: (old.get(k), new.get(k)) for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)}
    for key, (a, b) in changed.items():
        if key == "preset":
            raise GankitError(f"the run was made with preset '{a}', not '{b}'")
        if key not in RESUMABLE:
            raise GankitError(f"config key '{key}' cannot be changed on --resume (the run was trained with "
                              f"{_show(a, 40)}; a resume restores that state): start a new run to change it")
    return changed


def load_config(preset: str, overrides: list[str] | None = None) -> Config:
    preset = resolve_alias(preset)
    base = read_preset(preset)
    # overrides that name another objective start from its options, as a child preset does
    base = _merge_objective(base, apply_overrides({}, overrides or []))
    raw = apply_overrides(base, overrides or [])
    _, moved = migrate_legacy(raw)
    if moved:
        import logging

        logging.getLogger("gankit").warning(
            f"note: {', '.join(moved)} are now keys of the 'objective' section (model.objective is "
            "objective.name; family 'dwgan' is 'discrete'); the old keys still work")
    return build_config(raw, preset)


def validate(cfg: Config) -> None:
    """Range checks that types alone cannot express; each error names its key."""

    def need(ok: bool, key: str, what: str) -> None:
        if not ok:
            raise GankitError(f"config key '{key}' {what}")

    for name in ("g", "d"):
        o: OptimConfig = getattr(cfg.optim, name)
        need(o.lr > 0, f"optim.{name}.lr", f"must be > 0, got {o.lr}")
        need(math.isfinite(o.lr), f"optim.{name}.lr", f"must be finite, got {o.lr}")
        need(math.isfinite(o.eps) and o.eps > 0, f"optim.{name}.eps", f"must be finite and > 0, got {o.eps}")
        need(math.isfinite(o.weight_decay) and o.weight_decay >= 0, f"optim.{name}.weight_decay",
             f"must be finite and >= 0, got {o.weight_decay}")
        need(o.name in ("adam", "rmsprop", "sgd"), f"optim.{name}.name", f"must be adam, rmsprop or sgd, got '{o.name}'")
        need(0 <= o.beta1 < 1 and 0 <= o.beta2 < 1, f"optim.{name}.beta1/beta2", "must lie in [0, 1)")
        need(0 < o.lr_decay <= 1, f"optim.{name}.lr_decay", "must lie in (0, 1]")
        need(o.schedule in SCHEDULES, f"optim.{name}.schedule", f"must be {', '.join(SCHEDULES)}, got '{o.schedule[:40]}'")
        need(0 <= o.warmup <= MAX_INT, f"optim.{name}.warmup", f"must be >= 0, got {o.warmup}")
        need(0 <= o.decay_steps <= MAX_INT, f"optim.{name}.decay_steps", f"must be >= 0, got {o.decay_steps}")
        need(o.lr_decay == 1 or (o.schedule == "constant" and not o.warmup), f"optim.{name}.lr_decay",
             "and optim.schedule/warmup are two ways to change the rate: use one")
    t = cfg.train
    need(0 <= t.seed <= SEED_MAX, "train.seed", f"must lie in 0..2^63-1, got {t.seed}")
    need(t.steps > 0, "train.steps", f"must be > 0, got {t.steps}")
    need(t.seconds is None or t.seconds > 0, "train.seconds", f"must be > 0, got {t.seconds}")
    need(t.epochs is None or t.epochs > 0, "train.epochs", f"must be > 0, got {t.epochs}")
    need(t.eval_every_epochs >= 0, "train.eval_every_epochs", "must be >= 0")
    need(t.device in ("auto", "cpu", "cuda"), "train.device", f"must be auto, cpu or cuda, got '{t.device}'")
    need(t.threads is None or t.threads > 0, "train.threads", "must be > 0")
    for key in ("log_every", "sample_every", "ckpt_every", "keep_checkpoints", "grid_size"):
        need(getattr(t, key) > 0, f"train.{key}", "must be > 0")
    need(t.eval_every >= 0, "train.eval_every", "must be >= 0")
    need(0 < t.eval_samples <= MAX_SAMPLES, "train.eval_samples", f"must lie in 1..{MAX_SAMPLES:,d}, got {t.eval_samples}")
    need(t.grid_size <= MAX_GRID, "train.grid_size", f"must be <= {MAX_GRID}, got {t.grid_size}")
    need(t.threads is None or t.threads <= 4096, "train.threads", f"must be <= 4096, got {t.threads}")
    need(0 < cfg.data.batch_size <= MAX_BATCH, "data.batch_size",
         f"must lie in 1..{MAX_BATCH:,d}, got {cfg.data.batch_size}")
    need(cfg.net.z_dim > 0, "net.z_dim", f"must be > 0, got {cfg.net.z_dim}")
    for f in dataclasses.fields(cfg.net):  # every size of a net: beyond this no memory holds it
        value = getattr(cfg.net, f.name)
        if isinstance(value, int) and not isinstance(value, bool):
            need(value <= MAX_NET_SIZE, f"net.{f.name}", f"must be <= {MAX_NET_SIZE:,d} (what memory can hold), got {value}")
    for section in (cfg.model, cfg.objective, cfg.net, cfg.data):
        check = getattr(section, "validate", None)
        if check is not None:
            check()
    check = getattr(cfg.model, "validate_with", None)  # rules across sections (family x objective)
    if check is not None:
        check(cfg)
