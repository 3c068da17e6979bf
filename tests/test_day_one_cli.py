"""Day one through the command line (issue 33): your own folder of images trained, sampled,
evaluated, exported and interpolated end to end; runs found by short names; a finished run's
resume refused; compare --seeds and reproduce --jobs/--from; every count option range-checked."""
import json
import re

import numpy as np
import pytest
import torch
from PIL import Image

from gankit.cli import COUNTS, main

TINY = ["train.steps=4", "train.seconds=null", "train.threads=1", "train.eval_samples=40", "train.log_every=2",
        "train.sample_every=4", "train.ckpt_every=4", "train.eval_every=0", "train.tensorboard=false",
        "data.batch_size=8", "train.grid_size=4"]


def write_folder(root, classes: int, per_class: int, size: int = 20):
    """PNGs of bright discs (class 0) or squares (class 1) on noise, in class sub-folders when
    ``classes`` > 1, else all in ``root``; sizes other than 32 so the folder resizes them."""
    rng = np.random.default_rng(0)
    for c in range(classes):
        for i in range(per_class):
            img = rng.integers(0, 60, (size, size, 3), dtype=np.uint8)
            yy, xx = np.mgrid[:size, :size]
            cx, cy = rng.integers(6, size - 6, 2)
            mask = (np.abs(xx - cx) < 5) & (np.abs(yy - cy) < 5) if c else (xx - cx) ** 2 + (yy - cy) ** 2 < 25
            img[mask] = rng.integers(150, 256, 3)
            folder = root / f"class{c}" if classes > 1 else root
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(img).save(folder / f"{i:03d}.png")
    return root


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("gankit: error: "), err
    return err[0]


@pytest.mark.parametrize("classes, per_class", [(1, 30), (2, 40)], ids=["no-subfolders", "two-class-subfolders"])
def test_a_folder_run_trains_samples_evaluates_exports_and_interpolates(tmp_path, capsys, classes, per_class,
                                                                        monkeypatch):
    data = write_folder(tmp_path / "imgs", classes, per_class)
    monkeypatch.chdir(tmp_path)  # runs/ of this test
    assert main(["train", "dcgan-folder", f"data.root={data}", *TINY]) == 0
    out, err = capsys.readouterr()
    final = json.loads(out.splitlines()[0])
    assert final["step"] == 4 and final["fid"] >= 0 and "kid" in final
    if classes == 1:  # no labels: FID on the untrained seeded CNN, no IS, no class metrics
        assert final["backbone"].startswith("random-cnn: untrained") and "is" not in final
        assert "classes_covered" not in final and "classifier for metrics" not in err
    else:  # 80 labelled images: gankit's classifier trains once, and says so first
        assert final["backbone"].startswith("gankit-cnn folder") and final["classes_covered"] >= 0
        assert re.search(r"training the 'folder' classifier for metrics, once; cached in \S+classifier-folder-", err)
    assert "final evaluation (40 samples)" in err

    # the run by its short names
    (run,) = [p for p in (tmp_path / "runs" / "dcgan-folder").iterdir()]
    assert main(["runs", "--json"]) == 0
    (row,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert row["path"] == str(run.relative_to(tmp_path)) and row["state"] == "finished" and row["step"] == 4
    assert row["fid"] == pytest.approx(final["fid"], rel=1e-3)

    assert main(["sample", "runs/dcgan-folder", "--n", "6", "--out", "s.npz"]) == 0
    images = np.load(tmp_path / "s.npz")["images"]
    assert images.shape == (6, 32, 32, 3) and images.dtype == np.uint8
    assert main(["eval", "latest", "--n", "30"]) == 0
    printed = capsys.readouterr()
    ev = json.loads(printed.out.splitlines()[-1])
    assert "note: kid is on the scale of the backbone's 128 features" in printed.err  # KID's scale explained
    assert ev["run"] == str(run.relative_to(tmp_path)) and ev["n"] == 30 and ev["backbone"] == final["backbone"]

    # the exported generator gives gankit's samples for the same noise
    assert main(["export", "latest", "--out", "G.pt"]) == 0
    assert "torchscript" in capsys.readouterr().out
    g = torch.jit.load(str(tmp_path / "G.pt"))
    import gankit

    r = gankit.load(run)
    z = torch.randn(5, r.cfg.net.z_dim, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        want = r.model.sampler.eval()(z, None)
        assert torch.allclose(g(z), want, atol=1e-5)

    assert main(["interpolate", "runs/dcgan-folder", "--png", "walk.png", "--gif", "walk.gif", "--rows", "3",
                 "--steps", "4"]) == 0
    assert "3 rows of 4 images" in capsys.readouterr().out
    assert Image.open(tmp_path / "walk.png").size[0] > 0 and Image.open(tmp_path / "walk.gif").n_frames == 6
    assert main(["interpolate", "latest", "--png", "walk.png"]) == 2  # no --overwrite
    assert "already exists" in one_error_line(capsys)


def test_unlabelled_metrics_rank_real_images_above_noise_and_are_fixed(tmp_path):
    """The random-CNN FID is deterministic (seeded map) and ranks held-out real images far
    below noise; the caller's RNG stream is untouched."""
    from gankit.data.folder import FolderConfig, folder
    from gankit.metrics import evaluate

    data = folder(FolderConfig(root=str(write_folder(tmp_path / "u", 1, 60))))
    assert data.y is None
    real = data.x[:30].clone()
    noise = torch.rand(30, *data.shape, generator=torch.Generator().manual_seed(0)) * 2 - 1
    torch.manual_seed(5)
    a = evaluate(data, real)
    after = torch.rand(1)
    torch.manual_seed(5)
    b = evaluate(data, real)
    assert torch.equal(after, torch.rand(1))  # the map's seeded init drew nothing from the caller's stream
    assert a == b and a["backbone"].startswith("random-cnn")
    bad = evaluate(data, noise)
    assert bad["fid"] > 10 * max(a["fid"], 1e-3) and bad["precision"] <= a["precision"]


def test_resume_of_a_finished_run_is_one_line_and_appends_nothing(tmp_path, capsys):
    run = tmp_path / "r"
    assert main(["train", "dwgan-ttt-3x3-2p", "--out", str(run), *TINY[:9], "train.eval_samples=20"]) == 0
    capsys.readouterr()
    rows = (run / "metrics.jsonl").read_text()
    assert main(["train", "--resume", str(run)]) == 2
    line = one_error_line(capsys)
    assert "is finished (step 4 of train.steps=4, final metrics written)" in line and "raise train.steps" in line
    assert (run / "metrics.jsonl").read_text() == rows
    # raising the key trains on, and the run ends with one new final row
    assert main(["train", "--resume", str(run), "train.steps=6"]) == 0
    new = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in new] == [4, 6] and all("images_per_s" in r for r in new)


def test_a_run_stopped_in_its_final_evaluation_resumes_into_it(tmp_path, capsys):
    """Budget reached but no final row (killed while evaluating): the resume evaluates, once."""
    run = tmp_path / "r"
    assert main(["train", "dwgan-ttt-3x3-2p", "--out", str(run), *TINY[:9], "train.eval_samples=20"]) == 0
    (run / "metrics.jsonl").write_text("")
    assert main(["train", "--resume", str(run), "--quiet"]) == 0
    rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [4]


def test_run_arguments_resolve_short_names_or_say_what_is_there(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["sample", "latest", "--n", "2", "--png", "x.png"]) == 2
    assert "'latest' means the newest run under runs/, and there is none" in one_error_line(capsys)
    (tmp_path / "stuff" / "a").mkdir(parents=True)
    (tmp_path / "stuff" / "notes.txt").write_text("x")
    for argv in (["eval", "stuff"], ["export", "stuff", "--out", "g.onnx"], ["interpolate", "stuff", "--png", "w.png"],
                 ["train", "--resume", "stuff"], ["sae", "encode", "stuff", "--out", "s.npz"]):
        assert main(argv) == 2, argv
        assert "stuff is not a gankit run (no config.yaml); it holds: a/, notes.txt" in one_error_line(capsys)


@pytest.mark.parametrize("argv, message", [
    (["interpolate", "r", "--png", "w.png", "--rows", "0"], "--rows must lie in 1..64, got 0"),
    (["interpolate", "r", "--png", "w.png", "--steps", "1"], "--steps must lie in 2..64, got 1"),
    (["compare", "dcgan-mnist", "--seeds", "0"], "--seeds must lie in 1..1,000, got 0"),
    (["compare", "dcgan-mnist", "--jobs", "-2"], "--jobs must lie in 1..1,024, got -2"),
    (["reproduce", "dwgan", "--jobs", "0"], "--jobs must lie in 1..1,024, got 0"),
    (["show", "dcgan-mnist", "--steps", "101"], "--steps must lie in 0..100, got 101"),
    (["reproduce", "dwgan", "--from", "docs/reproductions"], "--from reads the records of finished runs: it needs --report-only"),
    (["export", "r", "--out", "g.onnx", "--format", "pickle"], "invalid choice: 'pickle'"),
])
def test_new_options_are_checked_in_one_line(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own refusals (a choice) exit through the parser
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err


def test_count_bounds_are_the_librarys():
    from gankit.cli import cmd_interpolate
    from gankit.export import FORMATS
    from gankit.interpolate import MAX_ROWS, MAX_STEPS
    from gankit.cli import build_parser

    assert COUNTS[cmd_interpolate]["rows"][1:] == (1, MAX_ROWS)
    assert COUNTS[cmd_interpolate]["steps"][1:] == (2, MAX_STEPS)
    sub = next(a for a in build_parser()._actions if hasattr(a, "choices") and a.choices and "export" in a.choices)
    fmt = next(a for a in sub.choices["export"]._actions if a.dest == "format")
    assert tuple(fmt.choices) == tuple(FORMATS)


def test_show_prints_the_config_sizes_data_and_pace(capsys, tmp_path):
    data = write_folder(tmp_path / "imgs", 1, 20)
    assert main(["show", "dcgan-folder-64", f"data.root={data}", "--steps", "1"]) == 0
    out = capsys.readouterr().out
    assert "# preset dcgan-folder-64" in out and "size: 64" in out
    assert re.search(r"nets: G [\d,]+ parameters, D [\d,]+ parameters", out)
    assert "20 examples of 3x64x64, no labels (found)" in out and "s per step here" in out


def test_compare_seeds_reports_mean_spread_and_what_lies_within_it(tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["compare", "dwgan-ttt-3x3-2p", "dwgan-ttt-3x3-2p model.n_critic=2", "--budget", "3steps",
                 "--seeds", "2", "--out", str(out), "--quiet", "--set", "train.threads=1",
                 "--set", "train.eval_samples=30", "--set", "train.tensorboard=false"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("preset | seeds")
    assert len(printed) == 5 and printed[3].startswith("within the seeds' spread: ")
    assert {p.name for p in out.iterdir() if p.is_dir()} >= {"dwgan-ttt-3x3-2p-s0", "dwgan-ttt-3x3-2p-s1"}
    assert "Mean ± standard deviation over seeds" in (out / "report.md").read_text()


def test_reproduce_jobs_and_report_only_from_records(tmp_path, capsys, monkeypatch):
    """--jobs N trains (here one run: in the process), --export writes the records, and
    --report-only --from DIR rebuilds the same verdict lines from them, training nothing."""
    import gankit.reproduce as reproduce_mod
    from gankit.reproduce.core import Claim, Paper, compare_metrics

    def run(ctx):
        r = ctx.run("board", "dwgan-ttt-3x3-2p", ["train.steps=4", "train.eval_every=2", "train.eval_samples=30"])
        v = compare_metrics(r.final["fixed100_valid"], 0.5, 0.01, what="valid share", names=("DWGAN", "half"))
        return [Claim("5.1", "valid boards", f"valid {r.final['fixed100_valid']:.2f}", *v, updates=r.updates,
                      paper_updates=4)], []

    fake = Paper("tiny", "A tiny paper", "one run", {"paper": 1, "short": 1, "smoke": 1}, run,
                 runs=("dwgan-ttt-3x3-2p",))
    monkeypatch.setattr(reproduce_mod, "paper", lambda name: fake)
    argv = ["reproduce", "tiny", "--out", str(tmp_path / "out"), "--jobs", "2", "--export", str(tmp_path / "docs"),
            "train.threads=1", "train.tensorboard=false"]
    assert main(argv) == 0
    first = capsys.readouterr()
    assert "training dwgan-ttt-3x3-2p" in first.err
    verdicts = [line for line in first.out.splitlines() if line.startswith("5.1")]
    assert len(verdicts) == 1
    assert main(["reproduce", "tiny", "--report-only", "--from", str(tmp_path / "docs"),
                 "--out", str(tmp_path / "rebuilt"), "train.tensorboard=false"]) == 0
    again = capsys.readouterr()
    assert "training" not in again.err
    assert [line for line in again.out.splitlines() if line.startswith("5.1")] == verdicts
