"""The config schema: one dataclass per section, a raw dict typed into them (every key and type
checked, errors naming the dotted key), and the range checks types cannot express.

``model.family``, ``objective.name``, ``net.name`` and ``data.name`` pick registry entries whose
options dataclass (a subclass of the section's base class here) types the rest of that section.
"""
from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gankit.config.yamlfile import read_yaml_mapping
from gankit.errors import GankitError
from gankit.registry import DATASETS, MODELS, NETS, OBJECTIVES, did_you_mean

SEED_MAX = 2**63 - 1  # torch.manual_seed takes a 64-bit integer
MAX_INT = 2**63 - 1
MAX_NET_SIZE = 65_536  # any integer option of a net (z_dim, widths, kernel sizes): more cannot be allocated
MAX_BATCH = 65_536
MAX_SAMPLES = 1_000_000  # eval/sample counts (train.eval_samples, eval --n)
MAX_GRID = 1_024
SCHEDULES = ("constant", "linear", "cosine")
DIFFAUG_POLICIES = ("translation", "cutout")  # gankit.layers.augment.DiffAugment
SECTIONS = ("model", "objective", "net", "data", "optim", "train")


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
    # (0 = train.steps; set it for a train.seconds budget or a run to be extended later);
    # ``decay_start`` > warmup holds the rate until that step and decays over the rest only
    warmup: int = 0
    schedule: str = "constant"  # constant | linear | cosine
    decay_steps: int = 0
    decay_start: int = 0
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
            hint = did_you_mean(str(key), fields, prefix=f"{prefix}." if prefix else "")
            raise GankitError(f"unknown config key '{dotted[:60]}' ({hint}valid: {', '.join(sorted(fields))})")
        kwargs[key] = _coerce(value, hints[key], dotted)
    try:
        return cls(**kwargs)
    except TypeError as exc:  # a required field without default
        raise GankitError(f"config section '{prefix}': {exc}") from None


def _section_class(registry, sections: dict, section: str, key: str, default: str, base: type) -> type:
    """The options class of the registry entry that ``section.key`` names (``base`` if it has none)."""
    name = sections[section].get(key, default)
    if not isinstance(name, str):
        raise GankitError(f"config key '{section}.{key}' must be a string, got {_show(name)}")
    return registry.entry(name).options or base


def build_config(raw: dict, preset: str) -> Config:
    """Typed ``Config`` from a raw dict; each registry-selected section uses its entry's options.

    The registries must be loaded: call it through :mod:`gankit.catalogue`."""
    raw = dict(raw)
    raw.pop("preset", None)
    for key in raw:
        if key not in SECTIONS:
            raise GankitError(f"unknown config key '{str(key)[:60]}' "
                              f"({did_you_mean(str(key), SECTIONS)}valid: {', '.join(sorted(SECTIONS))})")
    sections = {k: raw.get(k) or {} for k in SECTIONS}
    for k, v in sections.items():
        if not isinstance(v, dict):
            raise GankitError(f"config section '{k}' must be a mapping, got {_show(v)}")
    model_cls = _section_class(MODELS, sections, "model", "family", "gan", ModelConfig)
    objective_cls = _section_class(OBJECTIVES, sections, "objective", "name", model_cls.default_objective,
                                   ObjectiveConfig)
    sections["objective"] = {"name": model_cls.default_objective, **sections["objective"]}
    net_cls = _section_class(NETS, sections, "net", "name", "dcgan-mnist", NetConfig)
    data_cls = _section_class(DATASETS, sections, "data", "name", "mnist", DataConfig)
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
        need(0 <= o.decay_start <= MAX_INT, f"optim.{name}.decay_start", f"must be >= 0, got {o.decay_start}")
        need(not o.decay_start or o.schedule != "constant", f"optim.{name}.decay_start",
             "needs optim.schedule linear or cosine (a constant rate has no decay to start)")
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
