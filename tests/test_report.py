"""Report artefacts: PNG sample grids and loss/metric curves."""
import json

import numpy as np
import pytest
import torch
from PIL import Image

from gankit.errors import GankitError
from gankit.report import grid_array, plot_losses, plot_metric_curves, save_grid
from gankit.report.grid import square_grid, upscale


def test_gray_grid_size_and_placement(tmp_path):
    images = np.stack([np.full((28, 28), 10 * i, np.uint8) for i in range(16)])
    path = save_grid(images, tmp_path / "sub" / "grid.png", nrow=4, pad=2, min_side=0)
    with Image.open(path) as im:
        assert im.format == "PNG" and im.mode == "L" and im.size == (4 * 30 + 2, 4 * 30 + 2)
        arr = np.asarray(im)
    # image 6 sits in row 1, column 2
    assert (arr[2 + 30:2 + 30 + 28, 2 + 60:2 + 60 + 28] == 60).all()
    assert (arr[0:2, :] == 128).all()  # padding


def test_colour_grid_default_rows_and_tensor_input(tmp_path):
    images = torch.randint(0, 256, (5, 32, 32, 3), dtype=torch.uint8)
    path = save_grid(images, tmp_path / "c.png", min_side=200)  # ceil(sqrt(5)) = 3 per row, 2 rows
    with Image.open(path) as im:  # 104 x 70 pixels, enlarged 2x (the smallest factor reaching 200)
        assert im.mode == "RGB" and im.size == (2 * (3 * 34 + 2), 2 * (2 * 34 + 2))
        arr = np.asarray(im)
    np.testing.assert_array_equal(arr[72:136:2, 4:68:2], images[3].numpy())
    np.testing.assert_array_equal(arr[73:136:2, 5:68:2], images[3].numpy())  # nearest: 2x2 blocks
    assert not list(tmp_path.glob(".*tmp"))  # written through a temporary file


def test_square_grid_and_upscale():
    assert square_grid(64) == (64, 8) and square_grid(50) == (49, 7) and square_grid(0) == (1, 1)
    assert square_grid(16, columns=10) == (100, 10)  # conditional: one column (and row) per class
    assert upscale(np.zeros((242, 242), np.uint8)).shape == (726, 726)  # 8x8 digits: 3x
    big = np.zeros((600, 300, 3), np.uint8)
    assert upscale(big) is big


def test_grid_rejects_bad_input():
    with pytest.raises(GankitError, match="uint8"):
        grid_array(np.zeros((4, 28, 28), np.float32))
    with pytest.raises(GankitError, match="shape"):
        grid_array(np.zeros((4, 28), np.uint8))


def test_plot_losses_writes_png(tmp_path):
    csv_path = tmp_path / "losses.csv"
    lines = ["step,d_loss,g_loss"] + [f"{s},{1 / (s + 1):.4f},{'' if s % 3 else 0.7}" for s in range(0, 200, 5)]
    csv_path.write_text("\n".join(lines) + "\n")
    png = plot_losses(csv_path, tmp_path / "loss.png")
    with Image.open(png) as im:
        assert im.format == "PNG" and im.size[0] > 100
    with pytest.raises(GankitError, match="cannot read"):
        plot_losses(tmp_path / "missing.csv", tmp_path / "x.png")


def test_plot_metric_curves_writes_png_and_rejects_bad_lines(tmp_path):
    jsonl = tmp_path / "metrics.jsonl"
    jsonl.write_text("\n".join(json.dumps({"step": s, "is": 1 + s / 100, "fid": 100 - s / 10}) for s in (0, 100, 200)))
    png = plot_metric_curves(jsonl, tmp_path / "metrics.png", ["is", "fid"])
    with Image.open(png) as im:
        assert im.format == "PNG"
    jsonl.write_text('{"step": 1}\nnot json\n')
    with pytest.raises(GankitError, match=":2"):
        plot_metric_curves(jsonl, tmp_path / "m.png", ["is"])


def test_loss_png_puts_d_outputs_on_their_own_axis(tmp_path):
    from gankit.report.curves import OUTPUT_AXIS, loss_panels

    assert loss_panels(["d_loss", "d_real", "d_fake", "g_loss"]) == [
        ("loss", ["d_loss", "g_loss"]), (OUTPUT_AXIS, ["d_real", "d_fake"])]
    assert loss_panels(["d_loss", "g_loss"]) == [("loss", ["d_loss", "g_loss"])]
    assert "output" in OUTPUT_AXIS and "loss" not in OUTPUT_AXIS
    csv_path = tmp_path / "losses.csv"
    csv_path.write_text("step,d_fake,d_loss,d_real,g_loss\n" + "".join(
        f"{s},{-s / 50:.3f},{1 / (s + 1):.4f},{s / 50:.3f},0.7\n" for s in range(0, 100, 5)))
    with Image.open(plot_losses(csv_path, tmp_path / "loss.png")) as im:
        assert im.size == (800, 650)  # two panels


def test_compare_config_diffs_name_each_changed_setting():
    from gankit.catalogue import load_config  # loads the registries the presets name
    from gankit.compare import config_diffs

    a, b = (load_config(p, ["train.seed=1"]).to_dict() for p in ("cdcgan-mnist", "cdcgan-mnist-vbn"))
    assert config_diffs([a, b, a]) == [[], ["net.vbn: False -> True"], []]


def test_one_html_writer_escapes_text_and_embeds_pictures(tmp_path):
    from gankit.report.html import Markup, data_uri, document, img, table

    png = tmp_path / "a.png"
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(png)
    assert data_uri(png).startswith("data:image/png;base64,iVBOR")
    assert img(tmp_path / "missing.png") == ""
    html = table(["a<b", "c"], [["x & y", Markup("<b>bold</b>")]], lambda i, j: "v partly" if j == 1 else None)
    assert "<th>a&lt;b</th>" in html and "<td>x &amp; y</td>" in html and '<td class="v partly"><b>bold</b></td>' in html
    page = document("T <1>", html + img(png))
    assert page.startswith("<!doctype html>") and "<h1>T &lt;1&gt;</h1>" in page and 'src="data:image/png' in page


def test_compare_spread_says_when_two_presets_are_within_their_seeds_spread():
    from pathlib import Path

    from gankit.compare import Entry, mean_table, seed_stats, spread_lines, within_spread

    def e(name, seed, is_, fid):
        return Entry(name, Path(f"/nonexistent/{name}{seed}"), {"is": is_, "fid": fid}, seed=seed)

    entries = [e("a", 0, 8.0, 20.0), e("a", 1, 9.0, 22.0), e("a", 2, 10.0, 24.0),
               e("b", 0, 8.5, 40.0), e("b", 1, 9.5, 41.0), e("b", 2, 10.5, 42.0)]
    stats = seed_stats(entries)
    assert stats["a"]["is"] == pytest.approx((9.0, 1.0, 3)) and stats["b"]["fid"] == pytest.approx((41.0, 1.0, 3))
    assert within_spread(stats["a"]["is"], stats["b"]["is"])  # 0.5 <= 1 + 1
    assert not within_spread(stats["a"]["fid"], stats["b"]["fid"])  # 19 > 2 + 1
    assert within_spread((1.0, 0.0, 1), (2.0, 0.0, 1)) is None  # one seed: no spread
    lines = spread_lines(entries)
    assert len(lines) == 1 and lines[0].startswith("a vs b: the difference in IS is within") and "FID" not in lines[0]
    header, rows = mean_table(entries)
    assert header[:3] == ["preset", "seeds", "IS"] and rows[0][:4] == ["a", "3", "9.00 ± 1.00", "22.0 ± 2.0"]


def test_compare_entries_with_their_own_overrides_and_seeds(tmp_path):
    from gankit.compare import compare, parse_budget, split_entry
    from gankit.errors import GankitError

    assert split_entry("dwgan-ttt-3x3-2p net.z_dim=8") == ("dwgan-ttt-3x3-2p", ["net.z_dim=8"])
    with pytest.raises(GankitError, match="'oops' in entry"):
        split_entry("dwgan-ttt-3x3-2p oops")
    entries = compare(["dwgan-ttt-3x3-2p", "dwgan-ttt-3x3-2p net.z_dim=8"], parse_budget("4steps"), tmp_path / "c",
                      seeds=2, overrides=["train.threads=1", "train.eval_samples=50", "train.tensorboard=false"])
    assert [(e.run_dir.name, e.seed) for e in entries] == [
        ("dwgan-ttt-3x3-2p-s0", 0), ("dwgan-ttt-3x3-2p-s1", 1),
        ("dwgan-ttt-3x3-2p_net.z_dim-8-s0", 0), ("dwgan-ttt-3x3-2p_net.z_dim-8-s1", 1)]
    assert all(e.metrics.get("step") == 4 and e.error is None for e in entries)
    assert entries[2].diff == ["net.z_dim: 32 -> 8"]
    md = (tmp_path / "c" / "report.md").read_text()
    assert "seeds 0-1" in md and "## Mean ± standard deviation over seeds" in md
