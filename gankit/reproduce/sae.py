"""Using a trained symbolic autoencoder (symbolic-autoencoder.txt sections 3.1, 3.5.1, 5).

- ``encode_run``: every training image's symbol from one unit (``gankit sae encode``).
- ``probe_run``: the semi-supervised test the paper leaves as its next step (section 5):
  a classifier fit on ``per_class`` labelled symbols per class, scored on all other
  images, against the same probe on raw pixels and on the penultimate features of a
  DCGAN discriminator trained through the core loop for the same budget (``gankit sae probe``).
- ``reconstruction_report``: real images above G(E_0(x)) and G(E_1(x)), and the share of
  reconstructions the gankit digit classifier puts in their input's class (``gankit sae reconstruct``).
- ``sphere_plot``: figure 6 for m = 3, a Lambert azimuthal equal-area projection of both
  units' symbols centred on the generalizing unit's mean direction, coloured by digit
  (``gankit sae sphere``).
- ``run`` / ``PAPER``: ``gankit reproduce sae``, one row per result-stating sentence of the paper
  (or a note why not), judged by rules that can fail (``*_rule``, tested on constructed numbers)
  from the runs' records, on the paper-exact ``sae-mnist-paper`` and the tuned ``sae-mnist``, each
  against the DCGAN baseline at equal updates and batch, 3 training seeds.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from gankit.errors import GankitError
from gankit.metrics.probe import probe_accuracy
from gankit.models.sae import GENERALIZING
from gankit.report.curves import save_figure
from gankit.reproduce.core import RECORD_DIR, Claim, Context, Paper, RunSpec, Verdict, fewest_updates

BASELINE_PRESET = "sae-baseline-dcgan"
BASELINE_DIR = "baseline-dcgan"  # under the SAE run directory


def open_sae_run(run_dir: Path):
    from gankit.training.run import open_run

    run = open_run(Path(run_dir))
    if run.cfg.model.family != "sae":
        raise GankitError(f"run {run_dir} is a '{run.cfg.model.family}' run, not a symbolic autoencoder ('sae')")
    return run


def _check_unit(unit: int) -> int:
    if unit not in (0, 1):
        raise GankitError(f"--unit must be 0 or 1, got {unit}")
    return unit


# ------------------------------------------------------------------ encode
def encode_run(run_dir: Path, unit: int = GENERALIZING) -> dict[str, np.ndarray]:
    """``symbols`` float32 [N, m] (unit ``unit``) and ``labels`` int64 [N] of the whole training set."""
    run = open_sae_run(run_dir)
    symbols = run.model.encode(run.data.x, _check_unit(unit)).cpu().numpy().astype(np.float32)
    labels = run.data.y.cpu().numpy().astype(np.int64) if run.data.y is not None \
        else np.full(len(symbols), -1, np.int64)
    return {"symbols": symbols, "labels": labels}


# ------------------------------------------------------------------ probe
def penultimate_features(net: nn.Module, x: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """The input of ``net``'s last linear/conv layer (its penultimate features), flattened, in eval mode."""
    last = [m for m in net.modules() if isinstance(m, (nn.Linear, nn.Conv2d, nn.Conv1d))]
    if not last:
        raise GankitError("the baseline discriminator has no linear or conv layer to take features from")
    captured: list[torch.Tensor] = []
    handle = last[-1].register_forward_pre_hook(lambda mod, inp: captured.append(inp[0].flatten(1).cpu()))
    was = net.training
    net.eval()
    try:
        with torch.no_grad():
            device = next(net.parameters()).device
            for i in range(0, len(x), batch_size):
                net(x[i:i + batch_size].to(device))
    finally:
        handle.remove()
        net.train(was)
    return torch.cat(captured)


def baseline_budget(cfg) -> list[str]:
    """Overrides giving the DCGAN baseline the SAE run's budget: steps, seconds, batch, threads, seed."""
    t = cfg.train
    out = [f"train.steps={t.steps}", f"data.batch_size={cfg.data.batch_size}", f"train.seed={t.seed}",
           f"data.root={cfg.data.root if cfg.data.root is not None else 'null'}"]
    out.append(f"train.seconds={t.seconds if t.seconds is not None else 'null'}")
    if t.threads:
        out.append(f"train.threads={t.threads}")
    return out


def baseline_dcgan(run_dir: Path, cfg, dcgan_run: Path | None = None, progress=None) -> Path:
    """The DCGAN baseline's run: ``dcgan_run`` if given, else ``RUN/baseline-dcgan`` (trained once, reused)."""
    from gankit.catalogue import load_config
    from gankit.training.checkpoint import Checkpoints
    from gankit.training.loop import train

    if dcgan_run is not None:
        return Path(dcgan_run)
    out = Path(run_dir) / BASELINE_DIR
    if Checkpoints(out / "checkpoints").paths():
        return out
    train(load_config(BASELINE_PRESET, baseline_budget(cfg)), out, overwrite=True, progress=progress)
    return out


def probe_run(run_dir: Path, per_class: int = 10, seed: int = 0, classifier: str = "logreg",
              unit: int = GENERALIZING, dcgan: bool = True, dcgan_run: Path | None = None,
              progress=None) -> dict:
    """Few-label probe accuracies on the SAE symbols and on the two baselines (one dict)."""
    from gankit.training.run import open_run

    run = open_sae_run(run_dir)
    data = run.data
    if data.y is None:
        raise GankitError(f"dataset '{data.name}' has no labels to probe with")
    labels = data.y.cpu()
    out = {"run": str(run.dir), "step": run.step, "labels_per_class": per_class, "seed": seed,
           "classifier": classifier, "n_labelled": per_class * int(labels.unique().numel()),
           "n_scored": len(labels) - per_class * int(labels.unique().numel()), "unit": _check_unit(unit)}
    for u in (0, 1):
        out[f"sae_unit{u}"] = probe_accuracy(run.model.encode(data.x, u), labels, per_class, seed, classifier)
    out["sae"] = out[f"sae_unit{unit}"]
    for u in (0, 1):  # like for like with the DCGAN baseline: the encoder's penultimate features
        feats = penultimate_features(run.model.encoders.units[u], data.x)
        out[f"sae_features_unit{u}"] = probe_accuracy(feats, labels, per_class, seed, classifier)
    out["pixels"] = probe_accuracy(data.x, labels, per_class, seed, classifier)
    if dcgan:
        base_dir = baseline_dcgan(run.dir, run.cfg, dcgan_run, progress)
        base = open_run(base_dir)
        if tuple(base.data.shape) != tuple(data.shape) or len(base.data) != len(data):
            raise GankitError(f"baseline run {base_dir} was trained on other data than {run.dir}")
        feats = penultimate_features(base.model.D, data.x)
        out["dcgan"] = probe_accuracy(feats, labels, per_class, seed, classifier)
        out["dcgan_run"] = str(base_dir)
        out["dcgan_step"] = base.step
        out["dcgan_feature_dim"] = int(feats.shape[1])
    return out


# ------------------------------------------------------------------ reconstructions
def reconstruction_report(run_dir: Path, png: Path | None = None, cols: int = 10, blocks: int = 3,
                          seed: int = 0) -> dict:
    """Agreement of both units' reconstructions over the whole training set; optional grid PNG.

    The grid has ``blocks`` groups of three rows: ``cols`` random real images, then
    G(E_0(image)), then G(E_1(image)).
    """
    run = open_sae_run(run_dir)
    model, data = run.model, run.data
    if data.y is None:
        raise GankitError(f"dataset '{data.name}' has no labels to check reconstructions against")
    out = {"run": str(run.dir), "step": run.step, "n": len(data)}
    for unit in (0, 1):
        out[f"agreement_unit{unit}"] = model.reconstruction_agreement(unit)
    if png is not None:
        from gankit.report.grid import save_grid

        if cols < 1 or blocks < 1:
            raise GankitError("--cols and --blocks must be >= 1")
        gen = torch.Generator().manual_seed(seed)
        idx = torch.randperm(len(data), generator=gen)[: cols * blocks]
        real = data.x[idx]
        rows = []
        for b in range(blocks):
            part = real[b * cols:(b + 1) * cols]
            rows += [part] + [model.decode(model.encode(part, u)).cpu() for u in (0, 1)]
        out["png"] = str(save_grid(data.to_uint8(torch.cat(rows)), png, nrow=cols))
    return out


# ------------------------------------------------------------------ sphere plot
def lambert_azimuthal(points: np.ndarray, center: np.ndarray) -> np.ndarray:
    """Lambert azimuthal equal-area projection of unit vectors [N, 3] about ``center``.

    A point at angle theta from the centre lands at radius 2 sin(theta/2) in the
    direction of its tangent-plane component; the antipode maps onto the circle of radius 2.
    """
    c = center / np.linalg.norm(center)
    helper = np.eye(3)[np.argmin(np.abs(c))]
    e1 = np.cross(c, helper)
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(c, e1)
    z = np.clip(points @ c, -1.0, 1.0)
    scale = np.sqrt(2.0 / np.maximum(1.0 + z, 1e-12))
    return np.stack([points @ e1 * scale, points @ e2 * scale], axis=1)


def sphere_plot(run_dir: Path, png: Path, n: int = 2000, seed: int = 0) -> dict:
    """Figure 6: both units' symbols of ``n`` training images on S^2, projected, coloured by digit."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run = open_sae_run(run_dir)
    model, data = run.model, run.data
    m = run.cfg.net.z_dim
    if m != 3:
        raise GankitError(f"the sphere plot needs symbols on S^2 (net.z_dim=3); run {run.dir} has m={m}")
    gen = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(data), generator=gen)[: min(n, len(data))]
    x = data.x[idx]
    y = data.y[idx].numpy() if data.y is not None else np.zeros(len(idx), np.int64)
    sym = {u: model.encode(x, u).cpu().double().numpy() for u in (0, 1)}
    center = sym[GENERALIZING].mean(0)
    if np.linalg.norm(center) < 1e-8:
        center = np.array([0.0, 0.0, 1.0])
    cmap = plt.get_cmap("tab10")
    colors = [cmap(int(k) % 10) for k in y]
    styles = {GENERALIZING: dict(marker="o", s=6, alpha=0.7), 1 - GENERALIZING: dict(marker="x", s=10, alpha=0.5)}
    proj = {u: lambert_azimuthal(sym[u], center) for u in (0, 1)}
    fig, axes = plt.subplots(1, 2, figsize=(13, 6.5))
    # left: the whole sphere (both rings); right: the generalizing unit's tight inner ring, zoomed
    for ax, units in ((axes[0], (1 - GENERALIZING, GENERALIZING)), (axes[1], (GENERALIZING,))):
        for u in units:
            ax.scatter(proj[u][:, 0], proj[u][:, 1], c=colors, linewidths=0.6, **styles[u])
        ax.set_aspect("equal")
    axes[0].add_patch(plt.Circle((0, 0), 2.0, fill=False, color="0.6", lw=0.8))
    axes[0].set_xlim(-2.05, 2.05)
    axes[0].set_ylim(-2.05, 2.05)
    handles = [plt.Line2D([], [], ls="", marker="o", color=cmap(k), label=str(k)) for k in range(10)]
    handles += [plt.Line2D([], [], ls="", marker="o", color="k", label=f"unit {GENERALIZING} (generalizing)"),
                plt.Line2D([], [], ls="", marker="x", color="k", label=f"unit {1 - GENERALIZING} (diversifying)")]
    axes[0].legend(handles=handles, loc="upper right", fontsize=7, ncol=2)
    axes[0].set_title(f"both units, Lambert azimuthal about unit {GENERALIZING}'s mean (step {run.step})")
    axes[1].set_title(f"unit {GENERALIZING} (generalizing), zoomed")
    png = save_figure(fig, png, dpi=120)
    spread = {f"mean_cos_to_center_unit{u}": float((sym[u] @ (center / np.linalg.norm(center))).mean()) for u in (0, 1)}
    return {"run": str(run.dir), "step": run.step, "n": int(len(idx)), "png": str(png), **spread}


# ------------------------------------------------------------------ reproduction: budgets and runs
# ``gankit reproduce sae``: every result-stating sentence of the paper is a row (or a note saying
# why not). Claims are judged from the runs' records only: metrics.jsonl, losses.csv, and
# record/sae.json or record/dcgan.json, which the after hooks below write right after training
# (the probe on three probe seeds, the fixed batch at every checkpoint, the blur sweep, the
# shift invariance, the sphere statistics), so --report-only --from rebuilds the same verdicts.
PAPER_SAE_STEPS = 3000  # 6.2: "outdoes 107500 iterations of DCGAN by around iteration 3000"
PAPER_TABLE_STEPS = 1000  # 6.2's first table, "Iterations 0 to 1000"
PAPER_DCGAN_STEPS = 107500
STEPS = {"paper": PAPER_SAE_STEPS, "short": PAPER_TABLE_STEPS}  # every SAE run and its DCGAN, equal updates
EVAL_EVERY = 250  # evaluations (IS/FID, probe10, reconstruction agreement) and checkpoints (the fixed batch)
SPHERE_EVAL_EVERY = 100  # the sphere runs' probe at step 100 (figure 6's "during training")
LONG_EVAL_EVERY = 2500
PROBE_SEEDS = (0, 1, 2)  # probe seeds (which 10 digits per class are labelled), per training seed
BLUR_SIGMAS = (0.0, 0.1, 0.2, 0.4, 0.8)
TEST_SIGMA = 0.4  # 3.4 / 3.1: four times the training blur, far from any training symbol
FIXED_N = 64  # the fixed batch (the sample grid's images: the same real digits, or the same z)

# what --only chooses from: presets, and two variants of sae-mnist and the long DCGAN by name
BLOCKS = {  # key -> (run name, preset, overrides beyond the budget's)
    "sae-mnist": ("sae-mnist", "sae-mnist", []),
    "sae-mnist-paper": ("sae-mnist-paper", "sae-mnist-paper", []),
    "sae-mnist-blur0": ("sae-mnist-blur0", "sae-mnist", ["model.blur=0"]),
    "sae-mnist-nobn": ("sae-mnist-nobn", "sae-mnist", ["net.batchnorm=false"]),
    "sae-mnist-sphere": ("sae-mnist-sphere", "sae-mnist-sphere", []),
    BASELINE_PRESET: ("dcgan-b64", BASELINE_PRESET, ["data.batch_size=64"]),
    "dcgan-long": (f"dcgan-b64-{PAPER_DCGAN_STEPS}", BASELINE_PRESET, ["data.batch_size=64"]),
}
CONFIGS = {"preset": "sae-mnist", "paper-exact": "sae-mnist-paper"}
DEPARTURES = {
    "preset": "tuned sae-mnist: Adam 5e-4 (encoders) / 1e-3 (G), not 2e-4; random shifts of up to 2 pixels (not in "
              "the paper); no l_B gradient through G (step 15's total derivative); m = 64, blur 0.1 (not given); "
              "smaller nets than the paper's 5-layer DCGAN ones",
    "paper-exact": "paper-exact sae-mnist-paper (Adam 2e-4, no shifts, step 15's total derivative); m = 64, blur 0.1 "
                   "(not given); smaller nets than the paper's 5-layer DCGAN ones",
}
DATA = "the 5,000 embedded MNIST digits, 10 classes"
RECON = "SAE 'samples' are reconstructions G(E_0(x)) of training digits, the DCGAN's are drawn from noise"
BASELINE = ("DCGAN baseline: sae-baseline-dcgan (Table A.1 nets at half width, label smoothing 0.1) at batch 64 like "
            "the SAE; the paper's DCGAN-tensorflow settings are unknown")
METRIC = "IS/FID from gankit's digit classifier on 2,000 samples (the paper compares sheets by eye)"


def _seeds(ctx: Context) -> int:
    return ctx.seeds or (1 if ctx.smoke else 3)


def _budget_over(ctx: Context, key: str) -> list[str]:
    """The budget's overrides for block ``key`` (none in smoke: core's SMOKE sets the budget)."""
    if ctx.smoke:
        return []
    if key == "dcgan-long":
        return [f"train.steps={PAPER_DCGAN_STEPS}", "train.seconds=null", f"train.eval_every={LONG_EVAL_EVERY}",
                "train.eval_samples=2000", "train.sample_every=10000", "train.ckpt_every=2500"]
    n = STEPS[ctx.budget]
    every = SPHERE_EVAL_EVERY if key == "sae-mnist-sphere" else EVAL_EVERY
    # a checkpoint every EVAL_EVERY steps, all kept: the after hook reads the fixed batch from each
    return [f"train.steps={n}", "train.seconds=null", f"train.eval_every={every}", "train.eval_samples=2000",
            f"train.sample_every={EVAL_EVERY}", f"train.ckpt_every={EVAL_EVERY}",
            f"train.keep_checkpoints={n // EVAL_EVERY + 1}"]


# ------------------------------------------------------------------ after hooks (what needs the model)
def _cache(ctx: Context) -> Path:
    from gankit.metrics import default_cache_dir

    return ctx.cache_dir or default_cache_dir()


def fixed_batch_series(run_dir: Path, cache_dir: Path, n: int = FIXED_N) -> list[dict]:
    """6.2: the sample grid's fixed batch (the same real digits for the SAE, the same z for a GAN)
    at every kept checkpoint: the classifier's label of each image, and the mean absolute pixel
    change (images in [0, 1]) since the previous checkpoint."""
    from gankit.metrics.classifier import get_classifier
    from gankit.training.checkpoint import Checkpoints, load_checkpoint, restore
    from gankit.training.run import open_run
    from gankit.training.sampling import GRID_SEED, generate_seeded

    run = open_run(Path(run_dir))
    clf = get_classifier(run.data, cache_dir)
    out, prev = [], None
    for path in Checkpoints(run.dir / "checkpoints").paths():
        state = load_checkpoint(path)
        restore(run.model, None, state)
        x = run.data.to_unit(generate_seeded(run.model, n, GRID_SEED))
        row = {"step": int(state["step"]), "labels": [int(k) for k in clf.run(x)[0].argmax(1)]}
        if prev is not None:
            row["l1"] = float((x - prev).abs().mean())
        out.append(row)
        prev = x
    return out


def _probe_all(features: dict[str, torch.Tensor], labels: torch.Tensor) -> list[dict]:
    return [{"seed": s, **{k: probe_accuracy(f, labels, 10, s) for k, f in features.items()}} for s in PROBE_SEEDS]


def blur_sweep(model, data, clf, sigmas=BLUR_SIGMAS, png: Path | None = None, n: int = 2000) -> list[dict]:
    """3.4: G(blur(E_0(x), sigma)) for ``n`` random training digits: the share the classifier puts in x's
    class, its class histogram, and the mean per-image pixel correlation with G(E_0(x))
    (shallow features kept). ``png``: 10 digits, one row per sigma (the first row: the real ones)."""
    from gankit.models.sae import blur_symbols
    from gankit.report.grid import save_grid

    idx = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))[:n]
    x = data.x[idx]
    s = model.encode(x, 0)
    base = model.decode(s).cpu().flatten(1)
    y = data.y[idx].cpu().numpy()
    gen_state = torch.get_rng_state()
    out, rows = [], [x[:10].cpu()]
    try:
        for sigma in sigmas:
            torch.manual_seed(0)
            img = model.decode(blur_symbols(s, sigma)).cpu()
            pred = clf.run(data.to_unit(img))[0].argmax(1)
            a, b = img.flatten(1), base
            a, b = a - a.mean(1, keepdim=True), b - b.mean(1, keepdim=True)
            corr = (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1)).clamp_min(1e-12)
            hist = np.bincount(pred, minlength=data.num_classes) / len(pred)
            out.append({"sigma": sigma, "agreement": float((pred == y).mean()), "pixel_corr": float(corr.mean()),
                        "class_hist": [float(h) for h in hist]})
            rows.append(img[:10])
    finally:
        torch.set_rng_state(gen_state)
    if png is not None:
        save_grid(data.to_uint8(torch.cat(rows)), png, nrow=10)
    return out


def shift_invariance(model, data, n: int = 2000, shift: int = 2) -> dict:
    """3.3: per unit, how far a shallow change (a random shift of up to ``shift`` pixels) moves a
    symbol, relative to how far apart the symbols of two random digits are: mean (1 - cos) over
    shifted pairs / mean (1 - cos) over random pairs. Lower: the unit ignores shallow features."""
    from gankit.layers.augment import random_shift

    gen = torch.Generator().manual_seed(0)
    idx = torch.randperm(len(data), generator=gen)[:n]
    x = data.x[idx]
    state = torch.get_rng_state()
    try:
        torch.manual_seed(0)
        moved = random_shift(x, shift, data.value_range[0])
    finally:
        torch.set_rng_state(state)
    other = torch.randperm(len(x), generator=gen)
    out = {}
    for u in (0, 1):
        s, t = model.encode(x, u).cpu(), model.encode(moved, u).cpu()
        near = float((1 - (s * t).sum(1)).mean())
        far = float((1 - (s * s[other]).sum(1)).mean())
        out[f"unit{u}"] = near / max(far, 1e-12)
    return out


def sphere_stats(model, data, n: int = 2000) -> dict:
    """3.5.3 for m = 3: each unit's mean cosine to the generalizing unit's mean direction (the
    rings) and unit 0's between-class / within-class mean angle (the clustering by digit)."""
    gen = torch.Generator().manual_seed(0)
    idx = torch.randperm(len(data), generator=gen)[:min(n, len(data))]
    y = data.y[idx].numpy()
    sym = {u: model.encode(data.x[idx], u).cpu().double().numpy() for u in (0, 1)}
    c = sym[GENERALIZING].mean(0)
    c /= max(np.linalg.norm(c), 1e-12)
    ang = np.arccos(np.clip(sym[0] @ sym[0].T, -1, 1))
    same = y[:, None] == y[None, :]
    np.fill_diagonal(same, False)
    diff = y[:, None] != y[None, :]
    return {**{f"mean_cos_to_center_unit{u}": float((sym[u] @ c).mean()) for u in (0, 1)},
            "angle_ratio_unit0": float(ang[diff].mean() / max(ang[same].mean(), 1e-12))}


def _recon_png(model, data, png: Path, cols: int = 10, blocks: int = 2) -> None:
    """``reconstruction_report``'s grid without its agreement (the metrics rows have it)."""
    from gankit.report.grid import save_grid

    idx = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))[:cols * blocks]
    rows = []
    for b in range(blocks):
        part = data.x[idx[b * cols:(b + 1) * cols]]
        rows += [part.cpu()] + [model.decode(model.encode(part, u)).cpu() for u in (0, 1)]
    save_grid(data.to_uint8(torch.cat(rows)), png, nrow=cols)


def sae_record(cache_dir: Path):
    """The SAE run's after hook: record/sae.json (probe on PROBE_SEEDS, the fixed batch at every
    checkpoint, the blur sweep, the shift invariance, the sphere statistics when m = 3) and the
    pictures (reconstructions, blur rows, the sphere)."""
    from gankit.metrics.classifier import get_classifier
    from gankit.training.run import open_run

    def hook(r) -> None:
        import json

        from gankit.io import atomic_write

        rec = {"fixed_batch": fixed_batch_series(r.dir, cache_dir)}
        run = open_run(r.dir)  # the newest checkpoint: the trained model
        model, data = run.model, run.data
        labels = data.y.cpu()
        feats = {f"sae_unit{u}": model.encode(data.x, u) for u in (0, 1)}
        feats.update({f"sae_features_unit{u}": penultimate_features(model.encoders.units[u], data.x) for u in (0, 1)})
        feats["pixels"] = data.x
        rec["probe"] = _probe_all(feats, labels)
        clf = get_classifier(data, cache_dir)
        rec["blur"] = blur_sweep(model, data, clf, png=r.record / "blur.png")
        rec["invariance"] = shift_invariance(model, data)
        _recon_png(model, data, r.record / "reconstructions.png")
        if run.cfg.net.z_dim == 3:
            rec["sphere"] = sphere_stats(model, data)
            sphere_plot(r.dir, r.record / "sphere.png")
        atomic_write(r.record / "sae.json", json.dumps(rec), what="record")

    return hook


def dcgan_record(cache_dir: Path):
    """The DCGAN baseline's after hook: record/dcgan.json (the probe of D's penultimate features
    on PROBE_SEEDS, the fixed-z batch at every checkpoint)."""
    from gankit.training.run import open_run

    def hook(r) -> None:
        import json

        from gankit.io import atomic_write

        run = open_run(r.dir)
        rec = {"probe": _probe_all({"dcgan": penultimate_features(run.model.D, run.data.x)}, run.data.y.cpu()),
               "fixed_batch": fixed_batch_series(r.dir, cache_dir)}
        atomic_write(r.record / "dcgan.json", json.dumps(rec), what="record")

    return hook


def read_record(r, name: str) -> dict:
    import json

    path = r.record / name
    if not path.is_file():
        raise GankitError(f"{r.dir} has no {RECORD_DIR}/{name} (its after hook did not run)")
    return json.loads(path.read_text())


def read_losses(run_dir: Path) -> dict[str, list[float]]:
    """``losses.csv`` as columns."""
    path = Path(run_dir) / "losses.csv"
    if not path.is_file():
        return {}
    lines = [line.split(",") for line in path.read_text().splitlines() if line.strip()]
    if len(lines) < 2:
        return {}
    head, rows = lines[0], lines[1:]
    return {k: [float(r[i]) for r in rows if len(r) == len(head)] for i, k in enumerate(head)}


# ------------------------------------------------------------------ measurements from the records
def fixed_batch_change(series: list[dict], from_step: float) -> tuple[float, float] | None:
    """(share of the fixed batch's images whose class changes between consecutive checkpoints,
    mean absolute pixel change), over the pairs whose earlier checkpoint is at ``from_step`` or
    later; None with no such pair."""
    pairs = [(a, b) for a, b in zip(series, series[1:]) if a["step"] >= from_step and "l1" in b]
    if not pairs:
        return None
    rate = float(np.mean([np.mean(np.array(a["labels"]) != np.array(b["labels"])) for a, b in pairs]))
    return rate, float(np.mean([b["l1"] for _, b in pairs]))


def shell_cosine(losses: dict[str, list[float]], unit: int, last: float = 0.1) -> float | None:
    """3: the fake-to-real symbol agreement of unit ``unit`` over the last ``last`` of the logged
    steps: l_shell_fake = mean -log((1 + cos) / 2) over the batch, so 2 exp(-l) - 1 is the cosine
    of the batch's geometric-mean half-angle term (at most the mean cosine)."""
    col = losses.get(f"l_shell_fake{unit}", [])
    if not col:
        return None
    tail = col[-max(1, round(len(col) * last)):]
    return float(2 * np.exp(-np.mean(tail)) - 1)


def balance_shares(losses: dict[str, list[float]], after: float) -> tuple[float, float] | None:
    """3.3: the ratio l_shell_fake0 / l_shell_fake1 at each logged step after ``after``: the share
    within [0.5, 2] and the share outside [0.25, 4]."""
    steps, a, b = losses.get("step", []), losses.get("l_shell_fake0", []), losses.get("l_shell_fake1", [])
    r = np.array([x / max(y, 1e-12) for s, x, y in zip(steps, a, b) if s > after])
    if not len(r):
        return None
    return float(np.mean((r >= 0.5) & (r <= 2))), float(np.mean((r < 0.25) | (r > 4)))


def loss_spread(losses: dict[str, list[float]], key: str = "l_G") -> float | None:
    """3.4: the standard deviation of ``key`` over the second half of the logged steps."""
    col = losses.get(key, [])
    return float(np.std(col[len(col) // 2:])) if len(col) >= 2 else None


def value_at(r, key: str, step: float) -> float | None:
    """``key`` in the metrics row with the largest step at or before ``step``."""
    rows = [x for x in r.rows if key in x and x.get("step", 1e18) <= step]
    return float(max(rows, key=lambda x: x["step"])[key]) if rows else None


# ------------------------------------------------------------------ rules (tested on constructed numbers)
def _ms(xs) -> str:
    xs = [float(x) for x in xs]
    return f"{np.mean(xs):.3g} ± {np.std(xs, ddof=1):.2g}" if len(xs) > 1 else f"{xs[0]:.3g}"


def beyond_spread(a: list[float], b: list[float], *, higher: bool = True, what: str = "",
                  names: tuple[str, str] = ("A", "B")) -> Verdict:
    """A better than B by more than the spread (the sum of the two sample SDs): reproduced; B
    better by more than it: not reproduced; within it: inconclusive. One value on a side has no
    spread: partly if A is better, else inconclusive."""
    ma, mb = float(np.mean(a)), float(np.mean(b))
    sa = float(np.std(a, ddof=1)) if len(a) > 1 else 0.0
    sb = float(np.std(b, ddof=1)) if len(b) > 1 else 0.0
    d = (ma - mb) if higher else (mb - ma)
    text = f"{what + ' ' if what else ''}{names[0]} {_ms(a)} vs {names[1]} {_ms(b)}"
    if min(len(a), len(b)) < 2:
        return (Verdict("partly", f"{text}: {names[0]} better, one seed has no spread") if d > 0
                else Verdict("inconclusive", f"seeds: {text}: one seed has no spread"))
    spread = sa + sb
    if d > spread:
        return Verdict("reproduced", f"{text}: {names[0]} better by more than the spread {spread:.2g}")
    if -d > spread:
        return Verdict("not reproduced", f"{text}: {names[1]} better by more than the spread {spread:.2g}")
    return Verdict("inconclusive", f"{text}: within the spread {spread:.2g}")


def probe_rule(sae: list[float], dcgan: list[float], pixels: list[float]) -> Verdict:
    """Abstract / 5 (an extension: the paper reports no probe). Per training seed, the probe
    accuracy averaged over the probe seeds: the symbols above the DCGAN's D features beyond the
    spread and above the pixels: reproduced; above the DCGAN but not the pixels: partly; the
    DCGAN above beyond the spread: not reproduced; within the spread: inconclusive."""
    v = beyond_spread(sae, dcgan, what="probe", names=("SAE", "DCGAN"))
    if v.verdict == "reproduced":
        px = beyond_spread(sae, pixels, names=("SAE", "pixels"))
        return v if px.verdict == "reproduced" else Verdict("partly", f"{v.why}; but {px.why}")
    return v


def language_rule(seeds: list[tuple[float, float, float, float]]) -> Verdict:
    """3 "input and output language become identical": per seed (cos unit 0, cos unit 1,
    agreement unit 0, agreement unit 1) of the fake symbols to the real ones and of the
    reconstructions' classes. Every seed cos >= 0.9 and agreement >= 0.8 on both units:
    reproduced; the seeds' mean of the smaller cos or agreement < 0.5: not reproduced; else partly."""
    cos = [min(c0, c1) for c0, c1, _, _ in seeds]
    agr = [min(a0, a1) for _, _, a0, a1 in seeds]
    text = f"smaller unit's fake-real cosine {_ms(cos)}, smaller unit's reconstruction agreement {_ms(agr)}"
    if min(cos) >= 0.9 and min(agr) >= 0.8:
        return Verdict("reproduced", f"{text}: cos >= 0.9 and agreement >= 0.8 in every seed")
    if np.mean(cos) < 0.5 or np.mean(agr) < 0.5:
        return Verdict("not reproduced", f"{text}: below 0.5")
    return Verdict("partly", f"{text}: between 0.5 and the bars (cos 0.9, agreement 0.8) in some seed")


def balance_rule(seeds: list[tuple[float, float]]) -> Verdict:
    """3.3 "if it fails on one unit more than the other, the gradients coming from that unit will
    be greater": the observable is the balance of the two units' adversarial losses. Per seed
    (share of logged steps with the ratio in [0.5, 2], share outside [0.25, 4]): >= 0.9 inside in
    every seed: reproduced; mean share outside > 0.5: not reproduced; else partly."""
    inside, outside = [i for i, _ in seeds], [o for _, o in seeds]
    text = f"share of steps with l_shell_fake0 / l_shell_fake1 in [0.5, 2]: {_ms(inside)}; outside [0.25, 4]: {_ms(outside)}"
    if min(inside) >= 0.9:
        return Verdict("reproduced", f"{text}: balanced in every seed")
    if np.mean(outside) > 0.5:
        return Verdict("not reproduced", f"{text}: one unit's loss dominates")
    return Verdict("partly", f"{text}: mostly balanced")


def invariance_rule(unit1: list[float], unit0: list[float]) -> Verdict:
    """3.3 "one is responsible for learning general features and one for learning specific
    features": the generalizing unit 1 moves less under a shallow change (shift) than unit 0,
    relative to the distance of two random digits: lower beyond the spread: reproduced; higher
    beyond it: not reproduced; within: inconclusive."""
    return beyond_spread(unit1, unit0, higher=False, what="shift / random-pair distance",
                         names=("unit 1 (generalizing)", "unit 0"))


def coverage_rule(sae_min: list[float], dcgan_min: list[float], floor: float = 0.02) -> Verdict:
    """3.1 "an effective and elegant solution to the mode collapse problem": G on symbols that are
    not any training digit's (blurred, sigma TEST_SIGMA) covers every class (smallest class share
    >= ``floor``) in every seed while the DCGAN misses one: reproduced; the SAE misses a class:
    not reproduced; both cover all ten: inconclusive (MNIST's ten classes do not make this DCGAN
    collapse, so they cannot show a solution)."""
    text = f"smallest class share: SAE (blurred symbols) {_ms(sae_min)}, DCGAN {_ms(dcgan_min)}"
    if min(sae_min) < floor:
        return Verdict("not reproduced", f"{text}: the SAE misses a class (< {floor:g})")
    if min(dcgan_min) < floor:
        return Verdict("reproduced", f"{text}: every class from the SAE, the DCGAN misses one")
    return Verdict("inconclusive", f"{text}: neither collapses on ten classes; a test needs many modes "
                   "(Stacked MNIST: 1,000)")


def blur_rule(blur: list[tuple[float, float]], noblur: list[tuple[float, float]]) -> Verdict:
    """3.4 "the generator learns to associate lower frequencies in symbol space with more general
    features": per seed (class retention a(sigma)/a(0), pixel correlation with the unblurred
    image) at sigma TEST_SIGMA, for the blur-0.1 model and the blur-0 model. The pixels must change
    (mean correlation < 0.95) for the test to say anything. Retention >= 0.9 in every seed and
    above the blur-0 model's beyond the spread: reproduced; >= 0.9 but not above it: partly
    (general features kept, not because of the training noise); mean retention < 0.5, or the
    blur-0 model above beyond the spread: not reproduced; else inconclusive."""
    keep = [k for k, _ in blur]
    corr = [c for _, c in blur]
    keep0 = [k for k, _ in noblur]
    text = f"class retention at sigma {TEST_SIGMA:g}: blur 0.1 {_ms(keep)}, blur 0 {_ms(keep0)}; pixel correlation {_ms(corr)}"
    if np.mean(corr) >= 0.95:
        return Verdict("inconclusive", f"{text}: the blur hardly changes the images")
    vs = beyond_spread(keep, keep0, names=("blur 0.1", "blur 0"))
    if np.mean(keep) < 0.5 or vs.verdict == "not reproduced":
        return Verdict("not reproduced", f"{text}: {'the class is lost' if np.mean(keep) < 0.5 else 'blur 0 keeps more'}")
    if min(keep) >= 0.9:
        return (Verdict("reproduced", f"{text}: the class survives, more than without the training blur")
                if vs.verdict == "reproduced" else
                Verdict("partly", f"{text}: the class survives, but no more than without the training blur"))
    return Verdict("inconclusive", f"{text}: retention below 0.9 in some seed")


def blur_stability_rule(spread: tuple[list[float], list[float]], change: tuple[list[float], list[float]]) -> Verdict:
    """3.4 "This noise is also helpful to stabilize training": blur 0.1 against blur 0 on the std
    of l_G over the second half and on the fixed batch's class-change rate (both lower is
    better). Both better beyond the spread: reproduced; one better, none worse: partly; both
    worse beyond it: not reproduced; else inconclusive."""
    a = beyond_spread(*spread, higher=False, what="std of l_G", names=("blur 0.1", "blur 0"))
    b = beyond_spread(*change, higher=False, what="fixed-batch class changes", names=("blur 0.1", "blur 0"))
    wins = sum(v.verdict == "reproduced" for v in (a, b))
    losses = sum(v.verdict == "not reproduced" for v in (a, b))
    text = f"{a.why}; {b.why}"
    if wins == 2:
        return Verdict("reproduced", text)
    if losses == 2:
        return Verdict("not reproduced", text)
    if wins == 1 and losses == 0:
        return Verdict("partly", text)
    return Verdict("inconclusive", text)


def sphere_rule(first: list[float], end: list[float], chance: float = 0.1) -> Verdict:
    """Fig. 6 "different modes naturally disentangle during training" (m = 3): unit 0's 10-label
    probe of its S^2 symbols at the first evaluation and at the end, per seed. End >= 0.6 and
    >= the first + 0.2 in every seed: reproduced; mean end <= chance + 0.15: not reproduced;
    else partly."""
    text = f"unit 0 probe at the first evaluation {_ms(first)}, at the end {_ms(end)} (chance {chance:g})"
    if all(e >= 0.6 and e >= f + 0.2 for f, e in zip(first, end)):
        return Verdict("reproduced", f"{text}: the digits separate during training")
    if np.mean(end) <= chance + 0.15:
        return Verdict("not reproduced", f"{text}: no separation")
    return Verdict("partly", f"{text}: some separation, below the bars (0.6; +0.2) in some seed")


def rings_rule(seeds: list[tuple[float, float, float]]) -> Verdict:
    """3.5.3 "clustering of the data around the surfaces of two concentric spheres": per seed
    (unit 1's and unit 0's mean cosine to unit 1's mean direction, unit 0's between/within-class
    angle ratio). The rings (unit 1 >= 0.9, unit 0 <= 0.8) are forced by the self losses; the
    clustering is the finding. Rings and ratio >= 1.5 in every seed: reproduced; mean ratio < 1.1:
    not reproduced; else partly."""
    rings = [c1 >= 0.9 and c0 <= 0.8 for c1, c0, _ in seeds]
    ratio = [r for _, _, r in seeds]
    text = (f"mean cos to the centre: unit 1 {_ms([s[0] for s in seeds])}, unit 0 {_ms([s[1] for s in seeds])}; "
            f"unit 0 between/within-class angle {_ms(ratio)}")
    if all(rings) and min(ratio) >= 1.5:
        return Verdict("reproduced", f"{text}: two rings, digits clustered")
    if np.mean(ratio) < 1.1:
        return Verdict("not reproduced", f"{text}: no clustering by digit")
    return Verdict("partly", f"{text}: {'rings, weaker clustering' if all(rings) else 'no distinct rings in some seed'}")


def deepening_rule(third: list[float], end: list[float]) -> Verdict:
    """3.5.3 "The clustering is done using ever deepening features": the 10-label probe of the
    symbols at a third of training and at the end, per seed. Higher at the end beyond the spread:
    reproduced; not higher on the mean: not reproduced; higher within the spread: inconclusive."""
    v = beyond_spread(end, third, what="probe", names=("end", "a third in"))
    if v.verdict == "reproduced":
        return v
    if np.mean(end) <= np.mean(third):
        return Verdict("not reproduced", f"{v.why}: no rise")
    return Verdict("inconclusive", f"{v.why}: a rise within the spread" if len(end) > 1 else v.why)


def batchnorm_rule(nobn: list[tuple[float, float]], bn: list[tuple[float, float]]) -> Verdict:
    """4 batch norm "not strictly necessary (in contrast to the DCGAN model)": per seed (smaller
    unit's reconstruction agreement, FID) without and with batch norm. The DCGAN half cannot be
    measured (its net has no batch-norm switch), so the best verdict is partly: without BN mean
    agreement >= 0.8 and mean FID <= 1.5x with BN. Mean agreement < 0.5 or FID > 3x: not
    reproduced; else inconclusive."""
    a, f = np.mean([x for x, _ in nobn]), np.mean([y for _, y in nobn])
    fb = np.mean([y for _, y in bn])
    text = (f"without BN: agreement {_ms([x for x, _ in nobn])}, FID {_ms([y for _, y in nobn])}; "
            f"with BN: agreement {_ms([x for x, _ in bn])}, FID {_ms([y for _, y in bn])}")
    if a < 0.5 or f > 3 * fb:
        return Verdict("not reproduced", f"{text}: the SAE fails without batch norm")
    if a >= 0.8 and f <= 1.5 * fb:
        return Verdict("partly", f"{text}: the SAE trains without it; the DCGAN half is not measured")
    return Verdict("inconclusive", f"{text}: between the bars")


def _better_on_quality(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> tuple[str, str]:
    """"better" (IS higher and FID lower, each beyond the spread), "worse", or "mixed", and why."""
    vi = beyond_spread([x for x, _ in a], [x for x, _ in b], what="IS", names=("SAE", "DCGAN"))
    vf = beyond_spread([y for _, y in a], [y for _, y in b], higher=False, what="FID", names=("SAE", "DCGAN"))
    why = f"{vi.why}; {vf.why}"
    if vi.verdict == vf.verdict == "reproduced":
        return "better", why
    if vi.verdict == vf.verdict == "not reproduced":
        return "worse", why
    return "mixed", why


def outdoes_rule(sae: list[tuple[float, float]], dcgan: dict[int, list[tuple[float, float]]],
                 target: int = PAPER_DCGAN_STEPS) -> Verdict:
    """4.1 / 6.2 "our model outdoes 107500 iterations of DCGAN by around iteration 3000": per
    seed (IS, FID) of the SAE, and of the DCGAN at each evaluated step. The DCGAN better on both
    (beyond the spread) at any step up to ``target``: not reproduced (the DCGAN only improves with
    steps); the SAE better on both than the DCGAN at ``target``: reproduced; mixed there:
    partly; otherwise (no DCGAN at ``target``) inconclusive."""
    for step in sorted(s for s in dcgan if s <= target):
        q, why = _better_on_quality(sae, dcgan[step])
        if q == "worse":
            return Verdict("not reproduced", f"the DCGAN at {step:,} is better: {why}")
    if target not in dcgan:
        top = max(dcgan, default=0)
        q, why = _better_on_quality(sae, dcgan[top]) if dcgan else ("", "no DCGAN")
        return Verdict("inconclusive", f"budget: the DCGAN trained to {top:,} of {target:,} iterations ({why})")
    q, why = _better_on_quality(sae, dcgan[target])
    if q == "better":
        return Verdict("reproduced", f"against the DCGAN at {target:,}: {why}")
    return Verdict("partly" if q == "mixed" else "not reproduced", f"against the DCGAN at {target:,}: {why}")


def catchup_rule(sae: tuple[float, float], curve: list[tuple[int, float, float]], sae_steps: int,
                 target: int = PAPER_DCGAN_STEPS) -> Verdict:
    """4.1 "faster convergence by several orders of magnitude over DCGAN": the seeds' mean (IS,
    FID) of the SAE at ``sae_steps`` and the DCGAN's mean (step, IS, FID) curve. The DCGAN first
    at least as good on both within 10x the SAE's steps: not reproduced; within 100x: partly;
    never up to ``target`` (>= 100x, the paper's 107,500 for 3,000) and worse on both there:
    reproduced; mixed there: inconclusive; a curve that stops short: inconclusive."""
    si, sf = sae
    for step, i, f in sorted(curve):
        if i >= si and f <= sf:
            text = f"the DCGAN matches the SAE's IS {si:.3g} / FID {sf:.3g} at {step:,} ({step / sae_steps:.3g}x its steps)"
            return Verdict("not reproduced" if step <= 10 * sae_steps else "partly" if step <= 100 * sae_steps
                           else "reproduced", text)
    last = max(curve, default=(0, 0.0, 0.0))
    text = f"the DCGAN at {last[0]:,}: IS {last[1]:.3g}, FID {last[2]:.3g}, against the SAE's {si:.3g} / {sf:.3g}"
    if last[0] < min(target, 100 * sae_steps):
        return Verdict("inconclusive", f"budget: {text}; it never matched, but stopped short of {target:,}")
    if last[1] < si and last[2] > sf:
        return Verdict("reproduced", f"{text}: still worse on both")
    return Verdict("inconclusive", f"{text}: mixed")


def fixed_batch_rule(sae: list[tuple[float, float]], dcgan: list[tuple[float, float]]) -> Verdict:
    """6.2 "the sampled batch on our model does not change as it is seeded from a constant batch
    of samples, while the original model sample batch is constantly changing": per seed
    (class-change rate, pixel change) between consecutive checkpoints of the fixed batch. Every
    seed: SAE rate <= 0.05 and <= half the DCGAN's, pixel change <= half: reproduced; lower on the
    means but not by that: partly; the SAE's means at or above the DCGAN's on both: not
    reproduced; else inconclusive."""
    text = (f"class changes per checkpoint: SAE {_ms([r for r, _ in sae])}, DCGAN {_ms([r for r, _ in dcgan])}; "
            f"pixel change: SAE {_ms([p for _, p in sae])}, DCGAN {_ms([p for _, p in dcgan])}")
    ok = all(s[0] <= 0.05 and s[0] <= d[0] / 2 and s[1] <= d[1] / 2 for s, d in zip(sae, dcgan))
    mr, mp = np.mean([r for r, _ in sae]), np.mean([p for _, p in sae])
    dr, dp = np.mean([r for r, _ in dcgan]), np.mean([p for _, p in dcgan])
    if ok:
        return Verdict("reproduced", f"{text}: the SAE's batch stays, the DCGAN's moves")
    if mr >= dr and mp >= dp:
        return Verdict("not reproduced", f"{text}: the SAE's batch changes as much")
    if mr < dr and mp < dp:
        return Verdict("partly", f"{text}: steadier, not by the bars (rate <= 0.05, half the DCGAN's)")
    return Verdict("inconclusive", f"{text}: mixed")


def legible_rule(at500: list[float], at1000: list[float]) -> Verdict:
    """6.2's first table: the new model's sheet is legible digits from about iteration 200. Per
    seed, the reconstruction class agreement of the samples (G(E_0(x))) at step 500 and 1,000.
    >= 0.8 at 500 in every seed: reproduced; mean < 0.5 at 1,000: not reproduced; else partly."""
    text = f"class agreement of G(E_0(x)): step 500 {_ms(at500)}, step 1,000 {_ms(at1000)}"
    if min(at500) >= 0.8:
        return Verdict("reproduced", f"{text}: legible by step 500 in every seed")
    if np.mean(at1000) < 0.5:
        return Verdict("not reproduced", f"{text}: not legible by step 1,000")
    return Verdict("partly", f"{text}: legible later than step 500 in some seed")


# ------------------------------------------------------------------ the claims
NOT_RUN = [  # (section, quote, why, CPU needed)
    ("3", "\"We find that this arrangement is necessary for stable convergence and best results.\" (the crossed "
     "pathways)", "needs an uncrossed switch in models/sae.py (G's target its own unit's symbol); then 6 runs of "
     "3,000 steps, about 90 CPU-minutes"),
    ("3.2", "\"while other autoencoders tend to blur stimulus in proportion to the size of their information "
     "bottleneck (the encoded feature vector), SAE tends to *generalize* stimulus\"",
     "needs an l2-autoencoder family with the same nets (none in gankit); then 3 runs, about 45 CPU-minutes"),
    ("3.3", "\"each serves as a stabilizing and moderating force, preventing the system as a whole from "
     "degeneration\"", "needs loss-weight switches (one unit, no self or kernel loss) in models/sae.py; then "
     "6 runs, about 90 CPU-minutes"),
    ("3.5.1", "the kernel and self losses, \"which we found to be essential to stabilize and regularize training\"",
     "the same ablation switches as 3.3 (not in gankit)"),
    ("3.4", "\"blurring the symbol causes the face produced to lose shallower features, such as hairstyle, but "
     "retain deeper features, such as gender\"", "data: no CelebA here (the MNIST analogue is the 3.4 row above)"),
    ("4.1", "\"the ability to generate near photorealistic images approaching state of the art on the celebrity "
     "faces dataset\"", "data: no CelebA here"),
    ("4.1", "\"We also found much faster convergence on celebA dataset, with image quality approaching "
     "photorealism even on large image sizes\"", "data: no CelebA here"),
    ("6.1", "\"Note how images produced retain *general* features (such as hair style, skin color, facial "
     "expression) without retaining shallow features\"", "data: no CelebA here"),
]


def _left_out(ctx: Context, section: str, said: str, keys: list[str], paper_updates: int | None = None) -> Claim:
    if ctx.budget != "paper" and "dcgan-long" in keys:
        why = f"the {ctx.budget} budget does not train the DCGAN to {PAPER_DCGAN_STEPS:,} iterations"
    else:
        why = "left out with --only (" + ", ".join(k for k in keys if not ctx.wants(k)) + ")"
    return Claim(section, said, "not trained in this report", "not run", why, paper_updates=paper_updates)


def run(ctx: Context) -> tuple[list[Claim], list[str]]:
    """Train the wanted blocks (all seeds, ``--jobs`` at a time), then judge every claim from records."""
    n = _seeds(ctx)
    cache = _cache(ctx)
    keys = [k for k in BLOCKS if (k != "dcgan-long" or ctx.budget == "paper") and ctx.wants(k)]
    specs, where = [], {}
    for k in keys:
        name, preset, over = BLOCKS[k]
        hook = None if k == "dcgan-long" else dcgan_record(cache) if preset == BASELINE_PRESET else sae_record(cache)
        for s in range(n):
            where[k, s] = len(specs)
            specs.append(RunSpec(name, preset, [*over, *_budget_over(ctx, k)], s, after=hook))
    got = ctx.runs(specs)
    runs = {k: [got[where[k, s]] for s in range(n)] for k in keys}
    steps = 3 if ctx.smoke else STEPS[ctx.budget]
    claims: list[Claim] = []
    dc = runs.get(BASELINE_PRESET)
    for tag, key in CONFIGS.items():
        claims += config_claims(ctx, tag, key, runs.get(key), dc, runs.get("dcgan-long"), steps)
    claims += variant_claims(ctx, runs, steps)
    claims += [Claim(sec, said, "not measured", "not run", why) for sec, said, why in NOT_RUN]
    notes = [
        f"Every SAE run and its DCGAN baseline get the same generator updates ({steps:,} at this budget) and the "
        f"same batch (64); {n} training seed{'s' if n > 1 else ''} each, every comparison judged on the seeds' mean "
        "and spread (the sum of the two sample standard deviations). The paper's comparison point is the SAE at "
        f"{PAPER_SAE_STEPS:,} iterations against DCGAN at {PAPER_DCGAN_STEPS:,} (6.2); its Figure 6 gives no "
        f"iteration, so the SAE rows take {PAPER_SAE_STEPS:,} as the paper's updates (a negative verdict needs them).",
        "Two SAE configurations run side by side and each row names its own: the paper-exact `sae-mnist-paper` "
        "(section 4's Adam 2e-4, no augmentation, step 15's total derivative) and gankit's tuned `sae-mnist`. "
        "The paper gives no symbol dimension, blur size or batch; both use m = 64, blur 0.1 and batch 64.",
        "The SAE's 'samples' are reconstructions G(E_0(x)) of random training digits (`model.sample_unit`), as the "
        "paper's own sheets are reconstructions of a constant batch (6.2); their IS/FID stand against the DCGAN's "
        "samples from noise, which is not like with like, and they cover the classes by construction.",
        "The probe (Abstract, 5) is an extension: the paper says it \"has not yet been tested in a semisupervised "
        "setting\". Logistic regression on 10 labelled digits per class (probe seeds 0-2, averaged within each "
        "training seed), scored on the other 4,900. The tuned preset's probe rests on its random shifts "
        "(`model.augment=2`), which the paper lacks: without them the symbols reached 0.70-0.73 in the notes "
        "(docs/notes/sae.md), with them 0.83-0.87.",
        "No row, by construction: footnote 7 (\"G has sufficient domain to span this range of modes even without "
        "noise input\": unit 0's self loss spreads its symbols, and reconstructions cover the classes of the "
        "digits they reconstruct); 3 \"no noise is required for training\" and 5 \"not dependent on noise input\" "
        "(the design). 3.1's \"dimensionality expansion ... allows diverse loci of adversarial training to "
        "stabilize\" is a mechanism (its observable is the 3.1 row); 3.5.2's \"we don't expect the shell loss to "
        "necessarily decrease\" cannot fail; 6.2's \"a symptom of mode instability of GAN\" interprets the "
        "fixed-batch row; 6.2's elapsed minutes depend on unknown hardware (steps are compared, not minutes); "
        "1.2's sentences on autoencoders, VAEs and GANs are prior work. Mechanism sentences are observed through "
        "other rows: 3.5.1's \"The shell loss then causes D_i to try and agree on identical images\" (the 3 row's "
        "agreement), 3.5.2's \"As the fake image becomes increasingly realistic, it will need to extract "
        "increasingly deeper features\" (the 3.5.3 deepening row); 3.1's simultaneous training of encoder and "
        "decoder and 5's \"the main product ... is an encoder\" are the design.",
        f"Not affordable here: the DCGAN at {PAPER_DCGAN_STEPS:,} iterations (batch 64) for 4.1 and 6.2, about "
        "0.14 CPU-s per step, so about 4.2 CPU-hours per seed and 12.6 for three "
        f"(`gankit reproduce sae --budget paper --only dcgan-long --jobs 2`).",
    ]
    return claims, notes


def _measured(v: Verdict) -> str:
    """The measurement part of a rule's why (before its last ": ", which gives the conclusion)."""
    text = v.why.rsplit(": ", 1)[0] if ": " in v.why else v.why
    return text.removeprefix("seeds: ").removeprefix("resolution: ")


def _updates(rs) -> int | None:
    return fewest_updates(*rs) if rs else None


def _rec(rs, name: str) -> list[dict]:
    return [read_record(r, name) for r in rs]


def config_claims(ctx: Context, tag: str, key: str, sae, dc, long, steps: int) -> list[Claim]:
    """The rows judged on one SAE configuration (preset or paper-exact), with the DCGAN where they compare."""
    dep = [DEPARTURES[tag], DATA]
    label = f" [{tag} configuration]"
    out = []
    quotes = {
        "ab": ("Abstract; 5", "\"The model can then be used in a semi-supervised context to reduce the amount of "
               "labeled data necessary for training.\" (extension: the paper reports no result)"),
        "3a": ("3", "\"The cyclic input ensures that the input language and output language become identical\""),
        "3.1": ("3.1", "\"SAE also presents an effective and elegant solution to the \"mode collapse\" problem "
                "plaguing GAN networks\""),
        "3.3c": ("3.3", "\"if it fails on one unit more than the other, the gradients coming from that unit will be "
                 "greater\""),
        "3.5.3b": ("3.5.3", "\"The clustering is done using ever deepening features of the data\""),
        "4.1a": ("4.1", "\"We observed faster convergence by several orders of magnitude over DCGAN on mnist\""),
        "6.2b": ("4.1; 6.2", "\"within 5 minutes (a few thousand iterations) our model exceeded the quality of DCGAN "
                 "after many hours of training (over 100,000 iterations)\"; \"It seems our model outdoes 107500 "
                 "iterations of DCGAN by around iteration 3000, an improvement of at least 2 degrees of magnitude.\""),
        "6.2a": ("6.2", "\"Note how the sampled batch on our model does not change as it is seeded from a constant "
                 "batch of samples, while the original model sample batch is constantly changing although the "
                 "latent seed is kept constant.\""),
        "6.2c": ("6.2, table", "\"Iterations 0 to 1000\": the new model's sheet shows legible digits from iteration "
                 "200 on"),
    }
    needs_dc = {"ab", "3.1", "4.1a", "6.2b", "6.2a"}
    for q, (sec, said) in quotes.items():
        missing = [k for k, rs in ((key, sae), (BASELINE_PRESET, dc)) if rs is None and (k == key or q in needs_dc)]
        if missing:
            out.append(_left_out(ctx, sec, said + label, missing, PAPER_SAE_STEPS))
            continue
        out.append(_config_claim(q, sec, said + label, dep, sae, dc, long or [], steps))
    return out


def _config_claim(q: str, sec: str, said: str, dep: list[str], sae, dc, long, steps: int) -> Claim:
    recs = _rec(sae, "sae.json")
    img = [p for p in [sae[0].record / "reconstructions.png"] if p.is_file()]
    if q == "ab":
        d = _rec(dc, "dcgan.json")
        per = lambda rec, k: float(np.mean([p[k] for p in rec["probe"]]))  # noqa: E731
        s1 = [per(r, "sae_unit1") for r in recs]
        result = (f"10 labels per class, {len(PROBE_SEEDS)} probe seeds within each of {len(sae)} training seeds: "
                  f"symbols unit 1 {_ms(s1)}, unit 0 {_ms([per(r, 'sae_unit0') for r in recs])}; encoder features "
                  f"unit 1 {_ms([per(r, 'sae_features_unit1') for r in recs])}; pixels "
                  f"{_ms([per(r, 'pixels') for r in recs])}; DCGAN D features {_ms([per(r, 'dcgan') for r in d])}")
        v = probe_rule(s1, [per(r, "dcgan") for r in d], [per(r, "pixels") for r in recs])
        return Claim(sec, said, result, *v, updates=_updates([*sae, *dc]), paper_updates=PAPER_SAE_STEPS,
                     departures=[*dep, "random shifts carry the preset's probe (not in the paper)", BASELINE],
                     seeds=len(sae))
    if q == "3a":
        seeds = []
        for r in sae:
            ls = read_losses(r.dir)
            seeds.append((shell_cosine(ls, 0) or 0.0, shell_cosine(ls, 1) or 0.0,
                          r.final.get("recon_agreement_unit0", 0.0), r.final.get("recon_agreement_unit1", 0.0)))
        result = (f"fake-to-real symbol cosine over the last 10% of steps: unit 0 {_ms([s[0] for s in seeds])}, unit 1 "
                  f"{_ms([s[1] for s in seeds])}; reconstructions in the input's class: unit 0 "
                  f"{_ms([s[2] for s in seeds])}, unit 1 {_ms([s[3] for s in seeds])} (all 5,000 digits)")
        return Claim(sec, said, result, *language_rule(seeds), img, updates=_updates(sae),
                     paper_updates=PAPER_SAE_STEPS, departures=dep, seeds=len(sae))
    if q == "3.1":
        at = lambda rec: next(b for b in rec["blur"] if b["sigma"] == TEST_SIGMA)  # noqa: E731
        smin = [min(at(r)["class_hist"]) for r in recs]
        dmin = [min(r.final.get("class_hist") or [0.0]) for r in dc]
        result = (f"smallest class share of G(blur(E_0(x), {TEST_SIGMA:g})) over 2,000 digits: {_ms(smin)}; of the "
                  f"DCGAN's 2,000 samples: {_ms(dmin)}")
        return Claim(sec, said, result, *coverage_rule(smin, dmin), updates=_updates([*sae, *dc]),
                     paper_updates=PAPER_SAE_STEPS, departures=[*dep, "blurred symbols stand for symbols no digit "
                     "gave (the SAE's samples are reconstructions)", "10 classes, not a many-mode dataset"],
                     seeds=len(sae))
    if q == "3.3c":
        seeds = [balance_shares(read_losses(r.dir), steps / 6) or (0.0, 1.0) for r in sae]
        return Claim(sec, said, f"after step {steps // 6:,}: " + _measured(balance_rule(seeds)),
                     *balance_rule(seeds), updates=_updates(sae), paper_updates=PAPER_SAE_STEPS,
                     departures=[*dep, "that the gradient grows with the log loss is by construction; the balance of "
                                 "the two units' losses is what is measured"], seeds=len(sae))
    if q == "3.5.3b":
        third = [value_at(r, "probe10_unit1", steps / 3) for r in sae]
        end = [r.final.get("probe10_unit1") for r in sae]
        if any(x is None for x in third + end):
            v = Verdict("inconclusive", "resolution: no probe evaluation by a third of training")
            result = "no probe evaluation by a third of training"
        else:
            v = deepening_rule(third, end)
            result = f"unit 1's 10-label probe (probe seed 0): at a third of training {_ms(third)}, at the end {_ms(end)}"
        return Claim(sec, said, result, *v, updates=_updates(sae), paper_updates=PAPER_SAE_STEPS,
                     departures=dep, seeds=len(sae))
    quality = lambda r: (r.final.get("is", 0.0), r.final.get("fid", 1e9))  # noqa: E731
    dep_q = [*dep, RECON, BASELINE, METRIC]
    dgrid = [p for p in [dc[0].grid()] if p]
    if q in ("4.1a", "6.2b"):
        by_step: dict[int, list] = {int(dc[0].updates or 0): [quality(r) for r in dc]}
        for s in sorted({int(x["step"]) for r in long for x in r.rows if "fid" in x}):
            vals = [(value_at(r, "is", s), value_at(r, "fid", s)) for r in long]
            if all(v[0] is not None for v in vals):
                by_step.setdefault(s, vals)
        sq = [quality(r) for r in sae]
        result = (f"SAE at {_updates(sae):,}: IS {_ms([a for a, _ in sq])}, FID {_ms([b for _, b in sq])}; "
                  + "; ".join(f"DCGAN at {s:,}: IS {_ms([a for a, _ in v])}, FID {_ms([b for _, b in v])}"
                              for s, v in sorted(by_step.items())))
        if q == "6.2b":
            v = outdoes_rule(sq, by_step)
        else:
            curve = [(s, float(np.mean([a for a, _ in v])), float(np.mean([b for _, b in v]))) for s, v in by_step.items()]
            v = catchup_rule((float(np.mean([a for a, _ in sq])), float(np.mean([b for _, b in sq]))), curve,
                             _updates(sae) or steps)
        return Claim(sec, said, result, *v, [*img, *dgrid], updates=_updates(sae), paper_updates=PAPER_SAE_STEPS,
                     departures=dep_q, seeds=len(sae))
    if q == "6.2a":
        d = _rec(dc, "dcgan.json")
        s_ch = [fixed_batch_change(r["fixed_batch"], steps / 4) for r in recs]
        d_ch = [fixed_batch_change(r["fixed_batch"], steps / 4) for r in d]
        if any(x is None for x in s_ch + d_ch):
            return Claim(sec, said, "fewer than two checkpoints of the fixed batch", "inconclusive",
                         "resolution: the runs kept fewer than two checkpoints after a quarter of training",
                         updates=_updates([*sae, *dc]), paper_updates=PAPER_TABLE_STEPS, departures=dep_q,
                         seeds=len(sae))
        v = fixed_batch_rule(s_ch, d_ch)
        return Claim(sec, said, f"the sample grid's {FIXED_N} images at every checkpoint ({EVAL_EVERY} steps apart) "
                     f"from step {steps // 4:,}: " + _measured(v), *v, [*[p for p in [sae[0].grid()] if p],
                     *dgrid], updates=_updates([*sae, *dc]), paper_updates=PAPER_TABLE_STEPS,
                     departures=[*dep_q, "the SAE's steadiness is partly by construction: its inputs are the same "
                                 "real digits, the DCGAN's the same z; the paper's reading, 'mode instability of "
                                 "GAN', is not tested"], seeds=len(sae))
    if q == "6.2c":
        a500 = [value_at(r, "recon_agreement_unit0", 500) for r in sae]
        a1000 = [value_at(r, "recon_agreement_unit0", 1000) for r in sae]
        if any(x is None for x in a500 + a1000) or min(r.updates or 0 for r in sae) < PAPER_TABLE_STEPS:
            v = Verdict("inconclusive", "budget: no evaluation at steps 500 and 1,000")
            result = "no evaluation at steps 500 and 1,000"
        else:
            v = legible_rule(a500, a1000)
            result = _measured(v)
        return Claim(sec, said, result, *v, updates=_updates(sae), paper_updates=PAPER_TABLE_STEPS,
                     departures=[*dep, "legibility is measured as the classifier's agreement with the input's class"],
                     seeds=len(sae))
    raise ValueError(q)


def variant_claims(ctx: Context, runs: dict, steps: int) -> list[Claim]:
    """The rows that need a variant beside a configuration: shifts off (paper-exact), blur 0, no
    batch norm, m = 3."""
    out = []
    base = [DEPARTURES["preset"], DATA]
    sec, said = "3.3", ("\"one is responsible for learning general features and one for learning specific features "
                        "of the data\" [paper-exact configuration: the preset's shifts train both units to ignore them]")
    ex = runs.get("sae-mnist-paper")
    if ex is None:
        out.append(_left_out(ctx, sec, said, ["sae-mnist-paper"], PAPER_SAE_STEPS))
    else:
        inv = [read_record(r, "sae.json")["invariance"] for r in ex]
        v = invariance_rule([i["unit1"] for i in inv], [i["unit0"] for i in inv])
        out.append(Claim(sec, said, f"1 - cos under a shift of up to 2 pixels, over 1 - cos of two random digits: "
                         f"unit 1 {_ms([i['unit1'] for i in inv])}, unit 0 {_ms([i['unit0'] for i in inv])}", *v,
                         updates=_updates(ex), paper_updates=PAPER_SAE_STEPS, departures=[DEPARTURES["paper-exact"],
                         DATA, "a shift stands for a 'specific' (shallow) feature"], seeds=len(ex)))
    pre, b0 = runs.get("sae-mnist"), runs.get("sae-mnist-blur0")
    for sec, said, kind in (
            ("3.4", "\"the generator learns to associate lower frequencies in symbol space with more general "
             "features in image space\" [preset configuration, blur 0.1 vs 0]", "general"),
            ("3.4", "\"This noise is also helpful to stabilize training.\" [preset configuration, blur 0.1 vs 0]",
             "stable")):
        if pre is None or b0 is None:
            out.append(_left_out(ctx, sec, said, ["sae-mnist", "sae-mnist-blur0"], PAPER_SAE_STEPS))
            continue
        r1, r0 = _rec(pre, "sae.json"), _rec(b0, "sae.json")
        if kind == "general":
            def point(rec):
                sw = {b["sigma"]: b for b in rec["blur"]}
                return sw[TEST_SIGMA]["agreement"] / max(sw[0.0]["agreement"], 1e-12), sw[TEST_SIGMA]["pixel_corr"]
            v = blur_rule([point(r) for r in r1], [point(r) for r in r0])
            img = [p for p in [pre[0].record / "blur.png"] if p.is_file()]
            out.append(Claim(sec, said, f"G(s_0 + noise of std sigma, renormalised), sigma {', '.join(map(str, BLUR_SIGMAS))} "
                             "(rows of the picture under the real digits): " + _measured(v), *v, img,
                             updates=_updates([*pre, *b0]), paper_updates=PAPER_SAE_STEPS,
                             departures=[*base, "'lower frequencies' is undefined in the paper: isotropic noise on "
                                         "s_0 is gankit's reading"], seeds=min(len(pre), len(b0))))
        else:
            ch = lambda rec: (fixed_batch_change(rec["fixed_batch"], steps / 4) or (0.0, 0.0))[0]  # noqa: E731
            spread = ([loss_spread(read_losses(r.dir)) or 0.0 for r in pre], [loss_spread(read_losses(r.dir)) or 0.0 for r in b0])
            change = ([ch(r) for r in r1], [ch(r) for r in r0])
            v = blur_stability_rule(spread, change)
            result = (f"std of l_G over the second half: blur 0.1 {_ms(spread[0])}, blur 0 {_ms(spread[1])}; the fixed "
                      f"batch's class changes per checkpoint: blur 0.1 {_ms(change[0])}, blur 0 {_ms(change[1])}")
            out.append(Claim(sec, said, result, *v, updates=_updates([*pre, *b0]), paper_updates=PAPER_SAE_STEPS,
                             departures=base, seeds=min(len(pre), len(b0))))
    sph = runs.get("sae-mnist-sphere")
    sphere_dep = ["sae-mnist-sphere: m = 3 and no shifts as in the paper, but Adam 5e-4 and no gradient of l_B "
                  "through G", "all 10 digit classes (Figure 6: '3 modes of mnist'; gankit has no class filter)"]
    for sec, said, kind in (
            ("3.5.1, Fig. 6", "\"The figure illustrates how different modes naturally disentangle during training.\"",
             "disentangle"),
            ("3.5.3, Fig. 6", "\"This leads to clustering of the data around the surfaces of two concentric spheres of "
             "dimension m - 1\"", "rings")):
        if sph is None:
            out.append(_left_out(ctx, sec, said, ["sae-mnist-sphere"], PAPER_SAE_STEPS))
            continue
        img = [p for p in [sph[0].record / "sphere.png"] if p.is_file()]
        if kind == "disentangle":
            first = [next((x["probe10_unit0"] for x in r.rows if "probe10_unit0" in x), 0.0) for r in sph]
            end = [r.final.get("probe10_unit0", 0.0) for r in sph]
            step0 = next((int(x["step"]) for x in sph[0].rows if "probe10_unit0" in x), 0)
            v = sphere_rule(first, end)
            out.append(Claim(sec, said, f"10-label probe of the S^2 symbols, {_measured(v)}; first evaluation at step "
                             f"{step0:,}", *v, img, updates=_updates(sph),
                             paper_updates=PAPER_SAE_STEPS, departures=sphere_dep, seeds=len(sph)))
        else:
            st = [read_record(r, "sae.json")["sphere"] for r in sph]
            v = rings_rule([(s["mean_cos_to_center_unit1"], s["mean_cos_to_center_unit0"], s["angle_ratio_unit0"])
                            for s in st])
            out.append(Claim(sec, said, _measured(v), *v, img, updates=_updates(sph),
                             paper_updates=PAPER_SAE_STEPS, departures=[*sphere_dep, "the rings are forced by the "
                             "self losses; the clustering by digit is the finding"], seeds=len(sph)))
    sec, said = "4", ("\"Batch normalization was used to stabilize gradient flow, though we noted this was not "
                      "strictly necessary (in contrast to the DCGAN model).\" [preset configuration]")
    nb = runs.get("sae-mnist-nobn")
    if pre is None or nb is None:
        out.append(_left_out(ctx, sec, said, ["sae-mnist", "sae-mnist-nobn"], PAPER_SAE_STEPS))
    else:
        q = lambda r: (min(r.final.get("recon_agreement_unit0", 0.0), r.final.get("recon_agreement_unit1", 0.0)),  # noqa: E731
                       r.final.get("fid", 1e9))
        v = batchnorm_rule([q(r) for r in nb], [q(r) for r in pre])
        out.append(Claim(sec, said, _measured(v), *v, updates=_updates([*pre, *nb]),
                         paper_updates=PAPER_SAE_STEPS, departures=[*base, "the DCGAN half is not measured (its net "
                         "has no batch-norm switch)"], seeds=min(len(pre), len(nb))))
    return out


PAPER = Paper(
    name="sae",
    title="the Symbolic Autoencoder (two encoders on the sphere, a generator of symbols)",
    reproduces="every MNIST claim: language, balance, blur, sphere map, fixed batch, legibility, vs DCGAN at equal "
               "updates and batch (paper-exact and preset, 3 seeds); the probe as an extension",
    # measured 2026-12-07, one thread (user CPU of 60-step runs, less start-up and final evaluation):
    # sae-mnist and sae-mnist-paper about 0.27 CPU-s per step, the DCGAN baseline at batch 64 about
    # 0.14; an evaluation ~8 s (SAE) / ~3 s (DCGAN); the after hooks ~40 s / ~10 s. A 1,000-step SAE
    # run ~6 CPU-min (sphere ~7), its DCGAN ~3; at 3,000 steps ~16 (sphere ~18) and ~8.
    # short: 5 SAE blocks + 1 DCGAN, 3 seeds, 1,000 steps: ~100 CPU-min (sae-mnist + DCGAN: ~27);
    # paper: the same at 3,000 steps (~270) + the DCGAN at 107,500 on 3 seeds (~4.2 CPU-h each)
    cpu_minutes={"paper": 1030, "short": 100, "smoke": 3},
    run=run,
    runs=tuple(BLOCKS),
)
