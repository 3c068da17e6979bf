"""Network pairs, registered by name in ``gankit.registry.NETS``.

A net entry is ``builder(cfg_net, data) -> (G, D)`` where ``G.forward(z, y=None)``
returns a batch in the dataset's space and ``D.forward(x, y=None)`` returns one
logit (or critic value) per example, shape [N]. ``y`` is the int64 class label
for conditional nets and is ignored otherwise.
"""
from gankit.registry import NETS


def build_nets(cfg_net, data):
    return NETS.get(cfg_net.name)(cfg_net, data)


def count_params(module) -> int:
    return sum(p.numel() for p in module.parameters())


from gankit.nets import digit  # noqa: E402,F401  (digit-gans.txt appendix tables)
from gankit.nets import dwgan  # noqa: E402,F401  (dwgan.txt Figure 1, appendix B)
from gankit.nets import binarygan  # noqa: E402,F401  (binarygan.txt Tables 1-4)
from gankit.nets import sae  # noqa: E402,F401  (symbolic-autoencoder.txt section 4)
from gankit.nets import guide  # noqa: E402,F401  (practical-gan-guide.txt 3.1.7, 3.3, 5.5)
