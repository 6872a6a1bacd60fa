"""rt-tensor as a numpy user meets it: zero-copy both ways, every dtype numpy has,
non-contiguous layouts, __array__, DLPack with numpy."""
import numpy as np
import pytest

import rt_tensor as rtt

NUMPY_DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32",
                "float64", "complex64", "complex128"]


def _values(dtype, shape=(3, 4), seed=0):
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if dtype.startswith(("int", "uint")):
        return rng.integers(0 if dtype == "uint8" else -50, 50, size=shape).astype(dtype)
    if dtype.startswith("complex"):
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", NUMPY_DTYPES)
def test_from_numpy_round_trip_is_zero_copy(dtype):
    a = _values(dtype)
    t = rtt.from_numpy(a)
    assert t.dtype == getattr(rtt, dtype)
    assert tuple(t.shape) == a.shape
    assert t.data_ptr() == a.ctypes.data
    back = t.numpy()
    assert back.dtype == a.dtype
    assert np.shares_memory(back, a)
    np.testing.assert_array_equal(back, a)
    # a write through numpy is seen by the tensor, and the other way round
    a[1, 2] = a[0, 0]
    assert t[1, 2].item() == a[0, 0].item()
    t[0, 1] = t[2, 3]
    assert a[0, 1] == a[2, 3]


@pytest.mark.parametrize("dtype", NUMPY_DTYPES)
def test_tensor_copies_numpy_input(dtype):
    a = _values(dtype, seed=1)
    t = rtt.tensor(a)
    assert t.dtype == getattr(rtt, dtype)
    assert not np.shares_memory(t.numpy(), a)
    np.testing.assert_array_equal(t.numpy(), a)


def test_from_numpy_keeps_strides_and_offset():
    base = np.arange(60, dtype=np.float64).reshape(5, 12)
    view = base[1:, ::3].T          # offset, step, transposed
    t = rtt.from_numpy(view)
    assert tuple(t.shape) == view.shape
    assert t.stride() == tuple(s // view.itemsize for s in view.strides)
    assert not t.is_contiguous()
    assert t.data_ptr() == view.ctypes.data
    np.testing.assert_array_equal(t.numpy(), view)
    np.testing.assert_array_equal(t.contiguous().numpy(), view)
    np.testing.assert_array_equal(np.asarray(t.tolist()), view)


def test_numpy_of_views_shares_memory():
    t = rtt.tensor(np.arange(24, dtype=np.int32).reshape(2, 3, 4))
    ref = np.arange(24, dtype=np.int32).reshape(2, 3, 4)
    for view, expected in [(t.permute(2, 0, 1), ref.transpose(2, 0, 1)),
                           (t[:, 1], ref[:, 1]),
                           (t[..., ::2], ref[..., ::2]),
                           (t.reshape(6, 4), ref.reshape(6, 4))]:
        got = view.numpy()
        np.testing.assert_array_equal(got, expected)
        assert np.shares_memory(got, t.numpy())


def test_array_protocol():
    t = rtt.tensor([[1.5, 2.5], [3.5, 4.5]])
    a = np.asarray(t)
    assert a.dtype == np.float32
    np.testing.assert_array_equal(a, [[1.5, 2.5], [3.5, 4.5]])
    assert np.shares_memory(a, t.numpy())
    np.testing.assert_array_equal(np.array(t, dtype=np.float64), a.astype(np.float64))
    # numpy functions accept rt tensors
    assert float(np.add(t, 1).sum()) == 16.0
    assert np.array_equal(np.concatenate([t, t]), np.concatenate([a, a]))


def test_zero_dim_and_empty():
    z = rtt.from_numpy(np.array(3.25, dtype=np.float32))
    assert z.shape == () and z.dim() == 0 and z.item() == 3.25
    assert z.numpy().shape == ()
    e = rtt.from_numpy(np.zeros((0, 5), dtype=np.int16))
    assert tuple(e.shape) == (0, 5) and e.numel() == 0
    assert e.numpy().shape == (0, 5)


def test_numpy_from_dlpack_shares_memory():
    t = rtt.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=rtt.float64)
    a = np.from_dlpack(t)
    assert a.ctypes.data == t.data_ptr()
    a[0, 0] = -1.0
    assert t[0, 0].item() == -1.0
    tt = t.t()
    at = np.from_dlpack(tt)
    np.testing.assert_array_equal(at, t.numpy().T)


def test_rt_from_dlpack_of_numpy_shares_memory():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)[:, 1:]
    t = rtt.from_dlpack(a)
    assert t.data_ptr() == a.ctypes.data
    assert t.stride() == (4, 1)
    a[0, 0] = 100.0
    assert t[0, 0].item() == 100.0
    assert t.__dlpack_device__() == (1, 0)      # kDLCPU, device 0
