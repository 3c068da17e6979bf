"""Network pairs, registered by name in ``gankit.registry.NETS``.

A net entry is ``builder(cfg_net, data) -> (G, D)`` where ``G.forward(z, y=None)``
returns a batch in the dataset's space and ``D.forward(x, y=None)`` returns one
logit (or critic value) per example, shape [N]. ``y`` is the int64 class label
for conditional nets and is ignored otherwise. Every module of this package is imported at
the end of this file, so a new net needs no line here.
"""
import importlib
import pkgutil

from gankit.registry import NETS


def build_nets(cfg_net, data):
    G, D = NETS.get(cfg_net.name)(cfg_net, data)
    if cfg_net.d_spectral_norm:
        spectral_normalize(D)
    return G, D


def spectral_normalize(net) -> int:
    """Spectral normalization (Miyato et al. 2018) on every conv and linear weight of ``net``
    that has none yet (``net.d_spectral_norm``); returns how many weights it wrapped."""
    from torch import nn
    from torch.nn.utils import parametrize
    from torch.nn.utils.parametrizations import spectral_norm

    count = 0
    for module in list(net.modules()):
        if isinstance(module, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose2d)) \
                and not parametrize.is_parametrized(module, "weight"):
            spectral_norm(module)
            count += 1
    return count


def count_params(module) -> int:
    return sum(p.numel() for p in module.parameters())


def describe() -> list[dict]:
    """One dict per registered net (``gankit list --nets``): name, g_params, d_params,
    input_shape, doc.

    A builder that carries ``input_shape`` (one image's shape) is built with its default options on a zero dataset of
    that shape to count parameters; other nets report None for the counts.
    """
    import torch

    from gankit.config import NetConfig, build_dataclass
    from gankit.data.base import Dataset

    rows = []
    for name in NETS.names():
        entry = NETS.entry(name)
        shape = getattr(entry.obj, "input_shape", None)
        g_params = d_params = None
        if shape is not None:
            data = Dataset("example", torch.zeros(2, *shape), torch.zeros(2, dtype=torch.long), num_classes=10,
                           kind="image")
            cfg = build_dataclass(entry.options or NetConfig, {"name": name}, "net")
            G, D = entry.obj(cfg, data)
            g_params, d_params = count_params(G), count_params(D)
        rows.append({"name": name, "g_params": g_params, "d_params": d_params,
                     "input_shape": tuple(shape) if shape is not None else None, "doc": entry.doc})
    return rows


# every module of this package registers its nets on import: a new net is one new file here
for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    importlib.import_module(f"{__name__}.{_module}")
