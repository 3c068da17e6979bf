"""Self-conditioning on k-means clusters (``model.clusters``, models/labels.py ClusterLabels): the
k-means against a hand computation, the shares G's clusters are drawn with, the one-line errors,
and a short real run that conditions on the clusters, stays unconditional to its user and
resumes bit-exactly."""
import pytest
import torch

from gankit.catalogue import load_config
from gankit.errors import GankitError
from gankit.models.labels import ChannelClusterLabels, ClusterLabels, kmeans, nearest
from gankit.training.checkpoint import Checkpoints
from gankit.training.loop import train


def test_kmeans_finds_two_separated_groups_and_their_means():
    # three points near (0, 0) and two near (10, 10): the centroids are the groups' means
    x = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0], [10.0, 10.0], [12.0, 10.0]])
    for seed in range(5):
        c, counts = kmeans(x, 2, seed, iters=10)
        order = c[:, 0].argsort()
        assert torch.allclose(c[order], torch.tensor([[1 / 3, 2 / 3], [11.0, 10.0]]))
        assert counts[order].tolist() == [3, 2]


def test_nearest_is_the_smallest_squared_distance():
    c = torch.tensor([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    x = torch.tensor([[1.0, 1.0], [3.0, 0.5], [0.5, 2.6], [2.0, 1.9]])
    # distances^2 to the three centroids: (2, 10, 10), (9.25, 1.25, 21.25), (7.01, 19.01, 2.21), (7.61, 7.61, 8.41)
    assert nearest(x, c).tolist() == [0, 1, 2, 0]  # a tie goes to the first centroid


def test_duplicate_points_leave_the_outlier_its_own_centroid():
    # four copies of one point and one outlier, k = 3: two centres must share the copies (one
    # of them ends empty, refilled from the farthest point); every point keeps a cluster and the
    # outlier gets a centroid of its own
    x = torch.tensor([[0.0, 0.0]] * 4 + [[5.0, 5.0]])
    c, counts = kmeans(x, 3, seed=0, iters=5)
    assert counts.sum() == 5 and (c == torch.tensor([5.0, 5.0])).all(1).any()


def test_clusters_are_drawn_with_their_shares_of_the_data():
    x = torch.cat([torch.zeros(30, 1, 2, 2), torch.ones(10, 1, 2, 2)])
    cl = ClusterLabels(x, 2, seed=0)
    big = int(cl.counts.argmax())
    assert sorted(cl.counts.tolist()) == [10, 30]
    assert cl.assign(torch.zeros(3, 1, 2, 2)).tolist() == [big] * 3
    torch.manual_seed(0)
    share = (cl.sample(20000) == big).float().mean().item()
    assert share == pytest.approx(0.75, abs=0.01)


def test_channel_clusters_give_each_channel_its_own_id_offset_by_channel():
    """``model.clusters_by=channel``: one k-means over every channel image (pooled), a label
    per channel offset by j*k, and G's sets drawn channel by channel with the pooled shares."""
    dark, light = torch.zeros(1, 2, 2), torch.ones(1, 2, 2)
    # 4 images of 2 channels: channel images dark, dark, dark, light | light, dark, dark, dark
    x = torch.stack([torch.cat(p) for p in [(dark, light), (light, dark), (dark, dark), (dark, dark)]])
    cl = ChannelClusterLabels(x, 2, seed=0)
    d = int(cl.counts.argmax())  # the dark cluster: 6 of the 8 channel images
    lt = 1 - d
    assert sorted(cl.counts.tolist()) == [2, 6] and cl.num_labels == 4
    assert cl.assign(x).tolist() == [[d, 2 + lt], [lt, 2 + d], [d, 2 + d], [d, 2 + d]]
    torch.manual_seed(0)
    s = cl.sample(20000)
    assert s.shape == (20000, 2) and set(s[:, 0].tolist()) <= {0, 1} and set(s[:, 1].tolist()) <= {2, 3}
    assert (s[:, 0] == d).float().mean().item() == pytest.approx(0.75, abs=0.01)
    assert (s[:, 1] == 2 + d).float().mean().item() == pytest.approx(0.75, abs=0.01)
    both = ((s[:, 0] == d) & (s[:, 1] == 2 + d)).float().mean().item()
    assert both == pytest.approx(0.75 * 0.75, abs=0.01)  # drawn independently


@pytest.mark.parametrize("over, match", [
    (["model.clusters=10", "model.clusters_by=pixel"], "model.clusters_by"),
    (["model.clusters=10", "model.clusters_by=channel", "train.steps=1"], "several channels"),
])
def test_bad_channel_cluster_options_are_one_line(over, match, tmp_path, cache_dir):
    with pytest.raises(GankitError, match=match):
        train(load_config("gan-mnist-fast", over), tmp_path / "r", cache_dir=cache_dir)


@pytest.mark.parametrize("over, key", [
    (["model.clusters=1"], "model.clusters"),
    (["model.clusters=-3"], "model.clusters"),
    (["model.clusters=10", "net.conditional=true"], "model.clusters"),
    (["model.clusters=10", "model.info_codes=10"], "model.clusters"),
])
def test_bad_cluster_options_name_their_key(over, key):
    with pytest.raises(GankitError, match=key.replace(".", r"\.")):
        load_config("gan-mnist-fast", over)


def test_more_clusters_than_examples_is_one_line(tmp_path, cache_dir):
    cfg = load_config("gan-mnist-fast", ["model.clusters=6000", "train.steps=1"])
    with pytest.raises(GankitError, match="model.clusters"):
        train(cfg, tmp_path / "r", cache_dir=cache_dir)


def _cfg(steps, *extra):
    # the preset's recipe with its rate pinned: the test's run is fixed whatever the preset tunes
    return load_config("gan-mnist-fast", ["model.clusters=10", "model.ema=0", "train.eval_samples=500",
                                          "optim.g.lr=2e-4", "optim.d.lr=2e-4",
                                          "train.tensorboard=false", "train.sample_every=1000",
                                          "train.log_every=20", "train.ckpt_every=20", "train.seconds=null",
                                          "train.seed=2", f"train.steps={steps}", *extra])


@pytest.mark.slow
def test_self_conditioned_run_improves_and_resumes_bit_exactly(tmp_path, cache_dir):
    """G and D take the cluster as a 10-class label; users see an unconditional model (no label
    agreement, generate() draws clusters itself); IS rises over a short real run; a stop plus a
    resume equals one run (the centroids are in the checkpoint)."""
    import json

    from gankit.training.run import open_run

    run = tmp_path / "long"
    train(_cfg(300, "train.eval_every=150"), run, cache_dir=cache_dir)
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["is"] > rows[0]["is"] + 0.5, [r["is"] for r in rows]
    assert "label_agreement" not in rows[-1]
    model = open_run(run).model
    assert model.conditional is False and model.labels.k == 10
    assert model.G.fc.in_features == 100 + 10  # z and the cluster's one-hot
    assert model.generate(7).shape == (7, 1, 28, 28)

    full, part = tmp_path / "full", tmp_path / "part"
    train(_cfg(40), full, cache_dir=cache_dir)
    train(_cfg(20), part, cache_dir=cache_dir)
    (part / "config.yaml").write_text(_cfg(40).to_yaml())
    train(_cfg(40), part, resume=True, cache_dir=cache_dir)
    a = Checkpoints(full / "checkpoints").load_latest()["model"]
    b = Checkpoints(part / "checkpoints").load_latest()["model"]
    assert "labels.centroids" in a and a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


@pytest.mark.slow
def test_channel_clustered_stacked_run_learns_its_channel_clusters(tmp_path, cache_dir):
    """``gan-mnist-stacked-fast``'s recipe at 30 clusters per channel (the preset has 200; 30 are
    learnt within this short run's 600 steps on 2,000 images), a set of 3 as G's and D's label: a
    short real run raises the per-channel IS, and G's samples start to lie in the clusters they
    were drawn for, channel by channel, well above chance (1 in 30)."""
    import json

    from gankit.training.run import open_run

    cfg = load_config("gan-mnist-stacked-fast", ["model.clusters=30", "data.size=2000", "train.steps=600",
                                                 "train.seconds=null", "train.eval_every=300", "train.eval_samples=300",
                                                 "train.tensorboard=false", "train.sample_every=1000",
                                                 "train.ckpt_every=1000", "train.seed=1"])
    run = tmp_path / "stacked"
    train(cfg, run, cache_dir=cache_dir)
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    model = open_run(run).model
    assert model.G.fc.in_features == 100 + 3 * 30  # z and the multi-hot of three channel clusters
    torch.manual_seed(0)
    z, sets = model.noise(400), model.labels.generate(400, None, model.device)
    assert sets.shape == (400, 3) and all(((sets[:, j] >= 30 * j) & (sets[:, j] < 30 * (j + 1))).all() for j in range(3))
    model.eval()
    with torch.no_grad():
        x = model.sampler(z, sets)
    agree = (model.labels.assign(x) == sets).float().mean().item()
    # 0.088 measured at 600 steps (0.95 after 3,900); chance is 1/30 = 0.033, sd 0.005 over 1,200 channels
    assert agree > 0.06, agree
    assert rows[-1]["is"] > rows[0]["is"], [r["is"] for r in rows]
