"""docs/design.md's layers: importing a layer (every module in it) loads nothing from a layer above."""
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import gankit

# bottom to top; a module may import its own layer and those below (docs/design.md)
LAYERS = [
    ["errors", "io", "registry", "eval_mode"],
    ["config"],
    ["layers", "losses", "report"],
    ["data", "nets"],
    ["metrics"],
    ["models"],
    ["catalogue"],
    ["training"],
    ["api", "compare", "bench", "reproduce", "export", "interpolate", "runlist", "show"],
    ["cli", "__main__"],
]
ROOT = Path(gankit.__file__).parent


def modules_of(name: str) -> list[str]:
    path = ROOT / name
    if not path.is_dir():
        return [f"gankit.{name}"]
    return [f"gankit.{name}"] + [f"gankit.{name}.{m.name}" for m in pkgutil.iter_modules([str(path)])]


def test_every_gankit_module_is_in_a_layer():
    named = {n for layer in LAYERS for n in layer}
    found = {m.name for m in pkgutil.iter_modules([str(ROOT)])}
    assert found == named, f"add {sorted(found - named)} to LAYERS and docs/design.md"


@pytest.mark.parametrize("level", range(len(LAYERS) - 1), ids=lambda i: "+".join(LAYERS[i]))
def test_a_layer_imports_nothing_above_it(level):
    mods = [m for name in LAYERS[level] for m in modules_of(name) if m != "gankit.__main__"]
    code = ("import json, sys\n" + "".join(f"import {m}\n" for m in mods)
            + "print(json.dumps(sorted(m for m in sys.modules if m.startswith('gankit.'))))")
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                       check=True).stdout)
    above = {f"gankit.{n}" for layer in LAYERS[level + 1:] for n in layer}
    bad = sorted(m for m in loaded if m in above or any(m.startswith(a + ".") for a in above))
    assert not bad, f"layer {LAYERS[level]} loads upper-layer modules {bad}"


def test_no_module_names_an_upper_layer_even_inside_a_function():
    """Static check of every ``import gankit.X`` / ``from gankit.X`` line, lazy ones included."""
    import re

    level = {n: i for i, layer in enumerate(LAYERS) for n in layer}
    bad = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT).parts
        own = rel[0][:-3] if len(rel) == 1 else rel[0]
        if own == "__init__":  # the package's face: gankit.train/load come from the top (api)
            continue
        for m in re.finditer(r"^\s*(?:from|import) gankit\.([a-z_]+)", path.read_text(), re.M):
            if level[m.group(1)] > level[own]:
                bad.append(f"{'/'.join(rel)} imports gankit.{m.group(1)}")
    assert not bad, bad


def test_eval_mode_restores_each_submodules_flag_even_on_error():
    import torch.nn as nn

    from gankit.eval_mode import eval_mode

    net = nn.Sequential(nn.BatchNorm1d(2), nn.Dropout(0.5))
    net[1].eval()  # a submodule left in eval mode on purpose stays so
    other = nn.Linear(2, 2)
    with pytest.raises(RuntimeError):
        with eval_mode(net, other, None) as mods:
            assert [m.training for m in net.modules()] == [False, False, False]
            assert not other.training and mods == [net, other]
            raise RuntimeError("inside")
    assert [m.training for m in net.modules()] == [True, True, False]
    assert other.training
