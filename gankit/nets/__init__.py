"""Network pairs, registered by name in ``gankit.registry.NETS``.

A net entry is ``builder(cfg_net, data) -> (G, D)`` where ``G.forward(z, y=None)``
returns a batch in the dataset's space and ``D.forward(x, y=None)`` returns one
logit (or critic value) per example, shape [N]. ``y`` is the int64 class label
for conditional nets and is ignored otherwise.
"""
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


from gankit.nets import digit  # noqa: E402,F401  (digit-gans.txt appendix tables)
from gankit.nets import dwgan  # noqa: E402,F401  (dwgan.txt Figure 1, appendix B)
from gankit.nets import binarygan  # noqa: E402,F401  (binarygan.txt Tables 1-4)
from gankit.nets import sae  # noqa: E402,F401  (symbolic-autoencoder.txt section 4)
from gankit.nets import guide  # noqa: E402,F401  (practical-gan-guide.txt 3.1.7, 3.3, 5.5)
from gankit.nets import scaled  # noqa: E402,F401  (Radford et al. 2016 DCGAN, depth follows the image size)
