"""gankit.interpolate: slerp against hand computations, and real PNG/GIF files of a tiny run."""
import math

import numpy as np
import pytest
import torch
from PIL import Image

import gankit
from gankit.errors import GankitError
from gankit.interpolate import interpolate, interpolation_images, slerp
from test_folder import shapes_folder


def test_slerp_endpoints_and_the_midpoint_of_orthogonal_unit_vectors():
    a, b = torch.tensor([[1.0, 0.0, 0.0]]), torch.tensor([[0.0, 1.0, 0.0]])
    out = slerp(a, b, torch.tensor([0.0, 0.5, 1.0]))
    assert out.shape == (1, 3, 3)
    torch.testing.assert_close(out[0, 0], a[0])
    torch.testing.assert_close(out[0, 2], b[0])
    s = math.sqrt(0.5)  # sin(pi/4) / sin(pi/2) for each end
    torch.testing.assert_close(out[0, 1], torch.tensor([s, s, 0.0]))
    assert abs(float(out[0, 1].norm()) - 1) < 1e-6  # on the circle; the straight line's midpoint has norm 0.71


def test_slerp_by_hand_at_a_third_and_for_parallel_vectors():
    a, b = torch.tensor([[2.0, 0.0]]), torch.tensor([[0.0, 2.0]])
    w = math.pi / 2
    t = 1 / 3
    want = torch.tensor([2 * math.sin((1 - t) * w), 2 * math.sin(t * w)])  # / sin(w) = 1
    torch.testing.assert_close(slerp(a, b, torch.tensor([t]))[0, 0], want)
    # parallel rows: sin(w) = 0, the straight line instead of 0/0
    p = slerp(torch.tensor([[1.0, 1.0]]), torch.tensor([[3.0, 3.0]]), torch.tensor([0.5]))
    torch.testing.assert_close(p[0, 0], torch.tensor([2.0, 2.0]))


@pytest.fixture(scope="module")
def tiny_cond_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("interp")
    root = shapes_folder(tmp / "shapes", per_class=40)
    return gankit.train("dcgan-folder", out=tmp / "run", overrides=[
        f"data.root={root}", "net.conditional=true", "data.batch_size=16", "net.width=4", "train.steps=3",
        "train.eval_samples=100", "train.threads=1", "train.tensorboard=false"])


def test_interpolation_rows_follow_slerp_with_one_class_per_row(tiny_cond_run):
    model = tiny_cond_run.model
    images = interpolation_images(model, rows=3, steps=4, seed=5)
    assert images.shape == (3, 4, 32, 32, 3) and images.dtype == np.uint8
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(5)
        ends = model.noise(6).view(3, 2, -1)
    # the first and last images of row 1 are G at its two end latents, with class 1
    with torch.no_grad():
        first = model.data.to_uint8(model.sampler(ends[1, :1], torch.tensor([1]))).numpy()[0]
        last = model.data.to_uint8(model.sampler(ends[1, 1:], torch.tensor([1]))).numpy()[0]
    assert np.abs(images[1, 0].astype(int) - first).max() <= 1
    assert np.abs(images[1, -1].astype(int) - last).max() <= 1
    assert not np.array_equal(images[1, 0], images[1, -1])
    assert np.array_equal(images, interpolation_images(model, rows=3, steps=4, seed=5))  # seeded


def test_interpolate_writes_png_and_gif(tiny_cond_run, tmp_path):
    info = interpolate(tiny_cond_run.dir, tmp_path / "walk.png", gif=tmp_path / "walk.gif", rows=2, steps=5, seed=0)
    assert info["conditional"] and info["rows"] == 2
    png = Image.open(tmp_path / "walk.png")
    # 5 columns x 2 rows of 32-pixel images with 2-pixel pads, enlarged by a whole factor
    w, h = 5 * 34 + 2, 2 * 34 + 2
    assert png.size[0] % w == 0 and png.size[0] // w == png.size[1] // h and png.size[1] % h == 0
    gif = Image.open(tmp_path / "walk.gif")
    assert gif.n_frames == 2 * 5 - 2  # forth and back without repeating the ends
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.parametrize("kw,msg", [({"rows": 0}, "--rows"), ({"steps": 1}, "--steps"), ({"seed": -1}, "--seed")])
def test_bad_counts_are_one_line(tiny_cond_run, tmp_path, kw, msg):
    with pytest.raises(GankitError, match=msg):
        interpolate(tiny_cond_run.dir, tmp_path / "x.png", **kw)
    assert not (tmp_path / "x.png").exists()
