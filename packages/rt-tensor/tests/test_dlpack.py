"""DLPack: zero-copy exchange with numpy both ways, capsule protocol (names, versioning,
deleters), lifetimes, every dtype, bfloat16 rt->rt, non-contiguous tensors, errors."""
import gc
import warnings

import numpy as np
import pytest

import rt_tensor as rtt

NUMPY_DTYPES = [np.bool_, np.uint8, np.int8, np.int16, np.int32, np.int64, np.float16,
                np.float32, np.float64, np.complex64, np.complex128]


def test_dlpack_device():
    assert rtt.zeros(2).__dlpack_device__() == (1, 0)


def test_numpy_from_rt_shares_memory():
    t = rtt.arange(12.0).reshape(3, 4)
    a = np.from_dlpack(t)
    assert a.shape == (3, 4) and a.dtype == np.float32
    assert a.__array_interface__["data"][0] == t.data_ptr()
    a[1, 2] = -7
    assert t[1, 2].item() == -7
    t[0, 0] = 42
    assert a[0, 0] == 42


def test_rt_from_numpy_shares_memory():
    a = np.arange(6, dtype=np.int32).reshape(2, 3)
    t = rtt.from_dlpack(a)
    assert t.dtype == rtt.int32 and t.shape == (2, 3)
    assert t.data_ptr() == a.__array_interface__["data"][0]
    a[1, 1] = 100
    assert t[1, 1].item() == 100


def test_lifetime_producer_deleted():
    a = np.arange(1000, dtype=np.float64)
    t = rtt.from_dlpack(a)
    del a
    gc.collect()
    junk = [np.ones(1000) for _ in range(50)]      # reuse freed memory if it were freed
    assert t.numpy().sum() == 999 * 1000 / 2
    del junk

    r = rtt.arange(500, dtype=rtt.int64)
    b = np.from_dlpack(r)
    del r
    gc.collect()
    others = [rtt.full((500,), -1, dtype=rtt.int64) for _ in range(50)]
    assert b.sum() == 499 * 500 / 2
    del others


@pytest.mark.parametrize("npdtype", NUMPY_DTYPES)
def test_all_numpy_dtypes_both_ways(npdtype):
    a = (np.arange(5) % 2).astype(npdtype) if npdtype is np.bool_ else np.arange(5).astype(npdtype)
    t = rtt.from_dlpack(a)
    assert t.dtype == rtt.from_numpy(a).dtype
    np.testing.assert_array_equal(t.numpy(), a)
    back = np.from_dlpack(t)
    assert back.dtype == a.dtype
    np.testing.assert_array_equal(back, a)
    assert back.__array_interface__["data"][0] == a.__array_interface__["data"][0]


@pytest.mark.parametrize("versioned", [False, True])
def test_capsule_protocol(versioned):
    t = rtt.arange(4, dtype=rtt.int16)
    cap = t.__dlpack__(max_version=(1, 0)) if versioned else t.__dlpack__()
    name = "dltensor_versioned" if versioned else "dltensor"
    assert f'"{name}"' in repr(cap)
    u = rtt.from_dlpack(cap)
    assert f'"used_{name}"' in repr(cap)
    assert u.tolist() == [0, 1, 2, 3] and u.data_ptr() == t.data_ptr()
    with pytest.raises(BufferError):
        rtt.from_dlpack(cap)           # already consumed
    del t
    gc.collect()
    assert u.tolist() == [0, 1, 2, 3]


def test_unconsumed_capsule_is_freed():
    import weakref
    t = rtt.zeros(10)
    storage = t.untyped_storage()
    ref = weakref.ref(storage)
    del storage
    for version in (None, (1, 0)):
        cap = t.__dlpack__(max_version=version)
        del cap
    del t
    gc.collect()
    assert ref() is None        # the capsules released their references


def test_bfloat16_round_trip_rt_to_rt():
    t = rtt.tensor([1.5, -2.0, 3.25], dtype=rtt.bfloat16)
    u = rtt.from_dlpack(t)
    assert u.dtype == rtt.bfloat16 and u.data_ptr() == t.data_ptr()
    assert u.float().tolist() == [1.5, -2.0, 3.25]
    assert u is not t


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int8", "int16", "int32", "int64",
                                   "float16", "bfloat16", "float32", "float64", "complex64",
                                   "complex128"])
def test_rt_to_rt_all_dtypes(dtype):
    d = getattr(rtt, dtype)
    t = rtt.ones(2, 3, dtype=d)
    u = rtt.from_dlpack(t.__dlpack__())
    assert u.dtype == d and u.shape == (2, 3) and u.stride() == (3, 1)


def test_non_contiguous():
    t = rtt.arange(24.0).reshape(4, 6)
    v = t.t()[1:, ::2]
    a = np.from_dlpack(v)
    np.testing.assert_array_equal(a, v.numpy())
    assert a.strides == tuple(s * 4 for s in v.stride())
    u = rtt.from_dlpack(v)
    assert u.stride() == v.stride() and u.shape == v.shape
    np.testing.assert_array_equal(u.numpy(), v.numpy())
    n = np.arange(24.0).reshape(4, 6)[:, ::2].T
    w = rtt.from_dlpack(n)
    np.testing.assert_array_equal(w.numpy(), n)
    assert w.data_ptr() == n.__array_interface__["data"][0]


def test_zero_dim_and_empty():
    s = rtt.tensor(3.5)
    assert np.from_dlpack(s).shape == ()
    assert rtt.from_dlpack(np.full((), 2.0)).item() == 2.0
    e = rtt.zeros(0, 3)
    assert np.from_dlpack(e).shape == (0, 3)
    assert rtt.from_dlpack(np.zeros((2, 0))).shape == (2, 0)


def test_broadcast_view_exports():
    t = rtt.tensor([1.0, 2.0]).expand(3, 2)
    a = np.from_dlpack(t)
    np.testing.assert_array_equal(a, [[1, 2]] * 3)


def test_copy_and_device_arguments():
    t = rtt.arange(3.0)
    u = rtt.from_dlpack(t.__dlpack__(copy=True, max_version=(1, 0)))
    assert u.data_ptr() != t.data_ptr() and u.tolist() == [0, 1, 2]
    assert rtt.from_dlpack(t.__dlpack__(dl_device=(1, 0))).data_ptr() == t.data_ptr()
    with pytest.raises(BufferError):
        t.__dlpack__(dl_device=(2, 0))
    with pytest.raises(ValueError):
        t.__dlpack__(stream=5)


def test_read_only_numpy_warns():
    a = np.arange(3.0)
    a.flags.writeable = False
    with pytest.warns(UserWarning, match="read-only"):
        t = rtt.from_dlpack(a)
    assert t.tolist() == [0, 1, 2]


def test_errors():
    with pytest.raises(TypeError):
        rtt.from_dlpack([1, 2, 3])

    class OnGpu:
        def __dlpack_device__(self):
            return (2, 0)

        def __dlpack__(self, **kwargs):
            raise AssertionError("must not be called")

    with pytest.raises(BufferError, match="CPU"):
        rtt.from_dlpack(OnGpu())
    with pytest.raises(BufferError):
        rtt.from_dlpack(np.zeros(2, dtype=np.uint16))    # no rt dtype


def test_legacy_only_producer():
    class Legacy:
        def __init__(self, arr):
            self.arr = arr

        def __dlpack_device__(self):
            return (1, 0)

        def __dlpack__(self, stream=None):
            return self.arr.__dlpack__()

    a = np.arange(4.0)
    t = rtt.from_dlpack(Legacy(a))
    a[0] = 9
    assert t[0].item() == 9


def test_asarray_uses_dlpack():
    class Producer:
        def __init__(self, arr):
            self.arr = arr

        def __dlpack_device__(self):
            return (1, 0)

        def __dlpack__(self, **kw):
            return self.arr.__dlpack__(**kw)

    a = np.arange(3, dtype=np.int16)
    t = rtt.asarray(Producer(a))
    a[2] = 7
    assert t.tolist() == [0, 1, 7]


def test_no_warnings_normal_use():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rtt.from_dlpack(np.arange(3))
        np.from_dlpack(rtt.arange(3))
