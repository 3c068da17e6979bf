"""The one training loop on a tiny registered net: outputs, budget, checkpoints, resume."""
import io
import json
import signal

import numpy as np
import pytest
import torch

import tinynet  # noqa: F401  (registers the tiny-bn-test net)
from gankit.catalogue import build_config
from gankit.errors import GankitError
from gankit.training.checkpoint import Checkpoints
from gankit.training.loop import train


def tiny_cfg(**train):
    t = {"steps": 20, "log_every": 5, "sample_every": 10, "ckpt_every": 10, "eval_samples": 200,
         "tensorboard": False, "seed": 3, **train}
    return build_config({"model": {"family": "gan"}, "net": {"name": "tiny-bn-test", "z_dim": 8, "hidden": 32},
                         "data": {"name": "mnist", "batch_size": 32}, "train": t}, "tiny")


def test_run_directory_outputs(tmp_path, cache_dir):
    out = tmp_path / "run"
    result = train(tiny_cfg(), out, cache_dir=cache_dir)
    assert result["step"] == 20
    for name in ("config.yaml", "losses.csv", "metrics.jsonl", "loss.png"):
        assert (out / name).is_file(), name
    assert sorted(p.name for p in (out / "samples").iterdir()) == ["step_000010.png", "step_000020.png"]
    rows = (out / "losses.csv").read_text().splitlines()
    assert rows[0].startswith("step,") and "d_loss" in rows[0] and len(rows) == 1 + 4
    metrics = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert metrics[-1]["step"] == 20 and "fid" in metrics[-1] and metrics[-1]["images_per_s"] > 0
    ckpt = torch.load(sorted((out / "checkpoints").iterdir())[-1], weights_only=True)
    assert ckpt["step"] == 20 and set(ckpt["optim"]) == {"g", "d"}


def test_never_overwrites_without_flag(tmp_path, cache_dir):
    out = tmp_path / "run"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    with pytest.raises(GankitError, match="already exists"):
        train(tiny_cfg(steps=2), out, cache_dir=cache_dir)
    assert (out / "precious.txt").read_text() == "keep me"


def test_seconds_budget_stops_early(tmp_path, cache_dir):
    def overran(signum, frame):  # a broken budget fails the test instead of training 10^6 steps
        raise AssertionError("train.seconds=1 did not stop the run within 300 s")

    previous = signal.signal(signal.SIGALRM, overran)
    signal.alarm(300)
    try:
        result = train(tiny_cfg(steps=10**6, seconds=1.0, eval_samples=100), tmp_path / "r", cache_dir=cache_dir)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert 0 < result["step"] < 10**6


def test_resume_matches_uninterrupted(tmp_path, cache_dir):
    full = tmp_path / "full"
    train(tiny_cfg(steps=20), full, cache_dir=cache_dir)
    part = tmp_path / "part"
    train(tiny_cfg(steps=10), part, cache_dir=cache_dir)
    # continue the 10-step run to 20 steps from its checkpoint
    (part / "config.yaml").write_text(tiny_cfg(steps=20).to_yaml())
    train(tiny_cfg(steps=20), part, resume=True, cache_dir=cache_dir)
    a = Checkpoints(full / "checkpoints").load_latest()["model"]
    b = Checkpoints(part / "checkpoints").load_latest()["model"]
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_corrupt_newest_checkpoint_falls_back(tmp_path, cache_dir):
    out = tmp_path / "run"
    train(tiny_cfg(steps=20), out, cache_dir=cache_dir)
    ck = Checkpoints(out / "checkpoints")
    newest = ck.paths()[-1]
    newest.write_bytes(newest.read_bytes()[:100])
    state = ck.load_latest()
    assert state["step"] == 10


def test_diverging_loss_stops_with_message(tmp_path, cache_dir):
    cfg = tiny_cfg(steps=20)
    cfg.optim.d.lr = 1e30
    cfg.optim.g.lr = 1e30
    with pytest.raises(GankitError, match="diverged"):
        train(cfg, tmp_path / "nan", cache_dir=cache_dir)


def test_generator_ema_tracks_the_average_and_samples_from_it(tmp_path, cache_dir):
    """model.ema: G_ema = d G_ema + (1 - d) G after every step (d warmed up), used by generate()."""
    from gankit.data import load_dataset
    from gankit.data.base import Batches
    from gankit.models import build_model

    cfg = build_config({"model": {"family": "gan", "ema": 0.9}, "net": {"name": "tiny-bn-test", "z_dim": 8},
                        "data": {"name": "mnist", "batch_size": 16}}, "tiny")
    data = load_dataset(cfg.data)
    torch.manual_seed(0)
    model = build_model(cfg, data)
    batches = Batches(data, 16, 0)
    expected = [p.detach().clone() for p in model.G_ema.parameters()]
    assert all(torch.equal(e, p) for e, p in zip(expected, model.G.parameters()))
    for step in range(1, 4):
        model.train_step(batches, step - 1)
        model.on_step_end(step)
        d = min(0.9, (1 + step) / (10 + step))  # 2/11, 3/12, 4/13: the warm-up is shorter than 0.9
        expected = [d * e + (1 - d) * p.detach() for e, p in zip(expected, model.G.parameters())]
        for e, p in zip(expected, model.G_ema.parameters()):
            torch.testing.assert_close(p, e)
    assert not any(p.requires_grad for p in model.G_ema.parameters())
    assert "G_ema" not in model.networks()  # never optimized
    model.eval()
    torch.manual_seed(1)
    out = model.generate(4)
    torch.manual_seed(1)
    z = torch.randn(4, 8)  # the same noise generate() drew
    torch.testing.assert_close(out, model.G_ema(z))
    assert not torch.allclose(out, model.G(z), atol=1e-4)  # from the average, not from G, on the same z
    # checkpointed with the model: a run with ema resumes and keeps the average
    result = train(build_config({**cfg.to_dict(), "train": {"steps": 4, "ckpt_every": 2, "eval_samples": 100,
                                                            "tensorboard": False}}, "tiny"),
                   tmp_path / "run", cache_dir=cache_dir)
    ckpt = torch.load(sorted((tmp_path / "run" / "checkpoints").iterdir())[-1], weights_only=True)
    assert result["step"] == 4 and any(k.startswith("G_ema.") for k in ckpt["model"])


def test_bad_ema_is_a_one_line_error():
    with pytest.raises(GankitError, match="model.ema"):
        build_config({"model": {"family": "gan", "ema": 1.0}, "net": {"name": "tiny-bn-test"},
                      "data": {"name": "mnist"}}, "tiny")


def test_epochs_budget_stops_after_whole_passes(tmp_path, cache_dir):
    # 5,000 embedded digits at batch 32: 156 batches a pass, so 2 epochs end at step 312
    out = tmp_path / "ep"
    result = train(tiny_cfg(steps=10**6, epochs=2, eval_every_epochs=1, log_every=50, sample_every=1000,
                            ckpt_every=1000, eval_samples=100), out, cache_dir=cache_dir)
    assert result["step"] == 2 * (5000 // 32) and result["epoch"] == 2
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [(r["step"], r["epoch"]) for r in rows] == [(156, 1), (312, 2)]
    assert Checkpoints(out / "checkpoints").load_latest()["step"] == 312


def test_steps_end_before_epochs(tmp_path, cache_dir):
    result = train(tiny_cfg(steps=7, epochs=3, eval_samples=100), tmp_path / "s", cache_dir=cache_dir)
    assert result["step"] == 7 and result["epoch"] == 0


def test_tensorboard_holds_the_sample_grids_and_metrics_rows_the_new_metrics(tmp_path, cache_dir):
    from PIL import Image
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = tmp_path / "tb"
    train(tiny_cfg(steps=12, sample_every=5, tensorboard=True, eval_samples=100), out, cache_dir=cache_dir)
    acc = EventAccumulator(str(out / "tb"), size_guidance={"images": 0})
    acc.Reload()
    images = acc.Images("samples")
    assert [e.step for e in images] == [5, 10, 12]  # every sample step, and the end once
    with Image.open(out / "samples" / "step_000012.png") as im:
        png = np.asarray(im)
    # 8x8 full grid of 28x28 digits (242 px), enlarged 3x; TensorBoard holds the same picture
    assert png.shape == (3 * (8 * 30 + 2),) * 2
    first = images[-1]
    assert (first.width, first.height) == png.shape[::-1]
    with Image.open(io.BytesIO(first.encoded_image_string)) as im:
        np.testing.assert_array_equal(np.asarray(im.convert("L")), png)
    row = json.loads((out / "metrics.jsonl").read_text().splitlines()[-1])
    for key in ("is", "fid", "kid", "precision", "recall", "density", "coverage"):
        assert isinstance(row[key], float), key


def test_conditional_grid_is_one_column_per_class_and_square(tmp_path, cache_dir):
    from PIL import Image

    cfg = tiny_cfg(steps=2, sample_every=10, eval_samples=100, grid_size=16)
    cfg.net.conditional = True
    train(cfg, tmp_path / "c", cache_dir=cache_dir)
    with Image.open(tmp_path / "c" / "samples" / "step_000002.png") as im:
        assert im.size == (2 * (10 * 30 + 2),) * 2  # 10 x 10 digits, 302 px, enlarged 2x


def test_last_step_is_evaluated_and_checkpointed_once(tmp_path, cache_dir):
    """train.eval_every and ckpt_every dividing train.steps: the final row and checkpoint are
    _finish's alone (one metrics row per step, the final one with images_per_s)."""
    out = tmp_path / "run"
    train(tiny_cfg(steps=4, eval_every=2, ckpt_every=2, eval_samples=100), out, cache_dir=cache_dir)
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [2, 4]
    assert "images_per_s" in rows[-1] and "images_per_s" not in rows[0]
