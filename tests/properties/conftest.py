import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    """One intra-op thread: the tiny models here run in milliseconds on one thread, while two
    threads spin-wait for each other on a loaded 2-core machine (a forward then takes seconds)."""
    torch.set_num_threads(1)
