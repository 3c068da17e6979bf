"""Typed configuration: dataclasses filled from a YAML preset plus ``a.b=c`` overrides.

A preset (``gankit/presets/NAME.yaml``) has the sections ``model``, ``objective``, ``net``,
``data``, ``optim`` and ``train``. Four modules, each one thing:

- ``yamlfile.py``: the hardened YAML loader every config file and override value goes through;
- ``schema.py``: the section dataclasses, typing a raw dict into them, the range checks;
- ``presets.py``: preset lookup, ``base:`` inheritance, overrides, :func:`load_config`;
- ``resume.py``: what ``--resume`` may change in a run's recorded config.

The names below are the package's face (``from gankit.config import X``).
"""
from gankit.config.presets import (
    PRESET_DIR,
    apply_overrides,
    load_config,
    preset_description,
    preset_names,
    preset_path,
    read_preset,
    rebase_objective,
)
from gankit.config.resume import RESUMABLE, resume_changes
from gankit.config.schema import (
    DIFFAUG_POLICIES,
    MAX_BATCH,
    MAX_GRID,
    MAX_INT,
    MAX_NET_SIZE,
    MAX_SAMPLES,
    SCHEDULES,
    SECTIONS,
    SEED_MAX,
    Config,
    DataConfig,
    ModelConfig,
    NetConfig,
    ObjectiveConfig,
    OptimConfig,
    OptimPair,
    SplitDataConfig,
    TrainConfig,
    build_config,
    build_dataclass,
    check_seed,
    read_config_file,
    validate,
)
from gankit.config.yamlfile import MAX_YAML_BYTES, parse_yaml, read_yaml_mapping

__all__ = [
    "PRESET_DIR", "apply_overrides", "load_config", "preset_description", "preset_names", "preset_path",
    "read_preset", "rebase_objective", "RESUMABLE", "resume_changes", "DIFFAUG_POLICIES", "MAX_BATCH",
    "MAX_GRID", "MAX_INT", "MAX_NET_SIZE", "MAX_SAMPLES", "SCHEDULES", "SECTIONS", "SEED_MAX", "Config",
    "DataConfig", "ModelConfig", "NetConfig", "ObjectiveConfig", "OptimConfig", "OptimPair",
    "SplitDataConfig", "TrainConfig", "build_config", "build_dataclass", "check_seed", "read_config_file",
    "validate", "MAX_YAML_BYTES", "parse_yaml", "read_yaml_mapping",
]
