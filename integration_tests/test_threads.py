"""Results do not depend on the thread count: 1 and 2 threads give bit-identical elementwise
results (each element is computed by the same code, only the split differs) and reductions
within float tolerance."""
import numpy as np
import pytest

import rt_tensor as rtt

N = 1009 * 991       # above the parallel grain, not a multiple of the chunk size


def _inputs():
    rng = np.random.default_rng(7)
    a = rng.standard_normal(N).astype(np.float32)
    b = rng.standard_normal(N).astype(np.float32)
    return rtt.from_numpy(a), rtt.from_numpy(b)


def _run(fn, threads):
    rtt.set_num_threads(threads)
    assert rtt.get_num_threads() == threads
    return fn().numpy().copy()


@pytest.mark.parametrize("name,fn", [
    ("copy", lambda a, b: a.reshape(1009, -1).t().contiguous()),
    ("cast", lambda a, b: a.to(rtt.float64)),
    ("add", lambda a, b: a + b),
    ("mul", lambda a, b: a * b),
    ("exp", lambda a, b: rtt.exp(a)),
    ("broadcast_add", lambda a, b: a.reshape(1009, -1) + b[:991].reshape(1, 991)),
    ("strided_mul", lambda a, b: a[1::2] * b[::2][:-1]),
])
def test_elementwise_is_identical_for_1_and_2_threads(name, fn, restore_threads):
    a, b = _inputs()
    one = _run(lambda: fn(a, b), 1)
    two = _run(lambda: fn(a, b), 2)
    assert one.shape == two.shape
    np.testing.assert_array_equal(one, two)


def test_elementwise_matches_numpy_with_2_threads(restore_threads):
    a, b = _inputs()
    rtt.set_num_threads(2)
    np.testing.assert_array_equal((a + b).numpy(), a.numpy() + b.numpy())
    np.testing.assert_array_equal((a * b).numpy(), a.numpy() * b.numpy())


@pytest.mark.parametrize("dim", [None, 0, 1])
def test_sum_is_close_for_1_and_2_threads(dim, restore_threads):
    a, _ = _inputs()
    m = a.reshape(1009, 991)
    kwargs = {} if dim is None else {"dim": dim}
    one = _run(lambda: m.sum(**kwargs), 1)
    two = _run(lambda: m.sum(**kwargs), 2)
    ref = m.numpy().astype(np.float64).sum(**({} if dim is None else {"axis": dim}))
    np.testing.assert_allclose(one, two, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(two, ref, rtol=1e-5, atol=1e-3)


def test_set_num_threads_validates(restore_threads):
    with pytest.raises((RuntimeError, ValueError)):
        rtt.set_num_threads(0)
