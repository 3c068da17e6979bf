"""The textbook PyTorch GAN loop: the baseline ``gankit bench`` measures gankit against.

What a user writes from the tutorials: a ``DataLoader`` over a ``TensorDataset``
(batch 64, shuffle), Adam, one D step then one G step, ``.item()`` on both losses every
step. For ``ns`` the G step reuses the D step's fake batch (its graph kept), as the PyTorch
DCGAN tutorial does (``output = netD(fake)`` after the D update); for ``wgan-gp`` it draws a
fresh batch, as WGAN-GP's Algorithm 1 (and the guide's Algorithm 2) do. Differences from the
tutorial: one backward for D's summed real+fake loss instead of two (the same gradients),
gankit's networks instead of the tutorial's 64x64 DCGAN. Two objectives:

* ``ns``: BCE-with-logits for D (real target ``1 - smooth_real``, a ``flip`` fraction of
  targets swapped), -log D(G(z)) for G (digit-gans 2.1.1, Algorithm 1);
* ``wgan-gp``: E[D(fake)] - E[D(real)] + lambda * gradient penalty for D, -E[D(G(z))]
  for G (digit-gans 2.1.4).

The networks are gankit's own (``gankit.nets.build_nets``), so a bench compares loops,
not architectures. ``n_critic`` D steps (each on its own real batch) precede each G step.
Conditional nets (``net.conditional``, the textbook cGAN) get the batch's labels in the D
step (G(z, y) and D(x, y)) and fresh random labels in the G step.
Nothing here is optimised on purpose: it is the baseline.
"""
from __future__ import annotations

from typing import Iterator

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def textbook_gan(G, D, x: torch.Tensor, *, z_dim: int = 100, batch_size: int = 64, objective: str = "ns",
                 lr_g: float = 2e-4, lr_d: float = 2e-4, betas_g=(0.5, 0.999), betas_d=(0.5, 0.999),
                 smooth_real: float = 0.0, flip: float = 0.0, gp_weight: float = 10.0,
                 n_critic: int = 1, labels: torch.Tensor | None = None,
                 num_classes: int = 10) -> Iterator[tuple[int, float, float]]:
    """Train ``G``/``D`` on images ``x`` forever; yields ``(images, d_loss, g_loss)`` after each
    G step (``images``: real images used by that step), so a caller can interleave it.
    With ``labels`` the nets are called as G(z, y) and D(x, y)."""
    if objective not in ("ns", "wgan-gp"):
        raise ValueError(f"the reference loop knows objectives ns and wgan-gp, not {objective!r}")
    tensors = (x,) if labels is None else (x, labels)
    loader = DataLoader(TensorDataset(*tensors), batch_size=batch_size, shuffle=True)
    opt_g = torch.optim.Adam(G.parameters(), lr=lr_g, betas=betas_g)
    opt_d = torch.optim.Adam(D.parameters(), lr=lr_d, betas=betas_d)
    G.train()
    D.train()
    batches = _forever(loader)
    while True:
        images = 0
        for _ in range(n_critic):
            real, *y = next(batches)
            y = y[0] if y else None
            n = real.shape[0]
            images += n
            # ---- D step
            fake = G(torch.randn(n, z_dim), y)
            opt_d.zero_grad()
            real_out, fake_out = D(real, y), D(fake.detach(), y)
            if objective == "ns":
                real_t = torch.full((n,), 1.0 - smooth_real)
                fake_t = torch.zeros(n)
                if flip > 0:
                    swap = torch.rand(n) < flip
                    real_t, fake_t = torch.where(swap, fake_t, real_t), torch.where(swap, real_t, fake_t)
                d_loss = (F.binary_cross_entropy_with_logits(real_out, real_t)
                          + F.binary_cross_entropy_with_logits(fake_out, fake_t))
            else:
                eps = torch.rand(n, *([1] * (real.dim() - 1)))  # one per sample
                x_hat = (eps * real + (1 - eps) * fake.detach()).requires_grad_(True)
                (grad,) = torch.autograd.grad(D(x_hat, y).sum(), x_hat, create_graph=True)
                gp = ((grad.flatten(1).norm(2, dim=1) - 1) ** 2).mean()
                d_loss = fake_out.mean() - real_out.mean() + gp_weight * gp
            d_loss.backward()
            opt_d.step()
        # ---- G step: the tutorial's reuse of the last fake batch (ns), a fresh one (wgan-gp)
        opt_g.zero_grad()
        if objective == "ns":
            out = D(fake, y)
        else:
            y = None if labels is None else torch.randint(0, num_classes, (batch_size,))
            out = D(G(torch.randn(batch_size, z_dim), y), y)
        if objective == "ns":
            g_loss = F.binary_cross_entropy_with_logits(out, torch.ones_like(out))
        else:
            g_loss = -out.mean()
        g_loss.backward()
        opt_g.step()
        yield images, d_loss.item(), g_loss.item()


def _forever(loader):
    while True:
        yield from loader


def from_config(cfg, data) -> Iterator[tuple[int, float, float]]:
    """The textbook loop on the networks, batch size, objective and optimizer settings of a
    gankit config (``gankit.config.load_config``), with gankit's networks for it."""
    return build(cfg, data)[2]


def build(cfg, data):
    """``(G, D, loop)``: :func:`from_config`'s loop and the networks it trains (so a caller can
    sample G between steps, as ``gankit bench --curve`` does)."""
    from gankit.nets import build_nets

    G, D = build_nets(cfg.net, data)
    m, obj, og, od = cfg.model, cfg.objective, cfg.optim.g, cfg.optim.d
    conditional = bool(getattr(cfg.net, "conditional", False))
    for o in (og, od):
        if o.name != "adam":
            raise ValueError(f"the reference loop uses Adam, not {o.name!r}")
    return G, D, textbook_gan(G, D, data.x, z_dim=cfg.net.z_dim, batch_size=cfg.data.batch_size,
                              objective=obj.name, lr_g=og.lr, lr_d=od.lr, betas_g=(og.beta1, og.beta2),
                              betas_d=(od.beta1, od.beta2), smooth_real=getattr(obj, "smooth_real", 0.0),
                              flip=getattr(obj, "flip", 0.0), gp_weight=getattr(obj, "gp_weight", 10.0),
                              n_critic=getattr(m, "n_critic", 1), labels=data.y if conditional else None,
                              num_classes=data.num_classes if conditional else 10)
