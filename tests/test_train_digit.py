"""A short real training run of the demo preset (a conditional DCGAN) must improve FID well
beyond the untrained net and follow the requested labels."""
import pytest

from gankit.catalogue import load_config
from gankit.data import load_dataset
from gankit.models import build_model
from gankit.training.loop import train
from gankit.training.sampling import evaluate_model


@pytest.mark.slow
def test_dcgan_mnist_fast_improves_fid(tmp_path, cache_dir):
    cfg = load_config("cdcgan-mnist-demo", ["train.steps=300", "train.seconds=null", "train.eval_samples=1000",
                                           "train.tensorboard=false", "train.sample_every=100000"])
    data = load_dataset(cfg.data)
    untrained = evaluate_model(build_model(cfg, data), 1000, cache_dir)
    result = train(cfg, tmp_path / "run", cache_dir=cache_dir, data=data)
    assert result["step"] == 300  # about 45 s on an idle core
    assert result["fid"] < 0.5 * untrained["fid"], (untrained["fid"], result["fid"])
    assert result["classes_covered"] >= untrained["classes_covered"]
    assert result["label_agreement"] > max(0.3, untrained["label_agreement"] + 0.15)
