"""gankit.export: a real tiny run's generator as ONNX, TorchScript and torch.export files; each,
reloaded and fed the noise gankit samples with, gives gankit's images (float tolerance)."""
import numpy as np
import pytest
import torch

import gankit
from gankit.errors import GankitError
from gankit.export import export
from test_folder import shapes_folder

TINY = ["data.batch_size=16", "net.width=4", "train.steps=3", "train.eval_samples=100", "train.threads=1",
        "train.tensorboard=false", "train.log_every=1"]


CONDITIONS = {"unconditional": ["net.conditional=false"], "conditional": ["net.conditional=true"],
              # self-conditioned: G takes cluster ids (of the image, or one per channel) it draws itself
              "clusters": ["model.clusters=4"],
              "channel-clusters": ["model.clusters=3", "model.clusters_by=channel"]}


@pytest.fixture(scope="module", params=list(CONDITIONS))
def tiny_run(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("export")
    root = shapes_folder(tmp / "shapes", per_class=40)
    over = TINY + [f"data.root={root}", *CONDITIONS[request.param]]
    return gankit.train("dcgan-folder", out=tmp / "run", overrides=over)


def gankit_noise(run, n: int, seed: int):
    """The z (and labels) gankit's sampling draws for ``seed`` (training.loop.iter_seeded, GAN.generate)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        z = run.model.noise(n)
        labels = run.model.labels.generate(n, None, z.device)
    return z, labels


def as_uint8(x: np.ndarray) -> np.ndarray:
    return ((x.transpose(0, 2, 3, 1) + 1) * 127.5).round().clip(0, 255).astype(np.uint8)


def test_onnx_on_onnxruntime_gives_gankits_images(tiny_run, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    info = export(tiny_run.dir, tmp_path / "G.onnx")
    conditioned = gankit_noise(tiny_run, 1, seed=0)[1] is not None
    assert info["format"] == "onnx" and info["inputs"] == (["z", "labels"] if conditioned else ["z"])
    sess = ort.InferenceSession(str(tmp_path / "G.onnx"))
    z, labels = gankit_noise(tiny_run, 10, seed=3)
    feed = {"z": z.numpy()} | ({"labels": labels.numpy()} if labels is not None else {})
    x = sess.run(None, feed)[0]
    with torch.no_grad():
        want = tiny_run.model.sampler(z, labels).numpy()
    assert x.shape == (10, 3, 32, 32)
    np.testing.assert_allclose(x, want, atol=1e-5)
    mine = tiny_run.sample(10, seed=3)  # what `gankit sample --seed 3` writes, as uint8
    assert np.abs(as_uint8(x).astype(int) - mine.astype(int)).max() <= 1  # a rounding edge at most


@pytest.mark.parametrize("fmt,suffix", [("torchscript", ".pt"), ("torch.export", ".pt2")])
def test_torchscript_and_pt2_reload_and_match(tiny_run, tmp_path, fmt, suffix):
    out = tmp_path / f"G{suffix}"
    assert export(tiny_run.dir, out, fmt)["format"] == fmt
    g = torch.jit.load(str(out)) if fmt == "torchscript" else torch.export.load(str(out)).module()
    z, labels = gankit_noise(tiny_run, 7, seed=1)
    with torch.no_grad():
        got = g(z, labels) if labels is not None else g(z)
        want = tiny_run.model.sampler(z, labels)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)


def test_bad_format_or_path_is_one_line(tiny_run, tmp_path):
    cases = [((tmp_path / "G.onnx", "keras"), "unknown export format 'keras'"),
             ((tmp_path / "G.bin", None), "cannot tell the format"),
             ((tmp_path / "G.pt", "onnx"), r"does not end in \.onnx"),
             ((tmp_path, "onnx"), "does not end in"),
             ((tmp_path / "dir.onnx", "onnx"), "is a directory")]
    (tmp_path / "dir.onnx").mkdir()
    for (out, fmt), msg in cases:
        with pytest.raises(GankitError, match=msg) as err:
            export(tiny_run.dir, out, fmt)
        assert "\n" not in str(err.value)
    with pytest.raises(GankitError, match="not found"):
        export(tmp_path / "nope", tmp_path / "G.onnx")
    assert not list(tmp_path.glob("G.*"))
