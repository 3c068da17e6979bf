"""gankit bench --curve (issue 32): FID against each arm's own training seconds, arms interleaved.

Tiny real curves (narrow nets, one thread, checkpoints a second apart, 200 samples); no
assertion on the FID values themselves, which depend on the machine's pace.
"""
import json
import math

import pytest
import torch

from gankit.bench import DEFAULT_CURVE_ARMS, TEXTBOOK, ReferenceArm, curve_config, measure_curve, parse_arm
from gankit.cli import main

GAN = "gan-mnist-fast net.width=4 model.clusters=10"
BINARY = "binarygan-mnist-fast net.width=4 model.clusters=0"
REFERENCE = f"reference:gan-mnist-fast {TEXTBOOK} net.width=4"


def test_curve_writes_a_point_per_arm_and_checkpoint_and_redraws_the_same_figure(tmp_path, capsys):
    out = tmp_path / "curve"
    assert main(["bench", "--curve", GAN, BINARY, REFERENCE, "--at", "0.5,1", "--n", "200", "--threads", "1",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    record = json.loads((out / "curve.json").read_text())
    assert record["threads"] == 1 and record["n"] == 200 and record["at"] == [0.5, 1.0]
    assert record["date"] and len(record["loadavg"]) == 3
    assert [a["arm"] for a in record["arms"]] == [GAN, BINARY, REFERENCE]
    assert [a["dataset"] for a in record["arms"]] == ["mnist", "mnist-binary", "mnist"]  # each on its own data
    for arm in (GAN, BINARY, REFERENCE):
        points = [p for p in record["points"] if p["arm"] == arm]
        assert [p["at"] for p in points] == [0.5, 1.0]
        for p in points:
            assert p["seconds"] >= p["at"] and p["cpu_seconds"] > 0
            assert math.isfinite(p["fid"]) and p["fid"] > 0 and p["is"] >= 1
            assert p["metrics"]["n"] == 200 and p["date"]
        assert points[0]["seconds"] < points[1]["seconds"]  # training time grows
        assert 0 < points[0]["steps"] < points[1]["steps"]
        assert 0 < points[0]["images"] < points[1]["images"]
        assert f"({points[1]['steps']:,})" in printed  # the table's cell
    assert "no stabilisers, ns loss, Adam 2e-4" in printed  # the textbook arm's label
    figure = (out / "fid-curve.png").read_bytes()
    assert figure[:8] == b"\x89PNG\r\n\x1a\n"
    # the committed JSON redraws the committed figure, byte for byte, without training
    again = tmp_path / "again"
    assert main(["bench", "--from", str(out / "curve.json"), "--out", str(again)]) == 0
    assert (again / "fid-curve.png").read_bytes() == figure
    assert capsys.readouterr().out.splitlines()[0] == printed.splitlines()[0]  # the same table
    # a second measurement into the same folder is refused (a 30-minute record is not lost)
    assert main(["bench", "--curve", GAN, "--at", "1", "--out", str(out)]) == 2
    assert "exists; pass --overwrite" in capsys.readouterr().err


def test_a_gankit_point_scores_what_generate_gives_and_what_gankit_train_reports(tmp_path):
    """A curve point is the evaluation ``gankit train`` makes at that step: the sampler's
    ``generate`` from the evaluation seed, in eval mode, scored on the arm's dataset."""
    from gankit.api import train
    from gankit.eval_mode import eval_mode
    from gankit.metrics import evaluate
    from gankit.training.sampling import EVAL_SEED

    seen = []

    def on_point(runner, point, record):
        model = runner.model
        assert model.sampler is model.G_ema  # gan-mnist-fast keeps its EMA in the curve
        with eval_mode(model), torch.random.fork_rng(devices=[]):
            torch.manual_seed(EVAL_SEED)
            samples = model.generate(200)
        seen.append((point, evaluate(model.data, samples)))

    measure_curve([GAN], at=[0.5], threads=1, n=200, seed=3, on_point=on_point)
    (point, direct), = seen
    assert point["fid"] == direct["fid"] and point["is"] == direct["is"]
    # the same preset trained by gankit train to the point's step reports the same numbers
    train("gan-mnist-fast", tmp_path / "run", ["net.width=4", "model.clusters=10", "train.seed=3",
                                               f"train.steps={point['steps']}", "train.seconds=null",
                                               "train.eval_samples=200"])
    final = json.loads((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()[-1])
    assert final["step"] == point["steps"]
    assert final["fid"] == point["fid"] and final["is"] == point["is"]


def test_reference_samples_are_the_tutorials_and_leave_training_alone():
    from gankit.data import load_dataset

    cfg = curve_config(parse_arm(REFERENCE), seed=0)
    data = load_dataset(cfg.data)
    torch.set_num_threads(1)
    sampled = ReferenceArm(cfg, data)
    for _ in range(3):
        sampled.step()
    samples, labels = sampled.samples(64, seed=7)
    assert labels is None and sampled.G.training  # G as it trains: train-mode batch norm
    with torch.no_grad(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(7)
        z = torch.randn(64, cfg.net.z_dim)
        assert torch.equal(samples, sampled.G(z, None))  # one call of a training batch
    # 130 samples come in near-equal calls of at most a batch, none of a lone sample
    # (batch norm over one sample of a dense layer fails; 64 + 64 + 2 would be uneven)
    sizes = []
    hook = sampled.G.register_forward_pre_hook(lambda module, args: sizes.append(args[0].shape[0]))
    assert sampled.samples(130, seed=7)[0].shape == (130, 1, 28, 28)
    hook.remove()
    assert sizes == [44, 43, 43]
    for _ in range(3):
        sampled.step()
    plain = ReferenceArm(cfg, data)  # the same seed, six steps without sampling in between
    for _ in range(6):
        plain.step()
    for a, b in zip(sampled.G.parameters(), plain.G.parameters()):
        assert torch.equal(a, b)


def test_the_default_arms_are_the_issues_three():
    arms = [parse_arm(a) for a in DEFAULT_CURVE_ARMS]
    assert [(a.kind, a.preset) for a in arms] == [("gankit", "gan-mnist-fast"), ("gankit", "binarygan-mnist-fast"),
                                                  ("reference", "gan-mnist-fast")]
    cfgs = [curve_config(a, seed=0) for a in arms]
    assert cfgs[0].model.ema > 0 and cfgs[0].model.clusters > 0  # gankit arms: the full recipe
    ref = cfgs[2]
    assert (ref.model.ema, ref.model.clusters, ref.net.d_spectral_norm, ref.objective.name) == (0, 0, False, "ns")
    assert ref.optim.g.lr == ref.optim.d.lr == 2e-4
    assert (ref.net.name, ref.net.width, ref.net.conditional) == (cfgs[0].net.name, 16, False)  # the same nets


@pytest.mark.parametrize("argv, message", [
    (["--curve", "no-such-preset"], "unknown preset 'no-such-preset'"),
    (["--curve", "reference:no-such-preset"], "unknown preset 'no-such-preset'"),
    (["--curve", "gan-mnist-fast net.width"], "'net.width' is not a key=value override"),
    (["--curve", "gan-mnist-fast", "model.ema=0"], "starts with an override: quote each arm whole"),
    (["--curve", "gan-mnist-fast model.nope=1"], "curve arm 'gan-mnist-fast model.nope=1': unknown config key"),
    (["--curve", "reference:gan-mnist-fast"], "uses objective 'hinge'; the reference loop has ns and wgan-gp"),
    (["--curve", "reference:gan-mnist-fast objective.name=ns"],  # its stabilisers, named
     "uses model.ema, net.d_spectral_norm, model.clusters, which the reference loop does not have"),
    (["--curve", GAN, GAN], "an arm is given twice"),
    (["--curve", GAN, "--at", "60,30"], "strictly increasing, got 30 after 60"),
    (["--curve", GAN, "--at", "30,30"], "strictly increasing"),
    (["--curve", GAN, "--at", "0,30"], "must lie in (0, 86400], got 0.0"),
    (["--curve", GAN, "--at", "-5"], "must lie in (0, 86400]"),
    (["--curve", GAN, "--at", "nan"], "must lie in (0, 86400]"),
    (["--curve", GAN, "--at", "30,abc"], "got 'abc'"),
    (["--curve", GAN, "--at", ""], "comma-separated seconds"),
    (["--curve", GAN, "--n", "1"], "--n must lie in 2..1,000,000, got 1"),
    (["--curve", GAN, "--seed", "-1"], "--seed must lie in"),
    (["--curve", GAN, "--threads", "0"], "--threads must lie in"),
    (["--curve", GAN, "--models", "dcgan-mnist"], "--models is an option of the speed bench"),
    (["--curve", GAN, "--seconds", "5"], "--seconds is an option of the speed bench"),
    (["--models", "dcgan-mnist", "--at", "30"], "--at is an option of gankit bench --curve"),
    (["--from", "missing/curve.json"], "cannot read curve file"),
    (["--from", "x.json", "--curve", GAN], "give no arms with it"),
    (["--from", "x.json", "--n", "10"], "--n does not apply to --from"),
])
def test_bad_curve_input_is_one_line(argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    needs_out = "--curve" in argv and "--from" not in argv
    assert main(["bench", *argv, *(["--out", "out"] if needs_out else [])]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gankit: error:") and err.count("\n") == 1, err
    assert message in err
    assert not (tmp_path / "out").exists()  # refused before anything was written


def test_curve_needs_an_out_folder_and_a_curve_file_to_redraw(tmp_path, capsys):
    assert main(["bench", "--curve", GAN]) == 2
    assert "needs --out DIR" in capsys.readouterr().err
    bad = tmp_path / "curve.json"
    bad.write_text("{not json")
    assert main(["bench", "--from", str(bad)]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    bad.write_text(json.dumps({"arms": [{"arm": "a", "label": "a"}], "points": [{"arm": "b"}]}))
    assert main(["bench", "--from", str(bad)]) == 2
    assert "points[0] needs an 'arm' of 'arms'" in capsys.readouterr().err
    bad.write_text(json.dumps({"arms": [], "points": []}))
    assert main(["bench", "--from", str(bad)]) == 2
    assert "has no points yet" in capsys.readouterr().err
    assert not (tmp_path / "fid-curve.png").exists()
