import os

import pytest
import torch

# 2-core CI machine: one intra-op thread per test process keeps runs predictable.
torch.set_num_threads(int(os.environ.get("GANKIT_TEST_THREADS", "2")))


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory):
    """One classifier cache for the whole session (the classifier trains once)."""
    path = tmp_path_factory.mktemp("gankit-cache")
    os.environ["GANKIT_CACHE"] = str(path)
    return path
