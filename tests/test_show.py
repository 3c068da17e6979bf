"""gankit.show: a preset's resolved config, parameter counts (by hand), data check and pace."""
import pytest
import yaml

from gankit.catalogue import load_config
from gankit.errors import GankitError
from gankit.show import format_show, show
from test_folder import shapes_folder

# dcgan at data.size 32, width 1, z_dim 2, 3 channels (gankit/nets/scaled.py), counted by hand:
# G: Linear 2->4*16 no bias 128, BN(4) 8, ConvT 4->2 k4 no bias 128, BN(2) 4, ConvT 2->1 32, BN(1) 2,
#    ConvT 1->3 with bias 51
# D (d_norm none): Conv 3->1 49, Conv 1->2 34, Conv 2->4 132, Linear 64->1 65
G_PARAMS, D_PARAMS = 128 + 8 + 128 + 4 + 32 + 2 + 51, 49 + 34 + 132 + 65


def test_show_a_preset_with_its_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = shapes_folder(tmp_path / "shapes", per_class=20)
    over = [f"data.root={root}", "net.width=1", "net.z_dim=2", "data.batch_size=8", "train.steps=1000"]
    info = show("dcgan-folder", over, steps=2)
    assert yaml.safe_load(info["config"]) == load_config("dcgan-folder", over).to_dict()  # config.yaml's content
    assert info["params"] == {"G": G_PARAMS, "D": D_PARAMS}
    ds = info["dataset"]
    assert ds["present"] and (ds["examples"], ds["classes"], ds["shape"]) == (40, 2, [3, 32, 32])
    assert info["seconds_per_step"] > 0
    assert info["estimate_seconds"] == pytest.approx(1000 * info["seconds_per_step"])
    text = format_show(info)
    assert f"G {G_PARAMS:,d} parameters, D {D_PARAMS:,d} parameters" in text
    assert "40 examples of 3x32x32, 2 classes (found)" in text and "s per step here" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shapes"]  # nothing written


def test_show_without_the_files_says_so_and_still_counts(tmp_path):
    info = show("dcgan-folder-64", [f"data.root={tmp_path / 'missing'}", "train.seconds=60"], steps=1)
    ds = info["dataset"]
    assert not ds["present"] and "not found" in ds["problem"] and ds["shape"] == [3, 64, 64]
    assert info["params"]["G"] > 0 and info["estimate_seconds"] <= 60
    assert "NOT FOUND" in format_show(info)
    assert show("dcgan-folder", steps=0)["seconds_per_step"] is None  # no data.root at all: counted on a stand-in


def test_show_errors_are_one_line():
    with pytest.raises(GankitError, match="config key 'data.size'"):
        show("dcgan-folder", ["data.size=100"], steps=0)
    with pytest.raises(GankitError, match="unknown preset"):
        show("no-such-preset")
    with pytest.raises(GankitError, match="steps must be"):
        show("dcgan-folder", steps=-1)
