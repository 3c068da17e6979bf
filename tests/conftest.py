import os

import pytest
import torch

# One intra-op thread per test process: predictable, and immune to OpenMP oversubscription
# when several processes share the cores (pytest-xdist workers, other jobs).
torch.set_num_threads(int(os.environ.get("GANKIT_TEST_THREADS", "1")))


@pytest.fixture(scope="session", autouse=True)
def cache_dir(tmp_path_factory):
    """One classifier cache for the whole session (the classifier trains once); set for every
    test, so none reads or writes the user's cache (~/.cache/gankit)."""
    path = tmp_path_factory.mktemp("gankit-cache")
    os.environ["GANKIT_CACHE"] = str(path)
    return path
