"""The resume policy: what ``--resume`` may change in a run's recorded config. How long the run
goes on and what it writes on the way may change; the restored state (weights, optimizer, RNG,
data order) was made by everything else, so a change there is refused, naming the key."""
from __future__ import annotations

from gankit.config.schema import Config, _show
from gankit.errors import GankitError

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
