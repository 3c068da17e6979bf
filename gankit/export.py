"""A trained generator as a file other programs run: ONNX, TorchScript or ``torch.export`` (.pt2).

The exported graph is the run's sampling generator (the EMA copy when ``model.ema`` is on) in
eval mode: input ``z`` float32 [N, z_dim] (and ``labels`` int64 [N] for a conditional run, or
the cluster ids of a ``model.clusters`` run, [N, C] with ``model.clusters_by=channel``), output ``images`` float32 [N, C, H, W] in the
dataset's value range, any N. Fed the noise ``gankit sample`` draws for a seed, it gives the
same images (``tests/test_export.py``).

Outside gankit, with ``pip install onnxruntime numpy`` only (unconditional run; a conditional one
also takes ``"labels": np.arange(16) % K``)::

    import numpy as np, onnxruntime as ort
    sess = ort.InferenceSession("G.onnx")
    z = np.random.default_rng(0).standard_normal((16, 100), dtype=np.float32)
    x = sess.run(None, {"z": z})[0]                     # [16, C, H, W] in [-1, 1]
    images = ((x.transpose(0, 2, 3, 1) + 1) * 127.5).round().clip(0, 255).astype(np.uint8)
"""
from __future__ import annotations

import contextlib
import io
import logging
import tempfile
import warnings
from pathlib import Path

import torch
from torch import nn

from gankit.errors import GankitError, first_line
from gankit.io import atomic_write

FORMATS = {"onnx": ".onnx", "torchscript": ".pt", "torch.export": ".pt2"}


class Generator(nn.Module):
    """The sampler as one graph: ``forward(z)`` or ``forward(z, labels)``."""

    def __init__(self, G: nn.Module, conditional: bool):
        super().__init__()
        self.G, self.conditional = G, conditional

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.G(z, labels if self.conditional else None)


def format_of(out: Path, fmt: str | None) -> str:
    """The format named, or the one the file's suffix implies (.onnx, .pt, .pt2)."""
    suffix = out.suffix.lower()
    if fmt is None:
        for name, ext in FORMATS.items():
            if suffix == ext:
                return name
        raise GankitError(f"--out {out}: cannot tell the format from '{suffix or 'no suffix'}'; name it with --format "
                          f"({', '.join(FORMATS)}) or use {', '.join(FORMATS.values())}")
    if fmt not in FORMATS:
        raise GankitError(f"unknown export format '{str(fmt)[:40]}' (choose from: {', '.join(FORMATS)})")
    if suffix != FORMATS[fmt]:
        raise GankitError(f"--out {out} does not end in {FORMATS[fmt]}, the suffix of format {fmt}")
    return fmt


def generator_of(model) -> tuple[Generator, dict]:
    """The exportable generator of a loaded model and what its inputs are; one line if the family has none."""
    family = model.cfg.model.family
    if family != "gan" or not hasattr(model, "noise") or model.data.kind != "image":
        raise GankitError(f"export takes image GANs of the gan family; this run is family '{family}' "
                          f"on {model.data.kind} data '{model.data.name}'")
    from gankit.models.labels import ChannelClusterLabels, clusters_of

    clusters = clusters_of(model)
    conditional = bool(model.conditional or clusters is not None)
    info = {"z_dim": int(model.cfg.net.z_dim), "shape": list(model.data.shape),
            "value_range": [float(v) for v in model.data.value_range], "inputs": ["z"]}
    if conditional:
        info["inputs"].append("labels")
        if clusters is not None:  # G takes a cluster id; gankit draws them with these shares
            counts = clusters.counts.float()
            info["cluster_shares"] = [round(float(v), 6) for v in counts / counts.sum()]
            if isinstance(clusters, ChannelClusterLabels):  # one id per channel, channel j's offset by j*k
                info["labels"] = (f"[N, {clusters.channels}] int64: channel j's cluster id (0..{clusters.k - 1}, "
                                  f"drawn with cluster_shares) plus j*{clusters.k}")
                info["label_shape"] = [clusters.channels]
            else:
                info["labels"] = "cluster ids 0..%d, drawn with cluster_shares" % (clusters.k - 1)
        else:
            info["labels"] = f"classes 0..{model.data.num_classes - 1}"
    if model.cfg.model.info_codes:
        info["z"] = f"the first {model.cfg.model.info_codes} entries of z are a one-hot InfoGAN code"
    return Generator(model.sampler, conditional).eval(), info


def _examples(gen: Generator, info: dict) -> tuple:
    z = torch.zeros(2, info["z_dim"])
    labels = torch.zeros(2, *info.get("label_shape", []), dtype=torch.long)
    return (z, labels) if gen.conditional else (z,)


def _dynamic(gen: Generator):
    batch = torch.export.Dim("batch", min=1)
    return {"z": {0: batch}, "labels": {0: batch}} if gen.conditional else {"z": {0: batch}}


def _onnx_bytes(gen: Generator, args: tuple) -> bytes:
    try:
        import onnx  # noqa: F401  (the exporter writes through it)
        import onnxscript  # noqa: F401
    except ImportError as exc:
        raise GankitError(f"ONNX export needs the packages onnx and onnxscript ({first_line(exc)}): "
                          "pip install 'gankit[export]'") from None
    names = ["z", "labels"][:len(args)]
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings(), \
            contextlib.redirect_stdout(io.StringIO()):  # the exporter reports its stages on stdout
        warnings.simplefilter("ignore")
        for name in ("torch.onnx", "torch.export", "onnxscript"):
            logging.getLogger(name).setLevel(logging.ERROR)
        path = Path(tmp) / "g.onnx"
        program = torch.onnx.export(gen, args, input_names=names, output_names=["images"],
                                    dynamic_shapes=_dynamic(gen), dynamo=True, verbose=False)
        program.save(str(path), external_data=False)  # one self-contained file: the nets are small
        return path.read_bytes()


def _torchscript_bytes(gen: Generator, args: tuple) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TorchScript's deprecation notice
        traced = torch.jit.trace(gen, args, check_trace=False)
        torch.jit.save(traced, buf)
    return buf.getvalue()


def _pt2_bytes(gen: Generator, args: tuple) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.export.export(gen, args, dynamic_shapes=_dynamic(gen), strict=False)
        torch.export.save(program, buf)
    return buf.getvalue()


def export(run_dir: str | Path, out_path: str | Path, format: str | None = None) -> dict:
    """Write the generator of the run at ``run_dir`` to ``out_path`` as ``format`` (onnx,
    torchscript or torch.export; None: from the suffix .onnx / .pt / .pt2), atomically.
    Returns what was written: path, format, bytes, step, inputs, z_dim, shape, value_range."""
    from gankit.training.run import open_run

    out = Path(out_path)
    fmt = format_of(out, format)
    if out.is_dir():
        raise GankitError(f"--out {out} is a directory; name the file to write")
    run = open_run(Path(run_dir))
    gen, info = generator_of(run.model)
    args = _examples(gen, info)
    writer = {"onnx": _onnx_bytes, "torchscript": _torchscript_bytes, "torch.export": _pt2_bytes}[fmt]
    try:
        with torch.no_grad():
            data = writer(gen, args)
    except GankitError:
        raise
    except Exception as exc:  # the exporters raise many types; the user gets the reason in one line
        raise GankitError(f"cannot export run {run.dir} as {fmt}: {type(exc).__name__}: {first_line(exc)[:200]}") from None
    atomic_write(out, data, what=f"{fmt} generator")
    return {"path": str(out), "format": fmt, "bytes": len(data), "run": str(run.dir), "step": run.step, **info}
