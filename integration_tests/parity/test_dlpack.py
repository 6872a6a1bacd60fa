"""DLPack with PyTorch: torch.from_dlpack(x) shares memory with the rt tensor x, and back."""
import numpy as np
import pytest

import rt_tensor as rtt

torch = pytest.importorskip("torch", reason="PyTorch cannot be imported; the parity suite "
                                            "runs in `tox -e parity` (torch==2.13.0)")

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
          "float64", "complex64", "complex128"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_torch_from_dlpack_shares_memory(dtype):
    x = rtt.tensor([[1, 0, 1], [0, 1, 1]], dtype=getattr(rtt, dtype))
    t = torch.from_dlpack(x)
    assert t.dtype == getattr(torch, dtype)
    assert t.data_ptr() == x.data_ptr()
    assert tuple(t.shape) == tuple(x.shape) and t.stride() == x.stride()
    t[0, 1] = 1                      # a write through torch is seen by rt
    assert x[0, 1].item() == 1
    x[1, 0] = 1                      # and the other way round
    assert t[1, 0].item() == 1


def test_torch_from_dlpack_of_views():
    base = rtt.tensor(np.arange(24, dtype=np.float32).reshape(4, 6))
    for view in [base.t(), base[1:, ::2], base[2], base.permute(1, 0)[::3]]:
        t = torch.from_dlpack(view)
        assert t.data_ptr() == view.data_ptr()
        assert t.stride() == view.stride()
        np.testing.assert_array_equal(t.numpy(), view.numpy())


def test_tensor_outlives_the_rt_tensor():
    x = rtt.tensor([1.5, 2.5, 3.5])
    t = torch.from_dlpack(x)
    del x
    import gc
    gc.collect()
    np.testing.assert_array_equal(t.numpy(), np.array([1.5, 2.5, 3.5], dtype=np.float32))


def test_rt_from_dlpack_of_torch_shares_memory():
    t = torch.arange(12, dtype=torch.float64).reshape(3, 4)[:, 1:]
    x = rtt.from_dlpack(t)
    assert x.data_ptr() == t.data_ptr()
    assert x.stride() == t.stride()
    t[0, 0] = -5.0
    assert x[0, 0].item() == -5.0


def test_zero_dim_and_empty():
    z = rtt.tensor(3.0)
    tz = torch.from_dlpack(z)
    assert tz.shape == () and tz.item() == 3.0
    e = rtt.tensor(np.zeros((0, 4), dtype=np.float32))
    te = torch.from_dlpack(e)
    assert tuple(te.shape) == (0, 4)
