"""Random translations of image batches: two views of one image for the SAE's bi-net.

Not in the symbolic-autoencoder paper (``model.augment: 0`` keeps it exact). With it, each
encoder sees its own randomly shifted copy of the batch, so the shell loss (the diagonal
of B, section 3.6 step 5) asks the two units to agree on two views of one image: the
symbols become invariant to small shifts, as in view-based self-supervision.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def random_shift(x: torch.Tensor, max_shift: int, background: float) -> torch.Tensor:
    """Each image of ``x`` [N, C, H, W] moved by its own integer (dy, dx) in
    [-max_shift, max_shift]², with the uncovered border filled by ``background``."""
    if max_shift <= 0:
        return x
    n, c, h, w = x.shape
    s = max_shift
    padded = F.pad(x, (s, s, s, s), value=background)
    offsets = torch.randint(0, 2 * s + 1, (2, n), device=x.device)
    rows = (torch.arange(h, device=x.device) + offsets[0, :, None]).view(n, 1, h, 1).expand(n, c, h, w + 2 * s)
    out = padded.gather(2, rows)
    cols = (torch.arange(w, device=x.device) + offsets[1, :, None]).view(n, 1, 1, w).expand(n, c, h, w)
    return out.gather(3, cols)
