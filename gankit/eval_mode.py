"""``eval_mode``: run a block with modules in evaluation mode, then restore each one's mode."""
from __future__ import annotations

from contextlib import contextmanager


@contextmanager
def eval_mode(*modules):
    """Switch ``modules`` (torch ``nn.Module``s; None is skipped) to eval mode for the block and
    give each back the train/eval mode it had, whatever the block raises.

    Batch norm and dropout behave as at sampling time inside; one module's submodules keep
    their own flags (``module.train(was)`` restores the whole tree as it was set)."""
    mods = [m for m in modules if m is not None]
    was = [(m, [(sub, sub.training) for sub in m.modules()]) for m in mods]
    try:
        for m in mods:
            m.eval()
        yield mods[0] if len(mods) == 1 else mods
    finally:
        for _, flags in was:
            for sub, training in flags:
                sub.training = training
