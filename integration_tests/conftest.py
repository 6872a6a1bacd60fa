"""Shared fixtures for the integration suites (importlib mode: helpers are fixtures, not
importable modules)."""
import numpy as np
import pytest

import rt_tensor as rtt


def _to_numpy(t):
    """An rt tensor's values as a numpy copy (bfloat16, which numpy lacks, via float32)."""
    if t.dtype == rtt.bfloat16:
        t = t.float()
    return np.array(t.numpy(), copy=True)


@pytest.fixture
def to_numpy():
    return _to_numpy


@pytest.fixture
def restore_threads():
    """Leaves rt's thread count as the test found it."""
    n = rtt.get_num_threads()
    yield
    rtt.set_num_threads(n)
